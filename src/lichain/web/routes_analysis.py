"""Routes of the analyses: trace, footprint, recycled content, Art. 8, recovery, claims, ESG report, diligence.

Why this exists: each is the REST form of a CLI command and calls the same use case; the route only checks the
caller's scope (the lot, the organisation boundary of a period, the site of a claim) before it does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response

from lichain.entrypoints.present import jsonable
from lichain.services.diligence import DiligenceReport
from lichain.services.ingest import IngestResult
from lichain.services.trace import TraceResult
from lichain.storage.access_sql import site_organisations
from lichain.web.access import Principal
from lichain.web.problems import Refusal
from lichain.web.routes_ledger import access
from lichain.web.service import Service, conditional, guard, lot_for, rendered, service

__all__ = ["boundary", "router"]

router = APIRouter()
Period = Annotated[str, Query(max_length=60, description="2026, 2026-Q1, 2026-03 or START..END (UTC).")]


def boundary(p: Principal, organisation: str | None) -> str | None:
    """The reporting organisation a caller may ask for: any for a whole-ledger key (None: the ledger owner),
    its own for an owner or operator, one it was granted for an auditor; a customer reports on none."""
    if p.whole_ledger:
        return organisation
    if p.role == "operator":
        if organisation not in (None, p.organisation):
            raise Refusal(403, "an operator reports on its own organisation only")
        return p.organisation
    if p.role == "auditor":
        if organisation is None or not p.reads_org(organisation):
            raise Refusal(403, "an auditor names one organisation it was granted (?organisation=)")
        return organisation
    raise Refusal(403, "a customer key reads the lots shipped to it, not an organisation's report")


def _site_readable(svc: Service, p: Principal, site: str) -> None:
    if not p.reads_org(site_organisations(svc.store).get(site, "")):
        if p.whole_ledger:
            from lichain.services.lists import require_site

            require_site(svc.store, site)
        raise Refusal(404, f"unknown site {site!r}")


@router.get("/trace/{lot_id:path}", response_model=TraceResult, openapi_extra=access("read"))
def trace(lot_id: str, request: Request, p: Principal = guard("read"), svc: Service = Depends(service),
          direction: Literal["up", "down"] = "up", element: str | None = None,
          by: Annotated[str | None, Query(description="site, material, country or organisation")] = None,
          depth: Annotated[int | None, Query(ge=1, le=10_000)] = None,
          stage: Annotated[list[str] | None, Query(description="Only report lots of these stages.")] = None,
          graph: bool = False) -> Response:
    """Where a lot's elements came from (``up``) or went (``down``), per element, optionally grouped."""
    from lichain.services.trace import trace_lot

    with svc.store.reading():  # the access check and the answer in one read transaction
        parties = lot_for(svc, p, lot_id, "full")
        return conditional(request, svc, p, lambda: rendered(
            ("trace", parties.id, direction, element, by, depth, tuple(stage or ()), graph), trace_lot(
                svc.store, parties.id, down=direction == "down", element=element, by=by, max_depth=depth,
                stages=stage, graph=graph)))


@router.get("/footprint/{lot_id:path}", openapi_extra=access("read"))
def footprint(lot_id: str, request: Request, p: Principal = guard("read"), svc: Service = Depends(service),
              capacity_mah_g: Annotated[float | None, Query(gt=0, le=1000)] = None,
              voltage: Annotated[float | None, Query(gt=0, le=10)] = None) -> Response:
    """Cradle-to-gate carbon footprint of a lot [kg CO2e/kg] by stage, cause and site (receivers too)."""
    from lichain.services.footprint import lot_footprint

    with svc.store.reading():  # the access check and the answer in one read transaction
        parties = lot_for(svc, p, lot_id, "delivered")
        return conditional(request, svc, p, lambda: rendered(
            ("footprint", parties.id, capacity_mah_g, voltage),
            lot_footprint(svc.store, parties.id, capacity_mah_g, voltage)))


@router.get("/recycled/{lot_id:path}", openapi_extra=access("read"))
def recycled(lot_id: str, request: Request, p: Principal = guard("read"), svc: Service = Depends(service)
             ) -> Response:
    """Recycled share per element of a lot, physical and allocated by custody claims (receivers too)."""
    from lichain.services.circularity import recycled as run

    parties = lot_for(svc, p, lot_id, "delivered")
    return conditional(request, svc, p, lambda: jsonable(run(svc.store, parties.id)))


@router.get("/diligence/{lot_id:path}", response_model=DiligenceReport, openapi_extra=access("read"))
def diligence(lot_id: str, request: Request, p: Principal = guard("read"), svc: Service = Depends(service)
              ) -> Response:
    """Origins of each element of a lot and the share that passed through a site while it carried a risk."""
    from lichain.services.diligence import diligence as run

    parties = lot_for(svc, p, lot_id, "full")
    return conditional(request, svc, p, lambda: jsonable(run(svc.store, parties.id)))


@router.get("/art8", openapi_extra=access("read"))
def art8(request: Request, p: Principal = guard("read"), svc: Service = Depends(service),
         lot: str | None = None, customer: str | None = None, period: Period | None = None, stage: str = "cam",
         organisation: str | None = None) -> Response:
    """Recycled Co, Li, Ni shares vs the Art. 8 minimums, for a lot, a customer's deliveries or a period."""
    from lichain.services.circularity import art8 as run

    if lot is not None:
        lot = lot_for(svc, p, lot, "delivered").id
    elif customer is not None:
        if not (p.whole_ledger or customer == p.receiver or (p.role == "auditor" and p.reads_org(customer))):
            raise Refusal(403, "a key reads the deliveries to its own organisation only")
    else:
        organisation = boundary(p, organisation)
    return conditional(request, svc, p, lambda: jsonable(run(svc.store, lot=lot, customer=customer, period=period,
                                                             stage=stage, organisation=organisation)))


@router.get("/recovery", openapi_extra=access("read"))
def recovery(request: Request, p: Principal = guard("read"), svc: Service = Depends(service),
             period: Period = "2026", recycler: str | None = None, organisation: str | None = None) -> Response:
    """Recovery efficiency per element and recycler vs Annex XII / MIIT targets, for an organisation's recyclers."""
    from lichain.services.circularity import recovery as run

    organisation = boundary(p, organisation)
    if recycler is not None:
        _site_readable(svc, p, recycler)
    return conditional(request, svc, p, lambda: jsonable(run(svc.store, recycler=recycler, period=period,
                                                             organisation=organisation)))


@router.get("/reports/esg", openapi_extra=access("read"))
def esg(request: Request, p: Principal = guard("read"), svc: Service = Depends(service), period: Period = "2026",
        organisation: str | None = None) -> Response:
    """The ESG report's data for a period and an organisation boundary (Scope 1+2 its sites)."""
    from lichain.services.esg import esg_report

    organisation = boundary(p, organisation)
    return conditional(request, svc, p, lambda: jsonable(esg_report(svc.store, period, organisation)))


Model = Literal["segregated", "controlled_blending", "mass_balance_rolling_average", "mass_balance_credit"]


@router.get("/claims/proposal", openapi_extra=access("read"))
def claim_proposal(request: Request, site: str, period: Period, model: Model, p: Principal = guard("read"),
                   svc: Service = Depends(service), claim_id: str | None = None) -> Response:
    """The largest chain-of-custody claim the ledger allows for a site and period (not recorded)."""
    from lichain.services import circularity as circ

    _site_readable(svc, p, site)
    start, end = circ.parse_period(period)
    return conditional(request, svc, p, lambda: jsonable(circ.propose_claim(
        svc.store, claim_id or f"{site}/{period}/{model}", site, start, end, model)))


@router.post("/claims", response_model=IngestResult, openapi_extra=access("write"),
             responses={422: {"description": "refused; nothing written"}})
def claim_record(p: Principal = guard("write"), svc: Service = Depends(service),
                 site: Annotated[str, Body(max_length=200)] = "", period: Annotated[str, Body(max_length=60)] = "",
                 model: Annotated[Model, Body()] = "mass_balance_credit",
                 claim_id: Annotated[str | None, Body(max_length=300)] = None) -> Any:
    """Propose the largest claim for your site and period and record it (all or nothing)."""
    from lichain.core.errors import Problem
    from lichain.services import circularity as circ

    if site_organisations(svc.store).get(site) != p.organisation:
        raise Refusal(403, f"site {site!r} is not operated by {p.organisation!r}")
    start, end = circ.parse_period(period)
    c = circ.propose_claim(svc.store, claim_id or f"{site}/{period}/{model}", site, start, end, model)
    if not c.allocations:
        raise Refusal(422, "nothing left to claim for this site and period",
                      (Problem(c.id, "nothing left to claim for this site and period"),))
    r = circ.record_claim(svc.store, c)
    if not r.ok:
        raise Refusal(422, "the claim is refused; nothing was written", r.problems)
    return jsonable(r)

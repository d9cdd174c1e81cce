"""Routes that record and read the ledger itself: ingest, lots, runs, shipments, sites, materials, organisations,
balance, verify and checkpoints.

Why this exists: each route is the REST form of one CLI command and calls the same use case
(:mod:`lichain.services`), presenting its typed result with the one presenter (``present.jsonable``); what a
caller sees is narrowed to its scope (:mod:`lichain.web.access`).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from lichain.entrypoints.present import jsonable
from lichain.services import lists, query
from lichain.services.checkpoint import Checkpoint, CheckpointCheck
from lichain.services.ingest import IngestResult
from lichain.services.query import BalanceCheck, LotDetail, LotShipment, LotSummary
from lichain.services.verify import Verification
from lichain.web.access import Principal
from lichain.web.documents import kind_of
from lichain.web.problems import Refusal
from lichain.web.service import MAX_PAGE, Service, body_of, conditional, guard, lot_for, service
from lichain.web.writer import take

__all__ = ["DeliveredLot", "LotPage", "Page", "router"]

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size (1..{MAX_PAGE}).")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]


def access(kind: str) -> dict[str, Any]:
    """The route's access rule, published in the OpenAPI document as ``x-access``."""
    return {"x-access": kind}


@dataclass(frozen=True, slots=True)
class LotPage:
    """A page of lots: ``total`` matching in all, from ``offset``, at most ``limit``."""

    total: int
    offset: int
    limit: int
    lots: tuple[LotSummary, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a list: ``total`` items in all, from ``offset``, at most ``limit``."""

    total: int
    offset: int
    limit: int
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class DeliveredLot:
    """A lot as its receiver sees it: the lot's own fields and the shipments of it to the receiver."""

    lot: LotSummary
    shipments: tuple[LotShipment, ...]


def _page(items: list[Any] | tuple[Any, ...], limit: int, offset: int) -> Any:
    return jsonable(Page(len(items), offset, limit, tuple(items[offset:offset + limit])))


@router.get("/health", openapi_extra=access("public"), dependencies=[guard("public")])
def health() -> dict[str, str]:
    """The service answers (no key needed)."""
    return {"status": "ok"}


@router.post("/ingest", response_model=IngestResult, openapi_extra=access("write"),
             responses={403: {"description": "records of another organisation (problems located)"},
                        422: {"description": "refused by the ledger's rules (problems located); nothing written"}})
async def ingest(request: Request, p: Principal = guard("write"), svc: Service = Depends(service),
                 dry_run: bool = False,
                 name: Annotated[str | None, Query(max_length=200, pattern=r"^[\w.\-]+$",
                                                   description="The document's name in problem locations.")] = None
                 ) -> Response:
    """Ingest one document, all or nothing: EPCIS 2.0 JSON-LD (``application/ld+json``) or the workbook
    (``.xlsx`` media type). The same document sent again gets the same result."""
    kind = kind_of(request.headers.get("content-type", ""), name)
    if kind is None:
        raise Refusal(415, "send EPCIS 2.0 JSON-LD (application/ld+json) or a workbook "
                           "(application/vnd.openxmlformats-officedocument.spreadsheetml.sheet)")
    data = await body_of(request, svc)
    o = await take(svc.writer, svc.store, p, data, kind,
                   name or ("document.jsonld" if kind == "epcis" else "workbook.xlsx"), dry_run=dry_run)
    headers = {"Idempotent-Replay": "true"} if o.replayed else {}
    if o.status != 200:
        from lichain.web.problems import problem_response

        return problem_response(o.status, "the document is refused; nothing was written", o.result.problems,
                                headers=headers, extra={"result": jsonable(o.result)})
    return JSONResponse(jsonable(o.result), headers=headers)


@router.get("/lots", response_model=LotPage, openapi_extra=access("read"))
def lots(request: Request, p: Principal = guard("read"), svc: Service = Depends(service),
         stage: str | None = None, site: str | None = None, material: str | None = None,
         received: Annotated[bool, Query(description="Lots shipped to your organisation (default for customers)."
                                         )] = False,
         customer: Annotated[str | None, Query(description="Lots shipped to this organisation.")] = None,
         limit: Limit = 100, offset: Offset = 0) -> Response:
    """Live lots in creation order, in your scope, a page at a time."""
    if customer is not None and not p.whole_ledger and customer != p.receiver:
        raise Refusal(403, "a key lists only the lots shipped to its own organisation")
    if p.whole_ledger:
        scope: dict[str, Any] = {"customer": customer}
    elif received or customer is not None or p.role == "customer":
        if p.receiver is None:
            raise Refusal(403, "an auditor receives no shipments")
        scope = {"customer": p.receiver}
    else:
        scope = {"operators": sorted(p.orgs)}

    def compute() -> Any:
        if stage is not None:
            lists.require_stage(stage)
        rows = query.list_lots(svc.store, stage=stage, site=site, material=material, limit=limit, offset=offset,
                               **scope)
        total = lists.count_lots(svc.store, stage=stage, site=site, material=material, **scope)
        return jsonable(LotPage(total, offset, limit, tuple(rows)))

    return conditional(request, svc, p, compute)


@router.get("/lots/{lot_id:path}", response_model=LotDetail | DeliveredLot, openapi_extra=access("read"))
def lot(lot_id: str, request: Request, p: Principal = guard("read"), svc: Service = Depends(service)) -> Response:
    """One lot: in full for its organisation (run, inputs, consumers, stock, shipments); for a receiver, the lot's
    own fields and the shipments of it to the receiver."""
    parties = lot_for(svc, p, lot_id, "delivered")

    def compute() -> Any:
        d = query.show_lot(svc.store, parties.id)
        if p.reads_org(parties.organisation):
            return jsonable(d)
        from lichain.storage.access_sql import site_organisations

        own = LotSummary(d.id, d.material, d.stage, d.site, d.produced_at, d.mass_kg, d.assay, d.origin,
                         d.origin_class, d.origin_class_meaning, d.recycled_content)
        orgs = site_organisations(svc.store)
        ids = {x.id for x in d.shipments if (x.to_organisation or orgs.get(x.to_site)) == p.receiver}
        return jsonable(DeliveredLot(own, tuple(x for x in d.shipments if x.id in ids)))

    return conditional(request, svc, p, compute)


@router.get("/runs/{run_id:path}", openapi_extra=access("read"))
def run(run_id: str, request: Request, p: Principal = guard("read"), svc: Service = Depends(service)) -> Response:
    """One run as recorded (its canonical event: inputs consumed, outputs, activity data), for its organisation."""
    from lichain.storage.access_sql import site_organisations

    def compute() -> Any:
        ev_id = svc.store.record_ids("run", [run_id]).get(run_id)
        st = None if ev_id is None else svc.store.stored_event(ev_id)
        body = None if st is None else json.loads(st.payload)
        if st is None or body is None or not p.reads_org(site_organisations(svc.store).get(body.get("site"), "")):
            raise Refusal(404, f"unknown run {run_id!r}")
        return {"id": run_id, "event_id": st.event_id, "time": st.time, "retracted": bool(
            svc.store.retracted([st.event_id])), "run": body}

    return conditional(request, svc, p, compute)


@router.get("/shipments", response_model=lists.ShipmentList, openapi_extra=access("read"))
def shipments(request: Request, p: Principal = guard("read"), svc: Service = Depends(service),
              organisation: str | None = None, limit: Limit = 100, offset: Offset = 0) -> Response:
    """Live shipments oldest first; a key sees those to or from its own organisation."""
    if not p.whole_ledger:
        if p.role == "auditor":
            if organisation is None or not p.reads_org(organisation):
                raise Refusal(403, "an auditor lists the shipments of one organisation it was granted "
                                   "(?organisation=)")
        elif organisation not in (None, p.organisation):
            raise Refusal(403, "a key lists only its own organisation's shipments")
        else:
            organisation = p.organisation
    return conditional(request, svc, p, lambda: jsonable(lists.list_shipments(svc.store, organisation, limit=limit,
                                                                              offset=offset)))


@router.get("/sites", response_model=Page, openapi_extra=access("read"))
def sites(request: Request, p: Principal = guard("read"), svc: Service = Depends(service), limit: Limit = 100,
          offset: Offset = 0) -> Response:
    """Declared sites (kind, country, operator, lots) in your scope, by id."""
    return conditional(request, svc, p, lambda: _page(
        [s for s in lists.list_sites(svc.store).sites if p.reads_org(s.organisation)], limit, offset))


@router.get("/materials", response_model=Page, openapi_extra=access("read"))
def materials(request: Request, p: Principal = guard("read"), svc: Service = Depends(service), limit: Limit = 100,
              offset: Offset = 0) -> Response:
    """The material catalogue (shared master data) with live lots per material for a whole-ledger key."""
    def compute() -> Any:
        ms = lists.list_materials(svc.store).materials
        if not p.whole_ledger:  # counts of lots would tell other organisations' production
            ms = tuple(lists.MaterialInfo(m.code, m.name, m.stage, m.formula, 0, 0.0) for m in ms)
        return _page(ms, limit, offset)

    return conditional(request, svc, p, compute)


@router.get("/organisations", response_model=Page, openapi_extra=access("read"))
def organisations(request: Request, p: Principal = guard("read"), svc: Service = Depends(service),
                  limit: Limit = 100, offset: Offset = 0) -> Response:
    """Organisations on record (site operators and receivers); a key sees its own and those it may read."""
    return conditional(request, svc, p, lambda: _page(
        [o for o in lists.list_organisations(svc.store).organisations
         if p.reads_org(o.name) or o.name == p.organisation], limit, offset))


@router.get("/balance", response_model=BalanceCheck, openapi_extra=access("ledger"))
def balance(request: Request, p: Principal = guard("ledger"), svc: Service = Depends(service)) -> Response:
    """Re-check the element balance of every live run."""
    return conditional(request, svc, p, lambda: jsonable(query.balance(svc.store)))


@router.get("/verify", response_model=Verification, openapi_extra=access("ledger"))
def verify(request: Request, p: Principal = guard("ledger"), svc: Service = Depends(service),
           deep: bool = False) -> Response:
    """Recompute both hash chains (``deep``: also rebuild and compare every projection table)."""
    from lichain.services.verify import verify_chain, verify_deep

    return conditional(request, svc, p, lambda: jsonable(verify_deep(svc.store) if deep else
                                                         verify_chain(svc.store)))


@router.post("/checkpoints", response_model=Checkpoint, openapi_extra=access("owner"))
def checkpoint(p: Principal = guard("owner"), svc: Service = Depends(service)) -> Any:
    """Sign the chain head with the service's checkpoint key (``lichain serve --checkpoint-key``)."""
    from lichain.services.checkpoint import make_checkpoint

    if svc.settings.checkpoint_key is None:
        raise Refusal(409, "this service has no checkpoint key (start it with --checkpoint-key)")
    return jsonable(make_checkpoint(svc.store, svc.settings.checkpoint_key))


@router.post("/checkpoints/verify", response_model=CheckpointCheck, openapi_extra=access("ledger"))
def checkpoint_verify(
    p: Principal = guard("ledger"), svc: Service = Depends(service),
    token: Annotated[str, Body(max_length=20_000, description="The checkpoint (JWS compact).")] = "",
    public_key: Annotated[str, Body(max_length=100_000, description="PEM public key or JWKS (JSON text).")] = "",
) -> Any:
    """Check a signed checkpoint and that the ledger still extends it."""
    from lichain.services.checkpoint import verify_against

    with tempfile.TemporaryDirectory(prefix="lichain-key-") as tmp:
        path = Path(tmp) / ("key.json" if public_key.lstrip().startswith("{") else "key.pem")
        path.write_text(public_key, encoding="utf-8")
        return jsonable(verify_against(svc.store, token.strip(), path))

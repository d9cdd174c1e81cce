"""Routes the dashboard reads besides the analyses: who the caller is, and the chain's element flows.

Why this exists: the dashboard shows each person only what their key may read. ``/me`` tells the page the
caller's organisation and role and which pages apply (it leaves out what the API would refuse anyway);
``/flows`` gives the numbers of the chain overview's Sankey diagram (whole-ledger keys: it spans every
organisation's sites).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from lichain.entrypoints.present import jsonable
from lichain.services.flows import FlowDiagram
from lichain.web.access import Principal
from lichain.web.routes_analysis import Period
from lichain.web.routes_ledger import access
from lichain.web.service import Service, conditional, guard, service

__all__ = ["Me", "router"]

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Me:
    """The caller: organisation, role, the organisations it reads in full, the pages of the dashboard that apply,
    and the organisation its period reports are about (None: the ledger owner)."""

    user: str | None
    organisation: str | None
    role: str
    reads: tuple[str, ...]
    whole_ledger: bool
    pages: tuple[str, ...]
    report_organisation: str | None


@router.get("/me", response_model=Me, openapi_extra=access("read"))
def me(p: Principal = guard("read")) -> Me:
    """Who the key belongs to and what the dashboard shows it."""
    if p.whole_ledger:
        pages: tuple[str, ...] = ("overview", "compliance", "esg", "quality", "received")
        report = None
    elif p.role == "customer":
        pages, report = ("received",), None
    else:  # an operator reports on its organisation; an auditor on the first it was granted
        report = p.organisation if p.role == "operator" else min(p.orgs, default=None)
        pages = ("compliance", "esg") + (("received",) if p.receiver else ())
    return Me(p.user, p.organisation, p.role, tuple(sorted(p.orgs)), p.whole_ledger, pages, report)


@router.get("/flows", response_model=FlowDiagram, openapi_extra=access("ledger"))
def flows(request: Request, p: Principal = guard("ledger"), svc: Service = Depends(service),
          element: Annotated[str, Query(max_length=3, description="Ni, Co, Mn or Li.")] = "Ni",
          period: Period | None = None) -> Response:
    """One element's flows between chain stages [kg] over the lots made in the period (the chain overview)."""
    from lichain.services.flows import element_flows

    return conditional(request, svc, p, lambda: jsonable(element_flows(svc.store, element, period)))

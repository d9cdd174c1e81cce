"""The battery passport over REST, each caller at the Annex XIII access level its role gives it.

Why this exists: a passport's public part is for anyone holding the battery's identifier (Regulation (EU)
2023/1542 Art. 77(2), Annex XIII point 1), the rest for persons with a legitimate interest and for authorities
(Annex XIII points 2 and 3). The route maps the caller to the highest level it may read and refuses a higher one:

* no key (public): ``public``;
* a receiver of the lot (customer, or an operator it was shipped to): ``legitimate``;
* the organisation that holds the lot's records (owner; operator or auditor reading it in full): ``authority``.

The passport itself is the CLI's (:func:`lichain.services.passport.passport`): same fields per level.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from lichain.entrypoints.present import jsonable
from lichain.services.query import canonical_lot_id
from lichain.storage.access_sql import lot_parties
from lichain.web.access import Principal, lot_level
from lichain.web.problems import Refusal
from lichain.web.routes_ledger import access
from lichain.web.service import Service, conditional, guard, service

__all__ = ["allowed_level", "router"]

router = APIRouter()
_RANK = {"public": 0, "legitimate": 1, "authority": 2}


def allowed_level(p: Principal, lot_level: str | None) -> str:
    """The highest Annex XIII level ``p`` may read of a lot it reads at ``lot_level`` (full, delivered, None)."""
    if p.role == "public" or lot_level is None:
        return "public"
    if p.role == "owner" or (lot_level == "full" and p.role in ("operator", "auditor")):
        return "authority"
    return "legitimate"


@router.get("/passports/{ident:path}", openapi_extra=access("public"))
def passport(ident: str, request: Request, p: Principal = guard("public"), svc: Service = Depends(service),
             level: Annotated[Literal["public", "legitimate", "authority"] | None, Query(
                 description="Annex XIII access level (default: the highest your key may read).")] = None,
             format: Annotated[Literal["batterypass", "aas"], Query(
                 description="BatteryPass 1.2 aspects or IDTA-02035 submodels.")] = "batterypass") -> Response:
    """The passport of a battery id or cell lot at an access level: public fields for anyone, more by role."""
    from lichain.services.passport import passport as run
    from lichain.services.passport import passport_lot

    top = "public"
    if p.role != "public":
        lot = passport_lot(svc.store, ident)
        top = allowed_level(p, lot_level(p, lot_parties(svc.store, (lot, canonical_lot_id(lot)))))
    want = level or top
    if _RANK[want] > _RANK[top]:
        raise Refusal(403 if p.role != "public" else 401,
                      f"the {want} level of this passport is not open to a {p.role} caller (highest: {top})")
    return conditional(request, svc, p, lambda: jsonable(run(svc.store, ident, level=want, fmt=format)))

"""Routes of lot quality and statistical process control: a lot's certificates, a line's control chart.

Why this exists: a quality team (and a customer receiving a lot, for its certificates) reads the same results as
``lichain quality LOT`` and ``lichain spc``. Certificates of analysis travel with the lot, so a receiver may read
those of the lots shipped to it; control charts are the producer's process data (whole-ledger keys).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from lichain.entrypoints.present import jsonable
from lichain.services.quality import LotQuality
from lichain.services.spc import SpcResult
from lichain.web.access import Principal
from lichain.web.routes_analysis import Period
from lichain.web.routes_ledger import access
from lichain.web.service import Service, conditional, guard, lot_for, service

__all__ = ["router"]

router = APIRouter()


@router.get("/quality/{lot_id:path}", response_model=LotQuality, openapi_extra=access("read"))
def quality(lot_id: str, request: Request, p: Principal = guard("read"), svc: Service = Depends(service)
            ) -> Response:
    """A lot's certificates of analysis against its material specification, its status and deviations."""
    from lichain.services.quality import lot_quality

    parties = lot_for(svc, p, lot_id, "delivered")
    return conditional(request, svc, p, lambda: jsonable(lot_quality(svc.store, parties.id)))


@router.get("/spc", response_model=SpcResult, openapi_extra=access("ledger"))
def spc(request: Request, p: Principal = guard("ledger"), svc: Service = Depends(service),
        line: Annotated[str, Query(max_length=100, description="Production line, e.g. PCAM-L1.")] = "",
        param: Annotated[str, Query(max_length=40, description="Process parameter, e.g. pH.")] = "",
        period: Period = "2026",
        chart: Literal["xbar-r", "i-mr"] = "xbar-r",
        rules: Literal["nelson", "western_electric"] = "nelson",
        every: Annotated[str, Query(max_length=10, description="Subgroup interval: 30min, 1h, 1d.")] = "1h",
        size: Annotated[int, Query(ge=2, le=10)] = 5) -> Response:
    """Control chart of a line's parameter over a period: points, limits, rule signals, capability, and the
    runs and lots made while out of control (read only: alarms are recorded with ``lichain spc --record-alarms``)."""
    from lichain.services.spc import spc_chart

    return conditional(request, svc, p, lambda: jsonable(spc_chart(
        svc.store, line, param, period, chart=chart, rules=rules, every=every, size=size)))

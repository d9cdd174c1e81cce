"""Routes that export standard documents: the ledger as EPCIS 2.0, a lot's Catena-X PCF, the graph as Parquet.

Why this exists: the same exports as ``lichain export``, by the same use cases; whole-ledger exports need a
whole-ledger key, a lot's PCF is for whoever may read the lot (its receiver too: a PCF is made to be sent).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from lichain.web.access import Principal
from lichain.web.problems import Refusal
from lichain.web.routes_ledger import access
from lichain.web.service import Service, conditional, guard, lot_for, service

__all__ = ["epcis_document", "router"]

router = APIRouter()


def epcis_document(svc: Service, head: str) -> bytes:
    """The whole ledger as one EPCIS 2.0 JSON-LD document (``lichain export epcis``), once per chain head."""
    import io

    from lichain.services.exchange import export_epcis

    def build() -> bytes:
        buf = io.StringIO()
        export_epcis(svc.store, buf)
        return buf.getvalue().encode("utf-8")

    data: bytes = svc.memo("epcis", head, build)
    return data


@router.get("/exports/epcis", openapi_extra=access("ledger"),
            responses={200: {"content": {"application/ld+json": {}}}})
def export_epcis(request: Request, p: Principal = guard("ledger"), svc: Service = Depends(service)) -> Response:
    """The whole ledger as one EPCIS 2.0 JSON-LD document."""
    return conditional(request, svc, p, lambda: Response(epcis_document(svc, svc.head()),
                                                         media_type="application/ld+json"))


@router.get("/exports/pcf/{lot_id:path}", openapi_extra=access("read"),
            responses={422: {"description": "the footprint is incomplete (missing inputs named)"}})
def export_pcf(lot_id: str, request: Request, p: Principal = guard("read"), svc: Service = Depends(service),
               bpnl: Annotated[str | None, Query(pattern=r"^BPNL[0-9A-Z]{12}$")] = None,
               bpns: Annotated[str | None, Query(pattern=r"^BPNS[0-9A-Z]{12}$")] = None,
               customer_part_id: Annotated[str | None, Query(max_length=200)] = None,
               allow_incomplete: bool = False) -> Response:
    """A lot's Catena-X pcf_for_battery_component_supplier 1.0.0 payload (schema-checked); a receiver gets the
    customer view, without the lines naming the producer's own suppliers (docs/package.md)."""
    from lichain.io.pcf import PLACEHOLDER_BPNL, PLACEHOLDER_BPNS, IncompleteFootprintError
    from lichain.services.pcf_doc import PcfParameters, pcf_document

    parties = lot_for(svc, p, lot_id, "delivered")
    params = PcfParameters(bpnl or PLACEHOLDER_BPNL, bpns or PLACEHOLDER_BPNS, customer_part_id, None,
                           allow_incomplete)

    def compute() -> Any:
        try:
            payload, _ = pcf_document(svc.store, parties.id, params,
                                      customer=not p.reads_org(parties.organisation))
        except IncompleteFootprintError as exc:
            raise Refusal(422, str(exc)) from None
        return payload

    return conditional(request, svc, p, compute)


@router.get("/exports/parquet/{table}", openapi_extra=access("ledger"),
            responses={200: {"content": {"application/vnd.apache.parquet": {}}}})
def export_parquet(table: Literal["lots", "edges"], request: Request, p: Principal = guard("ledger"),
                   svc: Service = Depends(service)) -> Response:
    """One table of the lot graph as Parquet (``lots`` or ``edges``) for DuckDB, Polars or Spark."""
    from lichain.services.exchange import export_parquet as run

    def compute() -> Response:
        with tempfile.TemporaryDirectory(prefix="lichain-parquet-") as tmp:
            paths = run(svc.store, Path(tmp))
            data = Path(paths[table]).read_bytes()
        return Response(data, media_type="application/vnd.apache.parquet",
                        headers={"Content-Disposition": f'attachment; filename="{table}.parquet"'})

    return conditional(request, svc, p, compute)

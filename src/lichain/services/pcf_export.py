"""Use case: one lot's Catena-X PCF payload (pcf_for_battery_component_supplier 1.0.0), checked against its schema.

Why this exists: ``lichain export pcf`` and the REST API's ``/exports/pcf/{lot}`` give the same document; the
composition (the lot's footprint, its own origin class and recycled content, the payload, the schema check) is
written once, here.
"""

from __future__ import annotations

from typing import Any

from lichain.storage.sql import SqlStore

__all__ = ["pcf_document"]


def pcf_document(store: SqlStore, lot: str, *, bpnl: str | None = None, bpns: str | None = None,
                 customer_part_id: str | None = None, study_url: str | None = None,
                 allow_incomplete: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payload and the footprint it was made from (``complete`` says whether it is a lower bound).

    Raises
    ------
    IncompleteFootprintError
        The lot's upstream lacks data and ``allow_incomplete`` is false.
    ValueError
        The payload does not match the Catena-X schema (a bug, or an identifier of the wrong form).
    """
    from lichain.io.pcf import PLACEHOLDER_BPNL, PLACEHOLDER_BPNS, pcf_payload, validate_pcf
    from lichain.services.footprint import footprint_of
    from lichain.services.lot_origin import lot_origins

    d = footprint_of(store, lot)
    origin = lot_origins(store, [d["lot"]]).get(d["lot"])  # the lot's own class and recycled content
    d = {**d, **(origin.to_json() if origin else {})}
    payload = pcf_payload(d, legal_identifier=bpnl or PLACEHOLDER_BPNL, site_identifier=bpns or PLACEHOLDER_BPNS,
                          customer_part_id=customer_part_id, study_url=study_url, allow_incomplete=allow_incomplete)
    problems = validate_pcf(payload)
    if problems:
        raise ValueError("payload does not match the Catena-X schema: " + "; ".join(problems[:5]))
    return payload, d

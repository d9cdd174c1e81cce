"""Map validated events to the rows of the record and its projections, for one bulk ``executemany`` per table."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from lichain.core.codec import format_time, record_hash
from lichain.core.model import (
    Activity,
    CustodyClaim,
    Event,
    FactorOverride,
    Lot,
    Material,
    Retraction,
    Run,
    Shipment,
    Site,
    SupplierPcf,
)

__all__ = ["as_tuples", "event_rows"]


def _d(v: Decimal) -> str:
    return format(v.normalize(), "f")


def event_rows(
    events: Sequence[Event],
    payloads: Sequence[str],
    seq: int,
    prev: str,
    nxt: dict[str, int],
    lot_idx: dict[str, int],
    target_seq: dict[str, int],
    recorded: str,
    source: str | None,
    chain: Callable[[str, str, str, str, str], str],
    to_us: Callable[[datetime], int],
    prev_record: str = "",
) -> dict[str, list[dict[str, Any]]]:
    """Rows per table name (dicts keyed by column), with sequence numbers, creation indexes and chain hashes.

    Use :func:`as_tuples` to turn them into positional rows in the table's column order for ``executemany``.
    ``prev_record`` is the record chain's head (:func:`lichain.core.codec.record_hash`); every projection row
    depends only on the events, their order and the index counters, so ``verify --deep`` can rebuild it.
    """
    rows: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("events", "sites", "materials", "lots", "assays", "runs", "consumptions", "shipments",
                        "retractions", "overrides", "run_losses", "activities", "custody_claims",
                        "claim_allocations", "supplier_pcfs")
    }
    lot_next, run_next, ship_next = nxt["lot"], nxt["run"], nxt["shipment"]
    ev_rows, lot_rows, assay_rows = rows["events"], rows["lots"], rows["assays"]

    act_rows = rows["activities"]

    def add_activity(a: Activity, run_idx: int | None, lidx: int | None) -> None:
        base = {"run_idx": run_idx, "lot_idx": lidx, "factor_key": None, "instrument": None}
        for el in a.electricity:
            act_rows.append({**base, "kind": "electricity", "name": el.source, "amount": _d(el.kwh), "unit": "kWh",
                             "factor_key": el.factor_key, "instrument": el.instrument})
        for f in a.fuels:
            act_rows.append({**base, "kind": "fuel", "name": f.kind, "amount": _d(f.mj), "unit": "MJ"})
        for r in a.reagents:
            act_rows.append({**base, "kind": "reagent", "name": r.name, "amount": _d(r.kg), "unit": "kg",
                             "factor_key": r.factor_key})
        if a.water_m3 is not None:
            act_rows.append({**base, "kind": "water", "name": "water", "amount": _d(a.water_m3), "unit": "m3"})
        if a.process_kg_co2e is not None:
            act_rows.append({**base, "kind": "process", "name": "process", "amount": _d(a.process_kg_co2e),
                             "unit": "kg CO2e"})

    def add_lot(lot: Lot, run_idx: int | None, eseq: int, value: Decimal | None = None) -> None:
        nonlocal lot_next
        idx = lot_next
        lot_next += 1
        lot_idx[lot.id] = idx
        lot_rows.append({"idx": idx, "id": lot.id, "material": lot.material, "site": lot.site,
                         "produced_us": to_us(lot.produced_at), "mass_mg": lot.mass_mg, "origin": lot.origin,
                         "run_idx": run_idx, "event_seq": eseq,
                         "alloc_value": _d(value) if value is not None else None})
        for e, v in lot.assay.items():
            if v:
                assay_rows.append({"lot_idx": idx, "element": e, "ppb": v})
        if lot.activity is not None:
            add_activity(lot.activity, None, idx)

    for ev, payload in zip(events, payloads, strict=True):
        seq += 1
        target_seq[ev.event_id] = seq  # later retractions in the same document may name this event
        t = format_time(ev.time)
        h = chain(prev, ev.event_id, ev.kind.value, t, payload)
        prev_record = record_hash(prev_record, h, recorded, source)
        ev_rows.append({"seq": seq, "event_id": ev.event_id, "kind": ev.kind.value, "time": t, "payload": payload,
                        "prev_hash": prev, "chain_hash": h, "recorded_at": recorded, "source": source,
                        "record_hash": prev_record})
        prev = h
        b = ev.body
        if isinstance(b, Run):
            ridx = run_next
            run_next += 1
            rows["runs"].append({"idx": ridx, "id": b.id, "site": b.site, "kind": b.kind,
                                 "started_us": to_us(b.started_at), "ended_us": to_us(b.ended_at),
                                 "event_seq": seq})
            rows["consumptions"].extend({"run_idx": ridx, "lot_idx": lot_idx[c.lot], "mass_mg": c.mass_mg}
                                        for c in b.inputs)
            for o in b.outputs:
                add_lot(o, ridx, seq, b.output_values.get(o.id) if b.allocation == "economic" else None)
            rows["run_losses"].extend({"run_idx": ridx, "element": e, "mass_mg": v}
                                      for e, v in b.losses_mg.items() if v)
            add_activity(b.activity, ridx, None)
        elif isinstance(b, Lot):
            add_lot(b, None, seq)
        elif isinstance(b, Shipment):
            rows["shipments"].append({
                "idx": ship_next, "id": b.id, "lot_idx": lot_idx[b.lot], "mass_mg": b.mass_mg,
                "from_site": b.from_site, "to_site": b.to_site, "shipped_us": to_us(b.shipped_at), "mode": b.mode,
                "distance_km": format(b.distance_km.normalize(), "f"), "to_organisation": b.to_organisation,
                "event_seq": seq})
            ship_next += 1
        elif isinstance(b, Site):
            rows["sites"].append({"id": b.id, "name": b.name, "kind": b.kind, "country": b.country,
                                  "organisation": b.organisation, "grid_region": b.grid_region,
                                  "attrs": json.dumps({"certifications": list(b.certifications),
                                                       "risk": list(b.risk),
                                                       **({"ledger_owner": True} if b.ledger_owner else {})},
                                                      sort_keys=True),
                                  "event_seq": seq})
        elif isinstance(b, Material):
            rows["materials"].append({"code": b.code, "name": b.name, "stage": b.stage, "formula": b.formula,
                                      "event_seq": seq})
        elif isinstance(b, Retraction):
            rows["retractions"].append({"target_seq": target_seq[b.target_event_id], "event_seq": seq})
        elif isinstance(b, FactorOverride):
            rows["overrides"].append({
                "event_seq": seq, "key": b.key, "value": format(b.value.normalize(), "f"), "unit": b.unit,
                "source": b.source, "site": b.site,
                "valid_from_us": to_us(b.valid_from) if b.valid_from else None,
                "valid_to_us": to_us(b.valid_to) if b.valid_to else None})
        elif isinstance(b, CustodyClaim):
            rows["custody_claims"].append({"event_seq": seq, "id": b.id, "site": b.site, "model": b.model,
                                           "start_us": to_us(b.period_start), "end_us": to_us(b.period_end)})
            rows["claim_allocations"].extend({"claim_seq": seq, "lot_id": a.lot, "element": a.element,
                                              "pre_mg": a.pre_consumer_mg, "post_mg": a.post_consumer_mg}
                                             for a in b.allocations)
        elif isinstance(b, SupplierPcf):
            rows["supplier_pcfs"].append(_pcf_row(b, seq, to_us))
    return rows


def _pcf_row(b: SupplierPcf, seq: int, to_us: Callable[[datetime], int]) -> dict[str, Any]:
    """The ``supplier_pcfs`` row of a supplier PCF event."""
    def opt(v: Decimal | None) -> str | None:
        return None if v is None else _d(v)

    return {"event_seq": seq, "lot_id": b.lot, "value": _d(b.value), "unit": b.unit, "supplier": b.supplier,
            "document": b.document, "boundary": b.boundary, "standard": b.standard,
            "data_quality_rating": opt(b.data_quality_rating), "primary_data_share": opt(b.primary_data_share),
            "valid_from_us": to_us(b.valid_from) if b.valid_from else None,
            "valid_until_us": to_us(b.valid_until) if b.valid_until else None}


def as_tuples(columns: Sequence[str], rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Positional rows in ``columns`` order (missing keys are NULL)."""
    from operator import itemgetter

    if rows and all(c in rows[0] for c in columns) and all(len(r) == len(rows[0]) for r in rows):
        get = itemgetter(*columns)
        return [get(r) for r in rows] if len(columns) > 1 else [(get(r),) for r in rows]
    return [tuple(r.get(c) for c in columns) for r in rows]

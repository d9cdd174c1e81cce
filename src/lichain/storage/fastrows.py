"""Rows of validated events as positional tuples in each table's column order: the rows of ``rows.event_rows``.

Why this exists: bulk ingest built one dict per row (:func:`lichain.storage.rows.event_rows`) and then one tuple per
dict for ``executemany``; for lots, runs and shipments, nearly every event of a ledger, :func:`event_tuples` writes
the tuples directly, and hands any other kind of event to ``event_rows`` itself (with the counters carried over), so
the rows written stay those that ``verify --deep`` rebuilds with ``event_rows``. Property test:
``tests/unit/test_fastrows.py`` (every table, every row, same order).

The same builder exists in compiled code (``lichain/storage/_hotrows.c``, built with the package): with the
store's own chain hash and time converter (:func:`~lichain.core.codec.chain_hash`, :func:`to_us`) and the default
decimal context, it writes each stretch of lots, runs and shipments and declines anything but the plain types of the
model; this module's Python code writes every event it declines, and every other kind. :data:`COMPILED` tells
whether it is there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from lichain.core.codec import chain_hash, format_time, record_hash
from lichain.core.fastcodec import plain_decimal_context
from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    Event,
    EventKind,
    Fuel,
    Lot,
    Reagent,
    Run,
    Shipment,
)
from lichain.storage import schema as s
from lichain.storage.rows import _d, as_tuples, event_rows

try:
    from lichain.storage import _hotrows
except ImportError:  # installed without a C compiler: the Python builder alone
    _hotrows = None  # type: ignore[assignment]

__all__ = ["COLUMNS", "COMPILED", "TABLES", "event_tuples", "to_us"]

#: The tables ``event_rows`` fills, in its order.
TABLES = ("events", "sites", "materials", "lots", "assays", "runs", "consumptions", "shipments", "retractions",
          "overrides", "run_losses", "activities", "custody_claims", "claim_allocations", "supplier_pcfs")
#: Column names of each table, in the table's order (the order of the tuples).
COLUMNS: dict[str, tuple[str, ...]] = {t: tuple(c.name for c in getattr(s, t).columns) for t in TABLES}
#: The tables the compiled builder fills, in the order of the lists it is given.
_COMPILED_TABLES = ("events", "lots", "assays", "activities", "runs", "consumptions", "shipments", "run_losses")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=65536)
def to_us(t: datetime) -> int:
    """Aware datetime → integer microseconds since the Unix epoch (UTC)."""
    d = t - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


#: What the compiled builder is given: the model's types, the decimal writer, the hash constructor (its digests
#: where the processor has no SHA extensions) and the event kinds' values.
_SETUP = (Event, Lot, Run, Shipment, Activity, Electricity, Fuel, Reagent, Consumption, Decimal, UTC, _d,
          hashlib.sha256, tuple((k, k.value) for k in EventKind))
if _hotrows is not None:
    _hotrows.setup(*_SETUP)

#: True when the compiled builder is installed.
COMPILED = _hotrows is not None
#: False turns the compiled builder off (tests compare both builders).
use_compiled = COMPILED


def event_tuples(
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
) -> dict[str, list[tuple[Any, ...]]]:
    """``as_tuples(COLUMNS[t], event_rows(...)[t])`` for every table ``t`` (same arguments), built directly."""
    out: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
    ev_rows, lot_rows, assay_rows, act_rows = out["events"], out["lots"], out["assays"], out["activities"]
    run_rows, cons_rows, ship_rows, loss_rows = out["runs"], out["consumptions"], out["shipments"], out["run_losses"]
    lot_next, run_next, ship_next = nxt["lot"], nxt["run"], nxt["shipment"]
    compiled = use_compiled and chain is chain_hash and to_us is _to_us and plain_decimal_context()
    lists = tuple(out[t] for t in _COMPILED_TABLES)
    done = -1  # where the compiled builder stopped: the events before are written, the one there it declined

    def activity(a: Activity, run_idx: int | None, lidx: int | None) -> None:
        for el in a.electricity:
            act_rows.append((run_idx, lidx, "electricity", el.source, _d(el.kwh), "kWh", el.factor_key,
                             el.instrument))
        for f in a.fuels:
            act_rows.append((run_idx, lidx, "fuel", f.kind, _d(f.mj), "MJ", None, None))
        for r in a.reagents:
            act_rows.append((run_idx, lidx, "reagent", r.name, _d(r.kg), "kg", r.factor_key, None))
        if a.water_m3 is not None:
            act_rows.append((run_idx, lidx, "water", "water", _d(a.water_m3), "m3", None, None))
        if a.process_kg_co2e is not None:
            act_rows.append((run_idx, lidx, "process", "process", _d(a.process_kg_co2e), "kg CO2e", None, None))

    def lot(o: Lot, run_idx: int | None, eseq: int, value: Decimal | None = None) -> None:
        nonlocal lot_next
        idx = lot_next
        lot_next += 1
        lot_idx[o.id] = idx
        lot_rows.append((idx, o.id, o.material, o.site, to_us(o.produced_at), o.mass_mg, o.origin, run_idx, eseq,
                         _d(value) if value is not None else None))
        assay_rows.extend([(idx, e, v) for e, v in o.assay.items() if v])
        if o.activity is not None:
            activity(o.activity, None, idx)

    for k, (ev, payload) in enumerate(zip(events, payloads, strict=True)):
        if k < done:
            continue
        if compiled and k > done:  # the stretch of lots, runs and shipments from here, up to an event it declines
            done, seq, prev, prev_record, lot_next, run_next, ship_next = _hotrows.rows(
                events, payloads, k, seq, prev, prev_record, lot_next, run_next, ship_next, lot_idx, target_seq,
                recorded, source, lists)
            if done > k:
                continue
        b = ev.body
        tb = type(b)
        if tb is not Run and tb is not Lot and tb is not Shipment:  # any other kind: the reference rows
            rows = event_rows([ev], [payload], seq, prev, {"lot": lot_next, "run": run_next, "shipment": ship_next},
                              lot_idx, target_seq, recorded, source, chain, to_us, prev_record)
            for t, data in rows.items():
                if data:
                    out[t].extend(as_tuples(COLUMNS[t], data))
            head = rows["events"][0]
            seq, prev, prev_record = head["seq"], head["chain_hash"], head["record_hash"]
            lot_next += len(rows["lots"])
            run_next += len(rows["runs"])
            ship_next += len(rows["shipments"])
            continue
        seq += 1
        eid = ev.event_id
        target_seq[eid] = seq  # later retractions in the same document may name this event
        kind = ev.kind.value
        t = format_time(ev.time)
        h = chain(prev, eid, kind, t, payload)
        prev_record = record_hash(prev_record, h, recorded, source)
        ev_rows.append((seq, eid, kind, t, payload, prev, h, recorded, source, prev_record))
        prev = h
        if tb is Shipment:
            assert isinstance(b, Shipment)
            ship_rows.append((ship_next, b.id, lot_idx[b.lot], b.mass_mg, b.from_site, b.to_site,
                              to_us(b.shipped_at), b.mode, format(b.distance_km.normalize(), "f"),
                              b.to_organisation, seq))
            ship_next += 1
        elif tb is Run:
            assert isinstance(b, Run)
            ridx = run_next
            run_next += 1
            run_rows.append((ridx, b.id, b.site, b.kind, to_us(b.started_at), to_us(b.ended_at), seq))
            cons_rows.extend([(ridx, lot_idx[c.lot], c.mass_mg) for c in b.inputs])
            economic = b.allocation == "economic"
            for o in b.outputs:
                lot(o, ridx, seq, b.output_values.get(o.id) if economic else None)
            loss_rows.extend([(ridx, e, v) for e, v in b.losses_mg.items() if v])
            activity(b.activity, ridx, None)
        else:
            assert isinstance(b, Lot)
            lot(b, None, seq)
    return out


_to_us = to_us  # the converter event_tuples' parameter is compared with (the parameter hides the name)

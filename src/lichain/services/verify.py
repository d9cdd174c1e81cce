"""Use cases that check the ledger's integrity: the hash chains, the projections, and signed checkpoints.

``verify_chain`` recomputes the content chain (event payloads) and the record chain (when and from which document
each event was recorded) and reports the first break. ``verify_deep`` also rebuilds every projection table
from the events and compares it row by row (:mod:`lichain.storage.deep_verify`), so a changed byte anywhere
that analysis reads is found. Checkpoints anchor the chain head outside the database
(:mod:`lichain.services.checkpoint`).
"""

from __future__ import annotations

import time
from typing import Any

from lichain.core.codec import GENESIS, chain_hash, record_hash
from lichain.storage.sql import SqlStore

__all__ = ["verify_chain", "verify_deep"]


def verify_chain(store: SqlStore, *, upto: int | None = None) -> dict[str, Any]:
    """Recompute both hash chains from the stored events; report the first broken event (``verify --json``).

    ``upto`` stops after that seq (the head at that point is reported as ``head``/``record_head``).
    """
    prev, rec, n, expected_seq = GENESIS, GENESIS, 0, 1
    first_bad: str | None = None
    reason: str | None = None
    heads: dict[str, Any] = {}
    for ev in store.iter_events():
        n += 1
        if first_bad is None:
            h = chain_hash(prev, ev.event_id, ev.kind, ev.time, ev.payload)
            r = record_hash(rec, ev.chain_hash, ev.recorded_at, ev.source)
            if ev.seq != expected_seq:
                first_bad, reason = ev.event_id, f"sequence gap: expected {expected_seq}, found {ev.seq}"
            elif ev.prev_hash != prev:
                first_bad, reason = ev.event_id, "prev_hash does not match the previous event's hash"
            elif ev.chain_hash != h:
                first_bad, reason = ev.event_id, "stored hash does not match the recomputed hash of the event"
            elif ev.record_hash != r:
                first_bad, reason = ev.event_id, ("record hash does not match: recorded_at or source was changed "
                                                  "(or the record chain was rewritten)")
        prev, rec, expected_seq = ev.chain_hash, ev.record_hash, ev.seq + 1
        if upto is not None and ev.seq == upto:
            heads = {"seq": ev.seq, "head": prev, "record_head": rec, "events": n}
    return {"ok": first_bad is None, "events": n, "head": prev, "record_head": rec, "first_bad_event": first_bad,
            "reason": reason, **({"at": heads} if upto is not None else {})}


def verify_deep(store: SqlStore, *, limit: int = 20, batch: int = 20_000) -> dict[str, Any]:
    """Both chains, then every projection table rebuilt from the events and compared (``verify --deep``)."""
    from lichain.storage.deep_verify import deep_verify

    out = verify_chain(store)
    t0 = time.perf_counter()
    with store.read() as conn:
        rep = deep_verify(conn, store.iter_events(), batch=batch, limit=limit)
    dt = time.perf_counter() - t0
    rows = sum(rep.rows_compared.values())
    out.update({
        "ok": out["ok"] and rep.ok, "deep": True, "projections_ok": rep.ok, "rows_compared": rep.rows_compared,
        "mismatch_count": rep.mismatch_count, "rows_per_s": round(rows / dt) if dt > 0 else None,
        "mismatches": [{"table": m.table, "key": m.key, "problem": m.problem, "columns": list(m.columns),
                        "stored": m.stored, "expected": m.expected} for m in rep.mismatches],
    })
    return out

"""Use cases that check the ledger's integrity: the hash chains and the projections.

``verify_chain`` recomputes the content chain (event payloads) and the record chain (when and from which document
each event was recorded) and reports the first break. ``verify_deep`` also rebuilds every projection table
from the events and compares it row by row (:mod:`lichain.storage.deep_verify`), so a changed byte anywhere
that analysis reads is found. Checkpoints anchor the chain head outside the database
(:mod:`lichain.services.checkpoint`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from lichain.core.codec import GENESIS, chain_hash, record_hash
from lichain.core.ports import LedgerStore, ProjectionMismatch

__all__ = ["ChainPoint", "Verification", "verify_chain", "verify_deep"]


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """Both chain heads at one sequence number (for checking a checkpoint)."""

    seq: int
    head: str
    record_head: str
    events: int


@dataclass(frozen=True, slots=True)
class Verification:
    """Outcome of ``lichain verify`` (the ``verify --json`` shape).

    ``head``/``record_head`` are the SHA-256 heads of the content and record chains after the last event;
    ``first_bad_event`` and ``reason`` name the first break (None when the chains verify). With ``deep``, every
    projection table was rebuilt from the events: ``rows_compared`` per table and the first ``mismatches``.
    """

    ok: bool
    events: int
    head: str
    record_head: str
    first_bad_event: str | None = None
    reason: str | None = None
    at: ChainPoint | None = None
    deep: bool = False
    projections_ok: bool | None = None
    rows_compared: dict[str, int] = field(default_factory=dict)
    mismatch_count: int = 0
    rows_per_s: int | None = None
    mismatches: tuple[ProjectionMismatch, ...] = ()
    #: Process-reading partition files against the SHA-256 their batch events recorded (None: no batches).
    process_ok: bool | None = None
    process_problems: tuple[str, ...] = ()


def verify_chain(store: LedgerStore, *, upto: int | None = None) -> Verification:
    """Recompute both hash chains from the stored events; report the first broken event.

    ``upto`` also reports both heads as they were at that seq (``at``), for checking a checkpoint.
    """
    prev, rec, n, expected_seq = GENESIS, GENESIS, 0, 1
    first_bad: str | None = None
    reason: str | None = None
    at: ChainPoint | None = None
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
            at = ChainPoint(ev.seq, prev, rec, n)
    return Verification(first_bad is None, n, prev, rec, first_bad, reason, at)


def verify_deep(store: LedgerStore, *, limit: int = 20, batch: int = 20_000) -> Verification:
    """Both chains, then every projection table rebuilt from the events and compared (``verify --deep``)."""
    v = verify_chain(store)
    t0 = time.perf_counter()
    rep = store.deep_verify(limit=limit, batch=batch)
    dt = time.perf_counter() - t0
    rows = sum(rep.rows_compared.values())
    return replace(
        v, ok=v.ok and rep.ok, deep=True, projections_ok=rep.ok, rows_compared=dict(rep.rows_compared),
        mismatch_count=rep.mismatch_count, rows_per_s=round(rows / dt) if dt > 0 else None,
        mismatches=tuple(rep.mismatches))

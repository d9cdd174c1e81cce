"""Deep verification: rebuild every projection table from the hash-chained events and compare it with the stored one.

Why this exists: the analysis engine reads the projection tables (lots, assays, consumptions, sites …), not the
event payloads; the hash chain covers only the events. Every projection row is a deterministic function of the
events, their order and the creation counters (:func:`lichain.storage.rows.event_rows`, the same function that
wrote them), so replaying the events reproduces every row exactly. Any changed, missing or extra row in any
projection is reported with its table, key and column. Work is done in batches of events, comparing the rows
each batch owns (by creation index or event sequence range), then the row counts of every table as a whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from lichain.core.codec import GENESIS, chain_hash, event_from_payload
from lichain.core.ports import ProjectionMismatch as Mismatch
from lichain.core.ports import StoredEvent
from lichain.storage import schema as s
from lichain.storage.rows import as_tuples, event_rows

__all__ = ["DeepReport", "Mismatch", "deep_verify", "tables"]

#: Identifying columns of each projection (how a differing row is named in a report).
_KEYS: dict[str, tuple[str, ...]] = {
    "sites": ("id",), "materials": ("code",), "lots": ("idx",), "assays": ("lot_idx", "element"),
    "runs": ("idx",), "consumptions": ("run_idx", "lot_idx"), "shipments": ("idx",),
    "run_losses": ("run_idx", "element"), "activities": ("run_idx", "lot_idx", "kind", "name"),
    "retractions": ("target_seq",), "overrides": ("event_seq",), "custody_claims": ("event_seq",),
    "claim_allocations": ("claim_seq", "lot_id", "element"), "supplier_pcfs": ("event_seq",),
}  # fmt: skip


@dataclass(slots=True)
class DeepReport:
    """Outcome of a deep verification: rows compared per table and the differences found (first ``limit``)."""

    rows_compared: dict[str, int] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    mismatch_count: int = 0

    @property
    def ok(self) -> bool:
        """True when every projection equals its rebuild."""
        return self.mismatch_count == 0


def _between(col: Any, lo: int, hi: int) -> Any:
    return and_(col >= lo, col < hi)


class _Comparer:
    def __init__(self, conn: Connection, limit: int) -> None:
        self.conn = conn
        self.limit = limit
        self.report = DeepReport()

    def add(self, m: Mismatch) -> None:
        self.report.mismatch_count += 1
        if len(self.report.mismatches) < self.limit:
            self.report.mismatches.append(m)

    def compare(self, name: str, expected: list[dict[str, Any]], where: Any) -> None:
        table = getattr(s, name)
        cols = [c.name for c in table.columns]
        stored = [tuple(r) for r in self.conn.execute(select(*table.columns).where(where))]
        exp = as_tuples(cols, expected)
        self.report.rows_compared[name] = self.report.rows_compared.get(name, 0) + len(stored)
        if Counter(stored) == Counter(exp):
            return
        key_at = [cols.index(k) for k in _KEYS[name]]
        missing = Counter(exp) - Counter(stored)
        extra = Counter(stored) - Counter(exp)
        by_key = {tuple(r[i] for i in key_at): r for r in extra.elements()}
        for r in missing.elements():
            k = tuple(r[i] for i in key_at)
            key = ", ".join(f"{c}={v!r}" for c, v in zip(_KEYS[name], k, strict=True))
            got = by_key.pop(k, None)
            if got is None:
                self.add(Mismatch(name, key, "missing", expected=repr(r)))
                continue
            diff = tuple(c for c, a, b in zip(cols, got, r, strict=True) if a != b)
            self.add(Mismatch(name, key, "changed", diff,
                              repr(tuple(got[cols.index(c)] for c in diff)),
                              repr(tuple(r[cols.index(c)] for c in diff))))
        for k, r in by_key.items():
            key = ", ".join(f"{c}={v!r}" for c, v in zip(_KEYS[name], k, strict=True))
            self.add(Mismatch(name, key, "extra", stored=repr(r)))


def _batches(events: Iterator[StoredEvent], n: int) -> Iterator[list[StoredEvent]]:
    batch: list[StoredEvent] = []
    for ev in events:
        batch.append(ev)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def deep_verify(conn: Connection, events: Iterator[StoredEvent], *, batch: int = 20_000,
                limit: int = 20) -> DeepReport:
    """Replay ``events`` (in seq order) through the projection and compare every projection table.

    Parameters
    ----------
    conn : Connection
        A read connection to the ledger.
    events : iterator of StoredEvent
        The ledger's events in seq order (their payloads are decoded; the chain itself is checked elsewhere).
    batch : int
        Events replayed and compared per step (memory is bounded by the rows of one batch).
    limit : int
        Differences kept in the report (all are counted).
    """
    from lichain.storage.sql import to_us

    cmp = _Comparer(conn, limit)
    nxt = {"lot": 0, "run": 0, "shipment": 0}
    lot_idx: dict[str, int] = {}
    target_seq: dict[str, int] = {}
    totals: Counter[str] = Counter()
    for part in _batches(events, batch):
        first, last = part[0].seq, part[-1].seq
        try:  # stored payloads are hashed; a changed one is reported by the chain check, and stops the replay
            decoded = [event_from_payload(e.event_id, e.kind, e.time, e.payload) for e in part]
            rows = event_rows(decoded, [e.payload for e in part], first - 1, GENESIS, dict(nxt), lot_idx,
                              target_seq, "", None, chain_hash, to_us)
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError) as exc:
            cmp.add(Mismatch("events", f"seq {first}..{last}", "undecodable",
                             stored=f"the events cannot be replayed: {type(exc).__name__}: {exc}"))
            return cmp.report
        lo = dict(nxt)
        nxt = {"lot": lo["lot"] + len(rows["lots"]), "run": lo["run"] + len(rows["runs"]),
               "shipment": lo["shipment"] + len(rows["shipments"])}
        seqs = (first, last + 1)
        lots, runs = (lo["lot"], nxt["lot"]), (lo["run"], nxt["run"])
        where: dict[str, Any] = {
            "sites": _between(s.sites.c.event_seq, *seqs), "materials": _between(s.materials.c.event_seq, *seqs),
            "overrides": _between(s.overrides.c.event_seq, *seqs),
            "retractions": _between(s.retractions.c.event_seq, *seqs),
            "custody_claims": _between(s.custody_claims.c.event_seq, *seqs),
            "claim_allocations": _between(s.claim_allocations.c.claim_seq, *seqs),
            "supplier_pcfs": _between(s.supplier_pcfs.c.event_seq, *seqs),
            "lots": _between(s.lots.c.idx, *lots), "assays": _between(s.assays.c.lot_idx, *lots),
            "runs": _between(s.runs.c.idx, *runs), "consumptions": _between(s.consumptions.c.run_idx, *runs),
            "run_losses": _between(s.run_losses.c.run_idx, *runs),
            "shipments": _between(s.shipments.c.idx, lo["shipment"], nxt["shipment"]),
            "activities": or_(_between(s.activities.c.run_idx, *runs), _between(s.activities.c.lot_idx, *lots)),
        }  # fmt: skip
        for name in _KEYS:
            cmp.compare(name, rows[name], where[name])
            totals[name] += len(rows[name])
    for name in _KEYS:
        table = getattr(s, name)
        n = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if n != totals[name]:
            cmp.add(Mismatch(name, "(whole table)", "extra" if n > totals[name] else "missing",
                             stored=f"{n} rows", expected=f"{totals[name]} rows"))
    return cmp.report


def tables() -> Sequence[str]:
    """Projection tables covered by the deep verification (every table but ``events``)."""
    return tuple(_KEYS)

"""Use case: take a document's events into the ledger, all or nothing.

Parsing (EPCIS, tabular) yields located events and located problems; the ledger rules check the whole document
against the stored state; only a document without a single problem is written, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lichain.core.errors import Problem
from lichain.core.validate import BalancePolicy, LocatedEvent, check_document
from lichain.storage.sql import SqlStore

__all__ = ["IngestResult", "ingest_events", "ingest_stream"]


@dataclass(slots=True)
class IngestResult:
    """Outcome of one document: written count, already-recorded count, and every problem found."""

    ok: bool
    events_written: int
    events_skipped: int = 0
    problems: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The ``ingest --json`` shape."""
        return {
            "ok": self.ok,
            "events_written": self.events_written,
            "events_skipped": self.events_skipped,
            "problems": [{"location": p.location, "message": p.message} for p in self.problems],
        }


def ingest_events(
    located: Sequence[LocatedEvent],
    store: SqlStore,
    *,
    parse_problems: Sequence[Problem] = (),
    policy: BalancePolicy | None = None,
    source: str | None = None,
) -> IngestResult:
    """Check a document's events and write them if, and only if, nothing is wrong with any of them."""
    result = check_document(located, store, policy)
    problems = [*parse_problems, *result.problems]
    if problems:
        return IngestResult(False, 0, 0, problems)
    written = store.append(result.new_events, result.payloads, source)
    return IngestResult(True, written, result.skipped)


def ingest_stream(
    batches: Iterable[Sequence[LocatedEvent]],
    store: SqlStore,
    *,
    policy: BalancePolicy | None = None,
    source: str | None = None,
) -> IngestResult:
    """Ingest consecutive documents (e.g. a generated chain in time order); stops at the first refused one."""
    total = IngestResult(True, 0)
    for batch in batches:
        r = ingest_events(batch, store, policy=policy, source=source)
        total.events_written += r.events_written
        total.events_skipped += r.events_skipped
        if not r.ok:
            total.ok = False
            total.problems = r.problems
            break
    return total

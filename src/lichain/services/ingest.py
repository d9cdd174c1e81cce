"""Use case: take a document's events into the ledger, all or nothing.

Parsing (EPCIS, tabular) yields located events and located problems; the ledger rules check the whole document
against the stored state; only a document without a single problem is written, in one transaction. The check
and the append run in one unit of work holding the ledger's write lock (:meth:`SqlStore.writing`), so no other
writer can change the state between them: any interleaving of writers stores what some serial order would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lichain.core.errors import Problem, WriteConflict
from lichain.core.validate import BalancePolicy, LocatedEvent, check_document
from lichain.storage.sql import SqlStore

__all__ = ["IngestResult", "ingest_events", "ingest_stream"]


@dataclass(slots=True)
class IngestResult:
    """Outcome of one document: written count, already-recorded count, and every problem found.

    A dry run writes nothing: ``events_written`` is 0 and ``events_new`` counts what would have been written.
    """

    ok: bool
    events_written: int
    events_skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    events_new: int = 0

    def to_json(self) -> dict[str, object]:
        """The ``ingest --json`` shape."""
        out: dict[str, object] = {
            "ok": self.ok,
            "events_written": self.events_written,
            "events_skipped": self.events_skipped,
            "problems": [{"location": p.location, "message": p.message} for p in self.problems],
        }
        if self.dry_run:
            out.update(dry_run=True, events_new=self.events_new)
        return out


def ingest_events(
    located: Sequence[LocatedEvent],
    store: SqlStore,
    *,
    parse_problems: Sequence[Problem] = (),
    policy: BalancePolicy | None = None,
    source: str | None = None,
    dry_run: bool = False,
) -> IngestResult:
    """Check a document's events and write them if, and only if, nothing is wrong with any of them.

    The check reads the ledger through the same locked transaction the events are appended in. A uniqueness
    clash that still reaches the database (a writer that bypassed the lock) is a located refusal.
    """
    try:
        with store.writing() as w:
            result = check_document(located, w, policy)
            problems = [*parse_problems, *result.problems]
            if problems or dry_run:
                w.discard()
                return IngestResult(not problems, 0, result.skipped, problems, dry_run,
                                    0 if problems else len(result.new_events))
            written = w.append(result.new_events, result.payloads, source)
    except WriteConflict as exc:
        return IngestResult(False, 0, 0, [Problem(source or "document", f"{exc}; nothing was written")])
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

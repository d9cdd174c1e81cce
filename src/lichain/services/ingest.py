"""Use case: take a document's events into the ledger, all or nothing.

Parsing (EPCIS, tabular) yields located events and located problems; the ledger rules check the whole document
against the stored state; only a document without a single problem is written, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lichain.core.errors import ConflictError, Problem
from lichain.core.gcpause import paused_gc
from lichain.core.model import VerbatimEvent
from lichain.core.ports import LedgerStore
from lichain.core.validate import BalancePolicy, LocatedEvent, check_document

__all__ = ["IngestReport", "IngestResult", "IngestedDocument", "VerbatimNote", "ingest_chunks", "ingest_events",
           "ingest_stream"]

#: At most this many events kept verbatim are listed one by one in a result (all are counted).
MAX_NOTES = 1_000


@dataclass(frozen=True, slots=True)
class VerbatimNote:
    """An event kept verbatim (in the chain, not in the lot graph): where it stands, its id and type, and why."""

    location: str
    event_id: str
    event_type: str
    reason: str


def _notes(kept: Sequence[LocatedEvent]) -> tuple[VerbatimNote, ...]:
    out = []
    for le in kept[:MAX_NOTES]:
        b = le.event.body
        if isinstance(b, VerbatimEvent):
            out.append(VerbatimNote(le.location, le.event.event_id, b.event_type, b.note))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Outcome of one document (the ``ingest --json`` shape, per file).

    ``events_written`` counts events appended (with ``dry_run``: that would have been; nothing was written);
    ``events_skipped`` counts events already on record (identical content: a re-ingest is a no-op); a refused
    document lists every problem with its location and writes nothing. ``kept_verbatim`` counts the written
    events the lot graph does not model (EPCIS events kept as received), ``verbatim`` lists them (the first
    1,000) with their location and the reason.
    """

    ok: bool
    events_written: int
    events_skipped: int = 0
    problems: tuple[Problem, ...] = ()
    dry_run: bool = False
    kept_verbatim: int = 0
    verbatim: tuple[VerbatimNote, ...] = ()

    def then(self, later: IngestResult) -> IngestResult:
        """This result followed by a later document's (counts added; the later problems when it was refused)."""
        return IngestResult(self.ok and later.ok, self.events_written + later.events_written,
                            self.events_skipped + later.events_skipped, self.problems + later.problems,
                            self.dry_run or later.dry_run, self.kept_verbatim + later.kept_verbatim,
                            (self.verbatim + later.verbatim)[:MAX_NOTES])


@dataclass(frozen=True, slots=True)
class IngestedDocument:
    """One document of an ingest: its file (as given) and its outcome."""

    file: str
    ok: bool
    events_written: int
    events_skipped: int
    problems: tuple[Problem, ...]
    kept_verbatim: int = 0
    verbatim: tuple[VerbatimNote, ...] = ()


@dataclass(frozen=True, slots=True)
class IngestReport:
    """Outcome of ``lichain ingest`` for one or more documents (the ``ingest --json`` shape).

    Each document is all or nothing on its own; ``ok`` is true when every one was accepted; counts are summed;
    ``problems`` lists every document's problems (each location names its file).
    """

    ok: bool
    dry_run: bool
    events_written: int
    events_skipped: int
    problems: tuple[Problem, ...]
    documents: tuple[IngestedDocument, ...]
    kept_verbatim: int = 0

    @staticmethod
    def of(results: Sequence[tuple[str, IngestResult]], dry_run: bool = False) -> IngestReport:
        """The report of documents ingested one after the other."""
        docs = tuple(IngestedDocument(f, r.ok, r.events_written, r.events_skipped, r.problems, r.kept_verbatim,
                                      r.verbatim) for f, r in results)  # fmt: skip
        return IngestReport(all(d.ok for d in docs), dry_run, sum(d.events_written for d in docs),
                            sum(d.events_skipped for d in docs), tuple(p for d in docs for p in d.problems), docs,
                            sum(d.kept_verbatim for d in docs))


def ingest_events(
    located: Sequence[LocatedEvent],
    store: LedgerStore,
    *,
    parse_problems: Sequence[Problem] = (),
    policy: BalancePolicy | None = None,
    source: str | None = None,
    dry_run: bool = False,
) -> IngestResult:
    """Check a document's events and write them if, and only if, nothing is wrong with any of them.

    The check and the write happen in one unit of work holding the ledger's write lock
    (:meth:`SqlStore.writing`), so what was checked is what is written whatever other writers do; a document
    that another writer recorded meanwhile is skipped as already on record. ``dry_run`` checks without writing.
    """
    with paused_gc(), store.writing() as uow:
        result = check_document(located, uow, policy)
        problems = [*parse_problems, *result.problems]
        kept = (len(result.verbatim), _notes(result.verbatim)) if not problems else (0, ())
        if problems or dry_run:
            uow.discard()
            return IngestResult(not problems, 0 if problems else len(result.new_events),
                                result.skipped if not problems else 0, tuple(problems), dry_run, *kept)
        try:
            written = uow.append(result.new_events, result.payloads, source, settled=result.settled)
        except ConflictError as exc:
            return IngestResult(False, 0, 0, (Problem(source or "document", str(exc)),))
    return IngestResult(True, written, result.skipped, (), False, *kept)


def ingest_chunks(
    chunks: Iterable[tuple[Sequence[LocatedEvent], Sequence[Problem]]],
    store: LedgerStore,
    *,
    policy: BalancePolicy | None = None,
    source: str | None = None,
    dry_run: bool = False,
    relocate: Callable[[Sequence[Problem], Sequence[LocatedEvent]], list[Problem]] | None = None,
) -> IngestResult:
    """Ingest one document that arrives in chunks (a streamed file), still all or nothing.

    One unit of work holds the write lock for the whole document: each chunk is checked against the ledger plus
    the document's earlier chunks (already written into the open transaction) and written; the transaction
    commits only if no chunk had a problem. After a refused chunk the later ones are still checked (so every
    problem is reported) but not written. An event repeated within the document is refused as it is when the
    document is read whole.
    """
    problems: list[Problem] = []
    written = skipped = 0
    seen = _SeenIds()
    kept: list[LocatedEvent] = []
    n_kept = 0
    with store.writing() as uow:
        for located, parse_problems in chunks:
            chunk_problems = list(parse_problems)
            for le in seen.repeated(located, uow):
                chunk_problems.append(Problem(le.location, f"duplicate event {le.event.event_id} (it appears "
                                                           "earlier in this document)"))
            result = check_document(located, uow, policy)
            chunk_problems += result.problems
            skipped += result.skipped
            if chunk_problems:
                problems += relocate(chunk_problems, located) if relocate else chunk_problems
                continue
            if not problems:  # written into the open transaction even for a dry run: later chunks build on it
                n_kept += len(result.verbatim)
                kept += result.verbatim[: MAX_NOTES - len(kept)]
                try:
                    written += uow.append(result.new_events, result.payloads, source, settled=result.settled)
                except ConflictError as exc:
                    problems.append(Problem(source or "document", str(exc)))
        if problems or dry_run:
            uow.discard()
            return IngestResult(not problems, 0 if problems else written, 0 if problems else skipped, tuple(problems),
                                dry_run, *((0, ()) if problems else (n_kept, _notes(kept))))
    return IngestResult(True, written, skipped, (), False, n_kept, _notes(kept))


class _SeenIds:
    """Event ids met so far in one streamed document, as a sorted array of 64-bit digests (8 bytes per event).

    A digest seen before names a repeated event, confirmed against the ledger: the event is on record (written
    by this document's earlier chunks inside the open transaction), so a digest collision is never a refusal.
    """

    def __init__(self) -> None:
        import numpy as np

        self.np = np
        self.digests = np.empty(0, dtype=np.uint64)

    @staticmethod
    def _digest(event_id: str) -> int:
        from hashlib import blake2b

        return int.from_bytes(blake2b(event_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")

    def repeated(self, located: Sequence[LocatedEvent], view: LedgerStore) -> list[LocatedEvent]:
        np = self.np
        d = np.fromiter((self._digest(le.event.event_id) for le in located), dtype=np.uint64, count=len(located))
        earlier = np.isin(d, self.digests)
        _, first = np.unique(d, return_index=True)
        within = np.ones(len(d), dtype=bool)
        within[first] = False  # a later copy of a digest inside this chunk
        self.digests = np.union1d(self.digests, d)
        suspects = [le for le, e, w in zip(located, earlier, within, strict=True) if e or w]
        if not suspects:
            return []
        on_record = set(view.event_payloads([le.event.event_id for le in suspects]))
        firsts: set[str] = set()
        out = []
        for le, e, w in zip(located, earlier, within, strict=True):
            eid = le.event.event_id
            if (w and eid in firsts) or (e and eid in on_record):
                out.append(le)
            firsts.add(eid)
        return out


def ingest_stream(
    batches: Iterable[Sequence[LocatedEvent]],
    store: LedgerStore,
    *,
    policy: BalancePolicy | None = None,
    source: str | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> IngestResult:
    """Ingest consecutive documents (e.g. a generated chain in time order); stops at the first refused one."""
    total = IngestResult(True, 0)
    for batch in batches:
        total = total.then(ingest_events(batch, store, policy=policy, source=source))
        if on_batch is not None:
            on_batch(len(batch))
        if not total.ok:
            break
    return total

"""Write-time checks of the manufacturing and quality events, called by the ledger's document check.

Why this exists: :mod:`lichain.core.validate` walks a document in order; this module keeps its quality branch to
one call (build the book of stored records once, then check each specification, certificate, deviation, SPC alarm
or process batch and add it to the book when it is accepted, so later events of the same document see it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from lichain.core.model import EventBody, LocatedEvent
from lichain.core.quality import (
    QualityBook,
    QualityRecords,
    certificate_problems,
    deviation_problems,
    specification_problems,
)
from lichain.core.quality_model import Certificate, Deviation, ProcessBatch, SpcAlarm, Specification
from lichain.core.quality_vocab import PROCESS_PARAMETERS, unit_problem

__all__ = ["batch_digest", "check_quality_event", "quality_book"]


def quality_book(view: object, events: Sequence[LocatedEvent], lots: Iterable[str],
                 records_among: Sequence[LocatedEvent] | None = None) -> QualityBook:
    """The book of stored quality records for the lots a document names (a view without them gives none);
    ``records_among``: the events that can be certificates or deviations (default: all)."""
    lookup = getattr(view, "quality_records", None)
    named = {le.event.body.lot for le in (events if records_among is None else records_among)
             if isinstance(le.event.body, Certificate | Deviation)}
    records = lookup(set(lots) | named, named) if lookup is not None else QualityRecords({}, [], [], [])
    return QualityBook(records, events)


def batch_digest(files: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over the sorted ``path sha256`` lines of a batch's files (hex)."""
    text = "".join(f"{p} {h}\n" for p, h in sorted(files))
    return hashlib.sha256(text.encode()).hexdigest()


def _alarm_problems(a: SpcAlarm) -> list[tuple[str, str]]:
    out = []
    why = unit_problem(a.parameter, a.unit, PROCESS_PARAMETERS, "parameter")
    if why:
        out.append(("/unit" if a.parameter in PROCESS_PARAMETERS else "/parameter", why))
    if not a.line.strip():
        out.append(("/line", "an alarm names its line"))
    if a.chart not in ("xbar", "r", "i", "mr"):
        out.append(("/chart", f"chart must be xbar, r, i or mr, got {a.chart!r}"))
    if a.window_end < a.window_start:
        out.append(("/window_end", "the alarm window ends before it starts"))
    return out


def _batch_problems(b: ProcessBatch) -> list[tuple[str, str]]:
    out = []
    if not b.line.strip():
        out.append(("/line", "a batch names its line"))
    if b.rows <= 0 or b.rows != sum(f.rows for f in b.files):
        out.append(("/rows", f"rows {b.rows} must be > 0 and the sum of its files' rows"))
    if not b.files:
        out.append(("/files", "a batch lists the files it wrote"))
    if b.digest != batch_digest((f.path, f.sha256) for f in b.files):
        out.append(("/digest", "digest is not the SHA-256 of the batch's file list"))
    if b.time_to < b.time_from:
        out.append(("/time_to", "time_to is before time_from"))
    for p, u in b.units:
        why = unit_problem(p, u, PROCESS_PARAMETERS, "parameter")
        if why:
            out.append((f"/units/{p}", why))
    return out


def check_quality_event(book: QualityBook, loc: str, b: EventBody, add: Callable[[str, str], None], *,
                        ok: bool) -> None:
    """Check one quality event; when it and its fields (``ok``) pass, the book records it for what follows."""
    if isinstance(b, Specification):
        found = specification_problems(b)
    elif isinstance(b, Certificate):
        found = certificate_problems(b, book.spec_of(b), book.materials.get(b.lot))
    elif isinstance(b, Deviation):
        found = deviation_problems(b, b.lot in book.materials)
    elif isinstance(b, SpcAlarm):
        found = _alarm_problems(b)
    elif isinstance(b, ProcessBatch):
        found = _batch_problems(b)
    else:
        return
    for suffix, message in found:
        add(f"{loc}{suffix}", message)
    if found or not ok:
        return
    if isinstance(b, Specification):
        book.add_spec(b)
    elif isinstance(b, Certificate):
        book.add_certificate(b)
    elif isinstance(b, Deviation):
        book.add_deviation(b)

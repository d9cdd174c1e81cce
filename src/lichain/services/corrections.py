"""Use case: correct the ledger without writing EPCIS by hand: retract a record, name what replaces it.

A person knows a run, shipment or lot by its id, not by its event hash, so references are resolved here (to the
event that recorded the run, shipment or lot; a lot made by a run resolves to that run's event). The
retraction then enters the ledger through the same ingest use case as any document, so every ledger rule
applies (a consumed lot cannot be retracted until its consumers are, nothing is retracted twice, …) and a
refusal comes back as located problems with nothing written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lichain.core.codec import canonical_payload, content_event_id
from lichain.core.errors import Problem
from lichain.core.model import Event, EventKind, Retraction
from lichain.core.ports import LedgerStore, LedgerView
from lichain.core.validate import LocatedEvent
from lichain.services.ingest import ingest_events

__all__ = ["RetractResult", "ledger_resolver", "resolve_refs", "retract"]

_RETRACTABLE = (EventKind.LOT.value, EventKind.RUN.value, EventKind.SHIPMENT.value,
                EventKind.CUSTODY_CLAIM.value)


def resolve_refs(store: LedgerView, refs: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Each reference found in the ledger → its candidates (kind, event id): run, shipment, lot or event id."""
    out: dict[str, list[tuple[str, str]]] = {}
    for kind in ("run", "shipment"):
        for ref, eid in store.record_ids(kind, refs).items():
            out.setdefault(ref, []).append((kind, eid))
    for ref, lot in store.lots(refs).items():
        out.setdefault(ref, []).append(("lot", lot.event_id))
    for ref in store.event_payloads(refs):
        out.setdefault(ref, []).append(("event", ref))
    return out


def ledger_resolver(store: LedgerView) -> Any:
    """The ``resolve`` callback the workbook reader takes (:mod:`lichain.io.tabular_corrections`)."""

    def resolve(refs: Sequence[str]) -> Mapping[str, Sequence[tuple[str, str]]]:
        return resolve_refs(store, refs)

    return resolve


def _one(found: Mapping[str, Sequence[tuple[str, str]]], ref: str, where: str,
         problems: list[Problem]) -> str | None:
    ids = {e for _, e in found.get(ref, ())}
    if not ids:
        problems.append(Problem(where, f"{ref} is not a run, shipment, lot or event id in the ledger"))
        return None
    if len(ids) > 1:
        kinds = ", ".join(sorted({k for k, _ in found[ref]}))
        problems.append(Problem(where, f"{ref} names more than one record ({kinds}): give the event id"))
        return None
    return ids.pop()


@dataclass(frozen=True, slots=True)
class RetractResult:
    """Outcome of ``lichain retract`` (the ``retract --json`` shape).

    ``target`` is the reference given, ``target_event_id`` the event it resolved to; ``event_id`` is the error
    declaration written (None when refused); ``corrective_event_ids`` the records that replace the target.
    """

    ok: bool
    target: str
    target_event_id: str | None
    reason: str
    corrective_event_ids: tuple[str, ...]
    event_id: str | None
    events_written: int
    problems: tuple[Problem, ...]


def retract(store: LedgerStore, ref: str, reason: str, corrected_by: Sequence[str] = (),
            declared_at: datetime | None = None) -> RetractResult:
    """Retract the run, shipment or lot ``ref`` (or the event with that id) by an error declaration.

    ``corrected_by`` names records already in the ledger that replace it (their events become the error
    declaration's corrective event ids). Refusals are located problems (``retract:<ref>``,
    ``retract:--corrected-by/<i>``) and nothing is written.
    """
    problems: list[Problem] = []
    if not reason.strip():
        problems.append(Problem("retract:--reason", "give the reason for the retraction"))
    found = resolve_refs(store, sorted({ref, *corrected_by}))
    target = _one(found, ref, f"retract:{ref}", problems)
    fixes = [_one(found, f, f"retract:--corrected-by/{i}", problems) for i, f in enumerate(corrected_by)]
    if target is not None:
        kind = store.event_payloads([target])[target][0]
        if kind not in _RETRACTABLE:
            problems.append(Problem(f"retract:{ref}", f"event {target} is a {kind} declaration and cannot be "
                                                     "retracted"))
        if target in fixes:
            problems.append(Problem("retract:--corrected-by", f"{ref} cannot correct itself"))
    fix_ids = tuple(f for f in fixes if f is not None)
    if problems or target is None:
        return RetractResult(False, ref, target, reason, fix_ids, None, 0, tuple(problems))
    when = declared_at or datetime.now(UTC)
    body = Retraction(target, when, reason.strip(), fix_ids)
    ev = Event(content_event_id(EventKind.RETRACTION, canonical_payload(body)), EventKind.RETRACTION, when, body)
    r = ingest_events([LocatedEvent(f"retract:{ref}", ev)], store, source="retract")
    return RetractResult(r.ok, ref, target, reason, fix_ids, ev.event_id if r.ok else None, r.events_written,
                         r.problems)

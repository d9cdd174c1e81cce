"""Use case: correct the ledger without writing EPCIS by hand: retract a record, name what replaces it.

A person knows a run, shipment or lot by its id, not by its event hash, so references are resolved here (to the
event that recorded the run, shipment or lot; a lot made by a run resolves to that run's event). The
retraction then enters the ledger through the same ingest use case as any document, so every ledger rule
applies (a consumed lot cannot be retracted until its consumers are, nothing is retracted twice, …) and a
refusal comes back as located problems with nothing written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lichain.core.codec import canonical_payload, content_event_id
from lichain.core.errors import Problem
from lichain.core.model import Event, EventKind, Retraction
from lichain.core.validate import LocatedEvent
from lichain.services.ingest import ingest_events
from lichain.storage.sql import SqlStore

__all__ = ["ledger_resolver", "resolve_refs", "retract"]

_RETRACTABLE = (EventKind.LOT.value, EventKind.RUN.value, EventKind.SHIPMENT.value,
                EventKind.CUSTODY_CLAIM.value)


def resolve_refs(store: SqlStore, refs: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
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


def ledger_resolver(store: SqlStore) -> Any:
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


def retract(store: SqlStore, ref: str, reason: str, corrected_by: Sequence[str] = (),
            declared_at: datetime | None = None) -> dict[str, Any]:
    """Retract the run, shipment or lot ``ref`` (or the event with that id); the ``retract --json`` shape.

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
    out: dict[str, Any] = {"ok": False, "target": ref, "target_event_id": target, "reason": reason,
                           "corrective_event_ids": [f for f in fixes if f is not None], "event_id": None,
                           "events_written": 0}
    if problems or target is None:
        out["problems"] = [{"location": p.location, "message": p.message} for p in problems]
        return out
    when = declared_at or datetime.now(UTC)
    body = Retraction(target, when, reason.strip(), tuple(f for f in fixes if f is not None))
    ev = Event(content_event_id(EventKind.RETRACTION, canonical_payload(body)), EventKind.RETRACTION, when, body)
    r = ingest_events([LocatedEvent(f"retract:{ref}", ev)], store, source="retract")
    out.update(ok=r.ok, event_id=ev.event_id if r.ok else None, events_written=r.events_written,
               problems=[{"location": p.location, "message": p.message} for p in r.problems])
    return out

"""The ``corrections`` sheet: retract a run, shipment or lot (and name what replaces it) from a spreadsheet.

Events are immutable, so a person fixes a mistake by retracting the wrong record (an EPCIS error declaration,
:class:`~lichain.core.model.Retraction`) and entering the corrected record in the usual sheets of the same
workbook. Each corrections row names its target by run, shipment or lot id (or by event id), a reason, and
optionally the ids that replace it (their events become the declaration's corrective event ids). The whole
workbook stays one all-or-nothing document, checked by the same ledger rules as every other document.

Targets and replacements are found in the workbook itself first, then in the ledger through a ``resolve``
callback the service passes (this module does no storage access). The events come out in an order the ledger
accepts: a retraction after its target and after the retractions of runs that consumed the target's lots, and
before the records that replace it (so a re-stated run may consume again what the wrong run consumed).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from lichain.core.codec import canonical_payload, content_event_id
from lichain.core.errors import Problem
from lichain.core.model import Event, EventKind, Lot, Retraction, Run, Shipment
from lichain.core.validate import LocatedEvent
from lichain.io.tabular_cells import Row, Table

__all__ = ["REF_KINDS", "Resolver", "add_corrections"]

#: What a corrections row may name: a run, shipment or lot id, or an event id.
REF_KINDS = ("run", "shipment", "lot", "event")

#: ``resolve(refs)`` → for each reference found in the ledger, its candidates as (kind, event id).
Resolver = Callable[[Sequence[str]], Mapping[str, Sequence[tuple[str, str]]]]

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


def _with_ids(located: list[LocatedEvent]) -> list[LocatedEvent]:
    """Lots, runs and shipments with the id the ingest service would give them (CBV 2.0 event hash)."""
    from lichain.io.epcis import assign_event_id

    out = []
    for le in located:
        ev = le.event
        if not ev.event_id and ev.kind in (EventKind.LOT, EventKind.RUN, EventKind.SHIPMENT):
            ev = replace(ev, event_id=assign_event_id(ev))
        out.append(LocatedEvent(le.location, ev))
    return out


def _local_refs(located: Sequence[LocatedEvent]) -> dict[str, list[tuple[str, str]]]:
    refs: dict[str, list[tuple[str, str]]] = {}
    for le in located:
        b, eid = le.event.body, le.event.event_id
        if not eid:
            continue
        refs.setdefault(eid, []).append(("event", eid))
        if isinstance(b, Run):
            refs.setdefault(b.id, []).append(("run", eid))
            for o in b.outputs:
                refs.setdefault(o.id, []).append(("lot", eid))
        elif isinstance(b, Shipment):
            refs.setdefault(b.id, []).append(("shipment", eid))
        elif isinstance(b, Lot):
            refs.setdefault(b.id, []).append(("lot", eid))
    return refs


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(";") if p.strip()]


class _Resolve:
    """Finds references in the workbook, then in the ledger; problems at the row's cell."""

    def __init__(self, local: dict[str, list[tuple[str, str]]], stored: Mapping[str, Sequence[tuple[str, str]]],
                 has_ledger: bool) -> None:
        self.local, self.stored, self.has_ledger = local, stored, has_ledger

    def one(self, r: Row, col: str, ref: str, kind: str | None) -> str | None:
        found = {(k, e) for k, e in [*self.local.get(ref, ()), *self.stored.get(ref, ())]
                 if kind is None or k == kind}
        if not self.has_ledger and not found and _URI.match(ref) and kind in (None, "event"):
            return ref  # an event id; the ledger rules check that it exists
        ids: set[str] = {e for _, e in found}
        where = "this workbook or the ledger" if self.has_ledger else "this workbook"
        what = f"{kind} {ref}" if kind else f"run, shipment, lot or event {ref}"
        if not ids:
            r.bad(col, f"{what} is not in {where}")
            return None
        if len(ids) > 1:
            kinds = ", ".join(sorted({k for k, _ in found}))
            r.bad(col, f"{ref} names more than one record ({kinds}): say which in the kind column")
            return None
        return ids.pop()


def _read_rows(table: Table, problems: list[Problem], now: datetime,
               res: Callable[[Row, str, str, str | None], str | None]) -> list[tuple[Row, LocatedEvent]]:
    out = []
    for r in table.records(problems):
        ref, reason = r.text("retract", required=True), r.text("reason", required=True)
        kind = r.text("kind")
        if kind is not None and kind not in REF_KINDS:
            r.bad("kind", f"kind must be one of {', '.join(REF_KINDS)}, got {kind!r}")
            kind = None
        declared = r.time("declared_at") or now
        target = res(r, "retract", ref, kind) if ref is not None else None
        fixes = [res(r, "corrected_by", x, None) for x in _split(r.text("corrected_by"))]
        if not r.ok or target is None or reason is None:
            continue
        if target in fixes:
            r.bad("corrected_by", f"{ref} cannot correct itself")
            continue
        body = Retraction(target, declared, reason, tuple(f for f in fixes if f is not None))
        ev = Event(content_event_id(EventKind.RETRACTION, canonical_payload(body)), EventKind.RETRACTION,
                   declared, body)
        out.append((r, LocatedEvent(r.loc("retract"), ev)))
    return out


def _order(events: list[LocatedEvent], retractions: list[LocatedEvent]) -> list[LocatedEvent]:
    """A stable topological order: producers before consumers, target → retraction → replacements, and a
    consumer's retraction before its producer's."""
    nodes = [*events, *retractions]
    at = {le.event.event_id: i for i, le in enumerate(events) if le.event.event_id}
    made_by: dict[str, int] = {}
    for i, le in enumerate(events):
        b = le.event.body
        for lot in (b.outputs if isinstance(b, Run) else (b,) if isinstance(b, Lot) else ()):
            made_by[lot.id] = i
    after: list[set[int]] = [set() for _ in nodes]  # after[i]: nodes that must come after i

    def uses(b: object) -> list[str]:
        if isinstance(b, Run):
            return [c.lot for c in b.inputs]
        return [b.lot] if isinstance(b, Shipment) else []

    for i, le in enumerate(events):
        for lot_id in uses(le.event.body):
            if lot_id in made_by and made_by[lot_id] != i:
                after[made_by[lot_id]].add(i)
    retracting: dict[str, int] = {}
    for j, le in enumerate(retractions, start=len(events)):
        r = le.event.body
        assert isinstance(r, Retraction)
        retracting[r.target_event_id] = j
        if r.target_event_id in at:
            after[at[r.target_event_id]].add(j)
        for f in r.corrective_event_ids:
            if f in at:
                after[j].add(at[f])
    for j, le in enumerate(retractions, start=len(events)):
        t = le.event.body.target_event_id  # type: ignore[union-attr]
        if t in at:  # retractions of the runs that consumed the target's lots come first
            for k in after[at[t]]:
                kt = nodes[k].event.event_id
                if k < len(events) and kt in retracting and retracting[kt] != j:
                    after[retracting[kt]].add(j)
    indeg = [0] * len(nodes)
    for s in after:
        for k in s:
            indeg[k] += 1
    ready = [i for i in range(len(nodes)) if indeg[i] == 0]
    heapq.heapify(ready)
    out: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        out.append(i)
        for k in after[i]:
            indeg[k] -= 1
            if indeg[k] == 0:
                heapq.heappush(ready, k)
    out += [i for i in range(len(nodes)) if i not in set(out)]  # a cycle: the ledger rules will say where
    return [nodes[i] for i in out]


def add_corrections(table: Table | None, located: list[LocatedEvent], problems: list[Problem],
                    resolve: Resolver | None, now: datetime) -> list[LocatedEvent]:
    """The workbook's events with the retractions of its corrections sheet, in an order the ledger accepts.

    ``now`` is the declaration time of rows without ``declared_at``. Unknown or ambiguous references are
    problems at their cell (``chain.xlsx#corrections!A3``).
    """
    if table is None:
        return located
    original, located = located, _with_ids(located)
    local = _local_refs(located)
    wanted: list[str] = []
    for r in table.records([]):
        wanted += [x for x in [r.text("retract"), *_split(r.text("corrected_by"))] if x and x not in local]
    stored = resolve(sorted(set(wanted))) if resolve is not None and wanted else {}
    res = _Resolve(local, stored, resolve is not None)
    rows = _read_rows(table, problems, now, res.one)
    back = {id(le): orig for le, orig in zip(located, original, strict=True)}
    # ids were needed to link the corrections; the ingest service gives the same ones again
    return [back.get(id(le)) or LocatedEvent(le.location, replace(le.event, event_id=""))
            for le in _order(located, [le for _, le in rows])]

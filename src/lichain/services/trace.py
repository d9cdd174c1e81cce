"""Use case: trace a lot upstream (where each element came from) or downstream (recall: where it went).

Runs on the cached snapshot (:mod:`lichain.services.snapshot`); the per-element contributions come from the
compiled closure in :mod:`lichain.analysis.trace`. Downstream traces also list the customers that received the
lots reached, from the shipments on record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from lichain.analysis.trace import aggregate, trace_down, trace_graph, trace_up
from lichain.core.errors import ChoiceError, NotFoundError
from lichain.services.snapshot import load_snapshot, lot_position, snapshot_holding
from lichain.storage.sql import SqlStore, to_us

__all__ = ["SHARES_MEANING", "Contribution", "GroupShare", "StageGroup", "StageSplit", "TraceResult", "per_stage",
           "trace_lot"]

_BY = ("site", "material", "country", "organisation", "stage", "lot")

#: What the ``share`` figures of a trace mean, by direction (stated in every ``trace --json``).
SHARES_MEANING = {
    "up": "contributions[].share: fraction of the traced lot's element that came from that source lot; over the "
          "sources (and groups) the shares of each element sum to 1",
    "down": "contributions[].share: fraction of that reached lot's element that came from the traced lot (1 when "
            "it holds nothing else), so shares are per lot and are not a split of the traced lot: summed over "
            "lots or groups they count the element once per stage it passes through and may exceed 1; "
            "per_stage[stage].groups[g].share_of_stage splits the traced lot's element reaching one stage "
            "[kg] across groups and sums to 1 per stage and element",
}


@dataclass(frozen=True, slots=True)
class StageGroup:
    """One group's part of the traced lot's element reaching one stage: kg and share of that stage's total."""

    element_kg: dict[str, float]
    share_of_stage: dict[str, float | None]
    lots: int


@dataclass(frozen=True, slots=True)
class StageSplit:
    """The traced lot's element reaching the lots of one stage [kg], split by group (shares sum to 1)."""

    stage: str
    element_kg: dict[str, float]
    groups: dict[str, StageGroup]


@dataclass(frozen=True, slots=True)
class Contribution:
    """One source lot (upstream) or reached lot (downstream): where it is, how far, and per element its kg and
    share (see :data:`SHARES_MEANING`)."""

    lot: str
    site: str
    country: str
    organisation: str
    material: str
    stage: str
    depth: int
    kg: dict[str, float]
    share: dict[str, float]
    risks: tuple[str, ...] = ()  # upstream: ids of risks in force at its site while it was there (diligence)


@dataclass(frozen=True, slots=True)
class GroupShare:
    """A group of contributions (a site, country, organisation …): share and kg per element, lots counted."""

    share: dict[str, float]
    element_kg: dict[str, float]
    lots: int


@dataclass(frozen=True, slots=True)
class TraceResult:
    """Outcome of ``lichain trace`` (the ``trace --json`` shape).

    ``kg`` and ``share`` of every contribution are per element (``elements``: all tracked, or the one asked);
    ``groups`` (with ``by``) aggregate them; ``per_stage`` (downstream, with ``by``) splits the traced lot's
    element reaching each stage across groups; ``graph`` holds nodes and edges when asked for.
    """

    lot: str
    direction: str
    element: str | None
    elements: tuple[str, ...]
    root_element_kg: dict[str, float]
    lots_in_closure: int
    shares_meaning: str
    contributions: tuple[Contribution, ...]
    by: str | None = None
    groups: dict[str, GroupShare] | None = None
    per_stage: dict[str, StageSplit] | None = None
    graph: dict[str, Any] | None = None


def per_stage(contributions: Sequence[Contribution], by: str, elements: Sequence[str]) -> list[StageSplit]:
    """Per stage (in chain order of first appearance by depth), the element kg of the lots reached, by group."""
    kg: dict[str, dict[str, dict[str, float]]] = {}
    count: dict[tuple[str, str], int] = {}
    first: dict[str, int] = {}
    for c in contributions:
        st, g = c.stage, str(getattr(c, by))
        first[st] = min(first.get(st, c.depth), c.depth)
        row = kg.setdefault(st, {}).setdefault(g, dict.fromkeys(elements, 0.0))
        for e in elements:
            row[e] += c.kg[e]
        count[(st, g)] = count.get((st, g), 0) + 1
    out = []
    for st in sorted(kg, key=lambda x: (first[x], x)):
        tot = {e: sum(r[e] for r in kg[st].values()) for e in elements}
        groups = {g: StageGroup(r, {e: (r[e] / tot[e] if tot[e] > 0 else None) for e in elements},
                                count[(st, g)])
                  for g, r in sorted(kg[st].items(), key=lambda x: -sum(x[1].values()))}
        out.append(StageSplit(st, tot, groups))
    return out


#: Kinds of the events an upstream trace reads besides appended lots: what changes an earlier lot's upstream
#: (retraction, site, material) and its due-diligence risks (site risk statements, measures, and each source
#: lot's stay at its site: its shipments and the runs that consumed it).
_RISK_KINDS = ("site_risk", "risk_measure", "shipment", "run", "retraction", "site", "material")
_TRACES: dict[tuple[Any, ...], tuple[Any, int, datetime | None, TraceResult]] = {}
_STARTS: dict[tuple[str, int], list[datetime]] = {}


def _next_start(store: SqlStore, snap: Any, version: int, now: datetime) -> datetime | None:
    """The first start of a risk interval after ``now`` (until then, whether a stay met a risk cannot change)."""
    from lichain.core.diligence import risk_intervals

    key = (store.url, version)
    if key not in _STARTS:
        if len(_STARTS) > 64:
            _STARTS.clear()
        _STARTS[key] = sorted(iv.start for iv in risk_intervals(store.site_risks(snap.site_ids)))
    return next((t for t in _STARTS[key] if t > now), None)


def trace_lot(
    store: SqlStore, lot_id: str, *, down: bool = False, element: str | None = None, by: str | None = None,
    max_depth: int | None = None, stages: list[str] | None = None, as_of: datetime | None = None,
    graph: bool = False,
) -> TraceResult:
    """Contributions of source lots (upstream) or reached lots (downstream), per element.

    An upstream trace's answer is kept while no event it reads was recorded since — none that changes an earlier
    lot's upstream (retraction, site, material) nor its due-diligence risks (site risks, measures, shipments, runs)
    — and no risk interval has begun since: only appended lots and events it does not read may have moved the
    head, and they change nothing of it.
    """
    if down:
        return _trace(store, load_snapshot(store).snapshot, lot_id, False, element, by, max_depth, stages, as_of,
                      graph)
    from datetime import UTC

    from lichain.storage.footprint_sql import last_seq_of

    snap = snapshot_holding(store, lot_id)  # upstream: appended lots change nothing
    version = last_seq_of(store, _RISK_KINDS)
    now = datetime.now(UTC)
    key = (store.url, lot_id, element, by, max_depth, tuple(stages or ()), as_of, graph)
    got = _TRACES.get(key)
    if got is not None and got[1] == version and (got[2] is None or now < got[2]):
        return got[3]
    out = _trace(store, snap, lot_id, True, element, by, max_depth, stages, as_of, graph, version)
    if len(_TRACES) > 4096:
        _TRACES.clear()
    _TRACES[key] = (snap, version, _next_start(store, snap, version, now), out)
    return out


def _trace(store: SqlStore, snap: Any, lot_id: str, up: bool, element: str | None, by: str | None,
           max_depth: int | None, stages: list[str] | None, as_of: datetime | None, graph: bool,
           version: int | None = None) -> TraceResult:
    down = not up
    root = lot_position(snap, lot_id)
    if by is not None and by not in _BY:
        raise ChoiceError(f"a trace groups by one of {', '.join(_BY)}, not {by!r}")
    if element is not None and element not in snap.elements:
        raise NotFoundError(f"element {element} is not tracked (tracked: {', '.join(snap.elements)})")
    t = None if as_of is None else to_us(as_of) // 1_000_000
    fn = trace_down if down else trace_up
    tr = fn(snap, root, max_depth=max_depth, stages=stages, as_of=t)
    elements = list(snap.elements) if element is None else [element]
    cols = [snap.elements.index(e) for e in elements]
    keep = tr.leaf if not down else tr.lots != tr.root
    risks: dict[int, list[Any]] = {}
    if not down:  # due diligence beside each source: the risks its material met at its site
        from lichain.services.diligence import lot_risks

        risks = lot_risks(store, snap, np.asarray(tr.lots)[keep], version=version)
    contributions = []
    for r in np.flatnonzero(keep):
        lot = int(tr.lots[r])
        s = snap.lot_site[lot]
        contributions.append(Contribution(
            snap.lot_id(lot), snap.site_ids[s], snap.site_country[s], snap.site_org[s],
            snap.material_codes[snap.lot_material[lot]], snap.stage_names[snap.lot_stage[lot]], int(tr.depth[r]),
            {e: float(tr.element_kg[r, c]) for e, c in zip(elements, cols, strict=True)},
            {e: float(tr.share[r, c]) for e, c in zip(elements, cols, strict=True)},
            tuple(sorted({iv.id for iv in risks.get(lot, ())}))))
    contributions.sort(key=lambda c: sum(c.kg.values()), reverse=True)
    groups = splits = None
    if by is not None:
        groups = {g: GroupShare(v["share"], v["element_kg"], v["lots"])
                  for g, v in aggregate(snap, tr, by, leaves_only=not down).items()}
        if down:
            splits = {x.stage: x for x in per_stage(contributions, by, elements)}
    root_kg = snap.element_kg_of(root)
    return TraceResult(
        snap.lot_id(root), "down" if down else "up", element, tuple(elements),
        {e: float(root_kg[c]) for e, c in zip(elements, cols, strict=True)}, len(tr),
        SHARES_MEANING["down" if down else "up"], tuple(contributions), by, groups, splits,
        trace_graph(snap, tr) if graph else None)

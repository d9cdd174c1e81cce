"""Use case: trace a lot upstream (where each element came from) or downstream (recall: where it went).

Runs on the cached snapshot (:mod:`lichain.services.snapshot`); the per-element contributions come from the
compiled closure in :mod:`lichain.analysis.trace`. Downstream traces also list the customers that received the
lots reached, from the shipments on record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from lichain.analysis.trace import aggregate, trace_down, trace_graph, trace_up
from lichain.core.errors import NotFoundError
from lichain.services.query import canonical_lot_id
from lichain.services.snapshot import load_snapshot
from lichain.storage.sql import SqlStore, to_us

__all__ = ["SHARES_MEANING", "StageGroup", "StageSplit", "per_stage", "trace_lot"]

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

    def to_json(self) -> dict[str, Any]:
        """``{element_kg, groups: {label: {element_kg, share_of_stage, lots}}}``."""
        return {"element_kg": self.element_kg,
                "groups": {g: {"element_kg": v.element_kg, "share_of_stage": v.share_of_stage, "lots": v.lots}
                           for g, v in self.groups.items()}}


def per_stage(contributions: list[dict[str, Any]], by: str, elements: list[str]) -> list[StageSplit]:
    """Per stage (in chain order of first appearance by depth), the element kg of the lots reached, by group."""
    kg: dict[str, dict[str, dict[str, float]]] = {}
    count: dict[tuple[str, str], int] = {}
    first: dict[str, int] = {}
    for c in contributions:
        st, g = c["stage"], str(c[by])
        first[st] = min(first.get(st, c["depth"]), c["depth"])
        row = kg.setdefault(st, {}).setdefault(g, dict.fromkeys(elements, 0.0))
        for e in elements:
            row[e] += float(c["kg"][e]) if isinstance(c["kg"], dict) else float(c["kg"])
        count[(st, g)] = count.get((st, g), 0) + 1
    out = []
    for st in sorted(kg, key=lambda x: (first[x], x)):
        tot = {e: sum(r[e] for r in kg[st].values()) for e in elements}
        groups = {g: StageGroup(r, {e: (r[e] / tot[e] if tot[e] > 0 else None) for e in elements},
                                count[(st, g)])
                  for g, r in sorted(kg[st].items(), key=lambda x: -sum(x[1].values()))}
        out.append(StageSplit(st, tot, groups))
    return out


def trace_lot(
    store: SqlStore, lot_id: str, *, down: bool = False, element: str | None = None, by: str | None = None,
    max_depth: int | None = None, stages: list[str] | None = None, as_of: datetime | None = None,
    graph: bool = False,
) -> dict[str, Any]:
    """The ``trace --json`` shape: contributions of source lots (upstream) or reached lots (downstream)."""
    snap = load_snapshot(store).snapshot
    try:
        root = snap.index_of(lot_id)
    except (KeyError, ValueError):
        try:
            root = snap.index_of(canonical_lot_id(lot_id))
        except (KeyError, ValueError):
            raise NotFoundError(f"unknown lot {lot_id}") from None
    t = None if as_of is None else to_us(as_of) // 1_000_000
    fn = trace_down if down else trace_up
    tr = fn(snap, root, max_depth=max_depth, stages=stages, as_of=t)
    elements = list(snap.elements) if element is None else [element]
    if element is not None and element not in snap.elements:
        raise NotFoundError(f"element {element} is not tracked (tracked: {', '.join(snap.elements)})")
    cols = [snap.elements.index(e) for e in elements]
    keep = tr.leaf if not down else tr.lots != tr.root
    rows = np.flatnonzero(keep)
    contributions = []
    for r in rows:
        lot = int(tr.lots[r])
        site = snap.site_ids[snap.lot_site[lot]]
        entry: dict[str, Any] = {
            "lot": snap.lot_id(lot), "site": site, "country": snap.site_country[snap.lot_site[lot]],
            "organisation": snap.site_org[snap.lot_site[lot]],
            "material": snap.material_codes[snap.lot_material[lot]],
            "stage": snap.stage_names[snap.lot_stage[lot]], "depth": int(tr.depth[r]),
        }
        if element is not None:
            entry["kg"] = float(tr.element_kg[r, cols[0]])
            entry["share"] = float(tr.share[r, cols[0]])
        else:
            entry["kg"] = {e: float(tr.element_kg[r, c]) for e, c in zip(elements, cols, strict=True)}
            entry["share"] = {e: float(tr.share[r, c]) for e, c in zip(elements, cols, strict=True)}
        contributions.append(entry)
    def weight(c: dict[str, Any]) -> float:
        return float(c["kg"]) if element is not None else float(sum(c["kg"].values()))

    contributions.sort(key=weight, reverse=True)
    out: dict[str, Any] = {
        "lot": snap.lot_id(root), "direction": "down" if down else "up",
        "element": element, "elements": elements,
        "root_element_kg": {e: float(snap.element_kg[root, c]) for e, c in zip(elements, cols, strict=True)},
        "lots_in_closure": len(tr), "shares_meaning": SHARES_MEANING["down" if down else "up"],
        "contributions": contributions,
    }
    if by is not None:
        if by not in _BY:
            raise ValueError(f"--by must be one of {', '.join(_BY)}")
        out["by"] = by
        out["groups"] = aggregate(snap, tr, by, leaves_only=not down)
        if down:
            out["per_stage"] = {x.stage: x.to_json() for x in per_stage(contributions, by, elements)}
    if graph:
        out["graph"] = trace_graph(snap, tr)
    return out

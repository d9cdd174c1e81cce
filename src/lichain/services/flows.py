"""Use case: one element's flows through the chain's stages in a period (the chain overview's Sankey diagram).

The figures come from the lot graph (:func:`lichain.analysis.flows.stage_flows`). A Sankey diagram must be
acyclic, and the chain is not: black mass becomes recovered salts that feed precursor again. Stages are ranked in
chain order (mine → refining → pCAM → CAM → cells → scrap → black mass); a flow that goes to a stage of the same
or an earlier rank is a *return* and is drawn into its own node ("recovered_salt (returned)"), so the loop shows
as material leaving on the right and entering again as a source on the left. Flows inside one stage (blending,
re-lotting) are not drawn; they are listed in ``within_stage``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lichain.analysis.flows import stage_flows
from lichain.core.errors import NotFoundError
from lichain.core.period import parse_period
from lichain.services.snapshot import load_snapshot
from lichain.storage.sql import SqlStore

__all__ = ["FLOWS_MEANING", "STAGE_RANK", "FlowDiagram", "FlowLink", "FlowNode", "element_flows"]

#: Chain order of the stages; recovered salts and reagents enter where refined salts do.
STAGE_RANK = {"ore": 0, "concentrate": 1, "intermediate": 2, "refined_salt": 3, "recovered_salt": 3,
              "reagent": 3, "pcam": 4, "cam": 5, "cell": 6, "scrap": 7, "black_mass": 8}

FLOWS_MEANING = ("links[].element_kg: kg of the element moved from lots of the source stage into lots of the "
                 "target stage made in the period (consumed kg allocated to each output by mass, times the input "
                 "lot's recorded mass fraction); a target ending in ' (returned)' is a flow back to a stage of the "
                 "same or an earlier rank (the recycling loop); flows inside one stage are in within_stage")


@dataclass(frozen=True, slots=True)
class FlowLink:
    """Element mass [kg] moved from one stage node to another, and the lot-graph edges behind it."""

    source: str
    target: str
    element_kg: float
    edges: int


@dataclass(frozen=True, slots=True)
class FlowNode:
    """A stage node: its chain rank, element kg flowing in and out of it [kg]."""

    id: str
    stage: str
    rank: int
    in_kg: float
    out_kg: float
    returned: bool


@dataclass(frozen=True, slots=True)
class FlowDiagram:
    """One element's stage-to-stage flows in a period [kg]."""

    element: str
    period: str | None
    unit: str
    nodes: tuple[FlowNode, ...]
    links: tuple[FlowLink, ...]
    within_stage: tuple[FlowLink, ...]
    total_kg: float
    meaning: str = FLOWS_MEANING


def _rank(stage: str) -> int:
    return STAGE_RANK.get(stage, len(STAGE_RANK))


def element_flows(store: SqlStore, element: str, period: str | None = None) -> FlowDiagram:
    """Stage-to-stage flows [kg] of ``element`` over the lots made in ``period`` (whole ledger if ``None``)."""
    snap = load_snapshot(store).snapshot
    if element not in snap.elements:
        raise NotFoundError(f"element {element} is not tracked (tracked: {', '.join(snap.elements)})")
    p = parse_period(period) if period else None
    f = stage_flows(snap, element, None if p is None else int(p.start.timestamp()),
                    None if p is None else int(p.end.timestamp()))
    names = snap.stage_names
    links: list[FlowLink] = []
    within: list[FlowLink] = []
    for s, d, kg, n in zip(f.src.tolist(), f.dst.tolist(), f.kg.tolist(), f.edges.tolist(), strict=True):
        src, dst = names[s], names[d]
        if kg <= 0.0:
            continue  # edges that carry none of this element
        if src == dst:
            within.append(FlowLink(src, dst, kg, n))
        elif _rank(dst) <= _rank(src):
            links.append(FlowLink(src, f"{dst} (returned)", kg, n))
        else:
            links.append(FlowLink(src, dst, kg, n))
    links.sort(key=lambda k: (_rank(k.source), k.target))
    ins: dict[str, float] = {}
    outs: dict[str, float] = {}
    for k in links:
        outs[k.source] = outs.get(k.source, 0.0) + k.element_kg
        ins[k.target] = ins.get(k.target, 0.0) + k.element_kg
    nodes = []
    for node in sorted(set(ins) | set(outs), key=lambda x: (_rank(x.removesuffix(" (returned)")), x)):
        stage = node.removesuffix(" (returned)")
        nodes.append(FlowNode(node, stage, _rank(stage), ins.get(node, 0.0), outs.get(node, 0.0),
                              node != stage))
    return FlowDiagram(element, p.label if p else None, "kg", tuple(nodes), tuple(links), tuple(within),
                       sum(k.element_kg for k in links))

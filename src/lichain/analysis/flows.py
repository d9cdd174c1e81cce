"""Element flows between chain stages: the numbers behind the chain overview's Sankey diagram.

Why this exists: a producer's first question of the whole ledger is "how much nickel went where": from mines
through refining, precursor, cathode and the cell makers, and back through recycling. The lot graph already
carries every consumption as an edge ``input lot → output lot`` with ``kg`` of the input allocated to that output
(see :mod:`lichain.analysis.snapshot`); one element's flow on an edge is ``kg × w_e(input)`` [kg], with
``w_e`` the input lot's recorded mass fraction [kg kg⁻¹]. Summing edges by (stage of input, stage of output) over
the edges whose output lot was made in a period is one ``bincount``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lichain.analysis.snapshot import F64, Snapshot

__all__ = ["StageFlows", "stage_flows"]


@dataclass(frozen=True, slots=True)
class StageFlows:
    """Element mass [kg] moved from lots of stage ``src[k]`` into lots of stage ``dst[k]`` (indices into
    ``Snapshot.stage_names``), with ``edges[k]`` lot-graph edges behind each pair."""

    src: npt.NDArray[np.int64]
    dst: npt.NDArray[np.int64]
    kg: F64
    edges: npt.NDArray[np.int64]


def stage_flows(snap: Snapshot, element: str, start_s: int | None = None, end_s: int | None = None) -> StageFlows:
    """Sum one element's flow [kg] over edges by (input stage, output stage).

    Parameters
    ----------
    snap
        The lot graph.
    element
        Tracked element symbol (``KeyError`` if not tracked).
    start_s, end_s
        Keep edges whose output lot was made in ``[start_s, end_s)`` [epoch s]; ``None`` leaves that side open.
    """
    col = snap.element_index(element)
    dst = snap.edge_dst()
    keep = np.ones(dst.shape[0], np.bool_)
    if start_s is not None:
        keep &= snap.lot_time[dst] >= start_s
    if end_s is not None:
        keep &= snap.lot_time[dst] < end_s
    src = snap.up_src[keep]
    dst = dst[keep]
    kg = snap.up_kg[keep] * snap.lot_assay[src, col]
    n = max(len(snap.stage_names), 1)
    key = snap.lot_stage[src].astype(np.int64) * n + snap.lot_stage[dst].astype(np.int64)
    total = np.asarray(np.bincount(key, weights=kg, minlength=n * n), np.float64)
    count = np.bincount(key, minlength=n * n)
    nz = np.flatnonzero(count)
    return StageFlows(nz // n, nz % n, total[nz], count[nz])

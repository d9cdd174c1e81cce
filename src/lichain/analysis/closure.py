"""A lot's upstream closure as a snapshot of its own: per-lot questions at per-lot cost.

Why this exists: the share kernels (:func:`lichain.analysis.shares.shares`, :func:`~lichain.analysis.diligence.
through_share`) solve every lot of the snapshot in one pass, so a question about one lot (its recycled share, the
share of it that passed through a site at risk) cost a pass over the whole ledger: ~30 ms per pass at a million
lots, and a due-diligence report makes one per element and processing site. Every one of these values at a lot
depends only on the lot's upstream (a row reads its inputs' rows, which read theirs), so the same kernels run on
the closure alone give the same value at the root.

The closure keeps the lots in creation order and each lot's upstream edges in their stored order (the closure is
upward closed: every input of a kept lot is kept), so each row of every pass is the same sum of the same terms in
the same order as in the whole snapshot: the values agree bit for bit, not just to rounding
(tests/integration/test_passport_fast.py). Runs and name tables are shared with the whole snapshot (lots keep
their run numbers); its downstream CSR (built on demand) holds only the edges inside the closure, so it answers upstream questions only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lichain.analysis.arrays import _LOT_FIELDS, _RUN_FIELDS, _TABLE_FIELDS
from lichain.analysis.snapshot import I64, Snapshot
from lichain.analysis.trace import trace_up

__all__ = ["upstream_part"]


def upstream_part(snap: Snapshot, root: int) -> tuple[Snapshot, int, I64]:
    """The upstream closure of lot ``root`` (the root included) as a snapshot.

    Returns
    -------
    (part, root in part, lots): ``lots`` int64[C] are the closure's positions in ``snap``, ascending; lot ``k``
    of ``part`` is lot ``lots[k]`` of ``snap``.
    """
    lots = np.asarray(trace_up(snap, root).lots, np.int64)
    starts, ends = snap.up_indptr[lots], snap.up_indptr[lots + 1]
    lens = ends - starts
    n = int(lots.shape[0])
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=indptr[1:])
    # positions of the kept rows' edges in the whole snapshot, row after row in stored order
    edges = np.repeat(starts - indptr[:-1], lens) + np.arange(int(indptr[-1]), dtype=np.int64)
    src = np.searchsorted(lots, snap.up_src[edges]).astype(np.int32)
    kg = np.ascontiguousarray(snap.up_kg[edges])
    ids = snap.lot_ids[lots] if isinstance(snap.lot_ids, np.ndarray) else np.asarray(snap.lot_ids)[lots]
    cols: dict[str, Any] = {k: np.ascontiguousarray(getattr(snap, k)[lots]) for k in _LOT_FIELDS}
    cols.update({k: getattr(snap, k) for k in (*_RUN_FIELDS, *_TABLE_FIELDS)})  # shared, not copied
    for a in (indptr, src, kg, *(cols[k] for k in _LOT_FIELDS)):
        a.flags.writeable = False
    part = Snapshot(elements=snap.elements, lot_ids=ids, up_indptr=indptr, up_src=src, up_kg=kg, **cols)
    return part, int(np.searchsorted(lots, root)), lots

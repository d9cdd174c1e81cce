"""A lot's upstream closure as a snapshot gives the whole snapshot's values at that lot, bit for bit.

Property over random ledgers (multi-output runs, repeated inputs, lots without an element, recycled origins):
for every lot, the closure holds exactly the lots a plain walk up the graph reaches, and the recycled shares,
origin-country shares, the share through a random set of lots and the upstream trace computed on the closure
equal those computed on the whole snapshot (``array_equal``, NaN where undefined), not merely to rounding.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.analysis.closure import upstream_part
from lichain.analysis.diligence import through_share
from lichain.analysis.shares import origin_shares
from lichain.analysis.snapshot import Snapshot
from lichain.analysis.synth import random_ledger
from lichain.analysis.trace import aggregate, trace_up


def _walk_up(snap: Snapshot, root: int) -> list[int]:
    seen, stack = {root}, [root]
    while stack:
        v = stack.pop()
        for u in snap.up_src[snap.up_indptr[v]:snap.up_indptr[v + 1]].tolist():
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return sorted(seen)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**32 - 1))
def test_closure_values_equal_the_whole_snapshot_at_the_root(n: int, seed: int) -> None:
    snap = Snapshot.build(random_ledger(n, seed=seed))
    rng = np.random.default_rng(seed)
    mask = rng.random(snap.n_lots) < 0.3
    for root in range(snap.n_lots):
        part, r, lots = upstream_part(snap, root)
        assert lots.tolist() == _walk_up(snap, root) and lots[r] == root
        assert [part.lot_id(k) for k in range(part.n_lots)] == [snap.lot_id(int(i)) for i in lots]
        for e in snap.elements:
            for by in ("origin", "country"):
                whole, own = origin_shares(snap, e, by), origin_shares(part, e, by)
                cols = [own.classes.index(c) for c in own.classes]
                assert own.defined[r] == whole.defined[root]
                if whole.defined[root]:
                    got = dict(zip(own.classes, own.values[r, cols].tolist(), strict=True))
                    want = dict(zip(whole.classes, whole.values[root].tolist(), strict=True))
                    assert got == {c: want[c] for c in own.classes}
                    assert all(want[c] == 0.0 for c in set(whole.classes) - set(own.classes))
            a, b = through_share(snap, e, mask).values[root], through_share(part, e, mask[lots]).values[r]
            assert np.array_equal(a, b, equal_nan=True)
        tw, tp = trace_up(snap, root), trace_up(part, r)
        assert np.array_equal(lots[tp.lots], tw.lots) and np.array_equal(tp.share, tw.share)
        assert np.array_equal(tp.element_kg, tw.element_kg) and np.array_equal(tp.leaf, tw.leaf)
        assert aggregate(part, tp, "site") == aggregate(snap, tw, "site")

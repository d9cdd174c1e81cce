"""The problem owners of a closure, found by binary search in the pairs sorted by owner, are exactly the rows a
scan of every pair finds (as a multiset: the callers count and group them)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.services.footprint_sources import _pairs_of


@settings(max_examples=300, deadline=None)
@given(owners=st.lists(st.integers(0, 40), max_size=80), problems=st.data(),
       members=st.lists(st.integers(0, 45), max_size=30, unique=True))
def test_pairs_of_a_closure_equal_a_scan(owners: list[int], problems: st.DataObject, members: list[int]) -> None:
    codes = problems.draw(st.lists(st.integers(0, 5), min_size=len(owners), max_size=len(owners)))
    pairs = np.array(list(zip(owners, codes, strict=True)), np.int64).reshape(-1, 2)
    closure = np.array(sorted(members), np.int64)
    want = pairs[np.isin(pairs[:, 0], closure)]
    got = _pairs_of(pairs, closure)
    assert got.shape[1] == 2
    assert sorted(map(tuple, got.tolist())) == sorted(map(tuple, want.tolist()))
    assert sorted(map(tuple, _pairs_of(pairs, closure).tolist())) == sorted(map(tuple, want.tolist()))  # kept sort

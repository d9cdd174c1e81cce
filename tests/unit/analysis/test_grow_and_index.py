"""Arrays grown in place and the sorted lot-id index: what a service's snapshot extensions rest on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.analysis.grow import append_rows
from lichain.analysis.lot_index import LotIndex
from lichain.analysis.snapshot import LedgerArrays, Snapshot, split_arrays
from lichain.analysis.synth import random_ledger, synthetic_ledger

IDS = st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1,
                       max_size=12), min_size=1, max_size=60, unique=True)


@settings(max_examples=100, deadline=None)
@given(IDS, st.integers(0, 60), st.booleans())
def test_index_finds_every_id_and_only_those(ids: list[str], cut: int, as_bytes: bool) -> None:
    cut = min(cut, len(ids))
    first = np.array([i.encode() for i in ids[:cut]], dtype=bytes) if as_bytes else ids[:cut]
    idx = LotIndex.build(first).extended(ids[cut:], cut)
    assert [idx.get(i) for i in ids] == list(range(len(ids)))
    for absent in ("", "x" * 40, ids[0] + "\u00e9", "\x00"):
        if absent not in ids:
            assert idx.get(absent) == -1


def test_index_saved_and_memory_mapped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ids = [f"urn:lot:{k:05d}" for k in range(500)][::-1]
    idx = LotIndex.build(ids[:400]).extended(ids[400:], 400)
    idx.save(tmp_path, np.array([i.encode() for i in ids], dtype=bytes))  # extra lots: sorted afresh
    back = LotIndex.load(tmp_path, 500)
    assert back is not None and not back.extra and isinstance(back.sorted_ids, np.memmap)
    assert [back.get(i) for i in ids] == list(range(500))
    assert LotIndex.load(tmp_path, 499) is None  # not of this snapshot


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 40)), min_size=1, max_size=25))
def test_appended_views_keep_their_rows(steps: list[tuple[int, int]]) -> None:
    """Any sequence of appends, each to some earlier view (the newest or an older one): every view handed out
    still holds exactly the rows it was handed out with."""
    rng = np.random.default_rng(len(steps))
    views = [np.arange(3 * 2, dtype=np.float64).reshape(3, 2)]
    expected = [views[0].copy()]
    for back, k in steps:
        src = min(back, len(views) - 1)
        new = rng.random((k, 2))
        views.append(append_rows(views[-1 - src], new))
        expected.append(np.concatenate([expected[-1 - src], new]))
    for v, e in zip(views, expected, strict=True):
        assert np.array_equal(v, e)


def _split(a: LedgerArrays, part: int) -> tuple[LedgerArrays, LedgerArrays]:
    """``a`` cut at a run boundary about 1/``part`` of the way: the earlier ledger and the extension delta."""
    starts = [o for o in range(1, a.n_lots) if a.lot_run[o] < 0 or a.lot_run[o] != a.lot_run[o - 1]]
    cut = starts[len(starts) // part]
    return split_arrays(a, cut, int(np.unique(a.lot_run[:cut][a.lot_run[:cut] >= 0]).size))


def test_extensions_share_the_index_and_each_snapshot_knows_its_lots() -> None:
    a = random_ledger(60, seed=3)
    head, delta = _split(a, 2)
    old = Snapshot.build(head)
    old.attach_index(LotIndex.build(old.lot_ids))
    new = old.extend(delta)
    late = new.lot_id(new.n_lots - 1)
    assert new.index_of(late) == new.n_lots - 1 and new.lot_index is not None and new.lot_index.extra
    with pytest.raises(KeyError):
        old.index_of(late)  # the shared index holds it, but it is not one of the older snapshot's lots
    assert all(new.index_of(new.lot_id(k)) == k for k in range(new.n_lots))
    full = Snapshot.build(a)
    assert new.equals(full)
    assert "up_w" in new.__dict__ or old.__dict__.get("up_w") is None
    assert np.array_equal(new.up_w, full.up_w)


def test_edge_weights_are_carried_by_extensions() -> None:
    a = random_ledger(80, seed=5)
    head, delta = _split(a, 3)
    old = Snapshot.build(head)
    _ = old.up_w  # computed on the older snapshot
    new = old.extend(delta)
    assert "up_w" in new.__dict__  # carried, not recomputed
    assert np.array_equal(new.up_w, Snapshot.build(a).up_w)


def test_one_row_of_element_mass_equals_the_whole_array() -> None:
    s = Snapshot.build(synthetic_ledger(500, seed=2))
    for lot in (0, 17, 499):
        assert np.array_equal(s.element_kg_of(lot), s.element_kg[lot])


def test_room_to_grow_keeps_the_content_and_extensions_append_in_place() -> None:
    a = random_ledger(70, seed=9)
    head, delta = _split(a, 2)
    old = Snapshot.build(head)
    _ = old.up_w
    roomy = old.with_room()
    assert roomy.equals(old) and np.array_equal(roomy.up_w, old.up_w)
    grown = roomy.extend(delta)
    assert grown.lot_mass_kg.ctypes.data == roomy.lot_mass_kg.ctypes.data  # same buffer: nothing copied
    assert grown.up_src.ctypes.data == roomy.up_src.ctypes.data
    assert grown.equals(Snapshot.build(a)) and np.array_equal(grown.up_w, Snapshot.build(a).up_w)

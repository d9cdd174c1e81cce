"""The standard-library NPY reader agrees with numpy on the arrays the origin-shares cache writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.storage.npy_lite import open_npy

ids_st = st.lists(st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=12),
                  min_size=1, max_size=40, unique=True)


@settings(max_examples=60, deadline=None)
@given(ids=ids_st, probe=st.text(min_size=0, max_size=12), n_el=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_rows_and_lookups_equal_numpy(tmp_path_factory: pytest.TempPathFactory, ids: list[str], probe: str,
                                      n_el: int, seed: int) -> None:
    d = tmp_path_factory.mktemp("npy")
    rng = np.random.default_rng(seed)
    raw = np.array([x.encode() for x in ids], dtype=bytes)
    vals = rng.random((len(ids), n_el, 2))
    vals[rng.random((len(ids), n_el)) < 0.3] = np.nan  # undefined shares
    cls = rng.integers(-3, 4, len(ids)).astype(np.int8)
    for name, arr in (("ids", raw), ("vals", vals), ("cls", cls)):
        np.save(d / f"{name}.npy", arr)
    a_ids, a_vals, a_cls = (open_npy(d / f"{n}.npy") for n in ("ids", "vals", "cls"))
    assert a_ids.shape == raw.shape and a_vals.shape == vals.shape and a_cls.shape == cls.shape
    for i, x in enumerate(ids):
        assert a_ids.find_bytes(x.encode()) == i
        got = np.array(a_vals.row(i)).reshape(n_el, 2)
        assert np.array_equal(got, vals[i], equal_nan=True)
        assert a_cls.row(i) == (int(cls[i]),)
    hits = np.flatnonzero(raw == probe.encode())
    assert a_ids.find_bytes(probe.encode()) == (int(hits[0]) if hits.size else None)


def test_a_match_across_two_items_is_not_an_item(tmp_path: Path) -> None:
    """``b"ab" + b"cd"`` holds ``b"bc"`` at an odd offset; only whole items count."""
    np.save(tmp_path / "ids.npy", np.array([b"ab", b"cd", b"bc"], dtype="S2"))
    a = open_npy(tmp_path / "ids.npy")
    assert a.find_bytes(b"bc") == 2 and a.find_bytes(b"b") is None and a.find_bytes(b"abc") is None


def test_unsupported_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "x.npy").write_bytes(b"not numpy at all")
    with pytest.raises(ValueError, match="not an NPY file"):
        open_npy(tmp_path / "x.npy")
    np.save(tmp_path / "f.npy", np.asfortranarray(np.ones((3, 2))))
    with pytest.raises(ValueError, match="unsupported NPY header"):
        open_npy(tmp_path / "f.npy")
    np.save(tmp_path / "i.npy", np.ones(3, dtype=np.int64))
    with pytest.raises(ValueError, match="unsupported dtype"):
        open_npy(tmp_path / "i.npy").row(0)

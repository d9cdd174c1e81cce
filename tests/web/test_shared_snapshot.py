"""The snapshot cache shared by the service's worker processes: whole folders swapped in, swaps detected, small
extensions kept in memory rather than rewriting the folder, and what each process reads equals a rebuild."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lichain.services import snapshot as snapmod
from lichain.storage.sql import SqlStore
from tests.web.conftest import Served
from tests.web.test_access_matrix import lot_document


@pytest.fixture(autouse=True)
def _fresh_memo() -> None:
    snapmod._MEMO.clear()


def test_a_swap_while_reading_is_detected(tmp_path: Path) -> None:
    """put_in_place replaces a folder whole; same_cache tells a reader its folder was replaced meanwhile."""
    d = tmp_path / "c"
    for nonce in ("a", "b"):
        tmp = snapmod.new_cache_dir(d)
        (tmp / "meta.json").write_text(json.dumps({"nonce": nonce}), encoding="utf-8")
        if nonce == "a":
            snapmod.put_in_place(tmp, d)
            meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
            assert snapmod.same_cache(d, meta)
        else:
            snapmod.put_in_place(tmp, d)
    assert not snapmod.same_cache(d, meta)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]  # no temporary or old folder left behind


def test_small_extensions_stay_in_memory_and_equal_a_rebuild(served_sqlite: Served) -> None:
    """After one appended lot the folder keeps the older head; another process re-extends; all equal a rebuild."""
    s: SqlStore = served_sqlite.store
    first = snapmod.load_snapshot(s)
    on_disk = json.loads((snapmod.cache_dir_for(s) / "meta.json").read_text(encoding="utf-8"))
    assert first.how == "built" and on_disk["head"] == first.head
    r = served_sqlite.client.post("/ingest", content=lot_document("LOT-MEM", "REF-CN-01", "NISO4"),
                                  headers={**served_sqlite.as_("op_materials"), "Content-Type": "application/ld+json"})
    assert r.status_code == 200
    ext = snapmod.load_snapshot(s)
    assert ext.how == "extended" and ext.head != first.head
    assert json.loads((snapmod.cache_dir_for(s) / "meta.json").read_text(encoding="utf-8"))["head"] == first.head
    assert snapmod.load_snapshot(s).how == "cache"  # this process: kept while the head stays put
    snapmod._MEMO.clear()  # another process
    again = snapmod.load_snapshot(s)
    rebuilt = snapmod.load_snapshot(s, use_cache=False)
    assert again.how == "extended" and again.snapshot.equals(rebuilt.snapshot)
    assert ext.snapshot.equals(rebuilt.snapshot) and "LOT-MEM" in set(map(str, rebuilt.snapshot.lot_ids))


def test_a_warmed_worker_holds_the_head_with_room_and_a_settled_heap(served_sqlite: Served) -> None:
    """With warm-up on, start-up loads the footprint (and snapshot) at the head, copies them into buffers that
    grow in place, and freezes the heap; the next one-lot document then extends them without copying."""
    import gc

    from fastapi.testclient import TestClient

    from lichain.analysis.grow import _buffer_of
    from lichain.services import footprint as fpmod
    from lichain.web.app import create_app
    from lichain.web.service import Settings

    s: SqlStore = served_sqlite.store
    fpmod._memo.clear()
    gc.unfreeze()
    with TestClient(create_app(s, Settings(warm_up=True))):
        lf = fpmod._memo[s.url]
        memo = snapmod._MEMO[snapmod.cache_dir_for(s)]
        assert lf.head == s.head()[1] and memo.head == lf.head
        assert _buffer_of(lf.own) is not None and _buffer_of(memo.snapshot.lot_mass_kg) is not None
        assert gc.get_freeze_count() > 0
    gc.unfreeze()
    before = memo.snapshot.lot_mass_kg.ctypes.data
    r = served_sqlite.client.post("/ingest", content=lot_document("LOT-WARM", "REF-CN-01", "NISO4"),
                                  headers={**served_sqlite.as_("op_materials"), "Content-Type": "application/ld+json"})
    assert r.status_code == 200, r.text
    grown = snapmod.load_snapshot(s)
    assert grown.how == "extended" and grown.snapshot.lot_mass_kg.ctypes.data == before
    assert grown.snapshot.equals(snapmod.load_snapshot(s, use_cache=False).snapshot)

"""A reader that read the chain head just before another thread brought this process's snapshot and footprint
further takes them as they are (the ledger is append-only: they hold the reader's state and more) instead of
rebuilding the whole snapshot or footprint to get back to the head it had read. Measured before the fix: at 1 M
lots, passports met full snapshot rebuilds (85 s) after a burst of writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lichain.services import footprint as fp_service
from lichain.services import snapshot as snap_service
from lichain.storage.sql import SqlStore
from tests.integration.test_footprint_extend import kept_state_behind_by_a_lot


def _never(*_a: Any, **_k: Any) -> Any:
    raise AssertionError("rebuilt from the store")


def test_a_reader_behind_a_refreshed_snapshot_takes_it(store: SqlStore, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # what a reader read before a lot was appended and another thread brought everything to the head
    _, behind = kept_state_behind_by_a_lot(store, tmp_path, monkeypatch)
    ahead = snap_service.load_snapshot(store)
    lf = fp_service.ledger_footprint(store)
    assert ahead.seq > behind[0] and lf.seq == ahead.seq
    monkeypatch.setattr(snap_service, "_build", _never)
    monkeypatch.setattr(fp_service, "_compute", _never)
    monkeypatch.setattr(store, "head", lambda conn=None: behind)
    got = snap_service.load_snapshot(store)
    assert got.how == "cache" and got.head == ahead.head and got.snapshot is ahead.snapshot
    assert snap_service.snapshot_holding(store, "L2") is ahead.snapshot
    assert fp_service.ledger_footprint(store) is lf
    assert fp_service.stale_for_lot(store, 1) is lf
    answer = fp_service.lot_footprint(store, "L2")
    assert answer.lot == "L2" and answer.computed_at_head == lf.head

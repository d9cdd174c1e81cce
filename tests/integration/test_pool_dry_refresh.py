"""Readers that hold every pooled connection in reading blocks and then wait for the snapshot or footprint lock
do not stall a thread that loads under that lock: the loader takes its connection before the lock.

Measured before: two PostgreSQL load runs at 1 M lots stalled 8-11 s at p99 when a background refresh took the
snapshot lock, found the pool empty and waited for a connection that the blocked readers held (the pool's
timeout ended it with an error). Here the pool has two connections and a 3 s timeout."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lichain.services import footprint as fp_service
from lichain.services import snapshot as snap_service
from lichain.storage.sql import SqlStore, _make_engine
from tests.integration.test_footprint_extend import kept_state_behind_by_a_lot

_POOL = 2


def _small_pool(store: SqlStore) -> None:
    store.engine.dispose()
    store.engine = _make_engine(store.url, {"pool_size": _POOL, "max_overflow": 0, "pool_timeout": 3})


@pytest.mark.parametrize("load", ["snapshot", "footprint"])
def test_loader_under_the_lock_never_waits_for_a_connection_held_by_its_waiters(
        store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, load: str) -> None:
    kept_state_behind_by_a_lot(store, tmp_path, monkeypatch)  # every load below has work to do
    _small_pool(store)
    lock = snap_service._BUILD_LOCK if load == "snapshot" else fp_service._LOCK
    work = snap_service.load_snapshot if load == "snapshot" else fp_service.ledger_footprint
    errors: list[BaseException] = []
    locked = threading.Event()
    real_read = store.read

    def read_noting_the_lock() -> object:
        # the loader's first read under the lock: let the readers take the pool's connections first
        if threading.current_thread().name == "loader" and lock.locked() and not locked.is_set():
            locked.set()
            time.sleep(0.5)
        return real_read()

    monkeypatch.setattr(store, "read", read_noting_the_lock)

    def reader() -> None:
        try:
            locked.wait(10)
            with store.reading():
                store.head()  # the block's connection is checked out
                work(store)
        except BaseException as exc:  # reported below
            errors.append(exc)

    def loader() -> None:
        try:
            work(store)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            locked.set()

    threads = [threading.Thread(target=reader) for _ in range(_POOL)] + [threading.Thread(target=loader,
                                                                                          name="loader")]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert time.monotonic() - t0 < 3  # under the pool's timeout: nobody waited for it to run out
    assert snap_service.load_snapshot(store).head == store.head()[1]

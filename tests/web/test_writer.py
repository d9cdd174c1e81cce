"""Documents written in the worker's writer process (``lichain serve``'s default): the same answers as on the
worker's own threads, on SQLite and PostgreSQL, and a writer process that dies is replaced without a document
written twice or half."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from lichain.storage.sql import SqlStore
from tests.web.conftest import Served, serve_store
from tests.web.test_access_matrix import lot_document


def _post(s: Served, path: str, doc: bytes, user: str = "op_materials") -> object:
    return s.client.post(path, content=doc, headers={**s.as_(user), "Content-Type": "application/ld+json"})


def _writer_pids(s: Served) -> set[int]:
    pool = s.client.app.state.lichain.writer._pool  # type: ignore[attr-defined]
    return set(pool._processes) if pool is not None else set()


def test_documents_are_written_in_the_writer_process(store: SqlStore, tmp_path: Path) -> None:
    """Accepted, replayed, refused (located, nothing written), forbidden and captured documents answer as on
    the worker's threads; the writes happen in another process."""
    s = serve_store(store, tmp_path, write_process=True)
    with s.client:
        pids = _writer_pids(s)
        assert len(pids) == 1 and os.getpid() not in pids
        # the writer runs at a lower scheduling priority: the cores go to the worker's reads first
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pids] == [min(mine + 10, 19)]
        before = store.counts()["events"]
        doc = lot_document("LOT-W1", "REF-CN-01", "NISO4")
        first = _post(s, "/ingest", doc)
        assert first.status_code == 200 and first.json()["events_written"] == 1  # type: ignore[attr-defined]
        assert store.counts()["events"] == before + 1
        again = _post(s, "/ingest", doc)
        assert again.status_code == 200 and again.headers["idempotent-replay"] == "true"  # type: ignore[attr-defined]
        assert again.json() == first.json()  # type: ignore[attr-defined]
        bad = json.loads(lot_document("LOT-W2", "REF-CN-01", "NISO4"))
        bad["epcisBody"]["eventList"][0]["quantityList"][0]["quantity"] = -5
        r = _post(s, "/ingest?name=bad.jsonld", json.dumps(bad).encode())
        assert r.status_code == 422  # type: ignore[attr-defined]
        assert all(p["location"].startswith("bad.jsonld") for p in r.json()["problems"])  # type: ignore[attr-defined]
        r = _post(s, "/ingest", lot_document("LOT-W3", "HPAL-ID-01", "NISO4"))  # another organisation's site
        assert r.status_code == 403  # type: ignore[attr-defined]
        r = _post(s, "/capture", lot_document("LOT-W4", "REF-CN-01", "NISO4"))
        assert r.status_code == 202  # type: ignore[attr-defined]
        job = s.client.get(r.headers["location"], headers=s.as_("op_materials")).json()  # type: ignore[attr-defined]
        assert job["running"] is False and job["success"] is True
        assert store.counts()["events"] == before + 2
        assert _writer_pids(s) == pids  # one writer process served them all


def test_a_writer_process_that_dies_is_replaced(sqlite_store: SqlStore, tmp_path: Path) -> None:
    """The request that meets a dead writer answers 503 and writes nothing; the next one starts a new writer;
    the document sent again is written once."""
    s = serve_store(sqlite_store, tmp_path, write_process=True)
    with s.client:
        (pid,) = _writer_pids(s)
        before = sqlite_store.counts()["events"]
        os.kill(pid, signal.SIGKILL)
        doc = lot_document("LOT-D1", "REF-CN-01", "NISO4")
        r = _post(s, "/ingest", doc)
        assert r.status_code == 503 and "send it again" in r.json()["detail"]  # type: ignore[attr-defined]
        assert sqlite_store.counts()["events"] == before
        r = _post(s, "/ingest", doc)
        assert r.status_code == 200 and r.json()["events_written"] == 1  # type: ignore[attr-defined]
        (new,) = _writer_pids(s)
        assert new != pid
        assert sqlite_store.counts()["events"] == before + 1


def test_a_writer_nice_increment_out_of_range_is_refused() -> None:
    import pytest

    from lichain.web.writer import Writer

    for bad in (-1, 20):
        with pytest.raises(ValueError, match=r"0\.\.19"):
            Writer("sqlite:///unused.db", nice=bad)

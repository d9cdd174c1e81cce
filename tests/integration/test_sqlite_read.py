"""The SQLAlchemy-free SQLite reader of ``lichain show`` answers exactly as the SQL store does.

On a 300-lot demo ledger with a retracted run and a retracted shipment, every lot shown through
:class:`lichain.storage.sqlite_read.SqliteLotReader` equals the same lot shown through the SQL store (whose
queries are the SQLAlchemy statements), field for field; the reader declines what it must not answer (another
schema revision, a missing file, URLs that are not a plain SQLite file), and a ``show`` process on a warm ledger
imports neither SQLAlchemy nor numpy.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from lichain.entrypoints.present import jsonable
from lichain.services.corrections import retract
from lichain.services.demo import run_demo
from lichain.services.query import show_lot
from lichain.storage.sql import SqlStore
from lichain.storage.sqlite_read import SqliteLotReader, open_sqlite_reader


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[SqlStore, dict[str, str]]:
    db = tmp_path_factory.mktemp("sqlite-read") / "demo.db"
    store = SqlStore(f"sqlite:///{db}")
    store.migrate()
    assert run_demo(store, lots=300).ok
    with sqlite3.connect(db) as c:  # leaf records: nothing downstream depends on them
        ships = [r[0] for r in c.execute("SELECT id FROM shipments ORDER BY idx DESC LIMIT 5")]
        runs = [r[0] for r in c.execute(
            "SELECT runs.id FROM runs WHERE NOT EXISTS (SELECT 1 FROM lots JOIN consumptions ON "
            "consumptions.lot_idx = lots.idx WHERE lots.run_idx = runs.idx) AND NOT EXISTS (SELECT 1 FROM lots "
            "JOIN shipments ON shipments.lot_idx = lots.idx WHERE lots.run_idx = runs.idx) ORDER BY idx DESC LIMIT 5")]
    done = {}
    for kind, refs in (("shipment", ships), ("run", runs)):
        for ref in refs:
            if not retract(store, ref, "entered twice").problems:
                done[kind] = ref
                break
    assert set(done) == {"shipment", "run"}, done
    return store, done


def _all_lots(db: Path) -> list[str]:
    with sqlite3.connect(db) as c:
        return [r[0] for r in c.execute("SELECT id FROM lots ORDER BY idx")]


def test_every_lot_shows_the_same_through_both_readers(ledger: tuple[SqlStore, dict[str, str]]) -> None:
    store, done = ledger
    reader = open_sqlite_reader(store.url)
    assert isinstance(reader, SqliteLotReader)
    assert reader.head() == store.head()
    lots = _all_lots(Path(store.url.removeprefix("sqlite:///")))
    assert len(lots) > 300
    retracted = shipped = consumed = with_run = 0
    for lot in lots:
        fast, full = jsonable(show_lot(reader, lot)), jsonable(show_lot(store, lot))
        assert fast == full, lot
        assert reader.movements([lot]) == store.movements([lot])
        retracted += fast["retracted"]
        shipped += bool(fast["shipments"])
        consumed += bool(fast["consumed_by"])
        with_run += fast["run"] is not None
    with sqlite3.connect(store.url.removeprefix("sqlite:///")) as c:
        outputs = c.execute("SELECT count(*) FROM lots JOIN runs ON runs.idx = lots.run_idx WHERE runs.id = ?",
                            (done["run"],)).fetchone()[0]
    assert retracted == outputs >= 1 and shipped > 10 and consumed > 10 and with_run > 100  # every branch was compared


def test_movements_of_many_lots_in_chunks(ledger: tuple[SqlStore, dict[str, str]]) -> None:
    store, _ = ledger
    reader = open_sqlite_reader(store.url)
    assert reader is not None
    lots = _all_lots(Path(store.url.removeprefix("sqlite:///")))
    wanted = lots + [f"a lot not on record {i}" for i in range(300)]  # sorted before the lots
    assert sorted(wanted)[499] in lots and sorted(wanted)[500] in lots  # both chunks of 500 hold lots
    got = reader.movements(wanted)
    with sqlite3.connect(store.url.removeprefix("sqlite:///")) as c:
        live = c.execute("SELECT count(*) FROM lots WHERE event_seq NOT IN (SELECT target_seq FROM retractions)")
        n_live = live.fetchone()[0]
    assert got == store.movements(wanted) and len(got) == n_live < len(lots)  # retracted lots have no movements


def test_reader_declines_what_the_full_store_must_handle(ledger: tuple[SqlStore, dict[str, str]],
                                                         tmp_path: Path) -> None:
    store, _ = ledger
    src = Path(store.url.removeprefix("sqlite:///"))
    old = tmp_path / "old.db"
    with sqlite3.connect(src) as a, sqlite3.connect(old) as b:  # the WAL file too
        a.backup(b)
    assert open_sqlite_reader(f"sqlite:///{old}") is not None
    with sqlite3.connect(old) as c:
        c.execute("UPDATE alembic_version SET version_num = '0001'")
    assert open_sqlite_reader(f"sqlite:///{old}") is None  # to be migrated first
    assert open_sqlite_reader(str(tmp_path / "missing.db")) is None
    assert not (tmp_path / "missing.db").exists()  # never created
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert open_sqlite_reader(str(empty)) is None  # no schema
    assert open_sqlite_reader("postgresql+psycopg://u:p@127.0.0.1/x") is None
    assert open_sqlite_reader(f"sqlite:///{src}?mode=ro") is None
    assert open_sqlite_reader(str(src)) is not None  # a bare path is a SQLite file, as for --db


def test_show_on_a_warm_sqlite_ledger_imports_neither_sqlalchemy_nor_numpy(
        ledger: tuple[SqlStore, dict[str, str]], tmp_path: Path) -> None:
    store, _ = ledger
    lot = _all_lots(Path(store.url.removeprefix("sqlite:///")))[-1]
    probe = (
        "import json, sys\n"
        "from lichain.entrypoints.cli import main\n"
        f"sys.argv = ['lichain', 'show', {lot!r}, '--db', {store.url!r}, '--json']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "print(json.dumps({'code': code, 'sqlalchemy': 'sqlalchemy' in sys.modules,"
        " 'numpy': 'numpy' in sys.modules}), file=sys.stderr)\n")
    env = {"LICHAIN_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin", "LICHAIN_NOW": "2027-12-31"}
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False)
            for _ in range(2)]
    first, second = (json.loads(r.stderr.strip().splitlines()[-1]) for r in runs)
    assert first["code"] in (0, None) and second["code"] in (0, None)
    assert first["numpy"]  # the cold cache: shares computed on the snapshot, then cached
    assert second == {"code": second["code"], "sqlalchemy": False, "numpy": False}
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout) == jsonable(show_lot(store, lot))

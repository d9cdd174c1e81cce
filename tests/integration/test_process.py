"""Process readings: ingest from CSV and Parquet into Parquet partitions with a ledger manifest, located refusals
with nothing written, one run's readings read back, and ``verify`` finding a changed partition file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from lichain.entrypoints.cli import app
from lichain.services.ingest import ingest_events
from lichain.services.process import check_process_files, ingest_readings, run_readings
from lichain.storage.process_sql import process_batches
from lichain.storage.sql import SqlStore
from tests.support.chain_text import parse_chain

CHAIN = """
site P1 precursor_plant CN Demo-Precursor
site P2 precursor_plant CN Demo-Precursor
material NSO refined_salt NiSO4·6H2O
material PCAM pcam Ni0.8Co0.1Mn0.1(OH)2
lot S1 NSO @P1 2026-01-01 1000kg Ni=0.2
lot S2 NSO @P2 2026-01-01 1000kg Ni=0.2
run R1 co_precipitation @P1 2026-01-05..2026-01-06 in S1:500kg out PA:PCAM:160kg:Ni=0.625
run R2 co_precipitation @P1 2026-01-06..2026-01-07 in S1:500kg out PB:PCAM:160kg:Ni=0.625
run R3 co_precipitation @P2 2026-01-06..2026-01-07 in S2:500kg out PC:PCAM:160kg:Ni=0.625
"""
T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _chain(store: SqlStore) -> None:
    r = ingest_events(parse_chain(CHAIN), store)
    assert r.ok, r.problems


def _rows() -> list[tuple[str, str, str, str, str]]:
    """R1 every 10 min for 24 h (pH, temperature), R2 likewise, and readings between runs (no run)."""
    out = []
    for run, start in (("R1", T0), ("R2", T0 + timedelta(days=1))):
        for k in range(144):
            t = (start + timedelta(minutes=10 * k)).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.append((t, run, "pH", f"{11.2 + 0.001 * k:.3f}", "pH"))
            out.append((t, run, "temperature", f"{55 + (k % 7) * 0.1:.1f}", "°C"))
    out.append(("2026-01-08T00:00:00Z", "", "pH", "7.0", "pH"))
    return out


def _csv(path: Path, rows: list[tuple[str, ...]]) -> Path:
    path.write_text("time,run,parameter,value,unit\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_ingest_show_and_verify(store: SqlStore, tmp_path: Path) -> None:
    _chain(store)
    root = tmp_path / "proc"
    rows = _rows()
    r = ingest_readings(store, _csv(tmp_path / "l1.csv", rows), "PCAM-L1", root=root)
    assert r.ok, r.problems
    assert r.rows == len(rows) and r.runs == ("R1", "R2") and r.units == {"pH": "pH", "temperature": "°C"}
    assert r.time_from == "2026-01-05T00:00:00Z" and r.time_to == "2026-01-08T00:00:00Z"
    assert [f.path for f in r.files] == [f"line=PCAM-L1/month=2026-01/part-{r.batch}.parquet"]
    stored = pq.read_table(root / r.files[0].path)
    assert stored.num_rows == len(rows) and stored.schema.names == ["time", "run", "parameter", "value"]
    # one run's pH read back equals the rows written, in time order
    s = run_readings(store, "R2", "pH", limit=0, root=root)
    expected = [float(v) for t, run, p, v, _ in rows if run == "R2" and p == "pH"]
    assert s.count == 144 and [x.value for x in s.readings] == expected
    assert s.minimum == min(expected) and s.maximum == max(expected)
    assert s.mean == pytest.approx(sum(expected) / len(expected))
    assert s.readings[0].time == "2026-01-06T00:00:00Z" and s.unit == "pH" and s.line == "PCAM-L1"
    # the same file again is already on record: no new event, no new file
    head = store.head()
    again = ingest_readings(store, tmp_path / "l1.csv", "PCAM-L1", root=root)
    assert again.ok and again.already_recorded and store.head() == head
    assert check_process_files(store, root).ok
    # a changed partition is found by the check
    path = root / r.files[0].path
    t = pq.read_table(path)
    values = t.column("value").to_pylist()
    values[0] += 0.5
    pq.write_table(t.set_column(3, "value", pa.array(values)), path)
    c = check_process_files(store, root)
    assert not c.ok and c.problems == (f"process file {r.files[0].path}: changed: its SHA-256 is not the one "
                                       "recorded when it was ingested",)


def test_parquet_input_and_two_months(sqlite_store: SqlStore, tmp_path: Path) -> None:
    ingest_events(parse_chain(CHAIN.replace("2026-01-06..2026-01-07 in S1", "2026-01-06..2026-02-07 in S1")),
                  sqlite_store)
    rows = [("2026-01-31T23:00:00Z", "R2", "pH", "11.0", "pH"), ("2026-02-01T01:00:00Z", "R2", "pH", "11.1", "pH")]
    cols = list(zip(*rows, strict=True))
    table = pa.table({"time": pa.array([datetime.fromisoformat(x) for x in cols[0]], pa.timestamp("us", tz="UTC")),
                      "run": cols[1], "parameter": cols[2], "value": [float(v) for v in cols[3]], "unit": cols[4]})
    pq.write_table(table, tmp_path / "r.parquet")
    r = ingest_readings(sqlite_store, tmp_path / "r.parquet", "L2", root=tmp_path / "p")
    assert r.ok, r.problems
    assert [f.rows for f in r.files] == [1, 1] and [f.path.split("/")[1] for f in r.files] == ["month=2026-01",
                                                                                               "month=2026-02"]
    s = run_readings(sqlite_store, "R2", "pH", root=tmp_path / "p")  # the run spans both month partitions
    assert [x.value for x in s.readings] == [11.0, 11.1]


@pytest.mark.parametrize(("row", "where", "words"), [
    (("2026-01-05T01:00:00Z", "R1", "pH", "11.2", "°C"), "bad.csv:3/unit", "pH is recorded in 'pH'"),
    (("2026-01-05T01:00:00Z", "R1", "ph", "11.2", "pH"), "bad.csv:3/parameter", "unknown parameter"),
    (("2026-01-05T01:00:00Z", "R1", "pH", '"11,2"', "pH"), "bad.csv:3/value", "finite number"),
    (("2026-01-05T01:00:00Z", "R1", "pH", "11,2", "pH"), "bad.csv:3", "expected 5 fields"),
    (("2026-01-05T01:00:00Z", "R1", "pH", "19", "pH"), "bad.csv:3/value", "0..14"),
    (("2026-01-05T01:00:00", "R1", "pH", "11.2", "pH"), "bad.csv:3/time", "UTC offset"),
    (("2026-01-05T01:00:00Z", "R9", "pH", "11.2", "pH"), "bad.csv:3/run", "unknown run 'R9'"),
    (("2026-01-09T01:00:00Z", "R1", "pH", "11.2", "pH"), "bad.csv:3/time", "outside the run's window"),
    (("2026-01-06T01:00:00Z", "R3", "pH", "11.2", "pH"), "bad.csv:3/run", "at site P2"),
])
def test_bad_readings_are_located_and_nothing_is_written(sqlite_store: SqlStore, tmp_path: Path,
                                                         row: tuple[str, ...], where: str, words: str) -> None:
    _chain(sqlite_store)
    root = tmp_path / "proc"
    good = ("2026-01-05T00:00:00Z", "R1", "pH", "11.2", "pH")
    head = sqlite_store.head()
    r = ingest_readings(sqlite_store, _csv(tmp_path / "bad.csv", [good, row]), "L1", root=root)
    assert not r.ok
    assert any(p.location == where and words in p.message for p in r.problems), r.problems
    assert sqlite_store.head() == head and process_batches(sqlite_store) == []
    assert not any(p.is_file() for p in root.rglob("*")) if root.exists() else True


def test_missing_column_and_bad_line(sqlite_store: SqlStore, tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("time,run,parameter,value\n", encoding="utf-8")
    r = ingest_readings(sqlite_store, tmp_path / "m.csv", "L1", root=tmp_path / "p")
    assert not r.ok and r.problems[0].location == "m.csv:1" and "unit" in r.problems[0].message
    r = ingest_readings(sqlite_store, tmp_path / "m.csv", "../x", root=tmp_path / "p")
    assert not r.ok and r.problems[0].location == "--line"


def test_cli_ingest_show_and_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    from lichain.storage.sql import open_store

    s = open_store(str(tmp_path / "l.db"))
    _chain(s)
    s.close()
    runner = CliRunner()
    _csv(tmp_path / "r.csv", _rows())
    res = runner.invoke(app, ["process", "ingest", "r.csv", "--line", "PCAM-L1", "--db", "l.db", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows"] == len(_rows()) and (tmp_path / "l.process").is_dir()
    res = runner.invoke(app, ["process", "show", "--run", "R1", "--param", "temperature", "--db", "l.db", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["count"] == 144
    assert runner.invoke(app, ["verify", "--db", "l.db"]).exit_code == 0
    part = next((tmp_path / "l.process").rglob("*.parquet"))
    part.write_bytes(part.read_bytes() + b"x")
    res = runner.invoke(app, ["verify", "--db", "l.db", "--json"])
    assert res.exit_code == 1
    v = json.loads(res.stdout)
    assert v["process_ok"] is False and "changed" in v["process_problems"][0]


def test_a_server_ledger_needs_a_process_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lichain.storage.process_store import process_root

    monkeypatch.delenv("LICHAIN_PROCESS_DIR", raising=False)
    assert process_root("postgresql+psycopg://u@h/db") is None
    assert process_root("sqlite:////data/ledger.db") == Path("/data/ledger.process")
    monkeypatch.setenv("LICHAIN_PROCESS_DIR", str(tmp_path / "x"))
    assert process_root("postgresql+psycopg://u@h/db") == tmp_path / "x"
    monkeypatch.delenv("LICHAIN_PROCESS_DIR")

    class Server:
        url = "postgresql+psycopg://u@h/db"

    (tmp_path / "r.csv").write_text("time,run,parameter,value,unit\n", encoding="utf-8")
    r = ingest_readings(Server(), tmp_path / "r.csv", "L1")
    assert not r.ok and r.problems[0].location == "LICHAIN_PROCESS_DIR"
    with pytest.raises(Exception, match="LICHAIN_PROCESS_DIR"):
        run_readings(Server(), "R1", "pH")

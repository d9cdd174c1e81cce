"""The CLI end to end on SQLite: template → ingest → lots/show/balance/verify → export → re-import."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lichain.entrypoints.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    """Invoke the CLI; return exit code and stdout."""
    res = runner.invoke(app, list(args))
    return res.exit_code, res.stdout


def test_spreadsheet_to_epcis_and_back(tmp_path: Path) -> None:
    db, db2 = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    book, out = tmp_path / "chain.xlsx", tmp_path / "ledger.jsonld"
    assert run("template", "--out", str(book))[0] == 0
    code, text = run("ingest", str(book), "--db", db, "--json")
    assert code == 0, text
    r = json.loads(text)
    assert r["ok"] and r["events_written"] > 0 and r["problems"] == []

    code, text = run("lots", "--db", db, "--json", "--limit", "0")
    lots = json.loads(text)
    assert code == 0 and lots
    assert {"id", "material", "stage", "site", "mass_kg", "assay", "origin"} <= set(lots[0])
    produced = [lot for lot in lots if lot["stage"] != "intermediate"] or lots
    code, text = run("show", produced[-1]["id"], "--db", db, "--json")
    shown = json.loads(text)
    assert code == 0 and {"inputs", "consumed_kg", "remaining_kg"} <= set(shown)
    assert shown["remaining_kg"] == shown["mass_kg"] - shown["consumed_kg"]
    assert sum(shown["remaining_by_site_kg"].values()) == shown["remaining_kg"]

    code, text = run("balance", "--db", db, "--json")
    b = json.loads(text)
    assert code == 0 and b["runs_checked"] > 0 and b["problems"] == []
    code, text = run("verify", "--db", db, "--json")
    v = json.loads(text)
    assert code == 0 and v["ok"] and v["first_bad_event"] is None and len(v["head"]) == 64

    assert run("export", "epcis", "--db", db, "--out", str(out))[0] == 0
    code, text = run("ingest", str(out), "--db", db2, "--json")
    assert code == 0 and json.loads(text)["ok"], text
    assert json.loads(run("verify", "--db", db2, "--json")[1])["head"] == v["head"]
    assert json.loads(run("lots", "--db", db2, "--json", "--limit", "0")[1]) == lots


def test_refused_document_exit_code_and_located_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonld"
    bad.write_text('{"type": "EPCISDocument", "epcisBody": {"eventList": [ }', encoding="utf-8")
    code, text = run("ingest", str(bad), "--db", str(tmp_path / "x.db"), "--json")
    r = json.loads(text)
    assert code == 1 and not r["ok"] and r["events_written"] == 0
    assert r["problems"][0]["location"].startswith(str(bad))


def test_chem_json() -> None:
    code, text = run("chem", "LiNi0.8Co0.1Mn0.1O2", "--json")
    d = json.loads(text)
    # CIAAW 2021: Li 6.94, Ni 58.6934, Co 58.933194, Mn 54.938043, O 15.999 → M = 97.2798 g/mol
    m = 6.94 + 0.8 * 58.6934 + 0.1 * 58.933194 + 0.1 * 54.938043 + 2 * 15.999
    assert code == 0 and abs(d["molar_mass_g_per_mol"] - m) < 1e-9
    assert abs(d["mass_fractions"]["Ni"] - 0.8 * 58.6934 / m) < 1e-12
    assert run("chem", "Xx2")[0] == 2


def test_export_parquet_tables_match_the_ledger(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    db = str(tmp_path / "p.db")
    book = tmp_path / "chain.xlsx"
    assert run("template", "--out", str(book))[0] == 0
    assert run("ingest", str(book), "--db", db)[0] == 0
    lots = json.loads(run("lots", "--db", db, "--json", "--limit", "0")[1])
    code, _ = run("export", "parquet", "--db", db, "--out", str(tmp_path / "pq"))
    assert code == 0
    t = pq.read_table(tmp_path / "pq" / "lots.parquet")
    assert t.num_rows == len(lots)
    edges = pq.read_table(tmp_path / "pq" / "edges.parquet")
    # every consumption of a produced lot's run is an edge (one output per example run)
    consumed = sum(len(json.loads(run("show", lot["id"], "--db", db, "--json")[1])["inputs"]) for lot in lots)
    assert edges.num_rows == consumed


def test_now_sets_the_ledger_clock_for_replaying_a_simulation(tmp_path: Path) -> None:
    base = (Path(__file__).resolve().parents[1] / "data" / "bad" / "ledger" / "base.jsonld").read_text("utf-8")
    future = tmp_path / "future.jsonld"
    future.write_text(base.replace("2026-01-", "2029-01-"), encoding="utf-8")  # the tests' clock is 2027-12-31
    db = str(tmp_path / "f.db")
    code, text = run("ingest", str(future), "--db", db, "--json")
    r = json.loads(text)
    assert code == 1 and r["events_written"] == 0 and all("in the future" in p["message"] for p in r["problems"])
    code, text = run("ingest", str(future), "--db", db, "--json", "--now", "2029-06-30T00:00:00Z")
    (tmp_path / "base.jsonld").write_text(base, encoding="utf-8")
    as_dated = json.loads(run("ingest", str(tmp_path / "base.jsonld"), "--db", str(tmp_path / "b.db"), "--json")[1])
    assert code == 0 and json.loads(text)["events_written"] == as_dated["events_written"] > 0
    res = runner.invoke(app, ["ingest", str(future), "--db", db, "--now", "next week"])
    assert res.exit_code == 2 and "--now 'next week'" in res.stderr

"""Corrections on SQLite and PostgreSQL: retract and re-state a run from the CLI and from a workbook.

The ledger: mine lot L1 (1000 kg, Ni 0.012) → refining run R-1 recorded by mistake as consuming 800 kg of L1
into L2 (42.9 kg NiSO4·6H2O, Ni 0.2233, loss 0.02043 kg Ni) → shipment S1 of 10 kg of L2 → run R-2 consuming
20 kg of L2. The truth: R-1 consumed all 1000 kg of L1 into 53.7 kg (Ni 11.99121 kg + loss 0.00879 kg = 12 kg
= 1000 kg × 0.012), and R-2 did not occur. The corrected run consumes 1000 kg of L1 again, which is only
possible because the wrong run's 800 kg are freed by its retraction (1800 kg > 1000 kg otherwise).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from lichain.entrypoints.cli import app
from lichain.entrypoints.present import jsonable
from lichain.io.tabular import write_workbook
from lichain.services import query
from lichain.services.record import ingest_file
from lichain.services.trace import trace_lot
from lichain.services.verify import verify_chain
from lichain.storage.sql import SqlStore, open_store
from tests.support.chain_text import parse_chain

BASE = """
site M1 mine ID Nickel-Co
site R1 refinery CN Refco
site C1 precursor_plant KR Cathco
material ORE ore
material NSO refined_salt NiSO4·6H2O
material PC pcam
lot L1 ORE @M1 2026-01-01 1000kg Ni=0.012
ship S0 L1 1000kg M1->R1 2026-01-01T12:00:00 road 0km Refco
run R-1 refining @R1 2026-01-02..2026-01-03 in L1:800kg out L2:NSO:42.9kg:Ni=0.2233 loss Ni=0.02043kg
ship S1 L2 10kg R1->C1 2026-01-04 sea_container 9000km Cathco
run R-2 co_precipitation @R1 2026-01-05..2026-01-06 in L2:20kg out P1:PC:9.5kg:Ni=0.47 loss Ni=0.001kg
"""

T = "2026-02-01T00:00:00Z"
RESTATED = {  # the corrected run and shipment, with new ids
    "runs": [["id", "site", "kind", "started_at", "ended_at", "loss_Ni"],
             ["R-1b", "R1", "refining", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", 0.00879]],
    "run_inputs": [["run", "lot", "mass", "mass_unit"], ["R-1b", "L1", 1000, "kg"]],
    "run_outputs": [["run", "lot", "material", "mass", "mass_unit", "Ni"], ["R-1b", "L2b", "NSO", 53.7, "kg", 0.2233]],
    "shipments": [["id", "lot", "mass", "mass_unit", "from_site", "to_site", "shipped_at", "mode", "distance_km"],
                  ["S1b", "L2b", 10, "kg", "R1", "C1", "2026-01-04T00:00:00Z", "sea_container", 9000]],
}


def book(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def cli(*args: str) -> tuple[int, Any, str]:
    res = CliRunner().invoke(app, list(args))
    try:
        data = json.loads(res.stdout)
    except ValueError:
        data = None
    return res.exit_code, data, res.output


@pytest.fixture
def ledger(store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqlStore:
    """The base chain, entered from a workbook (event ids as the ingest service gives them)."""
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    write_workbook([replace(le.event, event_id="") for le in parse_chain(BASE)], tmp_path / "base.xlsx")
    r = ingest_file(store, tmp_path / "base.xlsx")
    assert r.ok and r.events_written == 11, r.problems
    return store


def event_of(store: SqlStore, kind: str, record: str) -> str:
    return store.record_ids(kind, [record])[record]


def assert_corrected(store: SqlStore) -> None:
    """Balances, stock and traces after R-1 was re-stated as R-1b, S1 as S1b, and R-2 retracted."""
    l1, l2, l2b = (jsonable(query.show_lot(store, x)) for x in ("L1", "L2", "L2b"))
    assert l1["consumed_kg"] == 1000 and l1["remaining_kg"] == 0
    assert l2["retracted"] is True and query.show_lot(store, "P1").retracted is True
    assert l2b["retracted"] is False and l2b["mass_kg"] == 53.7 and l2b["shipped_kg"] == 10
    assert [x.id for x in query.list_lots(store, limit=None)] == ["L1", "L2b"]
    b = query.balance(store)
    assert b.runs_checked == 1 and b.problems == ()
    assert verify_chain(store).ok
    tr = trace_lot(store, "L2b", element="Ni", by="site")
    assert tr.groups is not None and list(tr.groups) == ["M1"] and tr.groups["M1"].share["Ni"] == pytest.approx(1.0)
    assert tr.groups["M1"].element_kg["Ni"] == pytest.approx(53.7 * 0.2233)  # L2b's nickel, all from M1
    assert store.counts()["retractions"] == 3


def test_retract_and_restate_from_the_cli(ledger: SqlStore, tmp_path: Path) -> None:
    db = ledger.url
    before = ledger.counts()
    # R-2 consumed L2: R-1 (which made L2) cannot be retracted first; nothing written
    code, d, _ = cli("retract", "R-1", "--reason", "incorrect_data", "--db", db, "--json")
    assert code == 1 and not d["ok"] and d["events_written"] == 0
    assert d["problems"][0]["location"] == "retract:R-1"
    assert "its lot L2 has been consumed" in d["problems"][0]["message"]
    code, d, _ = cli("retract", "NOPE-9", "--reason", "x", "--db", db, "--json")
    assert code == 1 and d["problems"] == [{"location": "retract:NOPE-9",
                                            "message": "NOPE-9 is not a run, shipment, lot or event id in the ledger"}]
    code, _, text = cli("retract", "R-2", "--reason", " ", "--db", db)
    assert code == 1 and "retract:--reason" in text
    assert ledger.counts() == before

    code, _, text = cli("retract", "R-2", "--reason", "did_not_occur", "--db", db)
    assert code == 0 and f"R-2 retracted (event {event_of(ledger, 'run', 'R-2')})" in text
    # a lot id names the event that made it: L2 → run R-1
    code, d, _ = cli("retract", "L2", "--reason", "incorrect_data: consumed 1000 kg, not 800 kg", "--db", db,
                     "--json")
    assert code == 0 and d["target_event_id"] == event_of(ledger, "run", "R-1")
    # the corrected run consumes L1 again (freed) and the corrected shipment ships its output
    code, d, text = cli("ingest", str(book(tmp_path / "fix.xlsx", RESTATED)), "--db", db, "--json")
    assert code == 0 and d["ok"] and d["events_written"] == 2, text
    code, d, _ = cli("retract", "S1", "--reason", "incorrect_data", "--corrected-by", "S1b", "--db", db, "--json")
    assert code == 0 and d["corrective_event_ids"] == [event_of(ledger, "shipment", "S1b")]
    stored = json.loads(ledger.stored_event(d["event_id"]).payload)  # type: ignore[union-attr]
    assert stored["corrective_event_ids"] == [event_of(ledger, "shipment", "S1b")]
    assert stored["target_event_id"] == event_of(ledger, "shipment", "S1") and stored["reason"] == "incorrect_data"
    # refusals after the fact: twice, and a record correcting itself
    code, d, _ = cli("retract", "S1", "--reason", "again", "--db", db, "--json")
    assert code == 1 and "already retracted" in d["problems"][0]["message"]
    code, d, _ = cli("retract", "R-1b", "--reason", "x", "--corrected-by", "L2b", "--db", db, "--json")
    assert code == 1 and d["problems"][0]["location"] == "retract:--corrected-by"
    assert_corrected(ledger)


CORRECTIONS = [["retract", "reason", "corrected_by", "declared_at", "kind"],
               ["R-2", "did_not_occur", None, T, "run"],
               ["S1", "incorrect_data: lot", "S1b", T, None],
               ["R-1", "incorrect_data: consumed 1000 kg, not 800 kg", "R-1b", T, "run"]]


def test_retract_and_restate_from_a_workbook(ledger: SqlStore, tmp_path: Path) -> None:
    path = book(tmp_path / "chain.xlsx", {**RESTATED, "corrections": CORRECTIONS})
    code, d, text = cli("ingest", str(path), "--db", ledger.url, "--json")
    assert code == 0 and d["ok"], text
    assert d["events_written"] == 5  # R-1b, S1b and three retractions
    assert_corrected(ledger)
    r1 = json.loads(ledger.stored_event(  # type: ignore[union-attr]
        next(e.event_id for e in ledger.iter_events() if e.kind == "retraction"
             and json.loads(e.payload)["target_event_id"] == event_of(ledger, "run", "R-1"))).payload)
    assert r1["corrective_event_ids"] == [event_of(ledger, "run", "R-1b")]
    assert r1["declared_at"] == T and r1["reason"] == "incorrect_data: consumed 1000 kg, not 800 kg"
    # ingesting the same workbook again is a no-op (every row has declared_at)
    code, d, _ = cli("ingest", str(path), "--db", ledger.url, "--json")
    assert code == 0 and d["events_written"] == 0 and d["events_skipped"] == 5


def test_workbook_corrections_refused_with_their_cells(ledger: SqlStore, tmp_path: Path) -> None:
    before = ledger.counts()
    rows = [CORRECTIONS[0],
            ["R-1", "incorrect_data", "R-1b", T, "run"],  # R-2 still consumes L2: refused by the ledger rules
            ["NOPE-9", "typo", None, T, None],  # unknown
            ["S1", None, None, T, None],  # no reason
            ["S1", "x", "NOPE-8", T, "shipment"],  # unknown replacement
            ["S1", "x", None, T, "batch"]]  # unknown kind
    path = book(tmp_path / "chain.xlsx", {**RESTATED, "corrections": rows})
    code, d, _ = cli("ingest", str(path), "--db", ledger.url, "--json")
    assert code == 1 and d["events_written"] == 0
    got = {(p["location"].split("#")[1], p["message"]) for p in d["problems"]}
    assert ("corrections!A3", "run, shipment, lot or event NOPE-9 is not in this workbook or the ledger") in got
    assert ("corrections!B4", "reason is required but the cell is empty") in got
    assert ("corrections!C5", "run, shipment, lot or event NOPE-8 is not in this workbook or the ledger") in got
    assert ("corrections!E6", "kind must be one of run, shipment, lot, event, got 'batch'") in got
    assert ledger.counts() == before
    # with the parse problems fixed, the ledger rule is located at the row's retract cell
    path = book(tmp_path / "chain2.xlsx", {**RESTATED, "corrections": rows[:2]})
    code, d, _ = cli("ingest", str(path), "--db", ledger.url, "--json")
    assert code == 1 and d["events_written"] == 0
    # a refused retraction frees nothing, so the re-stated run over-consumes L1 (800 kg + 1000 kg > 1000 kg)
    assert [p["location"].split("#")[1] for p in d["problems"]] == ["corrections!A2", "runs!A2/inputs/0"]
    assert "cannot retract event" in d["problems"][0]["message"] and "L2 has been consumed" in d["problems"][0][
        "message"]
    assert d["problems"][1]["message"].startswith("over-consumption of lot L1: 1800.000000 kg consumed in all")
    assert ledger.counts() == before
    # a lot retracted earlier in the same document cannot be consumed by a later run of it
    late = {"runs": [*RESTATED["runs"], ["R-3", "R1", "refining", "2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z",
                                            0.001]],
            "run_inputs": [*RESTATED["run_inputs"], ["R-3", "L2", 20, "kg"]],
            "run_outputs": [*RESTATED["run_outputs"], ["R-3", "L3", "PC", 9.5, "kg", 0.47]],
            "corrections": [CORRECTIONS[0], CORRECTIONS[1], ["R-1", "incorrect_data", "R-1b;R-3", T, "run"]]}
    code, d, _ = cli("ingest", str(book(tmp_path / "chain3.xlsx", late)), "--db", ledger.url, "--json")
    assert code == 1 and [(p["location"].split("#")[1], p["message"]) for p in d["problems"]] == [
        ("runs!A3/inputs/0", "lot L2 was retracted by an error declaration")]
    # without naming R-3 as a replacement, R-3 comes before the retraction and keeps L2 in use
    late["corrections"][2][2] = "R-1b"
    code, d, _ = cli("ingest", str(book(tmp_path / "chain4.xlsx", late)), "--db", ledger.url, "--json")
    found = [(p["location"].split("#")[1], p["message"]) for p in d["problems"]]
    assert code == 1 and {loc for loc, _ in found} == {"corrections!A3", "runs!A2/inputs/0", "runs!A3/inputs/0"}
    assert any(loc == "corrections!A3" and "its lot L2 has been consumed" in m for loc, m in found)
    # and by custody: 42.9 kg of L2 made at R1, 10 kg shipped to C1, 20 kg used by R-2: 12.9 kg left for R-3's 20
    assert any(loc == "runs!A3/inputs/0" and "12.900000 kg available, 20.000000 kg requested" in m
               for loc, m in found), found
    assert ledger.counts() == before


def test_workbook_round_trip_keeps_retractions(ledger: SqlStore, tmp_path: Path) -> None:
    assert ingest_file(ledger, book(tmp_path / "fix.xlsx", {**RESTATED, "corrections": CORRECTIONS})).ok
    out = tmp_path / "export.xlsx"
    code, _, text = cli("export", "workbook", "--db", ledger.url, "--out", str(out))
    assert code == 0, text
    ws = load_workbook(out)["corrections"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0][:2] == ["retract", "reason"] and sorted(r[0] for r in rows[1:]) == ["R-1", "R-2", "S1"]
    # into a fresh ledger: the same state
    fresh = open_store(str(tmp_path / "fresh.db"))
    try:
        r = ingest_file(fresh, out)
        assert r.ok and r.events_written == 16, r.problems
        assert_corrected(fresh)
        assert query.list_lots(fresh, limit=None) == query.list_lots(ledger, limit=None)
        assert {e.event_id for e in fresh.iter_events()} == {e.event_id for e in ledger.iter_events()}
    finally:
        fresh.close()
    # into the ledger it came from: nothing new
    r = ingest_file(ledger, out)
    assert r.ok and r.events_written == 0 and r.events_skipped == 16

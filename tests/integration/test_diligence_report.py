"""Due-diligence management records (policy, mitigation measures) and the period report, on both backends.

The ledger is the customer-declaration fixture of ``test_emrt`` (M1 CAHRA-listed; M2's RMAP audit runs out on
30 June 2026), shipped by organisation "Us" to "Cust": 32.5 kg Co in 2026, 15 kg of it from M1 while listed.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from lichain.core.model import DiligencePolicy, RiskMeasure
from lichain.entrypoints.cli import app
from lichain.services.diligence_report import diligence_report
from lichain.services.emrt import emrt_declaration
from lichain.services.exchange import export_epcis
from lichain.services.ingest import ingest_events
from lichain.services.record import ingest_file
from lichain.services.verify import verify_chain
from lichain.storage.sql import SqlStore, open_store
from tests.integration.test_emrt import _ledger, d, statement

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "report-diligence.schema.json"
POLICY = DiligencePolicy("DDP-1", "Us", "Responsible minerals sourcing policy", d(2025, 3), "DOC-77",
                         public_url="https://example.org/ddp-1.pdf")
OPENED = RiskMeasure("MS-1", "M1", "engage the supplier on a CAHRA sourcing plan", "Procurement", "in_progress",
                     d(2026, 2), risk="CAHRA-M1", strategy="continue_mitigation", due=d(2026, 9))
DONE = RiskMeasure("MS-1", "M1", "engage the supplier on a CAHRA sourcing plan", "Procurement", "completed",
                   d(2027, 3), risk="CAHRA-M1", strategy="continue_mitigation")


def _records(store: SqlStore) -> None:
    _ledger(store)
    r = ingest_events([statement(POLICY, POLICY.adopted, "rec:1"), statement(OPENED, OPENED.valid_from, "rec:2"),
                       statement(DONE, DONE.valid_from, "rec:3")], store)
    assert r.ok, r.problems


def test_report_answers_each_step_from_the_ledger(store: SqlStore) -> None:
    _records(store)
    r = diligence_report(store, "2026", organisation="Us", now=d(2027, 6))
    assert r.organisation == "Us" and r.shipped_lots == 2 and r.customers == ("Cust",)
    assert r.policy is not None and (r.policy.id, r.policy.public_url) == ("DDP-1", "https://example.org/ddp-1.pdf")
    (co, ni) = r.metals
    assert abs(co.cahra_share - 15 / 32.5) < 1e-12 and ni.at_risk_share == 0.0
    found = {(f.site, f.id): f for f in r.findings}
    assert set(found) == {("M1", "CAHRA-M1"), ("M2", "RMAP-M2")}  # the lapse from 30 June is in the period
    assert abs(found["M1", "CAHRA-M1"].shipped_share["Co"] - 15 / 32.5) < 1e-12
    assert found["M2", "RMAP-M2"].shipped_share == {}  # B left M2 before the audit ran out
    assert found["M1", "CAHRA-M1"].measures == ("MS-1",) and found["M2", "RMAP-M2"].in_force_at_end
    (m,) = r.measures  # its state at the end of 2026: in progress and overdue (due 1 September)
    assert (m.status, m.overdue, m.strategy) == ("in_progress", True, "continue_mitigation")
    assert m.strategy_label is not None and "continue trade" in m.strategy_label
    status = {s.step: s.status for s in r.steps}
    assert status == {1: "recorded", 2: "computed", 3: "partial", 4: "partial", 5: "computed"}  # RMAP-M2 unanswered
    assert r.sites_not_assessed == ("R1", "X1")
    assert {x.field for x in r.missing} >= {"third-party verification of the policy", "audit of R1"}
    later = diligence_report(store, "2027", organisation="Us", now=d(2027, 6))
    assert [(x.id, x.status, x.overdue) for x in later.measures] == [("MS-1", "completed", False)]


def test_declaration_takes_policy_answers_and_next_steps_from_the_records(store: SqlStore) -> None:
    _records(store)
    e = emrt_declaration(store, "Cust", "2026", organisation="Us", now=d(2027, 6))
    a = {x.question: x for x in e.company_answers}
    assert a["A"].answer == "Yes" and "DDP-1" in a["A"].basis
    assert (a["B"].answer, a["B"].basis) == ("Yes", "https://example.org/ddp-1.pdf")
    assert a["C"].answer is None and e.company == "Us"
    m1 = next(m for m in e.mines if m.mine_identification == "M1")
    assert m1.proposed_next_steps is not None and "MS-1" in m1.proposed_next_steps


def test_bad_records_are_located_refusals_and_nothing_is_written(store: SqlStore) -> None:
    _ledger(store)
    before = store.head()
    bad = [
        DiligencePolicy("DDP-2", "Us", "Policy", d(2026, 1), " ", public_url="ftp://x"),
        RiskMeasure("MS-2", "NOWHERE", "act", "me", "planned", d(2026, 1)),
        RiskMeasure("MS-3", "M1", "act", "", "done", d(2026, 1), strategy="ignore", due=d(2025, 1)),
    ]
    r = ingest_events([statement(b, d(2026, 1), f"bad:{n}") for n, b in enumerate(bad)], store)
    assert not r.ok and store.head() == before
    assert {p.location for p in r.problems} == {"bad:0/reference", "bad:0/public_url", "bad:1/site",
                                                "bad:2/owner", "bad:2/status", "bad:2/strategy", "bad:2/due"}


def test_records_round_trip_through_epcis_and_the_spreadsheet(store: SqlStore, tmp_path: Path) -> None:
    from lichain.io.tabular import read_workbook, write_workbook

    _records(store)
    buf = io.StringIO()
    export_epcis(store, buf)
    doc = json.loads(buf.getvalue())
    types = [e["type"] for e in doc["epcisBody"]["eventList"]]
    assert types.count("lichain:DiligencePolicy") == 1 and types.count("lichain:RiskMeasure") == 2
    f = tmp_path / "ledger.jsonld"
    f.write_text(buf.getvalue(), encoding="utf-8")
    again = open_store(str(tmp_path / "again.db"))
    assert ingest_file(again, f).ok
    assert verify_chain(again).head == verify_chain(store).head
    now = d(2027, 6)
    assert diligence_report(again, "2026", organisation="Us", now=now) == diligence_report(
        store, "2026", organisation="Us", now=now)
    events = [statement(b, t, "x").event for b, t in ((POLICY, POLICY.adopted), (OPENED, OPENED.valid_from))]
    book = tmp_path / "records.xlsx"
    write_workbook(events, book)
    back, problems = read_workbook(book)
    assert problems == [] and [le.event.body for le in back] == [POLICY, OPENED]
    assert [le.event.time for le in back] == [POLICY.adopted, OPENED.valid_from]
    folder = tmp_path / "csv"
    write_workbook(events, folder)
    rows = (folder / "risk_measures.csv").read_text(encoding="utf-8").splitlines()
    (folder / "risk_measures.csv").write_text("\n".join([rows[0], rows[1].replace("Procurement", "")]),
                                              encoding="utf-8")
    _, problems = read_workbook(folder)
    assert [p.location.split(str(folder))[1] for p in problems] == ["/risk_measures.csv:2:owner"]


def test_cli_report_json_html_and_text(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    s = open_store(db)
    _records(s)
    s.close()
    runner = CliRunner()
    res = runner.invoke(app, ["report", "diligence", "--period", "2026", "--organisation", "Us", "--db", db,
                              "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(out)
    assert out["policy"]["id"] == "DDP-1" and out["measures"][0]["id"] == "MS-1"
    page = tmp_path / "dd.html"
    res = runner.invoke(app, ["report", "diligence", "--period", "2026", "--organisation", "Us", "--db", db,
                              "--out", str(page)])
    assert res.exit_code == 0 and "MS-1" in res.stdout and "CAHRA-M1" in res.stdout
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "DDP-1" in html and "<script" not in html
    assert "engage the supplier on a CAHRA sourcing plan" in html
    assert runner.invoke(app, ["report", "diligence", "--period", "20x6", "--db", db]).exit_code == 2



def test_python_api_gives_the_same_typed_results(tmp_path: Path) -> None:
    import lichain

    db = str(tmp_path / "api.db")
    s = open_store(db)
    _records(s)
    s.close()
    with lichain.open_ledger(db) as ledger:
        e = ledger.emrt("Cust", "2026")
        r = ledger.diligence_report("2026", organisation="Us")
    assert [m.metal for m in e.metals] == ["Cobalt", "Nickel"] and e.company is None  # no ledger owner declared
    assert r.policy is not None and r.policy.id == "DDP-1" and r.customers == ("Cust",)

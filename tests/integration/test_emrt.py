"""Customer declaration in the EMRT layout on SQLite and PostgreSQL: shares by hand, period, lists, workbook.

Two mines feed refinery R1: A (1000 kg ore, 2 % Co) from M1 (CD) and B (1000 kg, 1 % Co, 5 % Ni) from M2 (AU);
R1 makes P (500 kg, 30 kg Co, 50 kg Ni). Recycler X1 turns 100 kg of post-consumer scrap S (10 kg Co) into Q.
The cathode plant makes L1 from P (400 kg: 30 kg Co, 50 kg Ni) and L2 from Q (100 kg: 10 kg Co). The customer
receives 300 kg of L1 and all of L2 in 2026, and 100 kg of L1 in 2027. In 2026 it got 22.5 kg Co through L1
(15 kg from M1, 7.5 kg from M2) and 10 kg recycled Co through L2: 32.5 kg; and 37.5 kg Ni, all from M2.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openpyxl import load_workbook
from typer.testing import CliRunner

from lichain.core.codec import canonical_payload, content_event_id, kind_of
from lichain.core.errors import NotFoundError
from lichain.core.model import Event, LocatedEvent, SiteRisk
from lichain.entrypoints.cli import app
from lichain.entrypoints.present import jsonable
from lichain.io.emrt_xlsx import MINE_COLUMNS, SMELTER_COLUMNS
from lichain.services.emrt import emrt_declaration
from lichain.services.ingest import ingest_events
from lichain.storage.sql import SqlStore, open_store
from tests.support.chain_text import parse_chain

CHAIN = """
site M1 mine CD MineCo
site M2 mine AU MineCo2
site R1 refinery CN Us
site X1 recycler CN Us
site C1 cathode_plant CN Us
site K1 cell_plant KR Cust
material ORE ore
material SCRAP scrap
material SALT refined_salt
material CAM cam
lot A ORE @M1 2026-01-01 1000kg Co=0.02
lot B ORE @M2 2026-01-01 1000kg Co=0.01 Ni=0.05
lot S SCRAP @X1 2026-01-01 100kg Co=0.1 origin=post_consumer
ship SA A 1000kg M1->R1 2026-01-10 road 100km
ship SB B 1000kg M2->R1 2026-01-10 road 100km
run RR refining @R1 2026-02-01..2026-02-02 in A:1000kg B:1000kg out P:SALT:500kg:Co=0.06:Ni=0.1
run RX hydromet_recycling @X1 2026-02-01..2026-02-02 in S:100kg out Q:SALT:100kg:Co=0.1
ship SP P 500kg R1->C1 2026-02-05 road 10km
ship SQ Q 100kg X1->C1 2026-02-05 road 10km
run RC1 calcination @C1 2026-03-01..2026-03-02 in P:500kg out L1:CAM:400kg:Co=0.075:Ni=0.125
run RC2 calcination @C1 2026-03-01..2026-03-02 in Q:100kg out L2:CAM:100kg:Co=0.1
ship S1 L1 300kg C1->K1 2026-03-10 sea_container 900km Cust
ship S2 L2 100kg C1->K1 2026-03-10 sea_container 900km Cust
ship S3 L1 100kg C1->K1 2027-02-01 sea_container 900km Cust
"""
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "emrt.schema.json"


def d(y: int, m: int, day: int = 1) -> datetime:
    return datetime(y, m, day, tzinfo=UTC)


def statement(body: object, at: datetime, where: str) -> LocatedEvent:
    k = kind_of(body)  # type: ignore[arg-type]
    return LocatedEvent(where, Event(content_event_id(k, canonical_payload(body)), k, at, body))  # type: ignore[arg-type]


RISKS = (
    SiteRisk("CAHRA-M1", "M1", "cahra", "listed", d(2025, 1), "EU indicative CAHRA list"),
    SiteRisk("RMAP-M2", "M2", "audit", "conformant", d(2025, 7), "RMAP assessment 2025", d(2026, 6, 30),
             scheme="RMAP"),
)


def _ledger(store: SqlStore) -> None:
    assert ingest_events(parse_chain(CHAIN), store).ok
    assert ingest_events([statement(r, r.valid_from, f"risk:{n}") for n, r in enumerate(RISKS)], store).ok


def test_shares_lists_and_answers_by_hand(store: SqlStore) -> None:
    _ledger(store)
    e = emrt_declaration(store, "Cust", "2026", now=d(2027, 6))
    co, ni = e.metals
    assert (co.metal, ni.metal) == ("Cobalt", "Nickel") and e.minerals == ("Cobalt", "Nickel")
    assert co.element_kg == pytest.approx(32.5, abs=1e-9) and ni.element_kg == pytest.approx(37.5, abs=1e-9)
    assert co.recycled_share == pytest.approx(10 / 32.5, abs=1e-12)
    assert co.cahra_share == pytest.approx(15 / 32.5, abs=1e-12) and co.at_risk_share == co.cahra_share
    assert ni.at_risk_share == 0.0  # B left M2 in January; its audit ran out on 30 June
    assert co.processed_share == pytest.approx(1.0, abs=1e-12)
    smelters = {(r.metal, r.smelter_identification): r for r in e.smelters}
    assert set(smelters) == {("Cobalt", "R1"), ("Cobalt", "X1"), ("Nickel", "R1")}  # C1 is downstream: not listed
    assert smelters["Cobalt", "R1"].share == pytest.approx(22.5 / 32.5, abs=1e-12)
    assert smelters["Cobalt", "R1"].mines == ("M1", "M2") and smelters["Cobalt", "R1"].recycled_feedstock == "No"
    assert smelters["Cobalt", "X1"].mines == ("recycled",) and smelters["Cobalt", "X1"].recycled_feedstock == "Yes"
    assert smelters["Nickel", "R1"].mines == ("M2",) and smelters["Nickel", "R1"].element_kg == pytest.approx(37.5)
    mines = {(r.metal, r.mine_identification): r for r in e.mines}
    assert {k: round(r.share, 12) for k, r in mines.items()} == {
        ("Cobalt", "M1"): round(15 / 32.5, 12), ("Cobalt", "M2"): round(7.5 / 32.5, 12), ("Nickel", "M2"): 1.0}
    assert mines["Cobalt", "M1"].smelters == ("R1",) and mines["Cobalt", "M1"].mine_country == "CD"
    assert [x.id for x in mines["Cobalt", "M1"].risks] == ["CAHRA-M1"]
    assert mines["Nickel", "M2"].audit_status == ("RMAP lapsed since 2026-06-30 (RMAP-M2)",)
    answers = {(a.question, a.metal): a.answer for a in e.answers}
    assert answers["3", "Cobalt"] == "Yes" and answers["3", "Nickel"] == "Unknown"  # M2 and R1: no CAHRA statement
    assert answers["4", "Cobalt"] == "No" and answers["6", "Nickel"] == "Yes" and answers["5", "Cobalt"] is None
    assert [(p.product_number, p.lots, p.shipments, p.mass_kg) for p in e.products] == [("CAM", 2, 2, 400.0)]
    missing = {(m.sheet, m.field) for m in e.missing}
    assert ("Declaration", "Company Name") in missing  # no ledger owner declared: not guessed
    assert ("Declaration", "Question A") in missing and ("Declaration", "Question 5 (Cobalt)") in missing
    assert e.company is None and all(a.answer is None for a in e.company_answers)


def test_period_and_customer_are_refused_when_nothing_or_nobody(store: SqlStore) -> None:
    _ledger(store)
    later = emrt_declaration(store, "Cust", "2027", now=d(2027, 6))
    assert [m.element_kg for m in later.metals] == pytest.approx([7.5, 12.5])  # 100 kg of L1 only
    with pytest.raises(NotFoundError, match="no live shipment"):
        emrt_declaration(store, "Cust", "2025", now=d(2027, 6))
    with pytest.raises(NotFoundError, match="did you mean 'Cust'"):
        emrt_declaration(store, "Cust.", "2026", now=d(2027, 6))


def test_cli_writes_json_and_workbook_matching_the_schema(tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    s = open_store(db)
    _ledger(s)
    s.close()
    runner = CliRunner()
    res = runner.invoke(app, ["export", "emrt", "--customer", "Cust", "--period", "2026", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(out)
    assert out["customer"] == "Cust" and [m["metal"] for m in out["metals"]] == ["Cobalt", "Nickel"]
    f = tmp_path / "emrt.json"
    assert runner.invoke(app, ["export", "emrt", "--customer", "Cust", "--period", "2026", "--db", db,
                               "--out", str(f)]).exit_code == 0
    assert json.loads(f.read_text(encoding="utf-8"))["smelters"] == out["smelters"]
    book = tmp_path / "emrt.xlsx"
    res = runner.invoke(app, ["export", "emrt", "--customer", "Cust", "--period", "2026", "--db", db,
                              "--out", str(book)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(book)
    assert wb.sheetnames == ["Declaration", "Smelter List", "Mine List", "Product List", "Metals", "Missing"]
    sl, ml = wb["Smelter List"], wb["Mine List"]
    assert tuple(c.value for c in sl[4]) == SMELTER_COLUMNS and tuple(c.value for c in ml[4]) == MINE_COLUMNS
    rows = [[c.value for c in r] for r in sl.iter_rows(min_row=5)]
    assert [(r[1], r[5]) for r in rows] == [(s["metal"], s["smelter_identification"]) for s in out["smelters"]]
    assert all(r[7] is None and r[10] is None for r in rows)  # street, contact: not on record, left empty
    assert len(list(wb["Missing"].iter_rows(min_row=5))) == len(out["missing"])
    bad = runner.invoke(app, ["export", "emrt", "--customer", "Cust", "--period", "2026", "--db", db,
                              "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and not (tmp_path / "x.csv").exists()
    assert runner.invoke(app, ["export", "emrt", "--customer", "Nobody", "--period", "2026", "--db", db]
                         ).exit_code == 1


def test_jsonable_declaration_has_no_nan(store: SqlStore) -> None:
    _ledger(store)
    text = json.dumps(jsonable(emrt_declaration(store, "Cust", "2026", now=d(2027, 6))), allow_nan=False)
    assert "Cobalt" in text


def test_signed_declaration_is_recomputed_by_verify_doc_and_a_forged_share_is_named(tmp_path: Path) -> None:
    """The declaration signed with the issuer's recorded key verifies and every figure matches the ledger; the
    same key signing a declaration with one changed share is caught at that share."""
    from lichain.io.envelope import sign_document
    from lichain.io.signing import load_private_key, verify_jws

    db = str(tmp_path / "e.db")
    s = open_store(db)
    _ledger(s)
    s.close()
    runner = CliRunner()
    keys = json.loads(runner.invoke(app, ["keys", "generate", "--out", str(tmp_path / "k"), "--db", db,
                                          "--organisation", "Us", "--json"]).stdout)
    out = tmp_path / "emrt.json"
    res = runner.invoke(app, ["export", "emrt", "--customer", "Cust", "--period", "2026", "--db", db, "--out",
                              str(out), "--sign", keys["private_key"]])
    assert res.exit_code == 0, res.output
    signed = tmp_path / "emrt.jws"
    header, claims = verify_jws(signed.read_text(encoding="utf-8").strip(),
                                [load_private_key(Path(keys["private_key"])).public])
    assert header["typ"] == "lichain-doc+jwt" and claims["doc_type"] == "rmi-emrt-2.1-declaration"
    assert claims["doc"] == json.loads(out.read_text(encoding="utf-8")) and claims["sub"] == "Cust"
    ok = json.loads(runner.invoke(app, ["verify-doc", str(signed), "--db", db, "--json"]).stdout)
    assert ok["ok"] and ok["recomputed"] and ok["figures_checked"] > 20 and ok["mismatches"] == []
    forged = json.loads(json.dumps(claims["doc"]))
    forged["smelters"][0]["share"] = forged["smelters"][0]["share"] / 2
    bad = tmp_path / "forged.jws"
    bad.write_text(sign_document(forged, load_private_key(Path(keys["private_key"])), claims["doc_type"],
                                 issuer=claims["iss"], subject="Cust", ledger=claims["ledger"]), encoding="utf-8")
    res = runner.invoke(app, ["verify-doc", str(bad), "--db", db, "--json"])
    check = json.loads(res.stdout)
    assert res.exit_code == 1 and not check["ok"] and check["signature_ok"]
    assert [m["path"] for m in check["mismatches"]] == ["/smelters/0/share"]

"""Due diligence of a lot on SQLite and PostgreSQL: risk shares by hand, time-aware flags, EPCIS round trip.

Two mines feed one refinery run: A (1000 kg ore, 1 % Ni) and B (same) from M1 (CD), C (2000 kg, 1 % Ni) from M2
(AU); the run makes P with 40 kg Ni. A red flag is raised at M1 on 1 February: A left M1 on 10 January (not
tainted), B was made there on 1 March (tainted), so 10 of P's 40 kg Ni passed through a site at risk: 0.25.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from lichain.core.codec import canonical_payload, content_event_id
from lichain.core.model import Event, EventKind, LocatedEvent, SiteRisk
from lichain.entrypoints.cli import app
from lichain.entrypoints.present import jsonable
from lichain.services.diligence import diligence
from lichain.services.exchange import export_epcis
from lichain.services.ingest import ingest_events
from lichain.services.record import ingest_file
from lichain.services.verify import verify_chain
from lichain.storage.sql import SqlStore, open_store
from tests.support.chain_text import parse_chain

CHAIN = """
site M1 mine CD
site M2 mine AU
site R1 refinery CN
material ORE ore
material NSO refined_salt NiSO4·6H2O
lot A ORE @M1 2026-01-01 1000kg Ni=0.01
lot B ORE @M1 2026-03-01 1000kg Ni=0.01
lot C ORE @M2 2026-01-01 2000kg Ni=0.01
ship S1 A 1000kg M1->R1 2026-01-10 road 100km
ship S2 B 1000kg M1->R1 2026-03-10 road 100km
ship S3 C 2000kg M2->R1 2026-01-10 road 100km
run RUN-1 refining @R1 2026-04-01..2026-04-02 in A:1000kg B:1000kg C:2000kg out P:NSO:200kg:Ni=0.2
"""


def d(month: int, day: int = 1) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def _statement(r: SiteRisk, at: datetime, where: str) -> LocatedEvent:
    ev = Event(content_event_id(EventKind.SITE_RISK, canonical_payload(r)), EventKind.SITE_RISK, at, r)
    return LocatedEvent(where, ev)


FLAG = SiteRisk("RF-1", "M1", "red_flag", "open", d(2), "grievance G-7 (community hearing)",
                category="serious_abuses", reference="G-7")


def _ledger(store: SqlStore) -> None:
    assert ingest_events(parse_chain(CHAIN), store).ok
    assert ingest_events([_statement(FLAG, d(2), "risk:1")], store).ok


def test_share_at_risk_counts_only_material_there_while_the_flag_was_in_force(store: SqlStore) -> None:
    _ledger(store)
    r = diligence(store, "P", now=d(6))
    (ni,) = r.elements
    assert ni.element == "Ni" and abs(ni.element_kg - 40.0) < 1e-9
    assert abs(ni.at_risk_share - 10 / 40) < 1e-12
    assert {m.name: round(m.share, 12) for m in ni.sources} == {"M1": 0.5, "M2": 0.5}
    assert {c.name: round(c.share, 12) for c in ni.countries} == {"CD": 0.5, "AU": 0.5}
    assert [(p.name, round(p.share, 12)) for p in ni.processors] == [("R1", 1.0)]
    (flag,) = r.flags
    assert (flag.site, flag.id, flag.lots, round(flag.share["Ni"], 12)) == ("M1", "RF-1", 1, 0.25)
    assert flag.category_label is not None and "forced labour" in flag.category_label
    assert r.sites_not_assessed == ("M2", "R1")  # no statement on record is not "no risk"


def test_a_lost_audit_taints_what_was_at_the_mine_after_it(store: SqlStore) -> None:
    _ledger(store)
    audit = SiteRisk("RMAP-M2", "M2", "audit", "conformant", d(1, 1) .replace(year=2025), "RMAP audit 2025",
                     scheme="RMAP")
    lost = SiteRisk("RMAP-M2", "M2", "audit", "lapsed", d(1, 5), "RMAP conformant list, 5 Jan update",
                    scheme="RMAP")
    assert ingest_events([_statement(audit, d(1), "risk:2"), _statement(lost, d(1, 5), "risk:3")], store).ok
    r = diligence(store, "P", now=d(6))
    assert abs(r.elements[0].at_risk_share - (10 + 20) / 40) < 1e-12  # B, and C (at M2 from 1 to 10 January)
    assert {f.id: round(f.share["Ni"], 12) for f in r.flags} == {"RF-1": 0.25, "RMAP-M2": 0.5}
    early = diligence(store, "A", now=d(6))  # A left M1 before the flag: nothing at risk
    assert early.elements[0].at_risk_share == 0.0 and early.flags == ()


def test_bad_statements_are_located_refusals_and_statements_round_trip_through_epcis(
    store: SqlStore, tmp_path: Path
) -> None:
    _ledger(store)
    before = store.head()
    unknown = SiteRisk("RF-9", "NOWHERE", "red_flag", "open", d(3), "x", category="money_laundering")
    vague = SiteRisk("RF-8", "M1", "red_flag", "open", d(3), "x", category="rumours")
    r = ingest_events([_statement(unknown, d(3), "risk:9"), _statement(vague, d(3), "risk:8")], store)
    assert not r.ok and store.head() == before
    assert {p.location for p in r.problems} == {"risk:9/site", "risk:8/category"}
    buf = io.StringIO()
    export_epcis(store, buf)
    doc = json.loads(buf.getvalue())
    risks = [e for e in doc["epcisBody"]["eventList"] if e["type"] == "lichain:SiteRisk"]
    assert risks and risks[0]["lichain:siteRisk"]["category"] == "serious_abuses"
    f = tmp_path / "ledger.jsonld"
    f.write_text(buf.getvalue(), encoding="utf-8")
    again = open_store(str(tmp_path / "again.db"))
    assert ingest_file(again, f).ok
    assert verify_chain(again).head == verify_chain(store).head
    assert diligence(again, "P", now=d(6)).elements == diligence(store, "P", now=d(6)).elements


def test_cli_diligence(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    s = open_store(db)
    _ledger(s)
    s.close()
    res = CliRunner().invoke(app, ["diligence", "P", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["lot"] == "P" and out["flags"][0]["id"] == "RF-1"
    res = CliRunner().invoke(app, ["diligence", "P", "--db", db])
    assert res.exit_code == 0 and "RF-1" in res.stdout and "not assessed" in res.stdout
    assert CliRunner().invoke(app, ["diligence", "NOPE", "--db", db]).exit_code == 1


def test_demo_scenario_a_mine_losing_its_audit_flags_only_later_material(tmp_path: Path) -> None:
    """The demo's Kalahari manganese mine loses its RMAP audit on day 30: the first cathode (made on day 39 from
    ore that left the mine before) carries no manganese at risk; the last cathode lots do, through that audit."""
    from lichain.services.demo import run_demo
    from lichain.services.query import list_lots

    store = open_store(str(tmp_path / "demo.db"))
    assert run_demo(store, lots=3000).ok
    cams = jsonable(list_lots(store, stage="cam", limit=None))

    def mn(lot: dict[str, object]) -> tuple[float, set[str]]:
        r = diligence(store, str(lot["id"]))
        e = next(x for x in r.elements if x.element == "Mn")
        return e.at_risk_share, {f.id for f in r.flags if f.share.get("Mn", 0) > 0}

    assert all(mn(c) == (0.0, set()) for c in cams[:5])
    late = cams[-5:]
    shares = [mn(c) for c in late]
    assert all(s > 0 for s, _ in shares) and all(ids == {"RMAP-KALAHARI"} for _, ids in shares)
    assert all(s <= 1.0 for s, _ in shares)


def test_trace_shows_the_risks_beside_each_source(store: SqlStore) -> None:
    from lichain.services.trace import trace_lot

    _ledger(store)
    risks = {c.lot: c.risks for c in trace_lot(store, "P").contributions}
    assert risks == {"A": (), "B": ("RF-1",), "C": ()}  # A left M1 before the flag; B was made there after it
    assert all(c.risks == () for c in trace_lot(store, "A", down=True).contributions)


def test_statements_round_trip_through_the_spreadsheet(store: SqlStore, tmp_path: Path) -> None:
    from lichain.io.tabular import read_workbook, write_workbook

    _ledger(store)
    later = SiteRisk("RF-1", "M1", "red_flag", "closed", d(5), "verification report V-2", category="serious_abuses")
    ev = _statement(later, d(5), "risk:4").event
    book = tmp_path / "risks.xlsx"
    write_workbook([ev], book)
    back, problems = read_workbook(book)
    assert problems == [] and [le.event.body for le in back] == [later] and back[0].event.time == d(5)
    assert ingest_file(store, book).ok  # the flag is closed from 1 May: B (made 1 March) still met it
    assert abs(diligence(store, "P", now=d(6)).elements[0].at_risk_share - 0.25) < 1e-12
    folder = tmp_path / "csv"
    write_workbook([ev], folder)
    rows = (folder / "site_risks.csv").read_text(encoding="utf-8").splitlines()
    (folder / "site_risks.csv").write_text("\n".join([rows[0], rows[1].replace("verification report V-2", "")]),
                                           encoding="utf-8")
    _, problems = read_workbook(folder)
    assert [p.location.split(str(folder))[1] for p in problems] == ["/site_risks.csv:2:source"]

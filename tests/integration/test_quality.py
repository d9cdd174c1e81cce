"""Certificates of analysis against specifications, and the rule that an out-of-specification lot is consumed only
under a recorded deviation, on SQLite and PostgreSQL (and on the in-memory store)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from lichain.core.quality_model import Certificate, Deviation, Limit, Measured, Specification
from lichain.core.validate import LocatedEvent
from lichain.services.ingest import ingest_events
from lichain.storage.memory import MemoryStore
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event, parse_chain

CHAIN = """
site P1 precursor_plant CN Demo-Precursor
site C1 cathode_plant CN Demo-Cathode
material NSO refined_salt NiSO4·6H2O
material PCAM pcam Ni0.8Co0.1Mn0.1(OH)2
material CAM cam LiNi0.8Co0.1Mn0.1O2
lot S1 NSO @P1 2026-01-01 1000kg Ni=0.2
run R1 co_precipitation @P1 2026-01-02..2026-01-03 in S1:500kg out PA:PCAM:160kg:Ni=0.625
run R2 co_precipitation @P1 2026-01-02..2026-01-03 in S1:500kg out PB:PCAM:160kg:Ni=0.625
"""


def t(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


SPEC = Specification("PCAM", "v1", t("2026-01-01"), (
    Limit("D50", "µm", D("9"), D("12")), Limit("Na", "ppm", None, D("100")),
    Limit("tap_density", "g/cm3", D("1.8"), None)), source="QS-PCAM-811 rev 1")


def coa(cid: str, lot: str, d50: str, na: str = "40", unit: str = "µm") -> Certificate:
    return Certificate(cid, lot, "v1", t("2026-01-04"), "P1 QC lab", (
        Measured("D50", D(d50), unit), Measured("Na", D(na), "ppm"), Measured("tap_density", D("2.05"), "g/cm3")))


def consume(run_id: str, lot: str) -> str:
    return (f"run {run_id} calcination @P1 2026-01-05..2026-01-06 in {lot}:100kg "
            f"out {run_id}-OUT:CAM:100kg:Ni=0.625")


def ingest(store: object, bodies: list[object], text: str = "") -> tuple[bool, list[tuple[str, str]]]:
    located = [LocatedEvent(f"doc:{i}", event(b, t("2026-01-04"))) for i, b in enumerate(bodies)]  # type: ignore[arg-type]
    located += parse_chain(text, "chain") if text else []
    before = store.head()  # type: ignore[attr-defined]
    r = ingest_events(located, store)  # type: ignore[arg-type]
    if not r.ok:
        assert store.head() == before  # type: ignore[attr-defined]
    return r.ok, [(p.location, p.message) for p in r.problems]


def _run_rule(store: object) -> None:
    assert ingest(store, [], CHAIN)[0]
    ok, problems = ingest(store, [SPEC, coa("COA-A", "PA", "10.4"), coa("COA-B", "PB", "13.1", na="140")])
    assert ok, problems
    ok, problems = ingest(store, [], consume("R3", "PA"))  # in specification: consumed freely
    assert ok, problems
    ok, problems = ingest(store, [], consume("R4", "PB"))
    assert not ok and len(problems) == 1
    loc, msg = problems[0]
    assert loc == "chain:1/inputs/0"  # line 1 of the one-line document
    assert "COA-B" in msg and "D50 = 13.1 µm > high limit 12 µm" in msg and "Na = 140 ppm > high limit 100 ppm" in msg
    # a deviation for another run, or for D50 only, does not cover R4
    ok, problems = ingest(store, [Deviation("DEV-1", "PB", "Q. Manager", "customer accepts", t("2026-01-04"),
                                            ("D50",), None),
                                  Deviation("DEV-2", "PB", "Q. Manager", "trial", t("2026-01-04"), (), "R9")])
    assert ok, problems
    assert not ingest(store, [], consume("R4", "PB"))[0]
    ok, problems = ingest(store, [Deviation("DEV-3", "PB", "Q. Manager", "blend-down agreed with customer",
                                            t("2026-01-04"), ("D50", "Na"), "R4")], consume("R4", "PB"))
    assert ok, problems  # the deviation earlier in the same document permits the run


def test_out_of_spec_needs_a_deviation(store: SqlStore) -> None:
    _run_rule(store)


def test_out_of_spec_needs_a_deviation_in_memory() -> None:
    _run_rule(MemoryStore())


def test_a_later_certificate_in_spec_releases_the_lot(sqlite_store: SqlStore) -> None:
    assert ingest(sqlite_store, [], CHAIN)[0]
    assert ingest(sqlite_store, [SPEC, coa("COA-B", "PB", "13.1")])[0]
    retest = Certificate("COA-B2", "PB", "v1", t("2026-01-04T12:00:00"), "P1 QC lab",
                         (Measured("D50", D("11.8"), "µm"),))
    assert ingest(sqlite_store, [retest])[0]
    ok, problems = ingest(sqlite_store, [], consume("R4", "PB"))
    assert ok, problems


@pytest.mark.parametrize(("body", "where", "words"), [
    (coa("C", "PA", "10", unit="um"), "doc:0/values/0/unit", "recorded in 'µm'"),
    (Certificate("C", "NOPE", "v1", t("2026-01-04"), "lab", (Measured("D50", D("1"), "µm"),)), "doc:0/lot",
     "unknown lot"),
    (Certificate("C", "PA", "v9", t("2026-01-04"), "lab", (Measured("D50", D("1"), "µm"),)), "doc:0/spec_version",
     "no specification 'v9'"),
    (Certificate("C", "PA", "v1", t("2026-01-04"), "lab", (Measured("assay_Ni", D("1.2"), "kg/kg"),)),
     "doc:0/values/0/value", "mass fraction"),
    (Certificate("C", "PA", "v1", t("2026-01-04"), "lab", (Measured("colour", D("1"), "-"),)),
     "doc:0/values/0/property", "unknown property"),
    (Specification("PCAM", "v2", t("2026-01-01"), (Limit("D50", "µm", D("12"), D("9")),)), "doc:0/limits/0/low",
     "above high"),
    (Deviation("D", "PA", "", "x", t("2026-01-04")), "doc:0/approved_by", "approved"),
])
def test_bad_quality_records_are_located_refusals(sqlite_store: SqlStore, body: object, where: str,
                                                  words: str) -> None:
    assert ingest(sqlite_store, [], CHAIN)[0]
    assert ingest(sqlite_store, [SPEC])[0]
    ok, problems = ingest(sqlite_store, [body])
    assert not ok
    assert any(loc == where and words in msg for loc, msg in problems), problems


def test_quality_view_and_cli(tmp_path: object) -> None:
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from lichain.entrypoints.cli import app
    from lichain.services.quality import lot_quality
    from lichain.storage.sql import open_store

    db = str(Path(str(tmp_path)) / "q.db")
    s = open_store(db)
    assert ingest(s, [], CHAIN)[0]
    assert ingest(s, [SPEC, coa("COA-A", "PA", "10.4"), coa("COA-B", "PB", "13.1")])[0]
    assert lot_quality(s, "PA").status == "in_spec"
    q = lot_quality(s, "PB")
    assert q.status == "out_of_spec" and q.failing == ("D50 = 13.1 µm > high limit 12 µm",)
    d50 = next(v for v in q.certificates[0].values if v.property == "D50")
    assert (d50.value, d50.low, d50.high, d50.ok) == ("13.1", "9", "12", False)
    assert ingest(s, [Deviation("DEV-3", "PB", "Q. Manager", "agreed", t("2026-01-04"), ("D50",), None)])[0]
    assert lot_quality(s, "PB").status == "released_under_deviation"
    assert lot_quality(s, "S1").status == "not_certified"
    s.close()
    res = CliRunner().invoke(app, ["quality", "PB", "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "released_under_deviation" and out["deviations"][0]["id"] == "DEV-3"
    res = CliRunner().invoke(app, ["quality", "PB", "--db", db])
    assert res.exit_code == 0 and "COA-B" in res.stdout and "NO" in res.stdout
    assert CliRunner().invoke(app, ["quality", "NOPE", "--db", db]).exit_code == 1

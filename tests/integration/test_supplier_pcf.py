"""Supplier PCFs, per-element factors and per-lot completeness, on SQLite and PostgreSQL.

Expected values are computed here from the chain's own numbers (masses, assays, the library's factor values), not
read back from the engine: a purchased lot with a supplier PCF of 5.0 kg CO2e/kg contributes exactly
5.0 × the mass its consumer took; a purchased lot with no data leaves its downstream lots incomplete, naming it;
a factor per kg of contained element applies through the lot's assay and is refused without one.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lichain.core.factors import default_library
from lichain.core.model import Activity, Consumption, Lot, Material, Reagent, Run, Site, SupplierPcf
from lichain.core.validate import LocatedEvent
from lichain.entrypoints.cli import app
from lichain.io.pcf import IncompleteFootprintError, pcf_payload, validate_pcf
from lichain.services import footprint as service
from lichain.services.exchange import export_epcis
from lichain.services.footprint import footprint_of
from lichain.services.ingest import ingest_events
from lichain.services.record import ingest_file
from lichain.storage.sql import SqlStore, open_store
from tests.support.chain_text import event

KG = 1_000_000  # mg per kg
PPB = 1_000_000_000
DOC_B1 = "PCF-CL-2026-0007"


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    service._memo.clear()


def t(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def f(key: str) -> float:
    return float(default_library()[key].value)


DAY5 = datetime(2026, 1, 5, tzinfo=UTC)


def ingest(store: SqlStore, bodies: list[object], when: datetime = DAY5) -> None:
    r = ingest_events([LocatedEvent(f"t:{i}", event(b, when)) for i, b in enumerate(bodies)], store)  # type: ignore[arg-type]
    assert r.ok, r.problems


def refused(store: SqlStore, body: object) -> list[tuple[str, str]]:
    """Problems of a refused document of one event; asserts nothing was written."""
    before = store.head()
    r = ingest_events([LocatedEvent("doc", event(body, t("2026-01-05")))], store)  # type: ignore[arg-type]
    assert not r.ok and store.head() == before
    return [(p.location, p.message) for p in r.problems]


def pcf(lot: str, value: str, unit: str = "kg CO2e/kg", doc: str = DOC_B1, **kw: object) -> SupplierPcf:
    return SupplierPcf(lot, D(value), "Salar Lithium SpA", doc, unit, kw.pop("boundary", "cradle-to-gate"),  # type: ignore[arg-type]
                       "ISO 14067:2018", kw.pop("dqr", D("2.1")), D("40"), t("2025-01-01"), t("2027-01-01"))  # type: ignore[arg-type]


def chain(store: SqlStore) -> None:
    """Three purchased lots at a refinery and three runs consuming them (no activity data of their own).

    B1: 300 kg Li2CO3 (Li 0.188) commissioned at its secondary factor; B2: 400 kg spodumene (Li 0.03) with no data
    at all; CO: 1 000 kg Co(OH)2 (Co 0.3) at the DRC factor per kg Co contained. R-1 takes 200 kg of B1 into 100 kg
    of X, R-2 100 kg of B2 into 50 kg of Y, R-3 100 kg of CO into 50 kg of Z with 5 kg of a reagent whose factor
    is per kg Co (a run's reagent has no assay: refused, located).
    """
    sec = Activity(reagents=(Reagent("LI2CO3", D(300), "material:Li2CO3:brine-CL"),))
    coh = Activity(reagents=(Reagent("COH", D(1000), "material:Co(OH)2:DRC"),))
    b1 = Lot("B1", "LI2CO3", "R1", t("2026-01-01"), 300 * KG, {"Li": 188_000_000}, activity=sec)
    b2 = Lot("B2", "SC6", "R1", t("2026-01-01"), 400 * KG, {"Li": 30_000_000})
    co = Lot("CO", "COH", "R1", t("2026-01-01"), 1000 * KG, {"Co": 300_000_000}, activity=coh)
    r1 = Run("R-1", "R1", "refining", t("2026-01-02"), t("2026-01-03"), (Consumption("B1", 200 * KG),),
             (Lot("X", "LIOH", "R1", t("2026-01-03"), 100 * KG, {"Li": 376_000_000}),))
    r2 = Run("R-2", "R1", "refining", t("2026-01-02"), t("2026-01-03"), (Consumption("B2", 100 * KG),),
             (Lot("Y", "LIOH", "R1", t("2026-01-03"), 50 * KG, {"Li": 60_000_000}),))
    r3 = Run("R-3", "R1", "refining", t("2026-01-02"), t("2026-01-03"), (Consumption("CO", 100 * KG),),
             (Lot("Z", "COS", "R1", t("2026-01-03"), 50 * KG, {"Co": 600_000_000}),),
             activity=Activity(reagents=(Reagent("COH", D(5), "material:Co(OH)2:DRC"),)))
    ingest(store, [Site("R1", "Refinery", "refinery", "CN", "Own", "CN-EAST"),
                   Material("LI2CO3", "lithium carbonate", "refined_salt", "Li2CO3"),
                   Material("SC6", "spodumene concentrate", "concentrate"),
                   Material("COH", "cobalt hydroxide", "intermediate"),
                   Material("LIOH", "lithium hydroxide", "refined_salt"),
                   Material("COS", "cobalt sulfate", "refined_salt"), b1, b2, co, r1, r2, r3])


def test_supplier_pcf_contributes_exactly_its_value_times_the_consumed_mass(store: SqlStore) -> None:
    chain(store)
    x = footprint_of(store, "X")
    secondary = f("material:Li2CO3:brine-CL")  # 300 kg at the factor, 200 of 300 kg consumed into 100 kg of X
    assert x["kg_co2e"] == pytest.approx(secondary * 300 * (200 / 300), rel=1e-12)
    assert x["complete"] and x["problems"] == [] and x["missing_inputs"] == []
    (src,) = x["source_lots"]
    assert src["lot"] == "B1" and src["source"] == "secondary factor material:Li2CO3:brine-CL"
    assert any("Istrate" in c for c in src["citations"])  # the factor's public citation, not an internal note
    assert x["contributions"][0]["citations"] == src["citations"]

    ingest(store, [pcf("B1", "5.0")])
    service._memo.clear()
    x = footprint_of(store, "X")
    assert x["kg_co2e"] == pytest.approx(5.0 * 200, rel=1e-12)  # the PCF replaces the secondary factor
    assert x["kg_co2e_per_kg"] == pytest.approx(5.0 * 200 / 100, rel=1e-12)
    assert x["by_cause"]["supplier_pcf"] == pytest.approx(10.0, rel=1e-12)
    assert x["by_stage"]["raw_material_acquisition_and_pre_processing"] == pytest.approx(10.0, rel=1e-12)
    (src,) = x["source_lots"]
    assert src["source"] == f"supplier PCF {DOC_B1}" and src["own_kg_co2e_per_kg"] == pytest.approx(5.0)
    assert src["supplier_pcf"]["supplier"] == "Salar Lithium SpA" and src["supplier_pcf"]["standard"] == "ISO 14067:2018"
    contrib = {c["source"]: c["kg_co2e_per_kg"] for c in x["contributions"]}
    assert contrib[f"supplier PCF {DOC_B1}"] == pytest.approx(10.0, rel=1e-12)
    assert sum(contrib.values()) == pytest.approx(x["kg_co2e_per_kg"], rel=1e-12)
    assert footprint_of(store, "B1")["kg_co2e"] == pytest.approx(5.0 * 300, rel=1e-12)

    ingest(store, [pcf("B1", "6.0", doc="PCF-CL-2026-0008")], t("2026-02-01"))  # a corrected declaration wins
    service._memo.clear()
    assert footprint_of(store, "X")["kg_co2e"] == pytest.approx(6.0 * 200, rel=1e-12)


def test_a_purchased_lot_without_data_leaves_its_downstream_incomplete_and_named(store: SqlStore) -> None:
    chain(store)
    y = footprint_of(store, "Y")
    assert not y["complete"]
    assert [g["record"] for g in y["missing_inputs"]] == ["lot B2"]
    assert "neither activity data nor a supplier PCF" in y["missing_inputs"][0]["missing"]
    assert [(p["kind"], p["location"]) for p in y["problems"]] == [("missing", "lot B2")]
    # per lot: X's upstream does not contain B2 or R-3, so none of their problems are X's
    x = footprint_of(store, "X")
    assert x["complete"] and x["problems"] == []
    with pytest.raises(IncompleteFootprintError, match="lot B2"):
        pcf_payload(y)
    marked = pcf_payload(y, allow_incomplete=True)
    assert validate_pcf(marked) == []
    assert marked["dataQualityRating"] == 5.0 and "primaryDataShare" not in marked
    assert marked["productQualityParameter"][0].startswith("INCOMPLETE")
    assert any("lot B2" in q for q in marked["productQualityParameter"])

    # a PCF per kg of contained Li: 100 kg CO2e/kg Li x 0.03 kg Li/kg = 3.0 per kg of B2
    ingest(store, [pcf("B2", "100", "kg CO2e/kg Li", doc="PCF-AU-77")])
    service._memo.clear()
    y = footprint_of(store, "Y")
    assert y["complete"] and y["missing_inputs"] == []
    assert y["kg_co2e_per_kg"] == pytest.approx(100 * 0.03 * 100 / 50, rel=1e-12)


def test_per_element_factor_uses_the_assay_and_is_refused_without_one(store: SqlStore) -> None:
    chain(store)
    co = footprint_of(store, "CO")
    assert co["kg_co2e"] == pytest.approx(1000 * 0.3 * f("material:Co(OH)2:DRC"), rel=1e-12)
    assert co["kg_co2e_per_kg"] == pytest.approx(0.3 * 23.7, rel=1e-12)
    assert co["complete"]
    z = footprint_of(store, "Z")  # R-3's reagent carries a per-kg-Co factor but no assay: counted zero, named
    assert not z["complete"]
    assert [g["record"] for g in z["missing_inputs"]] == ["run R-3"]
    assert "per kg of Co contained" in z["missing_inputs"][0]["missing"]
    assert z["kg_co2e"] == pytest.approx(100 * 0.3 * 23.7, rel=1e-12)  # only the input's burden
    # a purchased lot whose factor is per kg Co but whose assay has no Co
    bare = Lot("CO2", "COH", "R1", t("2026-01-04"), 10 * KG, {"Ni": 10_000_000},
               activity=Activity(reagents=(Reagent("COH", D(10), "material:Co(OH)2:DRC"),)))
    ingest(store, [bare])
    service._memo.clear()
    c2 = footprint_of(store, "CO2")
    assert not c2["complete"] and c2["kg_co2e"] == 0.0
    assert [(p["location"], "has no Co assay" in p["message"]) for p in c2["problems"]] == [("lot CO2", True)]


def test_bad_supplier_pcfs_are_located_refusals_and_nothing_is_written(store: SqlStore) -> None:
    chain(store)
    assert refused(store, pcf("B2", "3", "kg CO2e/kg Co")) == [
        ("doc/unit", "supplier PCF of lot B2: the PCF is per kg of Co contained (kg CO2e/kg Co) but the lot has no Co "
                     "assay: record the assay, or give the PCF per kg of the lot")]
    assert [loc for loc, _ in refused(store, pcf("B2", "3", "kg CO2e/t"))] == ["doc/unit"]
    assert refused(store, pcf("X", "3")) == [
        ("doc/lot", "supplier PCF of lot X: lot X is made by run R-1 in this ledger; a supplier PCF is for a "
                    "purchased (source) lot")]
    assert [loc for loc, _ in refused(store, pcf("B2", "3", boundary="cradle-to-grave"))] == ["doc/boundary"]
    assert [loc for loc, _ in refused(store, pcf("B2", "3", dqr=D("7")))] == ["doc/data_quality_rating"]
    assert [loc for loc, _ in refused(store, pcf("B2", "-1"))] == ["doc/value"]
    assert [loc for loc, _ in refused(store, pcf("NOPE", "1"))] == ["doc/lot"]
    late = SupplierPcf("B2", D(1), "S", "D", valid_from=t("2026-06-01"))
    assert [loc for loc, _ in refused(store, late)] == ["doc/valid_from"]


def test_export_pcf_refuses_an_incomplete_lot(store: SqlStore) -> None:
    chain(store)
    r = CliRunner()
    res = r.invoke(app, ["export", "pcf", "Y", "--db", store.url])
    assert res.exit_code == 1 and "lot B2" in res.output and "absPcfValue" not in res.output
    res = r.invoke(app, ["export", "pcf", "Y", "--db", store.url, "--allow-incomplete"])
    assert res.exit_code == 0
    payload = json.loads(res.stdout)
    assert payload["dataQualityRating"] == 5.0 and payload["productQualityParameter"][0].startswith("INCOMPLETE")
    res = r.invoke(app, ["export", "pcf", "X", "--db", store.url])
    assert res.exit_code == 0 and json.loads(res.stdout)["pcfValues"]["sharesPerStage"]["absPcfValue"][
        "stageValue"] == pytest.approx(f("material:Li2CO3:brine-CL") * 2)


def test_supplier_pcf_round_trips_through_epcis(store: SqlStore, tmp_path: Path) -> None:
    src = open_store(str(tmp_path / "src.db"))
    chain(src)
    ingest(src, [pcf("B1", "5.0")])
    buf = io.StringIO()
    export_epcis(src, buf)
    assert '"lichain:SupplierPcf"' in buf.getvalue()
    doc = tmp_path / "ledger.jsonld"
    doc.write_text(buf.getvalue(), encoding="utf-8")
    r = ingest_file(store, doc)
    assert r.ok, r.problems
    assert [(e.event_id, e.payload) for e in store.iter_events()] == [(e.event_id, e.payload) for e in src.iter_events()]
    assert store.head() == src.head()
    service._memo.clear()
    assert footprint_of(store, "X")["kg_co2e"] == pytest.approx(1000.0, rel=1e-12)
    src.close()


def test_allocation_problems_belong_to_the_lots_of_that_run_only(store: SqlStore) -> None:
    chain(store)
    outs = tuple(Lot(w, "LIOH", "R1", t("2026-01-03"), 20 * KG, {"Li": 235_000_000}) for w in ("W1", "W2"))
    r4 = Run("R-4", "R1", "refining", t("2026-01-02"), t("2026-01-03"), (Consumption("B1", 50 * KG),), outs,
             allocation="economic", output_values={"W1": D(5)})  # W2 has no value: mass allocation, reported
    ingest(store, [r4])
    service._memo.clear()
    w1 = footprint_of(store, "W1")
    assert [(p["kind"], p["location"], p["count"]) for p in w1["problems"]] == [("allocation", "run R-4", 1)]
    assert w1["kg_co2e"] == pytest.approx(f("material:Li2CO3:brine-CL") * 50 / 2, rel=1e-12)  # by mass, 1/2 each
    assert footprint_of(store, "X")["problems"] == []  # same ledger, another run: not X's problem


def test_a_supplier_pcf_replaces_commissioning_data_and_its_problems(store: SqlStore) -> None:
    chain(store)
    odd = Lot("B3", "SC6", "R1", t("2026-01-01"), 10 * KG, {"Li": 30_000_000},
              activity=Activity(reagents=(Reagent("Unobtainium", D(10)),)))  # no factor: incomplete
    ingest(store, [odd])
    service._memo.clear()
    b3 = footprint_of(store, "B3")
    assert not b3["complete"] and [g["record"] for g in b3["missing_inputs"]] == ["lot B3"]
    ingest(store, [pcf("B3", "2.5", doc="PCF-AU-78")])
    service._memo.clear()
    b3 = footprint_of(store, "B3")
    assert b3["complete"] and b3["problems"] == [] and b3["missing_inputs"] == []
    assert b3["kg_co2e"] == pytest.approx(2.5 * 10, rel=1e-12)

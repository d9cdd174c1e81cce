"""Footprint from the ledger (SQLite and PostgreSQL): a chain by hand, the demo's NCM811 CAM against the reference
range, one step of the recursion re-checked with ``show``, the Catena-X payload against its schema, and a factor
override that changes only the lots downstream of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from lichain.analysis.footprint import COLUMNS
from lichain.analysis.trace import trace_down
from lichain.core.errors import NotFoundError
from lichain.core.factors import default_library
from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    FactorOverride,
    Fuel,
    Lot,
    Material,
    Reagent,
    Run,
    Shipment,
    Site,
)
from lichain.core.validate import LocatedEvent
from lichain.demo import generate
from lichain.entrypoints.present import jsonable
from lichain.io.pcf import SCHEMA_FILE, example_payload, pcf_payload, validate_pcf
from lichain.services import footprint as service
from lichain.services.footprint import footprint_of, ledger_footprint
from lichain.services.ingest import ingest_events
from lichain.services.query import show_lot
from lichain.services.record import ingest_batches
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event

KG = 1_000_000  # mg per kg
PPB = 1_000_000_000


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    service._memo.clear()


def t(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def f(key: str) -> float:
    return float(default_library()[key].value)


def ingest(store: SqlStore, bodies: list[object], when: datetime) -> None:
    r = ingest_events([LocatedEvent(f"t:{i}", event(b, when)) for i, b in enumerate(bodies)], store)  # type: ignore[arg-type]
    assert r.ok, r.problems


def hand_chain(store: SqlStore) -> None:
    """Ore mined with diesel; leached into MHP and a residue with economic allocation (900 : 100); MHP shipped."""
    mine = Activity(fuels=(Fuel("diesel", D(1000)),))
    leach = Activity(electricity=(Electricity(D(1000)),), reagents=(Reagent("Unobtainium", D(5)),),
                     process_kg_co2e=D(100))
    l1 = Lot("L1", "ORE", "M1", t("2026-01-01"), 1000 * KG, {"Ni": 12_000_000}, activity=mine)
    run = Run("R-1", "R1", "leaching", t("2026-01-02"), t("2026-01-03"), (Consumption("L1", 500 * KG),),
              (Lot("L2", "MHP", "R1", t("2026-01-03"), 10 * KG, {"Ni": PPB // 2}),
               Lot("L3", "RES", "R1", t("2026-01-03"), 400 * KG, {"Ni": PPB // 400})),
              activity=leach, allocation="economic", output_values={"L2": D(900), "L3": D(100)})
    ship = Shipment("S1", "L2", 10 * KG, "R1", "M1", t("2026-01-04"), "sea_container", D(1000))
    to_plant = Shipment("S0", "L1", 500 * KG, "M1", "R1", t("2026-01-01"), "road", D(0))  # custody move, 0 t·km
    ingest(store, [Site("M1", "Mine", "mine", "ID", "Org"), Site("R1", "Plant", "refinery", "CN", "Org", "CN-EAST"),
                   Material("ORE", "ore", "ore"), Material("MHP", "mhp", "intermediate"),
                   Material("RES", "residue", "intermediate"), l1, to_plant, run, ship], t("2026-01-05"))


def test_hand_chain_economic_allocation_and_missing_factor(store: SqlStore) -> None:
    hand_chain(store)
    d = footprint_of(store, "L2")
    x1 = 1000 * f("fuel:diesel") / 1000  # mining diesel per kg of ore
    run_kg = 1000 * f("grid:CN-EAST") + 100  # Unobtainium has no factor: zero, and reported
    transport = 10 / 1000 * 1000 * f("transport:sea_container")
    # L2 carries 900 / (900 + 100) of the run; its shipment is a delivery, reported per kg shipped, not part of
    # L2's cradle-to-gate footprint (docs/footprint.md "Transport follows custody")
    own = 0.9 * run_kg
    assert d["own_kg_co2e"] == pytest.approx(own, rel=1e-9)
    assert d["kg_co2e"] == pytest.approx(own + 0.9 * 500 * x1, rel=1e-9)
    assert d["kg_co2e_per_kg"] == pytest.approx((own + 0.9 * 500 * x1) / 10, rel=1e-9)
    assert d["run"]["allocation"] == "economic" and d["run"]["allocation_factor"] == pytest.approx(0.9)
    assert d["inputs"] == [pytest.approx({"lot": "L1", "consumed_kg": 500.0, "allocated_kg": 450.0,
                                          "kg_co2e_per_kg": x1})]
    assert d["by_site"] == pytest.approx({"R1": (own / 10), "M1": 0.9 * 500 * x1 / 10}, rel=1e-9)
    assert d["by_stage"]["distribution"] == 0 and d["by_cause"]["transport"] == 0
    assert d["deliveries"] == [pytest.approx({
        "shipment": "S1", "to_site": "M1", "to_organisation": None, "mass_kg": 10.0, "transport_kg_co2e": transport,
        "earlier_legs_kg_co2e_per_kg": 0.0, "delivered_kg_co2e_per_kg": (own + 0.9 * 500 * x1 + transport) / 10})]
    assert d["by_stage"]["raw_material_acquisition_and_pre_processing"] == pytest.approx(
        (0.9 * run_kg + 0.9 * 500 * x1) / 10, rel=1e-9)
    assert sum(d["by_cause"].values()) == pytest.approx(d["kg_co2e_per_kg"], rel=1e-12)
    assert d["by_cause"]["process"] == pytest.approx(0.9 * 100 / 10, rel=1e-9)
    assert not d["complete"]
    assert any(p["kind"] == "missing" and "Unobtainium" in p["message"] for p in d["problems"])
    assert d["per_kwh"] is None  # not a CAM: no per-kWh figure
    assert footprint_of(store, "L3")["kg_co2e"] == pytest.approx(0.1 * (run_kg + 500 * x1), rel=1e-9)
    with pytest.raises(NotFoundError):
        footprint_of(store, "nope")


def test_empty_ledger(store: SqlStore) -> None:
    lf = ledger_footprint(store)
    assert lf.x.shape == lf.own.shape == (0, len(COLUMNS)) and lf.problems == ()
    with pytest.raises(NotFoundError):
        footprint_of(store, "L1")


def demo(store: SqlStore) -> None:
    chain = generate(lots=3000, seed=0)
    r = ingest_batches(store, [chain.master_events, *chain.batches()])
    assert r.ok, r.problems[:3]


def test_demo_ncm811_cam_footprint_recheck_and_pcf(store: SqlStore) -> None:
    """The demo's NCM811 CAM lies in the range the reference derives bottom-up.

    docs/reference/regulation-and-factors.md §4.2–4.3: per kg CAM, 0.949 kg pCAM (itself 2.277 kg NiSO4·6H2O,
    0.304 kg CoSO4·7H2O, 0.183 kg MnSO4·H2O, 0.866 kg NaOH, ~0.05 kg NH3, 3 kWh) + 0.449 kg LiOH·H2O + 4 kWh +
    ~0.5 kg O2 gives 28.9 kg CO2e kg⁻¹ with the default factors (East China grid 0.5617), 12.0 with the
    low-carbon inputs (Ni 2.7, Co 7.0, Mn 1.7, NaOH 0.6, NH3 2.4, grid 0.2) and 36.1 with the high ones. The demo
    computes the same chain bottom-up from its run activity data (HPAL on captive coal, refining, LiOH from
    spodumene with coal heat, co-precipitation, calcination) instead of per-kg material factors; with seed 0 and
    3000 lots it gives about 23.6 (purchased Co(OH)2, Mn ore and Li2CO3 enter without a supplier footprint).
    """
    demo(store)
    lf = ledger_footprint(store)
    snap = lf.snapshot
    cam = np.flatnonzero(snap.lot_material == snap.material_codes.index("CAM-NCM811"))
    assert cam.size > 10
    mean = float(np.average(lf.x[cam, 0], weights=snap.lot_mass_kg[cam]))
    print(f"demo NCM811 CAM: {mean:.2f} kg CO2e/kg (mass-weighted mean of {cam.size} lots)")
    assert 12.0 <= mean <= 36.0

    lot = snap.lot_id(int(cam[-1]))
    d = footprint_of(store, lot)
    for key in ("lot", "kg_co2e_per_kg", "kg_co2e", "own_kg_co2e", "location_based", "market_based", "by_stage",
                "by_site", "by_cause"):
        assert key in d
    for key in ("by_stage", "by_site", "by_cause"):
        assert sum(d[key].values()) == pytest.approx(d["kg_co2e_per_kg"], rel=1e-9)
    assert d["kg_co2e_per_kg"] == pytest.approx(lf.x[cam[-1], 0])
    assert d["market_based"]["kg_co2e_per_kg"] <= d["kg_co2e_per_kg"] + 1e-12  # PPA/GO electricity only lowers it
    assert d["per_kwh"]["kg_co2e_per_kwh"] == pytest.approx(d["kg_co2e_per_kg"] / 0.74)

    # one step of the recursion, from `show`: kg CO2e = own + allocation × Σ consumed kg × input footprint
    shown = jsonable(show_lot(store, lot))
    a = d["run"]["allocation_factor"]
    upstream = sum(i["mass_kg"] * footprint_of(store, i["lot"])["kg_co2e_per_kg"] for i in shown["inputs"])
    assert d["kg_co2e"] == pytest.approx(d["own_kg_co2e"] + a * upstream, rel=1e-9)
    assert d["run"]["id"] == shown["run"]["id"]

    payload = pcf_payload(d)
    assert validate_pcf(payload) == []
    schema = Path(__file__).parents[2] / "src/lichain/data/schemas/catenax" / SCHEMA_FILE.split("catenax/", 1)[1]
    jsonschema.Draft4Validator(json.loads(schema.read_text(encoding="utf-8"))).validate(payload)
    assert validate_pcf(example_payload()) == []
    stages = payload["pcfValues"]["sharesPerStage"]
    assert stages["absPcfValue"]["stageValue"] == pytest.approx(sum(
        v["stageValue"] for k, v in stages.items() if k.startswith("stage")), rel=1e-9)
    bad = {**payload, "siteIdentifier": "site 7"}
    del bad["pcfValues"]
    assert len(validate_pcf(bad)) == 2


def test_override_changes_only_the_lots_downstream(store: SqlStore) -> None:
    demo(store)
    before = ledger_footprint(store)
    snap = before.snapshot
    site = "CN-QUZHOU-PRECURSOR"
    s = snap.site_ids.index(site)
    runs = np.flatnonzero(snap.run_site == s)
    cut = int(np.median(snap.run_time[runs]))
    when = datetime.fromtimestamp(cut, UTC)
    ingest(store, [FactorOverride("grid:CN-EAST", D("0.3"), "kg CO2/kWh", "supplier mix, test", site, when)], when)

    after = ledger_footprint(store)
    assert after.head != before.head and after.snapshot.n_lots == snap.n_lots
    changed = np.flatnonzero((after.x != before.x).any(axis=1))
    later = runs[snap.run_time[runs] >= cut]
    roots = np.flatnonzero(np.isin(snap.lot_run, later))
    downstream = np.unique(np.concatenate([trace_down(snap, int(r)).lots for r in roots]))
    assert changed.size > 0 and set(roots) <= set(changed)
    assert set(changed) <= set(downstream)
    assert (after.x[roots, 0] < before.x[roots, 0]).all()  # 0.3 < 0.5617 kg CO2/kWh
    untouched = np.setdiff1d(np.arange(snap.n_lots), downstream)
    assert np.array_equal(after.x[untouched], before.x[untouched])


def test_cli_footprint_and_export_pcf(sqlite_store: SqlStore, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from lichain.entrypoints.cli_footprint import register

    hand_chain(sqlite_store)
    app, export = typer.Typer(), typer.Typer()
    app.add_typer(export, name="export")
    register(app, export)
    run = CliRunner().invoke
    db = ["--db", sqlite_store.url]
    r = run(app, ["footprint", "L2", "--json", *db])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["kg_co2e_per_kg"] == pytest.approx(footprint_of(sqlite_store, "L2")["kg_co2e_per_kg"])
    r = run(app, ["footprint", "L2", *db])
    assert r.exit_code == 0 and "by life-cycle stage" in r.stdout
    assert run(app, ["footprint", "nope", *db]).exit_code == 1  # a lot not on record: refused, with hints
    assert run(app, ["footprint", "L2", "--voltage", "3.7", *db]).exit_code == 2  # no default capacity for MHP
    out = tmp_path / "l2.pcf.json"
    ids = ["--out", str(out), "--bpnl", "BPNL00000001ABCD", "--bpns", "BPNS00000001ABCD", *db]
    r = run(app, ["export", "pcf", "L2", *ids])  # L2's run has a reagent without a factor: refused, named
    assert r.exit_code == 1 and "run R-1" in r.output and "Unobtainium" in r.output and not out.exists()
    r = run(app, ["export", "pcf", "L2", "--allow-incomplete", *ids])
    assert r.exit_code == 0, r.output
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert validate_pcf(payload) == [] and payload["legalidentifier"] == "BPNL00000001ABCD"

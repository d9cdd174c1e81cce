"""Scenarios against the ledger: a scenario that changes nothing gives the ledger's figures exactly, and a
scenario's figures equal those of a ledger in which its changes were actually recorded (property test).

The chain is small and random (Hypothesis): ore mined at M1 → nickel sulfate refined at R1 (China) and R2
(Finland) → precursor at P1 (China) from sulfate and some recovered sulfate from the recycler REC → cathode at C1
(Korea) with lithium hydroxide. The scenario is random too: a site's electricity (grid or PPA) at a random
factor, R1's sulfate swapped for R2's, a share k/8 of P1's sulfate taken from the recycler. "Recorded" means the
same chain with the changed facts written by hand here (a factor override; the runs consuming R2's or the
recycler's lot instead), ingested into a fresh ledger and computed by the ledger's own footprint and recycled
share functions. Consumptions are whole kg (10⁶ mg, divisible by 8) so the k/8 splits are exact in mg.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lichain.analysis.scenario import recycled_of
from lichain.analysis.shares import ORIGINS, origin_shares
from lichain.core.errors import ValidationFailed
from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    FactorOverride,
    Fuel,
    Lot,
    Material,
    Run,
    Shipment,
    Site,
)
from lichain.core.scenario import parse_scenario
from lichain.core.validate import LocatedEvent
from lichain.services import footprint as fp_service
from lichain.services.footprint import ledger_footprint
from lichain.services.ingest import ingest_events
from lichain.services.scenario import evaluate_scenario, outcome_of
from lichain.services.snapshot import load_snapshot
from lichain.storage.sql import SqlStore, open_store
from tests.support.chain_text import event

KG = 1_000_000  # mg per kg
PPB = 1_000_000_000
NI_SALT = D("0.2233")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
WHEN = datetime(2026, 6, 1, tzinfo=UTC)

SITES = (Site("M1", "Mine", "mine", "ID", "Org"), Site("R1", "Refinery CN", "refinery", "CN", "Org"),
         Site("R2", "Refinery FI", "refinery", "FI", "Org"), Site("REC", "Recycler", "recycler", "DE", "Org"),
         Site("L1", "Lithium", "refinery", "CL", "Org"), Site("P1", "Precursor", "precursor_plant", "CN", "Org"),
         Site("C1", "Cathode", "cathode_plant", "KR", "Org"))
MATERIALS = (Material("ORE", "Ore", "ore"), Material("NISO4", "NiSO4", "refined_salt", "NiSO4·6H2O"),
             Material("NISO4-REC", "Recovered NiSO4", "recovered_salt", "NiSO4·6H2O"),
             Material("LIOH", "LiOH", "refined_salt", "LiOH·H2O"), Material("PCAM", "pCAM", "pcam"),
             Material("CAM", "CAM", "cam"))


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def ppb(x: D) -> int:
    return int(x * PPB)


@dataclass
class Spec:
    """A random chain: ore kg per refining run (R1, R2), electricity kWh, precursor and cathode runs."""

    r1: list[tuple[int, int]]  # (ore kg, kWh) per R1 run
    r2: list[tuple[int, int]]
    rec: list[int]  # early recovered-salt lots [kg]
    pcam: list[tuple[list[tuple[int, int]], int, int]]  # ([(salt lot number, kg)], recovered kg, kWh)
    cam: list[tuple[int, int, int]]  # (pCAM lot number, g LiOH per kg pCAM, kWh)
    salt_kg: list[int] = field(default_factory=list)


@dataclass
class Change:
    """A random scenario: electricity (site, value, basis) or None, swap R1 → R2, recycled share k/8 or None."""

    electricity: tuple[str, str, str] | None
    swap: bool
    blend: int | None

    def toml(self) -> str:
        out = ['name = "random"']
        if self.electricity:
            site, value, basis = self.electricity
            out += ["[[change]]", 'kind = "electricity"', f'site = "{site}"', f'kg_co2e_per_kwh = "{value}"',
                    f'basis = "{basis}"']
        if self.swap:
            out += ["[[change]]", 'kind = "supplier"', 'from_site = "R1"', 'to_site = "R2"', 'material = "NISO4"',
                    'at_site = "P1"']
        if self.blend is not None:
            out += ["[[change]]", 'kind = "recycled_input"', 'site = "P1"', 'material = "NISO4"',
                    f'share = "{D(self.blend) / 8}"', 'from_site = "REC"', 'from_material = "NISO4-REC"']
        return "\n".join(out) + "\n"


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    ore = st.tuples(st.integers(2_000, 20_000), st.integers(0, 5_000))
    r1 = draw(st.lists(ore, min_size=1, max_size=3))
    r2 = draw(st.lists(ore, min_size=0, max_size=2))
    rec = draw(st.lists(st.integers(50, 500), min_size=0, max_size=2))
    salt_kg = [int(kg * 0.02 / 0.2233) for kg, _ in r1 + r2]
    left = list(salt_kg)
    pcam = []
    for _ in range(draw(st.integers(1, 4))):
        lots = draw(st.lists(st.integers(0, len(left) - 1), min_size=1, max_size=2, unique=True))
        takes = []
        for s in lots:
            kg = draw(st.integers(1, max(1, left[s] // 2))) if left[s] >= 2 else 0
            if kg:
                left[s] -= kg
                takes.append((s, kg))
        if not takes:
            continue
        rec_kg = draw(st.integers(0, 20)) if rec else 0
        pcam.append((takes, rec_kg, draw(st.integers(0, 3_000))))
    cam = []
    if pcam:
        for _ in range(draw(st.integers(0, 3))):
            cam.append((draw(st.integers(0, len(pcam) - 1)), draw(st.integers(50, 500)), draw(st.integers(0, 2_000))))
    return Spec(r1, r2, rec, pcam, cam, salt_kg)


changes = st.builds(
    Change,
    st.none() | st.tuples(st.sampled_from(["R1", "P1", "C1"]), st.sampled_from(["0.05", "0.3", "0.9"]),
                          st.sampled_from(["grid", "ppa"])),
    st.booleans(),
    st.none() | st.integers(1, 8),
)


def _elec(kwh: int) -> Activity:
    return Activity(electricity=(Electricity(D(kwh)),)) if kwh else Activity(fuels=(Fuel("diesel", D(10)),))


def bodies(spec: Spec, change: Change | None = None) -> list[object]:
    """The chain's events; with ``change``, the scenario's changes recorded as facts (written out by hand)."""
    out: list[object] = [*SITES, *MATERIALS]
    refiners = [("R1", kg, kwh) for kg, kwh in spec.r1] + [("R2", kg, kwh) for kg, kwh in spec.r2]
    ships: list[tuple[str, int, str, str, datetime]] = []  # custody moves at 0 km: no transport burden
    for i, (site, kg, _) in enumerate(refiners):
        out.append(Lot(f"ORE{i}", "ORE", "M1", day(1), kg * KG, {"Ni": ppb(D("0.02"))},
                       activity=Activity(fuels=(Fuel("diesel", D(kg)),))))
        ships.append((f"ORE{i}", kg * KG, "M1", site, day(1)))
    out.append(Lot("LI0", "LIOH", "L1", day(1), 10_000 * KG, {"Li": ppb(D("0.165"))},
                   activity=_elec(5_000)))
    for i, kg in enumerate(spec.rec):
        out.append(Lot(f"REC{i}", "NISO4-REC", "REC", day(1), kg * KG, {"Ni": ppb(NI_SALT)}, "post_consumer",
                       activity=_elec(100)))
        ships.append((f"REC{i}", kg * KG, "REC", "P1", day(5)))
    ships.append(("LI0", 10_000 * KG, "L1", "C1", day(5)))
    for i, (site, kg, kwh) in enumerate(refiners):
        ni = kg * KG * 2 // 100  # mg Ni in
        salt = int(ni * PPB // ppb(NI_SALT))
        out.append(Run(f"REF{i}", site, "refining", day(2), day(3), (Consumption(f"ORE{i}", kg * KG),),
                       (Lot(f"SALT{i}", "NISO4", site, day(3), salt, {"Ni": ppb(NI_SALT)}),),
                       activity=_elec(kwh)))
        ships.append((f"SALT{i}", salt, site, "P1", day(5)))
    # reserves: R2's and the recycler's lots made last before the precursor runs (the scenario's sources)
    out.append(Lot("SALT-R2", "NISO4", "R2", day(4), 1_000_000 * KG, {"Ni": ppb(NI_SALT)}, activity=_elec(900)))
    out.append(Lot("REC-R", "NISO4-REC", "REC", day(4), 1_000_000 * KG, {"Ni": ppb(NI_SALT)}, "post_consumer",
                   activity=_elec(300)))
    ships += [("SALT-R2", 1_000_000 * KG, "R2", "P1", day(5)), ("REC-R", 1_000_000 * KG, "REC", "P1", day(5))]
    pcam_ni: list[int] = []
    site_of = {f"SALT{i}": s for i, (s, _, _) in enumerate(refiners)}
    for j, (takes, rec_kg, kwh) in enumerate(spec.pcam):
        cons: dict[str, int] = {}
        for s, kg in takes:
            lot = f"SALT{s}"
            if change is not None and change.swap and site_of[lot] == "R1":
                lot = "SALT-R2"
            cons[lot] = cons.get(lot, 0) + kg * KG
        if change is not None and change.blend is not None:
            salt = sum(cons.values())
            cons = {k: v * (8 - change.blend) // 8 for k, v in cons.items()}
            cons["REC-R"] = salt * change.blend // 8
        if rec_kg:
            cons[f"REC{len(spec.rec) - 1}"] = rec_kg * KG
        ni = sum(v for v in cons.values()) * ppb(NI_SALT) // PPB
        pcam_ni.append(ni)
        inputs = tuple(Consumption(k, v) for k, v in cons.items() if v > 0)
        out.append(Run(f"P{j}", "P1", "co_precipitation", day(10 + j), day(11 + j), inputs,
                       (Lot(f"PCAM{j}", "PCAM", "P1", day(11 + j), ni * 10 // 6, {"Ni": ppb(D("0.6"))}),),
                       activity=_elec(kwh)))
        ships.append((f"PCAM{j}", ni * 10 // 6, "P1", "C1", day(25)))
    pcam_mg = {f"PCAM{j}": ni_mg * 10 // 6 for j, ni_mg in enumerate(pcam_ni)}
    for j, (p, li_g, kwh) in enumerate(spec.cam):
        pcam_kg = pcam_mg[f"PCAM{p}"] // 8  # an eighth of the pCAM lot per cathode run (at most 3 runs)
        lioh = pcam_kg * li_g // 1000  # 0.05 to 0.5 kg LiOH per kg pCAM
        ni, li = pcam_kg * 6 // 10, lioh * 165 // 1000
        mass = ni * 2
        out.append(Run(f"C{j}", "C1", "calcination", day(30 + j), day(31 + j),
                       (Consumption(f"PCAM{p}", pcam_kg), Consumption("LI0", lioh)),
                       (Lot(f"CAM{j}", "CAM", "C1", day(31 + j), mass,
                            {"Ni": ppb(D("0.5")), "Li": li * PPB // mass}),), activity=_elec(kwh)))
    for k, (lot, mg, a, b, when) in enumerate(ships):
        i = next(n for n, x in enumerate(out) if isinstance(x, Lot | Run) and lot in _made(x))
        out.insert(i + 1, Shipment(f"S{k}", lot, mg, a, b, when + timedelta(hours=1), "road", D(0)))
    if change is not None and change.electricity is not None:
        site, value, basis = change.electricity
        country = {s.id: s.country for s in SITES}[site]
        key = f"grid:{country}" if basis == "grid" else f"residual:{country}"
        out.append(FactorOverride(key, D(value), "kg CO2e/kWh", "recorded scenario", site))
    return out


def _made(x: Lot | Run) -> set[str]:
    return {x.id} if isinstance(x, Lot) else {o.id for o in x.outputs}


def ledger(path: Path, items: list[object]) -> SqlStore:
    store = open_store(str(path))
    r = ingest_events([LocatedEvent(f"t:{i}", event(b, WHEN)) for i, b in enumerate(items)], store)  # type: ignore[arg-type]
    assert r.ok, r.problems[:3]
    return store


def by_id(store: SqlStore) -> dict[str, int]:
    snap = load_snapshot(store).snapshot
    return {snap.lot_id(i): i for i in range(snap.n_lots)}


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal to 1e-12 relative (NaN where both are undefined)."""
    both = np.isnan(a) & np.isnan(b)
    return bool(np.all(both | (np.abs(a - b) <= 1e-12 * np.maximum(np.abs(a), np.abs(b)))))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(), changes)
def test_scenario_equals_the_ledger_where_it_was_recorded(spec: Spec, change: Change) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("LICHAIN_CACHE")
        os.environ["LICHAIN_CACHE"] = str(Path(tmp) / "cache")
        fp_service._memo.clear()
        try:
            base = ledger(Path(tmp) / "base.db", bodies(spec))
            recorded = ledger(Path(tmp) / "recorded.db", bodies(spec, change))
            scenario, problems = parse_scenario(change.toml(), "random.toml")
            assert scenario is not None, problems
            head = base.head()
            _, out, _, _ = outcome_of(base, scenario)
            assert base.head() == head  # nothing written
            lf = ledger_footprint(recorded)
            ids_a, ids_b = by_id(base), by_id(recorded)
            assert ids_a.keys() == ids_b.keys()
            order = np.array([ids_b[k] for k in sorted(ids_a, key=ids_a.__getitem__)])
            assert close(out.x, lf.x[order, :2])
            snap_b = load_snapshot(recorded).snapshot
            for e, (v, d) in out.recycled.items():
                vb, db = recycled_of(snap_b, e)
                assert np.array_equal(d, db[order]), e
                assert close(np.where(d, v, np.nan), np.where(db[order], vb[order], np.nan)), e
            base.close()
            recorded.close()
        finally:
            fp_service._memo.clear()
            if old is None:
                os.environ.pop("LICHAIN_CACHE", None)
            else:
                os.environ["LICHAIN_CACHE"] = old


SPEC = Spec([(10_000, 1_000), (8_000, 500)], [(12_000, 2_000)], [200], [([(0, 200), (2, 100)], 10, 800),
                                                                      ([(1, 150)], 0, 600)], [(0, 20, 300)])


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqlStore:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    fp_service._memo.clear()
    SPEC.salt_kg = [int(kg * 0.02 / 0.2233) for kg, _ in SPEC.r1 + SPEC.r2]
    return ledger(tmp_path / "l.db", bodies(SPEC))


def test_a_scenario_that_changes_nothing_returns_the_ledgers_figures_exactly(demo: SqlStore) -> None:
    scenario, _ = parse_scenario('name = "nothing"\n', "none.toml")
    assert scenario is not None
    _, out, head, applied = outcome_of(demo, scenario)
    lf = ledger_footprint(demo)
    assert head == lf.head and applied == ()
    assert np.array_equal(out.x, lf.x[:, :2])  # exact, not approximate
    snap = load_snapshot(demo).snapshot
    pre, post = ORIGINS.index("pre_consumer"), ORIGINS.index("post_consumer")
    for e in ("Co", "Li", "Ni"):
        s = origin_shares(snap, e)
        v, d = out.recycled[e]
        assert np.array_equal(d, s.defined)
        assert np.array_equal(v, s.values[:, pre] + s.values[:, post], equal_nan=True)
    assert not out.footprint_changed.any() and not out.shares_changed.any()
    r = evaluate_scenario(demo, scenario)
    assert r.lots_reached == 0 and r.materials == () and r.lots == ()


def test_a_factor_at_its_current_value_changes_nothing_exactly(demo: SqlStore) -> None:
    text = '[[change]]\nkind = "factor"\nkey = "fuel:diesel"\nvalue = "0.0919"\n'  # the library's own value
    scenario, _ = parse_scenario(text, "same.toml")
    assert scenario is not None
    _, out, _, applied = outcome_of(demo, scenario)
    assert np.array_equal(out.x, ledger_footprint(demo).x[:, :2])
    assert applied[-1]["lots_recosted"] == 0 and applied[-1]["runs_recosted"] == 0


def test_electricity_at_the_precursor_plant_reaches_only_its_lots_and_their_products(demo: SqlStore) -> None:
    text = '[[change]]\nkind = "electricity"\nsite = "P1"\nkg_co2e_per_kwh = "0"\n'
    scenario, _ = parse_scenario(text, "p1.toml")
    assert scenario is not None
    base, out, _, _ = outcome_of(demo, scenario)
    snap = base.snap
    ids = {snap.lot_id(i): i for i in range(snap.n_lots)}
    reached = {snap.lot_id(int(i)) for i in np.flatnonzero(out.footprint_changed)}
    assert reached == {"PCAM0", "PCAM1", "CAM0"}
    # P0 used 800 kWh at grid:CN 0.582 for PCAM0: that whole burden goes, by hand
    p0 = ids["PCAM0"]
    drop = 800 * 0.582 / float(snap.lot_mass_kg[p0])
    assert out.x[p0, 0] == pytest.approx(base.x[p0, 0] - drop, rel=1e-12)


def test_unknown_names_are_refused_located_and_nothing_is_written(demo: SqlStore) -> None:
    text = ('[[change]]\nkind = "supplier"\nfrom_site = "R1"\nto_site = "NOWHERE"\n'
            '[[change]]\nkind = "recycled_input"\nrun = "NO-RUN"\nmaterial = "NISO4"\nshare = 0.5\nfrom_site = "REC"\n')
    scenario, problems = parse_scenario(text, "bad.toml")
    assert scenario is not None, problems
    head = demo.head()
    with pytest.raises(ValidationFailed) as exc:
        evaluate_scenario(demo, scenario)
    where = [p.location for p in exc.value.problems]
    assert where == ["bad.toml:change[0].to_site", "bad.toml:change[1].run"]
    assert demo.head() == head


def test_a_run_scoped_recycled_share_reaches_only_that_runs_products(demo: SqlStore) -> None:
    text = ('[[change]]\nkind = "recycled_input"\nrun = "P1"\nmaterial = "NISO4"\nshare = "0.5"\n'
            'from_site = "REC"\nfrom_material = "NISO4-REC"\n')
    scenario, problems = parse_scenario(text, "run.toml")
    assert scenario is not None, problems
    base, out, _, applied = outcome_of(demo, scenario)
    snap = base.snap
    assert applied[0]["lots_rewired"] == 1
    assert {snap.lot_id(int(i)) for i in np.flatnonzero(out.shares_changed)} == {"PCAM1"}  # CAM0 is from PCAM0
    i = [snap.lot_id(k) for k in range(snap.n_lots)].index("PCAM1")
    # P1 drew 150 kg of salt (Ni 0.2233, virgin): now 75 kg of it and 75 kg of post-consumer salt, same assay
    assert out.recycled["Ni"][0][i] == pytest.approx(0.5, rel=1e-12)
    assert base.recycled["Ni"][0][i] == 0.0

"""The footprint carried from head to head by appended lots equals the full recomputation (SQLite and PostgreSQL).

After every document of a random sequence (source lots with and without activity data, runs with mass or
economic allocation and a reagent without a factor, and the kinds that change earlier lots: shipments, factor
overrides, supplier PCFs, retractions), the cached footprint — extended when only lots and runs were appended,
recomputed otherwise — is compared with a recomputation from the store that uses no cache at all: every lot's
own burden and footprint to 1e-12 relative (the database may return a run's activity rows in another order, so
sums may differ in the last bit), and exactly: allocation, how each lot's burden is known, what it rests on, the
problems with their counts and the lots and runs each affects. Appended-only steps must take the extension path.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    FactorOverride,
    Fuel,
    Lot,
    Material,
    Reagent,
    Retraction,
    Run,
    Shipment,
    Site,
    SupplierPcf,
)
from lichain.core.validate import LocatedEvent
from lichain.services import footprint as service
from lichain.services import snapshot as snap_service
from lichain.services.footprint import LedgerFootprint, ledger_footprint, lot_footprint
from lichain.services.ingest import ingest_events
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event

KG = 1_000_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)

STEPS = st.lists(st.sampled_from(["lot", "lot_bare", "lot_recycled", "run", "run_economic", "run_two", "run_depot",
                                  "shipment", "shipment_back", "override", "pcf", "pcf_first_bare", "retract"]),
                 min_size=1, max_size=12)


def _problems(lf: LedgerFootprint) -> dict[tuple[str, str], int]:
    return {(p["kind"], p["message"]): p["count"] for p in lf.problems}


def _owners(lf: LedgerFootprint, pairs: Any) -> set[tuple[int, str, str]]:
    return {(int(a), lf.problems[int(b)]["kind"], lf.problems[int(b)]["message"]) for a, b in pairs}


def assert_same(inc: LedgerFootprint, full: LedgerFootprint) -> None:
    assert inc.head == full.head
    assert np.array_equal(inc.store_lot_idx, full.store_lot_idx)
    assert inc.own.shape == full.own.shape and inc.x.shape == full.x.shape
    np.testing.assert_allclose(inc.own, full.own, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(inc.x, full.x, rtol=1e-12, atol=1e-300)
    assert np.array_equal(inc.alloc, full.alloc) and np.array_equal(inc.economic, full.economic)
    assert np.array_equal(inc.lot_source, full.lot_source)  # type: ignore[arg-type]
    assert inc.lot_inputs == full.lot_inputs
    assert _problems(inc) == _problems(full)
    assert _owners(inc, inc.issue_runs) == _owners(full, full.issue_runs)
    assert _owners(inc, inc.issue_lots) == _owners(full, full.issue_lots)
    assert sorted(map(repr, inc.factors)) == sorted(map(repr, full.factors))
    assert np.array_equal(inc.snapshot.up_kg, full.snapshot.up_kg)


class Ledger:
    """A small ledger of a plant (P1) and a depot (P2), documents appended one at a time; stock is kept per lot
    and site, so runs consume only what is at their site, and shipments move lots both ways."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.n = 0
        self.stock: dict[tuple[str, str], int] = {}  # (lot id, site) -> mg there
        self.home: dict[str, str] = {}  # lot id -> the site it was made at
        self.used_at: dict[str, set[str]] = {}  # lot id -> sites where runs consumed it
        self.legs_to: dict[str, set[str]] = {}  # lot id -> sites its shipments went to
        self.sources: list[str] = []
        self.bare: list[str] = []  # virgin source lots recorded without activity data: their burden is missing
        self.events: list[tuple[str, str]] = []  # (event id, lot) of source lots never consumed nor shipped
        self.t = T0
        self.put([Site("P1", "Plant", "refinery", "CN", "Org", "CN-EAST"), Site("P2", "Depot", "warehouse", "KR",
                                                                           "Org"),
                  Material("ORE", "ore", "ore"), Material("MID", "mid", "intermediate")])
        self.lot(activity=True)

    def put(self, bodies: list[Any]) -> list[str]:
        self.t += timedelta(hours=1)
        evs = [event(b, self.t) for b in bodies]
        r = ingest_events([LocatedEvent(f"t:{i}", e) for i, e in enumerate(evs)], self.store)
        assert r.ok, r.problems
        return [e.event_id for e in evs]

    def new_id(self) -> str:
        self.n += 1
        return f"L{self.n}"

    def at(self, site: str, least: int) -> list[str]:
        return [k for (k, s), v in self.stock.items() if s == site and v >= least]

    def lot(self, activity: bool, origin: str = "virgin") -> None:
        i = self.new_id()
        act = Activity(fuels=(Fuel("diesel", D(10 + self.n)),)) if activity else None
        (eid,) = self.put([Lot(i, "ORE", "P1", self.t, (100 + self.n) * KG, {}, origin=origin, activity=act)])
        self.stock[(i, "P1")] = (100 + self.n) * KG
        self.home[i] = "P1"
        self.sources.append(i)
        if not activity and origin == "virgin":
            self.bare.append(i)
        self.events.append((eid, i))

    def run(self, economic: bool, two: bool, site: str = "P1") -> bool:
        """Append a run at ``site`` consuming what is there (a run's inbound transport comes from the legs of
        its shipped inputs: always an extension)."""
        ins = self.at(site, 2 * KG)[-3:]
        if not ins:
            if site == "P1":
                self.lot(activity=True)
                return True
            return False  # nothing at the depot: no document
        take = {k: self.stock[(k, site)] // 3 for k in ins}
        outs = [Lot(self.new_id(), "MID", site, self.t + timedelta(minutes=30), 7 * KG, {})]
        if two:
            outs.append(Lot(self.new_id(), "MID", site, self.t + timedelta(minutes=30), 3 * KG, {}))
        values = {o.id: D(5 + k) for k, o in enumerate(outs)} if economic else {}
        act = Activity(electricity=(Electricity(D(100 * len(self.stock))),),
                       reagents=(Reagent("Unobtainium", D(1)),) if len(self.stock) % 2 else ())
        run = Run(f"R{self.n}", site, "leaching", self.t, self.t + timedelta(minutes=30),
                  tuple(Consumption(k, v) for k, v in take.items()), tuple(outs), activity=act,
                  allocation="economic" if economic else "mass", output_values=values)
        self.put([run])
        for k, v in take.items():
            self.stock[(k, site)] -= v
            self.used_at.setdefault(k, set()).add(site)
        self.events = [e for e in self.events if e[1] not in take]
        for o in outs:
            self.stock[(o.id, site)] = o.mass_mg
            self.home[o.id] = site
        return True

    def ship(self, frm: str, to: str) -> bool:
        """Ship 3 kg (else 1 kg) of the lot with most stock at ``frm``; True when no earlier run's transport charge can
        change (no earlier run consumed the lot away from its own site, nor at all if a leg returns there)."""
        cands = self.at(frm, KG)
        if not cands:
            return False  # nothing to ship: no document
        k = max(cands, key=lambda x: self.stock[(x, frm)])
        mg = 3 * KG if self.stock[(k, frm)] >= 3 * KG else KG  # enough for a run at the other end
        self.put([Shipment(f"S{self.n}", k, mg, frm, to, self.t, "road", D(100 + 37 * self.n))])
        self.stock[(k, frm)] -= mg
        self.stock[(k, to)] = self.stock.get((k, to), 0) + mg
        self.legs_to.setdefault(k, set()).add(to)
        self.events = [e for e in self.events if e[1] != k]
        self.n += 1
        used = self.used_at.get(k, set())
        return not used or (used == {self.home[k]} and self.home[k] not in self.legs_to[k])

    def step(self, kind: str) -> bool:
        """Append one document; True when the extension path must be taken (lots, runs, and shipments that
        change no earlier run's transport)."""
        if kind in ("lot", "lot_bare", "lot_recycled"):
            self.lot(kind == "lot", "post_consumer" if kind == "lot_recycled" else "virgin")
            return True
        if kind.startswith("run"):
            return self.run(kind == "run_economic", kind == "run_two", "P2" if kind == "run_depot" else "P1")
        if kind == "shipment":
            return self.ship("P1", "P2")
        if kind == "shipment_back":
            return self.ship("P2", "P1")
        if kind == "override":
            self.put([FactorOverride("grid:CN-EAST", D("0.4") + D(self.n) / 100, "kg CO2/kWh", "test", "P1")])
            self.n += 1
        elif kind in ("pcf", "pcf_first_bare"):
            lots = self.sources[-1:] if kind == "pcf" else self.bare[:1]
            if not lots:
                return False
            self.put([SupplierPcf(lots[0], D("2.5") + D(self.n) / 10, "Supplier", f"DOC-{self.n}")])
            self.n += 1
            return lots[0] in self.bare  # a purchased lot with its burden missing or from a PCF: extended
        elif kind == "retract" and self.events:
            victim, lot = self.events.pop()
            self.put([Retraction(victim, self.t, "incorrect_data")])
            self.stock.pop((lot, "P1"), None)
            self.sources.remove(lot)
            if lot in self.bare:
                self.bare.remove(lot)
        return False


def _empty(store: SqlStore) -> None:
    """Delete every row (each hypothesis example starts from an empty ledger)."""
    from lichain.storage import schema

    with store.engine.begin() as c:
        for t in reversed(schema.metadata.sorted_tables):
            if t.name not in ("alembic_version",):
                c.execute(t.delete())


_EXAMPLES = itertools.count()


def _fresh_example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    """A cache folder of its own and nothing kept in memory: examples empty the ledger, so a later example's
    chain numbers restart, and state kept from an earlier one would look ahead of it (a ledger's sequence never
    goes back outside tests)."""
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / f"{name}-{next(_EXAMPLES)}"))
    service._memo.clear()
    snap_service._MEMO.clear()


def kept_state_behind_by_a_lot(store: SqlStore, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> tuple[Ledger, tuple[int, str]]:
    """A ledger with a run whose snapshot and footprint this process keeps, then one more lot appended: the kept
    state is one document behind. Returns the ledger and the head the kept state is at."""
    _fresh_example(monkeypatch, tmp_path, "behind")
    led = Ledger(store)
    led.run(economic=False, two=True)
    ledger_footprint(store)
    behind = store.head()
    led.lot(activity=True)
    return led, behind


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    service._memo.clear()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(steps=STEPS)
# a purchased lot's PCF after runs consumed it, again, and a PCF superseding the first (all extended)
@example(steps=["lot_bare", "run", "lot_bare", "pcf_first_bare", "run_two", "pcf", "pcf_first_bare", "lot", "pcf"])
def test_extended_footprint_equals_full_recomputation(store: SqlStore, steps: list[str], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_example(monkeypatch, tmp_path, "cache")
    _empty(store)  # each example starts from an empty ledger
    led = Ledger(store)
    ledger_footprint(store)
    for kind in steps:
        appended = led.step(kind)
        inc = ledger_footprint(store)
        if appended:
            assert inc.how == "extended", kind
        full = service._compute(store, None, use_cache=False)
        assert_same(inc, full)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(steps=STEPS)
def test_footprint_extended_from_an_older_disk_cache_equals_full_recomputation(
        store: SqlStore, steps: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that starts with the footprint cache on disk at an earlier head (nothing in memory) extends the
    cached rows when only lots and runs were appended since that head, and recomputes otherwise."""
    _fresh_example(monkeypatch, tmp_path, "disk")
    _empty(store)
    led = Ledger(store)
    assert ledger_footprint(store).how == "built"  # written to disk at this head
    disk_head, appended_since_disk = store.head(), True
    for kind in steps:
        before = store.head()
        appended = led.step(kind)
        if store.head() != before:  # some steps may find nothing to do
            appended_since_disk &= appended
        service._memo.clear()  # a fresh process: only the disk cache is left
        inc = ledger_footprint(store)
        want = "cache" if store.head() == disk_head else "extended" if appended_since_disk else None
        if want is not None:
            assert inc.how == want, (kind, inc.how)
        else:  # a shipment unsafe after one step may be safe from the older head (its runs are new there)
            assert inc.how in ("extended", "built"), (kind, inc.how)
        assert_same(inc, service._compute(store, None, use_cache=False))
        if inc.how == "built":  # recomputed and written at this head
            disk_head, appended_since_disk = store.head(), True


def test_stale_cache_answers_for_earlier_lots(sqlite_store: SqlStore, fresh: None) -> None:
    led = Ledger(sqlite_store)
    led.run(economic=False, two=True)
    before = lot_footprint(sqlite_store, "L2")
    led.lot(activity=True)  # the head moves by an appended lot: L2's figures are the same, at the new head
    after = lot_footprint(sqlite_store, "L2")
    assert sqlite_store.head()[1] != before.computed_at_head
    assert after == before  # answered from the cache: computed at the earlier head, still the figures now
    fresh_ = service._lot_footprint(sqlite_store, service.ledger_footprint(sqlite_store),
                                    service.find_lot(sqlite_store, "L2"), None, None, None)
    assert fresh_.computed_at_head == sqlite_store.head()[1]
    assert fresh_.kg_co2e_per_kg == pytest.approx(before.kg_co2e_per_kg, rel=1e-12)
    assert fresh_.by_cause == pytest.approx(before.by_cause, rel=1e-12)
    led.step("override")  # a factor override changes earlier lots: no stale answer
    assert service.stale_for_lot(sqlite_store, 1) is None
    changed = lot_footprint(sqlite_store, "L2")
    assert changed.kg_co2e_per_kg < before.kg_co2e_per_kg  # 0.4x kg CO2/kWh < the CN-EAST grid factor


def test_a_shipment_taken_by_extension_shows_in_its_lots_answer(store: SqlStore, fresh: None) -> None:
    """A leg that changes no earlier run is taken by extending the footprint, and the lot's answer (kept per
    lineage) gains the delivery; a run at the depot then pays the leg's transport per kg it consumed."""
    led = Ledger(store)
    led.run(economic=False, two=False)
    ledger_footprint(store)
    before = {k: lot_footprint(store, k) for k in ("L1", "L2")}
    assert all(b.deliveries == () for b in before.values())
    assert led.ship("P1", "P2")  # L1, made at P1 and consumed there only: a safe leg
    (lot,) = led.legs_to
    lf = ledger_footprint(store)
    assert lf.how == "extended"
    after = lot_footprint(store, lot)
    assert [d.to_site for d in after.deliveries] == ["P2"]
    assert after.kg_co2e_per_kg == before[lot].kg_co2e_per_kg
    leg = after.deliveries[0]
    assert led.run(economic=False, two=False, site="P2")  # consumes a third of the 3 kg shipped
    lf = ledger_footprint(store)
    assert lf.how == "extended"
    out = lot_footprint(store, f"L{led.n}")  # the run's one output carries all of the run
    # its inbound transport: the mass it took of the lot (a third of the 3 kg shipped) x the leg's kg CO2e per kg
    took_kg = (3 * KG // 3) / 1e6
    assert out.own.by_cause_kg_co2e["transport"] == pytest.approx(
        took_kg * leg.transport_kg_co2e / leg.mass_kg, rel=1e-12)
    assert leg.transport_kg_co2e > 0
    assert_same(lf, service._compute(store, None, use_cache=False))


def _close(a: Any, b: Any, path: str = "") -> None:
    """Equal JSON trees, floats to 1e-12 relative (an extension and a rebuild sum in different orders)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}/{k}")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-300), path
    else:
        assert a == b, path


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(steps=st.lists(st.sampled_from(["lot", "lot_bare", "run", "run_economic", "run_two"]), min_size=1,
                      max_size=6))
def test_kept_answers_survive_extensions_by_appended_lots_and_runs(sqlite_store: SqlStore, steps: list[str],
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A lot's answer is kept while the whole-ledger footprint is only extended (appended lots and runs): the
    kept answer, at the head it names, has the figures a full recomputation gives at the current head."""
    from dataclasses import replace

    from lichain.entrypoints.present import jsonable

    _fresh_example(monkeypatch, tmp_path, "kept")
    _empty(sqlite_store)
    led = Ledger(sqlite_store)
    led.run(economic=False, two=True)
    first = lot_footprint(sqlite_store, "L2")
    for kind in steps:
        assert led.step(kind)
        lf = ledger_footprint(sqlite_store)  # brought to the head: a new object of the same lineage
        assert lf.how == "extended" and lf.head == sqlite_store.head()[1]
        kept = lot_footprint(sqlite_store, "L2")
        assert kept is first  # not recomputed
        full = service._lot_footprint(sqlite_store, service._compute(sqlite_store, None, use_cache=False),
                                      service.find_lot(sqlite_store, "L2"), None, None, None)
        assert full.computed_at_head == sqlite_store.head()[1] != kept.computed_at_head
        _close(jsonable(replace(kept, computed_at_head=full.computed_at_head)), jsonable(full))
    led.step("override")  # a kind that changes earlier lots: a new lineage, a new answer
    assert lot_footprint(sqlite_store, "L2") is not first

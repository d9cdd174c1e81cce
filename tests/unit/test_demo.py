"""Tests for lichain.demo: the generated chain is valid, complete, closed by recycling, exact and reproducible.

Balances are recomputed here from the events with integer arithmetic (mg × ppb), independently of
``lichain.core.validate.run_balance``; the ledger rules themselves are applied through an in-memory ledger view.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.core.chemistry import mass_fractions
from lichain.core.codec import canonical_payload
from lichain.core.model import DEFAULT_ELEMENTS, Event, Lot, Run, Shipment, Site, Stage
from lichain.demo import DEFAULT_LOTS, generate, located
from lichain.demo.plan import P
from lichain.demo.sites import MATERIALS
from lichain.io.gs1_uri import gs1_check_digit, normalise_epc
from lichain.services.ingest import ingest_stream
from lichain.storage.sql import SqlStore
from tests.support.memory_view import MemoryView

PPB = 1_000_000_000
RECOVERED = {"NISO4-REC", "COSO4-REC", "MNSO4-REC", "LI2CO3-REC"}


def _validate(lots: int, seed: int, batch: int = 2_000) -> tuple[list[Event], MemoryView]:
    """Generate a chain and ingest it batch by batch into an in-memory ledger; fail on the first problem."""
    view, events, offset = MemoryView(), [], 0
    for b in generate(lots, seed=seed, batch_size=batch).batches(include_master=True):
        problems = view.ingest(located(b, offset))
        assert not problems, [str(p) for p in problems[:5]]
        offset += len(b)
        events += b
    return events, view


@pytest.fixture(scope="module")
def chain() -> tuple[list[Event], MemoryView]:
    """A 3,000-lot chain, validated."""
    return _validate(3_000, 0)


def _lots(events: list[Event]) -> dict[str, Lot]:
    out: dict[str, Lot] = {}
    for ev in events:
        b = ev.body
        if isinstance(b, Lot):
            out[b.id] = b
        elif isinstance(b, Run):
            out.update((o.id, o) for o in b.outputs)
    return out


def _runs(events: list[Event]) -> list[Run]:
    return [ev.body for ev in events if isinstance(ev.body, Run)]


def test_every_batch_passes_the_ledger_rules(chain: tuple[list[Event], MemoryView]) -> None:
    events, view = chain
    assert len(view.payloads) == len(events)
    assert all(ev.event_id == "" for ev in events)  # the service assigns ids


@settings(max_examples=3, deadline=None)
@given(st.integers(min_value=1, max_value=2**31))
def test_any_seed_gives_a_valid_chain(seed: int) -> None:
    events, _ = _validate(1_500, seed, batch=700)
    assert 1_500 * 0.95 <= len(_lots(events)) <= 1_500 * 1.05


def test_events_are_in_time_order(chain: tuple[list[Event], MemoryView]) -> None:
    times = [ev.time for ev in chain[0]]
    assert times == sorted(times)


def test_chain_contains_every_stage_and_process(chain: tuple[list[Event], MemoryView]) -> None:
    events, _ = chain
    stages = {MATERIAL_STAGE[lot.material] for lot in _lots(events).values()}
    assert stages == {s.value for s in Stage} - {"reagent"}
    kinds = {r.kind for r in _runs(events)}
    assert kinds == {"leaching", "refining", "co_precipitation", "calcination", "cell_manufacturing", "shredding",
                     "hydromet_recycling"}
    modes = {ev.body.mode for ev in events if isinstance(ev.body, Shipment)}
    assert {"road", "sea_bulk", "sea_container"} <= modes


def test_cam_reaches_three_customers_in_three_countries(chain: tuple[list[Event], MemoryView]) -> None:
    events, _ = chain
    sites = {ev.body.id: ev.body for ev in events if isinstance(ev.body, Site)}
    cell_runs = [r for r in _runs(events) if r.kind == "cell_manufacturing"]
    plants = {r.site for r in cell_runs}
    assert len({sites[p].country for p in plants}) >= 3
    assert len({sites[p].organisation for p in plants}) >= 3
    cam_ships = [ev.body for ev in events if isinstance(ev.body, Shipment) and ev.body.to_site in plants]
    assert {s.mode for s in cam_ships} == {"sea_container"}
    assert len({s.to_organisation for s in cam_ships}) >= 3


def test_recovered_salts_feed_later_precursor_runs(chain: tuple[list[Event], MemoryView]) -> None:
    events, _ = chain
    lots = _lots(events)
    fed = [(r, c) for r in _runs(events) if r.kind in ("co_precipitation", "calcination") for c in r.inputs
           if lots[c.lot].material in RECOVERED]
    pcam_fed = {lots[c.lot].material for r, c in fed if r.kind == "co_precipitation"}
    assert pcam_fed == {"NISO4-REC", "COSO4-REC", "MNSO4-REC"}
    assert any(lots[c.lot].material == "LI2CO3-REC" for r, c in fed if r.kind == "calcination")
    assert all(lots[c.lot].produced_at < r.started_at for r, c in fed)
    # blended: each precursor run takes at most the blend limit of each metal from recovered salts
    for r in {id(r): r for r, _ in fed if r.kind == "co_precipitation"}.values():
        for e in ("Ni", "Co", "Mn"):
            rec = sum(c.mass_mg * lots[c.lot].assay.get(e, 0) for c in r.inputs if lots[c.lot].material in RECOVERED)
            total = sum(c.mass_mg * lots[c.lot].assay.get(e, 0) for c in r.inputs)
            assert rec <= P.RECOVERED_MAX_SHARE * total * 1.0001


def test_origins(chain: tuple[list[Event], MemoryView]) -> None:
    lots = _lots(chain[0]).values()
    by = Counter((lot.material.split("-")[0], lot.origin) for lot in lots)
    assert by[("EOL", "post_consumer")] > 0 and by[("EOL", "virgin")] == 0
    assert by[("SCRAP", "pre_consumer")] > 0 and by[("SCRAP", "virgin")] == 0
    assert {lot.origin for lot in lots if lot.material == "BLACK-MASS" or lot.material in RECOVERED} <= {
        "pre_consumer", "post_consumer"}
    assert {lot.origin for lot in lots if lot.material.startswith(("NI-", "MHP", "CO-", "PCAM", "CAM"))} == {"virgin"}


def test_ncm811_cam_assay_matches_chemistry_within_purity(chain: tuple[list[Event], MemoryView]) -> None:
    w = mass_fractions("LiNi0.8Co0.1Mn0.1O2")
    cams = [lot for lot in _lots(chain[0]).values() if lot.material == "CAM-NCM811"]
    assert cams
    for lot in cams:
        for e in DEFAULT_ELEMENTS:
            x = lot.assay[e] / PPB
            assert float(w[e]) * 0.99 <= x <= float(w[e]), (lot.id, e, x)
            assert x == pytest.approx(float(w[e]) * P.CAM_PURITY, rel=2e-3)


def test_refined_salt_assays_are_stoichiometric_times_purity(chain: tuple[list[Event], MemoryView]) -> None:
    formulas = {"NISO4": ("NiSO4·6H2O", "Ni"), "COSO4": ("CoSO4·7H2O", "Co"), "MNSO4": ("MnSO4·H2O", "Mn"),
                "LIOH": ("LiOH·H2O", "Li"), "NISO4-REC": ("NiSO4·6H2O", "Ni"), "LI2CO3-REC": ("Li2CO3", "Li")}
    for lot in _lots(chain[0]).values():
        if lot.material in formulas:
            formula, e = formulas[lot.material]
            assert lot.assay[e] / PPB == pytest.approx(float(mass_fractions(formula)[e]) * 0.995, rel=1.5e-3)
            assert sum(lot.assay.values()) < PPB


def test_every_run_balances_per_element(chain: tuple[list[Event], MemoryView]) -> None:
    events, _ = chain
    lots = _lots(events)
    for r in _runs(events):
        for e in DEFAULT_ELEMENTS:
            i = sum(c.mass_mg * lots[c.lot].assay.get(e, 0) for c in r.inputs)
            o = sum(lot.mass_mg * lot.assay.get(e, 0) for lot in r.outputs)
            loss = r.losses_mg.get(e, 0) * PPB
            assert loss >= 0
            residual = abs(i - o - loss)  # assay rounding only: below 1 g, and far inside the 0.5 % tolerance
            assert residual <= max(1e-6 * i, 1000 * PPB) and residual <= 1e-4 * i, (r.id, e, i, o, loss)


def test_declared_losses_follow_the_yields(chain: tuple[list[Event], MemoryView]) -> None:
    events, _ = chain
    lots = _lots(events)
    for r in _runs(events):
        if r.kind == "hydromet_recycling":
            for e, y in P.HYDROMET_YIELD.items():
                i = sum(c.mass_mg * lots[c.lot].assay.get(e, 0) for c in r.inputs) / PPB
                assert r.losses_mg[e] == pytest.approx(i * (1 - y), rel=1e-3, abs=2)
        if r.kind == "calcination":  # the Li fed above Li/Me = 1 is lost
            li_in = sum(c.mass_mg * lots[c.lot].assay.get("Li", 0) for c in r.inputs) / PPB
            assert r.losses_mg["Li"] / li_in == pytest.approx(1 - 1 / float(P.LI_ME), abs=3e-3)


def test_activity_data_and_electricity_sources(chain: tuple[list[Event], MemoryView]) -> None:
    runs = _runs(chain[0])
    sources = {(r.site, el.source) for r in runs for el in r.activity.electricity}
    assert ("ID-HALMAHERA-HPAL", "captive_coal") in sources
    assert ("HU-IVANCSA-CELLS", "guarantee_of_origin") in sources
    assert ("CN-TONGXIANG-CATHODE", "ppa") in sources and ("CN-TONGXIANG-CATHODE", "grid") in sources
    for r in runs:
        assert not r.activity.is_empty(), r.id
    reagents = {g.name for r in runs for g in r.activity.reagents}
    assert {"H2SO4", "NaOH", "NH3", "CaCO3", "O2", "Na2CO3"} <= reagents
    assert {f.kind for r in runs for f in r.activity.fuels} >= {"coal", "natural_gas"}


def test_lot_ids_are_canonical_gs1_digital_links(chain: tuple[list[Event], MemoryView]) -> None:
    for lot_id in list(_lots(chain[0]))[:500]:
        assert normalise_epc(lot_id) == lot_id
        gtin = lot_id.split("/")[4]
        assert len(gtin) == 14 and gtin[-1] == gs1_check_digit(gtin[:-1])


def test_same_seed_same_events_other_seed_other_events() -> None:
    def fingerprint(seed: int) -> list[tuple[str, datetime, str]]:
        return [(ev.kind.value, ev.time, canonical_payload(ev.body)) for ev in generate(1_000, seed=seed).events()]

    a = fingerprint(5)
    assert a == fingerprint(5)
    assert a != fingerprint(6)


@pytest.mark.parametrize("lots", [3_000, 20_000])
def test_size_is_within_five_percent(lots: int) -> None:
    demo = generate(lots, seed=1)
    stats = demo.summary()
    assert lots * 0.95 <= stats.lots <= lots * 1.05
    assert sum(stats.lots_by_material.values()) == stats.lots
    assert stats.events >= stats.lots


def test_default_is_about_one_year() -> None:
    demo = generate()
    assert demo.lots == DEFAULT_LOTS and demo.plan.k == 1.0
    assert 20_000 <= DEFAULT_LOTS <= 40_000


def test_batches_respect_size_and_start() -> None:
    start = datetime(2030, 6, 1, tzinfo=UTC)
    demo = generate(1_000, start=start, batch_size=400)
    batches = list(demo.batches())
    assert all(len(b) <= 400 for b in batches[:-1]) and len(batches) > 2
    kinds = [ev.kind.value for ev in demo.master_events]
    assert {ev.time for ev in demo.master_events} == {start}
    assert (kinds.count("site"), kinds.count("material"), kinds.count("site_risk"),
            kinds.count("diligence_policy")) == (14, 29, 3, 1)  # in force
    assert start < batches[0][0].time  # master data only on request
    assert next(iter(demo.batches(include_master=True)))[:47] == demo.master_events
    later = [ev.body for b in batches for ev in b if ev.kind.value == "site_risk"]  # on their own dates
    assert [(r.id, r.status) for r in later] == [("RMAP-KALAHARI", "lapsed"), ("RF-HALMAHERA-BIODIVERSITY", "open")]
    measures = [ev for b in batches for ev in b if ev.kind.value == "risk_measure"]  # the response to the lapse
    assert [(ev.body.id, ev.time - start) for ev in measures] == [("M-KALAHARI-REAUDIT", timedelta(days=33))]
    n = sum(len(b) for b in batches)
    assert abs(demo.expected_events - n) <= 0.05 * n
    with pytest.raises(ValueError, match="timezone"):
        generate(10, start=datetime(2030, 1, 1))


def test_ingests_into_sqlite(sqlite_store: SqlStore) -> None:
    demo = generate(1_200, seed=3, batch_size=1_000)
    offset = 0

    def stream():  # type: ignore[no-untyped-def]
        nonlocal offset
        for b in demo.batches(include_master=True):
            yield located(b, offset)
            offset += len(b)

    result = ingest_stream(stream(), sqlite_store)
    assert result.ok, result.problems[:3]
    assert result.events_written == offset
    counts = sqlite_store.counts()
    assert counts["lots"] == demo.summary().lots


MATERIAL_STAGE = {m.code: m.stage for m in MATERIALS.values()}

"""Passports at per-lot cost on SQLite and PostgreSQL: the same passport as over the whole ledger, kept per lot.

The passport's recycled shares and due-diligence link are computed on the lot's upstream closure and kept per
lot (:mod:`lichain.services.passport_parts`). Checked on the demo chain against the whole-ledger computation
(``whole_ledger=True``, the computation used before): the passport JSON is equal at every step, and the kept
parts are reused after a one-lot document (nothing of the upstream changed) and recomputed after a site risk
statement at an upstream site, a shipment of an upstream lot still at its site, and once the clock reaches the
start of a risk interval (an audit that runs out).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import numpy as np
import pytest

from lichain.analysis.trace import trace_up
from lichain.core.codec import canonical_payload, content_event_id, kind_of, parse_time
from lichain.core.model import Event, LocatedEvent, Lot, Shipment, SiteRisk
from lichain.entrypoints.present import jsonable
from lichain.services import passport_parts
from lichain.services.diligence import diligence
from lichain.services.ingest import ingest_events
from lichain.services.passport import passport
from lichain.services.snapshot import load_snapshot
from lichain.storage.quality_sql import events_of_kinds
from lichain.storage.sql import SqlStore


def _record(store: SqlStore, body: Lot | Shipment | SiteRisk, at: datetime, where: str) -> None:
    k = kind_of(body)
    ev = Event(content_event_id(k, canonical_payload(body)), k, at, body)
    r = ingest_events([LocatedEvent(where, ev)], store)
    assert r.ok, r.problems


@pytest.fixture
def demo(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SqlStore, list[str]]]:
    from lichain.services.demo import run_demo

    assert run_demo(store, lots=1500, seed=7).ok
    passport_parts.clear()
    computed: list[str] = []
    real = passport_parts._compute

    def counting(store: SqlStore, lot_id: str, *a: object) -> passport_parts.LotParts:
        computed.append(lot_id)
        return real(store, lot_id, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(passport_parts, "_compute", counting)
    yield store, computed
    passport_parts.clear()


def _cells(store: SqlStore) -> list[str]:
    with store.read() as conn:
        return sorted({json.loads(p)["lot"] for _, _, p in events_of_kinds(conn, ("cell_spec",))})


def _same(store: SqlStore, lot: str) -> dict[str, object]:
    """The fast passport, after checking it equals the whole-ledger one (both levels that show most)."""
    for level in ("public", "authority"):
        fast = jsonable(passport(store, lot, level=level))
        assert fast == jsonable(passport(store, lot, level=level, whole_ledger=True))
    full_link = passport_parts.diligence_link(diligence(store, lot))
    assert passport_parts.lot_parts(store, lot).diligence_link == full_link
    return {"passport": fast, "link": full_link}


def _upstream_sites(store: SqlStore, lot: str) -> tuple[list[int], list[str]]:
    snap = load_snapshot(store).snapshot
    lots = [int(i) for i in trace_up(snap, snap.index_of(lot)).lots]
    return lots, sorted({snap.site_ids[int(snap.lot_site[i])] for i in lots if snap.lot_site[i] >= 0})


def test_kept_parts_equal_the_whole_ledger_until_an_upstream_risk_is_recorded(
        demo: tuple[SqlStore, list[str]]) -> None:
    store, computed = demo
    cells = _cells(store)
    assert len(cells) >= 4
    before = {c: _same(store, c) for c in cells}
    assert sorted(set(computed)) == cells and len(computed) == len(cells)  # once per lot, then kept
    # a writer appends a one-lot document: a new ore lot at a mine (no earlier lot's upstream changes)
    snap = load_snapshot(store).snapshot
    ore = int(np.flatnonzero(snap.lot_stage == snap.stage_names.index("ore"))[0])
    t = parse_time("2027-06-01T00:00:00Z")
    lot = Lot("FAST-ORE-1", snap.material_codes[snap.lot_material[ore]], snap.site_ids[snap.lot_site[ore]], t,
              1_000_000, {"Ni": 10_000_000})
    _record(store, lot, t, "lot")
    after = {c: _same(store, c) for c in cells}
    assert len(computed) == len(cells)  # nothing recomputed
    assert all(after[c]["link"] == before[c]["link"] for c in cells)
    assert all(after[c]["passport"]["computed_at_head"] != before[c]["passport"]["computed_at_head"]  # type: ignore[index]
               for c in cells)
    # an open red flag at a site upstream of the first cell lot, in force since before any lot
    _, sites = _upstream_sites(store, cells[0])
    site = sites[0]
    flag = SiteRisk("RF-FAST", site, "red_flag", "open", parse_time("2000-01-01T00:00:00Z"), "test grievance",
                    category="serious_abuses", reference="G-FAST")
    _record(store, flag, parse_time("2027-06-02T00:00:00Z"), "risk")
    flagged = _same(store, cells[0])
    assert flagged["link"] != before[cells[0]]["link"]  # the report changed, and the kept part with it
    assert len(computed) == len(cells) + 1 and computed[-1] == cells[0]
    report = diligence(store, cells[0])
    assert "RF-FAST" in {f.id for f in report.flags}


def test_a_shipment_recomputes_parts_whose_report_read_stays(demo: tuple[SqlStore, list[str]]) -> None:
    store, computed = demo
    reading = [c for c in _cells(store) if passport_parts.lot_parts(store, c).stays_read]
    assert reading  # the demo records statements (the Kalahari audit) about sites upstream of its cells
    cell = reading[0]
    snap = load_snapshot(store).snapshot
    ore = int(np.flatnonzero(snap.lot_stage == snap.stage_names.index("ore"))[0])
    home = snap.site_ids[snap.lot_site[ore]]
    t = parse_time("2027-06-01T00:00:00Z")
    _record(store, Lot("FAST-ORE-2", snap.material_codes[snap.lot_material[ore]], home, t, 2_000_000,
                       {"Ni": 10_000_000}), t, "lot")
    _same(store, cell)
    n = len(computed)
    other = next(s for s in snap.site_ids if s != home)
    _record(store, Shipment("SH-FAST", "FAST-ORE-2", 1_000_000, home, other, t + timedelta(days=1), "road"),
            t + timedelta(days=1), "ship")
    _same(store, cell)
    assert len(computed) == n + 1 and computed[-1] == cell


def test_kept_parts_expire_when_an_audit_runs_out(demo: tuple[SqlStore, list[str]]) -> None:
    store, computed = demo
    cell = _cells(store)[0]
    _, sites = _upstream_sites(store, cell)
    runs_out = parse_time("2027-12-01T00:00:00Z")  # (a validity past the ledger's clock is refused)
    now = runs_out - timedelta(days=10)
    audit = SiteRisk("AUDIT-FAST", sites[-1], "audit", "conformant", parse_time("2020-01-01T00:00:00Z"),
                     "test audit", valid_to=runs_out, scheme="RMAP")
    _record(store, audit, parse_time("2027-06-03T00:00:00Z"), "audit")
    kept = passport_parts.lot_parts(store, cell, now=now)
    assert kept.valid_until == runs_out
    assert passport_parts.lot_parts(store, cell, now=runs_out - timedelta(seconds=1)) is kept
    later = runs_out + timedelta(days=1)
    fresh = passport_parts.lot_parts(store, cell, now=later)
    assert fresh is not kept and computed[-2:] == [cell, cell]
    assert fresh.diligence_link == passport_parts.diligence_link(diligence(store, cell, now=later))


def test_lot_origins_of_a_few_lots_on_their_closures_equal_the_whole_ledger_ones(
        demo: tuple[SqlStore, list[str]]) -> None:
    from lichain.services import lot_origin

    store, _ = demo
    snap = load_snapshot(store).snapshot
    recycled = np.flatnonzero(snap.lot_origin != 0)
    assert recycled.size  # the demo recycles: some lots carry recycled content
    downstream = [int(i) for i in range(snap.n_lots - 1, 0, -1)
                  if snap.up_indptr[i + 1] > snap.up_indptr[i]][:5]  # late lots with inputs: deep closures
    few = sorted({snap.lot_id(int(i)) for i in [*downstream, *recycled[-2:]]} | set(_cells(store)[:1]))[:8]
    lot_origin.lot_origins(store, few)  # cached for the whole ledger at this head (now or by the demo's show)
    d = lot_origin._cache_dir(store)
    cached_head = json.loads((d / "meta.json").read_text())["head"]
    t = parse_time("2027-06-01T00:00:00Z")
    ore = int(np.flatnonzero(snap.lot_stage == snap.stage_names.index("ore"))[0])
    _record(store, Lot("FAST-ORE-3", snap.material_codes[snap.lot_material[ore]], snap.site_ids[snap.lot_site[ore]],
                       t, 1_000_000, {"Ni": 10_000_000}), t, "lot")
    per_lot = lot_origin.lot_origins(store, few)  # the cache is of an older head: each lot on its closure
    assert json.loads((d / "meta.json").read_text())["head"] == cached_head  # (the whole ledger was not redone)
    whole = lot_origin.lot_origins(store, [*few, *[f"NOPE-{k}" for k in range(10)]])  # many: the whole ledger
    assert json.loads((d / "meta.json").read_text())["head"] == store.head()[1]
    assert per_lot == whole and sorted(per_lot) == few
    assert any(r.recycled for o in per_lot.values() for r in o.recycled_content)  # not all zero

"""The ESG report's organisation boundary (operational control) and its chart text, on SQLite and PostgreSQL.

A supplier's mine, two sites of the reporting organisation and a customer's cell plant, each with its own
energy; the expected Scope 1+2 sums are computed here from the activity data and the pinned factors.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal as D
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from lichain.core.errors import NotFoundError
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
from lichain.core.validate import LocatedEvent
from lichain.entrypoints.present import jsonable
from lichain.io.report_html import render_esg_html
from lichain.services.esg import esg_report
from lichain.services.ingest import ingest_events
from lichain.storage.esg_sql import ledger_owners
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event

KG = 1_000_000
OWN, SUP, CUS = "Own Group", "Supplier Mining", "Customer Cells"
GRID = {"CN-EAST": D("0.5"), "KR": D("0.4")}  # kg CO2e per kWh, pinned below
DIESEL = D("0.07")  # kg CO2e per MJ (combustion)


def t(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


# (site, organisation, grid region, grid kWh, diesel MJ) of each site's activity in 2026
ACTIVITY = (("SUP-MINE", SUP, None, D(0), D("5400")), ("OWN-REF", OWN, "CN-EAST", D("1000"), D("200")),
            ("OWN-CAM", OWN, "CN-EAST", D("3000"), D("0")), ("CUS-CELL", CUS, "KR", D("8000"), D("100")))


def chain(owner: bool = True) -> list[LocatedEvent]:
    sites = [Site("SUP-MINE", "Mine", "mine", "ID", SUP, "ID"),
             Site("OWN-REF", "Refinery", "refinery", "CN", OWN, "CN-EAST", ledger_owner=owner),
             Site("OWN-CAM", "Cathode", "cathode_plant", "CN", OWN, "CN-EAST"),
             Site("CUS-CELL", "Cells", "cell_plant", "KR", CUS, "KR")]
    bodies: list[Any] = [
        *sites, Material("ORE", "ore", "ore"), Material("NSO", "nickel sulfate", "refined_salt"),
        Material("CAM", "cathode", "cam"), Material("CELL", "cell", "cell"),
        FactorOverride("grid:CN-EAST", GRID["CN-EAST"], "kg CO2e/kWh", "test"),
        FactorOverride("grid:KR", GRID["KR"], "kg CO2e/kWh", "test"),
        FactorOverride("fuel:diesel:combustion", DIESEL, "kg CO2e/MJ", "test"),
        Lot("ORE1", "ORE", "SUP-MINE", t("2026-02-01"), 1000 * KG, {"Ni": 12_000_000}, "virgin",
            activity=Activity(fuels=(Fuel("diesel", D("5400")),))),
        Shipment("SH-1", "ORE1", 1000 * KG, "SUP-MINE", "OWN-REF", t("2026-02-15"), "road", D(0)),
        Run("REF-1", "OWN-REF", "process", t("2026-03-01"), t("2026-03-02"), (Consumption("ORE1", 1000 * KG),),
            (Lot("NSO1", "NSO", "OWN-REF", t("2026-03-02"), 48 * KG, {"Ni": 250_000_000}),), {},
            Activity(electricity=(Electricity(D("1000")),), fuels=(Fuel("diesel", D("200")),))),
        Shipment("SH-2", "NSO1", 48 * KG, "OWN-REF", "OWN-CAM", t("2026-03-15"), "road", D(0)),
        Run("CAM-1", "OWN-CAM", "process", t("2026-04-01"), t("2026-04-02"), (Consumption("NSO1", 48 * KG),),
            (Lot("CAM1", "CAM", "OWN-CAM", t("2026-04-02"), 20 * KG, {"Ni": 600_000_000}),), {},
            Activity(electricity=(Electricity(D("3000")),))),
        Shipment("SH-3", "CAM1", 20 * KG, "OWN-CAM", "CUS-CELL", t("2026-04-15"), "road", D(0)),
        Run("CELL-1", "CUS-CELL", "process", t("2026-05-01"), t("2026-05-02"), (Consumption("CAM1", 20 * KG),),
            (Lot("CELL1", "CELL", "CUS-CELL", t("2026-05-02"), 40 * KG, {"Ni": 300_000_000}),), {},
            Activity(electricity=(Electricity(D("8000")),), fuels=(Fuel("diesel", D("100")),))),
    ]
    return [LocatedEvent(f"doc:{i}", event(b, t("2026-01-01"))) for i, b in enumerate(bodies)]


def _expected(orgs: set[str]) -> tuple[float, float]:
    """Scope 1 (diesel combustion) and Scope 2 location-based (grid) [kg CO2e] of the sites of ``orgs``."""
    s1 = sum((mj * DIESEL for _, o, _, _, mj in ACTIVITY if o in orgs), D(0))
    s2 = sum((kwh * GRID[g] for _, o, g, kwh, _ in ACTIVITY if o in orgs and g), D(0))
    return float(s1), float(s2)


@pytest.fixture
def loaded(store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqlStore:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    r = ingest_events(chain(), store)
    assert r.ok, r.problems
    return store


def test_owner_scope_1_2_excludes_other_organisations(loaded: SqlStore) -> None:
    assert ledger_owners(loaded) == {OWN: ["OWN-REF"]}
    r = jsonable(esg_report(loaded, "2026"))  # default: the ledger owner declared in master data
    assert r["organisation"]["name"] == OWN and "OWN-REF" in r["organisation"]["chosen_by"]
    assert {s["id"] for s in r["sites"]} == {"OWN-CAM", "OWN-REF"}
    s1, s2 = _expected({OWN})  # 200 MJ × 0.07 = 14; (1000 + 3000) kWh × 0.5 = 2000
    assert (s1, s2) == (14.0, 2000.0)
    e = r["totals"]["emissions"]
    assert e["scope1_kg_co2e"] == pytest.approx(s1) and e["scope2_location_kg_co2e"] == pytest.approx(s2)
    assert e["scope1_2_location_kg_co2e"] == pytest.approx(s1 + s2)
    assert r["totals"]["sites"] == 2
    # suppliers' and customers' sites: reported apart, with their own sums, never in the owner's totals
    ctx = r["scope3_context"]
    assert {s["id"] for s in ctx["sites"]} == {"SUP-MINE", "CUS-CELL"}
    c1, c2 = _expected({SUP, CUS})  # (5400 + 100) × 0.07 = 385; 8000 × 0.4 = 3200
    assert ctx["totals"]["emissions"]["scope1_kg_co2e"] == pytest.approx(c1)
    assert ctx["totals"]["emissions"]["scope2_location_kg_co2e"] == pytest.approx(c2)
    k = {f["key"]: f for f in r["kpis"]["figures"]}
    assert k["scope1_2_location_t_co2e"]["value"] == pytest.approx((s1 + s2) / 1000)
    # nothing ran in 2025: no previous figure (not a zero), so no trend
    assert (k["scope1_2_location_t_co2e"]["previous"], k["scope1_2_location_t_co2e"]["trend"]) == (None, "n/a")


def test_another_organisation_as_boundary(loaded: SqlStore) -> None:
    r = jsonable(esg_report(loaded, "2026", organisation=CUS))
    assert r["organisation"] == {**r["organisation"], "name": CUS, "chosen_by": "--organisation"}
    assert [s["id"] for s in r["sites"]] == ["CUS-CELL"]
    s1, s2 = _expected({CUS})
    assert r["totals"]["emissions"]["scope1_kg_co2e"] == pytest.approx(s1)
    assert r["totals"]["emissions"]["scope2_location_kg_co2e"] == pytest.approx(s2)
    assert {s["id"] for s in r["scope3_context"]["sites"]} == {"SUP-MINE", "OWN-REF", "OWN-CAM"}
    with pytest.raises(NotFoundError, match="did you mean 'Own Group'"):
        jsonable(esg_report(loaded, "2026", organisation="Own Grup"))


def test_no_declared_owner_among_several_organisations_is_refused(store: SqlStore, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    assert ingest_events(chain(owner=False), store).ok
    assert ledger_owners(store) == {}
    with pytest.raises(NotFoundError, match="no ledger owner declared"):
        jsonable(esg_report(store, "2026"))


class _Svg(HTMLParser):
    """Each <svg>'s viewBox and its <text> elements: x, y, anchor and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.charts: list[dict[str, Any]] = []
        self._text: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg":
            _, _, w, h = (float(v) for v in (a["viewbox"] or "").split())
            self.charts.append({"w": w, "h": h, "texts": []})
        elif tag == "text":
            self._text = {"x": float(a["x"] or "nan"), "y": float(a["y"] or "nan"),
                          "anchor": a.get("text-anchor") or "start", "s": ""}
            self.charts[-1]["texts"].append(self._text)

    def handle_endtag(self, tag: str) -> None:
        if tag == "text":
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text["s"] += data


def test_chart_labels_lie_inside_the_view_box(loaded: SqlStore) -> None:
    """Every chart text, at 12 px with glyphs up to 0.62 em wide, starts and ends inside its SVG's viewBox."""
    long = "A-SITE-ID-" + "X" * 60  # a long site id: the label column grows, nothing is cut
    html = render_esg_html(_renamed(jsonable(esg_report(loaded, "2026")), "OWN-REF", long))
    p = _Svg()
    p.feed(html)
    assert len(p.charts) >= 4  # energy, scopes, footprints, recycled content (+ recovery when a recycler ran)
    shown = [x["s"] for c in p.charts for x in c["texts"]]
    assert any(long in s for s in shown) and any(re.search(r"\d %$", s) for s in shown)
    for c in p.charts:
        for x in c["texts"]:
            w = len(x["s"]) * 12 * 0.62
            left = {"start": x["x"], "middle": x["x"] - w / 2, "end": x["x"] - w}[x["anchor"]]
            assert left >= 0 and left + w <= c["w"], (x, c["w"])
            assert 12 <= x["y"] <= c["h"] - 3, (x, c["h"])


def _renamed(report: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    for s in report["sites"]:
        if s["id"] == old:
            s["id"] = new
    return report


def test_period_aggregates_take_the_boundary(loaded: SqlStore) -> None:
    from lichain.services import circularity as circ

    own = jsonable(circ.art8(loaded, period="2026", stage="cell"))  # the customer's cells are not the owner's production
    assert own["scope"]["organisation"]["name"] == OWN and own["scope"]["lots"] == 0
    cus = jsonable(circ.art8(loaded, period="2026", stage="cell", organisation=CUS))
    assert cus["scope"]["lots"] == 1 and [p["site"] for p in cus["plants"]] == ["CUS-CELL"]
    assert [p["site"] for p in jsonable(circ.art8(loaded, period="2026"))["plants"]] == ["OWN-CAM"]
    assert jsonable(circ.recovery(loaded, period="2026"))["organisation"]["name"] == OWN
    with pytest.raises(NotFoundError, match="did you mean"):
        jsonable(circ.recovery(loaded, period="2026", organisation="Customer Cell"))


def test_a_second_owner_organisation_is_refused(store: SqlStore) -> None:
    from datetime import UTC, datetime

    from lichain.core.codec import canonical_payload, content_event_id
    from lichain.core.model import Event, EventKind, LocatedEvent, Site

    def doc(*sites: Site) -> list[LocatedEvent]:
        t = datetime(2026, 1, 1, tzinfo=UTC)
        return [LocatedEvent(f"owners:{i}", Event(content_event_id(EventKind.SITE, canonical_payload(s)),
                                                  EventKind.SITE, t, s)) for i, s in enumerate(sites)]

    own = Site("A1", "Plant A", "refinery", "CN", "Group A", "CN-EAST", ledger_owner=True)
    same = Site("A2", "Plant A2", "cathode_plant", "CN", "Group A", "CN-EAST", ledger_owner=True)
    other = Site("B1", "Plant B", "refinery", "CN", "Group B", "CN-EAST", ledger_owner=True)
    assert ingest_events(doc(own), store).ok
    assert ingest_events(doc(same), store).ok  # more sites of the owner organisation: fine
    before = store.head()
    r = ingest_events(doc(other), store)
    assert not r.ok and store.head() == before
    (p,) = r.problems
    assert p.location == "owners:0/ledger_owner" and "already 'Group A'" in p.message
    both = ingest_events(doc(Site("C1", "C", "refinery", "CN", "Group C", ledger_owner=True),
                             Site("D1", "D", "refinery", "CN", "Group D", ledger_owner=True)), store)
    assert not both.ok and {q.location for q in both.problems} == {"owners:0/ledger_owner", "owners:1/ledger_owner"}

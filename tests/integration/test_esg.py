"""The ESG report on SQLite and PostgreSQL against hand arithmetic; its HTML page against its JSON."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal as D
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from lichain.core.errors import LichainError
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
    Retraction,
    Run,
    Shipment,
    Site,
)
from lichain.core.validate import LocatedEvent
from lichain.entrypoints.present import jsonable
from lichain.io.report_html import render_esg_html
from lichain.services.esg import esg_report, parse_period
from lichain.services.footprint import footprint_of
from lichain.services.ingest import ingest_events
from lichain.storage.sql import SqlStore
from tests.support.chain_text import event

KG = 1_000_000  # mg per kg
PPB = 1_000_000_000  # parts per 10⁹ per unit mass fraction


def t(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def ppb(x: str) -> int:
    return int(D(x) * PPB)


SITES = (Site("M1", "Mine", "mine", "ID", "Group"), Site("H1", "HPAL", "refinery", "ID", "Group", "ID"),
         Site("R1", "Refinery", "refinery", "CN", "Group", "CN-EAST"),
         Site("Y1", "Recycler", "recycler", "CN", "Group", "CN-EAST"),
         Site("C1", "Cathode", "cathode_plant", "CN", "Group", "CN-EAST", ledger_owner=True))
MATERIALS = (Material("ORE", "ore", "ore"), Material("MHP", "MHP", "intermediate"),
             Material("NSO", "nickel sulfate", "refined_salt"),
             Material("NSOR", "recovered NiSO4", "recovered_salt"),
             Material("SCRAP", "scrap", "scrap"), Material("BM", "black mass", "black_mass"),
             Material("CAM", "cathode", "cam"))
# Pinned factors, so the expected numbers do not depend on the shipped library: combustion and lifecycle keys
# both given (Scope 1 must take the combustion one), and C1's grid at 0.6 from April.
OVERRIDES = (
    FactorOverride("grid:CN-EAST", D("0.5"), "kg CO2/kWh", "test"),
    FactorOverride("grid:CN-EAST", D("0.6"), "kg CO2/kWh", "test C1 from April", "C1", t("2026-04-01")),
    FactorOverride("fuel:natural_gas:combustion", D("0.05"), "kg CO2e/MJ", "test"),
    FactorOverride("fuel:natural_gas", D("0.09"), "kg CO2e/MJ", "test lifecycle"),
    FactorOverride("fuel:diesel:combustion", D("0.07"), "kg CO2e/MJ", "test"),
    FactorOverride("fuel:diesel", D("0.1"), "kg CO2e/MJ", "test lifecycle"),
    FactorOverride("captive:coal:combustion", D("0.9"), "kg CO2e/kWh", "test"),
    FactorOverride("captive:coal", D("1.0"), "kg CO2e/kWh", "test lifecycle"),
    FactorOverride("generation:wind", D("0.02"), "kg CO2e/kWh", "test"),
)


def _ship(sid: str, lot: str, kg: str, frm: str, to: str, at: str) -> Shipment:
    return Shipment(sid, lot, int(D(kg) * KG), frm, to, t(at), "road", D(0))


def _run(rid: str, site: str, start: str, end: str, inputs: dict[str, int], outputs: list[Lot],
         ni_loss_kg: str, activity: Activity) -> Run:
    return Run(rid, site, "process", t(start), t(end), tuple(Consumption(k, v) for k, v in inputs.items()),
               tuple(outputs), {"Ni": int(D(ni_loss_kg) * KG)}, activity)


def _lot(lid: str, mat: str, site: str, at: str, kg: str, ni: str, origin: str = "virgin",
         activity: Activity | None = None) -> Lot:
    return Lot(lid, mat, site, t(at), int(D(kg) * KG), {"Ni": ppb(ni)}, origin, activity=activity)


def chain() -> list[list[LocatedEvent]]:
    """Mine → HPAL → refinery → cathode plant, with a recycler feeding recovered salt; one run retracted."""
    bodies: list[Any] = [*SITES, *MATERIALS, *OVERRIDES]
    bodies.append(_lot("ORE1", "ORE", "M1", "2026-01-05", "1000", "0.012",
                       activity=Activity(fuels=(Fuel("diesel", D("540")),))))
    bodies.append(_lot("ORE0", "ORE", "M1", "2025-12-20", "100", "0.012",  # before the period
                       activity=Activity(fuels=(Fuel("diesel", D("54")),))))
    # custody moves (docs/ledger.md "Custody by site"); 0 km: transport is Scope 3 and left out of this report
    bodies.append(_ship("SH-1", "ORE1", "1000", "M1", "H1", "2026-01-05T12:00"))
    bodies.append(_run("H-1", "H1", "2026-01-06", "2026-01-07", {"ORE1": 1000 * KG},
                       [_lot("MHP1", "MHP", "H1", "2026-01-07", "30", "0.39")], "0.3",
                       Activity(electricity=(Electricity(D("10000"), "captive_coal"),),
                                fuels=(Fuel("natural_gas", D("1000")),), water_m3=D("200"),
                                process_kg_co2e=D("500"))))
    bodies.append(_ship("SH-2", "MHP1", "30", "H1", "R1", "2026-01-08"))
    bodies.append(_run("R-1", "R1", "2026-02-01", "2026-02-02", {"MHP1": 20 * KG},
                       [_lot("NSO1", "NSO", "R1", "2026-02-02", "30", "0.25")], "0.3",
                       Activity(electricity=(Electricity(D("1000")),),
                                fuels=(Fuel("natural_gas", D("5000")),),
                                reagents=(Reagent("NaOH", D("100")),), water_m3=D("10"))))
    bodies.append(_run("R-3", "R1", "2026-05-01", "2026-05-02", {"MHP1": 5 * KG},  # retracted below
                       [_lot("NSO3", "NSO", "R1", "2026-05-02", "7.8", "0.25")], "0",
                       Activity(electricity=(Electricity(D("777")),))))
    bodies.append(_run("R-2", "R1", "2026-12-31", "2027-01-01", {"MHP1": 5 * KG},  # ends at the period end
                       [_lot("NSO2", "NSO", "R1", "2027-01-01", "7.8", "0.25")], "0",
                       Activity(electricity=(Electricity(D("999")),))))
    bodies.append(_lot("SCR1", "SCRAP", "Y1", "2026-03-01", "100", "0.2", "post_consumer"))
    bodies.append(_lot("SCR2", "SCRAP", "Y1", "2026-03-01", "50", "0.2", "pre_consumer"))
    bodies.append(_run("S-1", "Y1", "2026-03-02", "2026-03-02T12:00", {"SCR1": 100 * KG, "SCR2": 50 * KG},
                       [_lot("BM1", "BM", "Y1", "2026-03-02T12:00", "60", "0.49", "post_consumer")], "0.6",
                       Activity(electricity=(Electricity(D("100")),))))
    bodies.append(_run("Y-1", "Y1", "2026-03-03", "2026-03-04", {"BM1": 60 * KG},
                       [_lot("NSOR1", "NSOR", "Y1", "2026-03-04", "100", "0.28", "post_consumer")], "1.4",
                       Activity(electricity=(Electricity(D("400")),), water_m3=D("5"))))
    bodies.append(_ship("SH-3", "NSO1", "20", "R1", "C1", "2026-03-05"))
    bodies.append(_ship("SH-4", "NSOR1", "10", "Y1", "C1", "2026-03-05"))
    bodies.append(_run("C-1", "C1", "2026-04-01", "2026-04-02", {"NSO1": 20 * KG, "NSOR1": 10 * KG},
                       [_lot("CAM1", "CAM", "C1", "2026-04-02", "10", "0.76"),
                        _lot("SCRC", "SCRAP", "C1", "2026-04-02", "1", "0.1", "pre_consumer")], "0.1",
                       Activity(electricity=(Electricity(D("800")), Electricity(D("200"), "ppa", "PPA-1",
                                                                                   "generation:wind")),
                                fuels=(Fuel("diesel", D("100")),))))

    def when(b: Any) -> datetime:
        return (getattr(b, "ended_at", None) or getattr(b, "produced_at", None) or getattr(b, "shipped_at", None)
                or t("2026-01-01"))

    docs = [[LocatedEvent(f"doc:{i}", event(b, when(b))) for i, b in enumerate(bodies)]]
    r3 = next(le.event.event_id for le in docs[0] if getattr(le.event.body, "id", None) == "R-3")
    docs.append([LocatedEvent("err:1", event(Retraction(r3, t("2026-06-01"), "test"), t("2026-06-01")))])
    return docs


@pytest.fixture
def loaded(store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqlStore:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))  # snapshot and footprint caches
    for doc in chain():
        r = ingest_events(doc, store)
        assert r.ok, r.problems
    return store


def _site(report: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in report["sites"] if s["id"] == sid)


def test_indicators_match_hand_arithmetic(loaded: SqlStore) -> None:
    r = jsonable(esg_report(loaded, "2026"))
    assert r["period"] == {"label": "2026", "start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}
    assert {s["id"] for s in r["sites"]} == {"M1", "H1", "R1", "Y1", "C1"}
    approx = pytest.approx

    m1 = _site(r, "M1")  # commissioned ore: diesel 540 MJ × 0.07 (combustion, not the lifecycle 0.1)
    assert (m1["runs"], m1["commissioned_lots"]) == (0, 1)
    assert m1["energy"]["fuel_mj"] == {"diesel": 540} and m1["energy"]["total_mj"] == 540
    assert m1["emissions"]["scope1_kg_co2e"] == approx(37.8)
    # the product footprint is cradle-to-gate on lifecycle factors: 540 MJ × 0.1 / 1000 kg
    assert m1["products"] == [{"material": "ORE", "name": "ore", "stage": "ore", "lots": 1, "mass_kg": 1000,
                               "intensity_location_kg_co2e_per_kg": approx(0.054),
                               "intensity_market_kg_co2e_per_kg": approx(0.054), "footprint_complete": True,
                               "recycled_content": {"Ni": {"element_kg": approx(12), "recycled_kg": 0,
                                                           "share": 0}}}]

    h1 = _site(r, "H1")  # captive coal is Scope 1: 10 000 kWh × 0.9 + gas 1 000 MJ × 0.05 + process 500
    e = h1["emissions"]
    assert e["scope1_by_cause_kg_co2e"] == approx({"fuels": 50, "process": 500, "captive_electricity": 9000})
    assert e["scope1_kg_co2e"] == approx(9550)
    assert e["scope2_location_kg_co2e"] == 0 == e["scope2_market_kg_co2e"]
    assert h1["energy"]["electricity_kwh"] == {"captive_coal": 10000}
    assert h1["energy"]["total_mj"] == approx(10000 * 3.6 + 1000)
    assert h1["water_m3"] == 200 and h1["waste"]["element_losses_kg"] == {"Ni": approx(0.3)}
    assert h1["recycled_input"]["Ni"]["consumed_kg"] == approx(12)
    assert h1["recycled_input"]["Ni"]["share"] == 0
    assert h1["recovery"] is None
    water = float(default_library()["water:supply"].value)  # footprint counts water supply (Scope 3 here)
    mhp = (10000 * 1.0 + 1000 * 0.09 + 500 + 200 * water + 1000 * 0.054) / 30
    assert h1["products"][0]["intensity_location_kg_co2e_per_kg"] == approx(mhp)

    r1 = _site(r, "R1")  # R-2 ends at the period end (excluded), R-3 is retracted
    assert r1["runs"] == 1 and r1["energy"]["electricity_kwh"] == {"grid": 1000}
    assert r1["emissions"]["scope1_kg_co2e"] == approx(250)
    e = r1["emissions"]
    assert e["scope2_location_kg_co2e"] == approx(500) == e["scope2_market_kg_co2e"]
    assert r1["water_m3"] == 10 and [p["material"] for p in r1["products"]] == ["NSO"]
    assert r1["products"][0]["mass_kg"] == 30

    y1 = _site(r, "Y1")  # scrap in: Ni 20 kg post- + 10 kg pre-consumer; shredding + hydromet lose 2 kg
    ri = y1["recycled_input"]["Ni"]  # black mass made on site is not an input to the site
    assert ri["consumed_kg"] == approx(30)
    assert (ri["pre_consumer_kg"], ri["post_consumer_kg"]) == (approx(10), approx(20))
    assert ri["share"] == 1.0 and ri["post_consumer_share"] == approx(2 / 3)
    assert y1["waste"]["element_losses_kg"] == {"Ni": approx(2)}
    assert y1["energy"]["electricity_kwh"] == {"grid": 500}
    rec = y1["recovery"]["elements"]["Ni"]  # circularity service: recovered salt ÷ black mass (29.4 kg Ni)
    assert rec["recovery"] == approx(28 / 29.4) and rec["overall"] == approx(28 / 30)
    assert {g["key"]: g["meets"] for g in rec["targets"]} == {
        "eu.annex12.2027.Ni": True, "eu.annex12.2031.Ni": True, "cn.miit2024.Ni": False}
    assert [p["material"] for p in y1["products"]] == ["BM", "NSOR"]  # scrap received is not a product
    assert y1["waste"]["scrap_output_kg"] == 0 and (y1["runs"], y1["commissioned_lots"]) == (2, 2)

    c1 = _site(r, "C1")  # grid 800 + PPA 200 at C1's April grid factor 0.6; PPA market-based at wind 0.02
    e = c1["emissions"]
    assert e["scope2_location_by_source_kg_co2e"] == approx({"grid": 480, "ppa": 120})
    assert e["scope2_market_by_source_kg_co2e"] == approx({"grid": 480, "ppa": 4})
    assert e["scope2_location_kg_co2e"] == approx(600) and e["scope2_market_kg_co2e"] == approx(484)
    assert e["scope1_kg_co2e"] == approx(7) and e["scope1_2_market_kg_co2e"] == approx(491)
    ri = c1["recycled_input"]["Ni"]  # NSOR1 carries the scrap's physical split: 1/3 pre-, 2/3 post-consumer
    assert ri["share"] == approx(2.8 / 7.8) and ri["pre_consumer_kg"] == approx(2.8 / 3)
    assert c1["waste"]["scrap_output_kg"] == 1 and [p["material"] for p in c1["products"]] == ["CAM"]
    # CAM1's own recycled content: its Ni (10 kg × 0.76) carries the inputs' recycled share 2.8 / 7.8
    assert c1["products"][0]["recycled_content"]["Ni"] == {
        "element_kg": approx(7.6), "recycled_kg": approx(7.6 * 2.8 / 7.8), "share": approx(2.8 / 7.8)}

    # key figures: this period against 2025 (only ORE0: diesel 54 MJ × 0.07 combustion = 3.78 kg CO2e)
    assert r["kpis"]["previous_period"] == {"label": "2025", "start": "2025-01-01T00:00:00Z",
                                            "end": "2026-01-01T00:00:00Z"}
    k = {f["key"]: f for f in r["kpis"]["figures"]}
    s12 = k["scope1_2_location_t_co2e"]
    assert s12["value"] == approx((37.8 + 9550 + 250 + 7 + 500 + 250 + 600) / 1000)
    assert s12["previous"] == approx(54 * 0.07 / 1000) and s12["trend"] == "up"
    assert k["scope1_2_market_t_co2e"]["value"] == approx((37.8 + 9550 + 250 + 7 + 500 + 250 + 484) / 1000)
    assert k["cam_intensity_kg_co2e_per_kg"]["value"] == approx(footprint_of(loaded, "CAM1")["kg_co2e_per_kg"])
    assert k["cam_intensity_kg_co2e_per_kg"]["previous"] is None  # no CAM made in 2025
    assert k["recycled_share_Ni"]["value"] == approx(2.8 / 7.8) and k["recycled_share_Ni"]["trend"] == "n/a"
    rn = k["recovery_Ni"]  # before 31 Dec 2027 the first Annex XII Part C minimum (90 %) is the one shown
    assert rn["value"] == approx(28 / 29.4) and rn["target"] == 0.9 and rn["target_key"] == "eu.annex12.2027.Ni"
    assert rn["meets_target"] is True

    tot = r["totals"]["emissions"]
    assert tot["scope1_kg_co2e"] == approx(37.8 + 9550 + 250 + 7)
    assert tot["scope2_location_kg_co2e"] == approx(500 + 250 + 600)
    assert tot["scope2_market_kg_co2e"] == approx(500 + 250 + 484)
    assert r["totals"]["water_m3"] == 215 and r["totals"]["waste"]["element_losses_kg_total"] == approx(2.7)
    used = {(f["key"], f["value"]) for f in r["factors_used"]}
    assert {("captive:coal:combustion", 0.9), ("fuel:natural_gas:combustion", 0.05),
            ("fuel:diesel:combustion", 0.07)} <= used
    assert not any(k == "fuel:diesel" for k, _ in used)

    for s in r["sites"]:  # each product here is one lot: its intensity is that lot's footprint
        for p in s["products"]:
            lot = {"ORE": "ORE1", "MHP": "MHP1", "NSO": "NSO1", "NSOR": "NSOR1", "CAM": "CAM1", "BM": "BM1"}[
                p["material"]]
            f = footprint_of(loaded, lot)
            assert p["intensity_location_kg_co2e_per_kg"] == approx(f["kg_co2e_per_kg"])
            assert p["intensity_market_kg_co2e_per_kg"] == approx(f["market_based"]["kg_co2e_per_kg"])


def test_periods(loaded: SqlStore) -> None:
    assert [s["id"] for s in jsonable(esg_report(loaded, "2026-Q2"))["sites"]] == ["C1"]
    assert {s["id"] for s in jsonable(esg_report(loaded, "2026-01"))["sites"]} == {"M1", "H1"}
    half = jsonable(esg_report(loaded, "2026-01-01..2026-03-31"))
    assert {s["id"] for s in half["sites"]} == {"M1", "H1", "R1", "Y1"}
    nxt = jsonable(esg_report(loaded, "2027"))  # R-2 ended exactly at 2027-01-01T00:00Z
    assert [(s["id"], s["energy"]["electricity_kwh"]) for s in nxt["sites"]] == [("R1", {"grid": 999})]
    assert jsonable(esg_report(loaded, "2025"))["sites"][0]["energy"]["fuel_mj"] == {"diesel": 54}


@pytest.mark.parametrize("text,start,end", [
    ("2026", "2026-01-01", "2027-01-01"), ("2026-Q4", "2026-10-01", "2027-01-01"),
    ("2024-02", "2024-02-01", "2024-03-01"), ("2026-01-01..2026-06-30", "2026-01-01", "2026-07-01")])
def test_parse_period(text: str, start: str, end: str) -> None:
    p = parse_period(text)
    assert (p.start, p.end) == (t(start), t(end))


@pytest.mark.parametrize("text", ["26", "2026-Q5", "2026-13", "2026-06-30..2026-01-01", "last year"])
def test_bad_period(text: str) -> None:
    with pytest.raises(LichainError):
        parse_period(text)


# --- HTML -----------------------------------------------------------------------------------------------
class _Page(HTMLParser):
    """Collects data-key elements with their text, tags and attribute values."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[dict[str, Any]] = []
        self.tags: list[str] = []
        self.attr_values: list[str] = []
        self.style = ""
        self._open: list[dict[str, Any] | None] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        self.attr_values += [v for v in a.values() if v]
        self._in_style = tag == "style"
        item = None
        if "data-key" in a:
            item = {"key": a["data-key"], "value": a["data-value"], "scale": float(a.get("data-scale") or 1),
                    "text": ""}
        if item is not None:
            self.numbers.append(item)
        self._open.append(item)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        for item in self._open:
            if item is not None:
                item["text"] += data


def _at(doc: Any, ptr: str) -> Any:
    for part in ptr.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def _leaves(doc: Any, ptr: str = "") -> list[tuple[str, Any]]:
    if isinstance(doc, dict):
        return [x for k, v in doc.items()
                for x in _leaves(v, f"{ptr}/{k.replace('~', '~0').replace('/', '~1')}")]
    if isinstance(doc, list):
        return [x for i, v in enumerate(doc) for x in _leaves(v, f"{ptr}/{i}")]
    return [(ptr, doc)]


def _shown(text: str) -> tuple[float, float]:
    """The last number in an element's text (a chart tooltip names its site first) and its rounding step."""
    m = re.findall(r"-?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?", text)
    assert m, text
    s = m[-1].replace(",", "")
    mant, _, exp = s.partition("e")
    decimals = len(mant.partition(".")[2])
    return float(s), 10.0 ** (-decimals + int(exp or 0))


def test_html_numbers_equal_json(loaded: SqlStore, tmp_path: Path) -> None:
    from lichain.entrypoints.cli_report import register

    app = typer.Typer()  # a fresh app: the shared one stays as the CLI module builds it
    register(app)
    out = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["report", "esg", "--period", "2026", "--db", loaded.url, "--out", str(out),
                                   "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report == json.loads(json.dumps(jsonable(esg_report(loaded, "2026"))))
    text = out.read_text(encoding="utf-8")
    assert text == render_esg_html(report)

    page = _Page()
    page.feed(text)
    assert len(page.numbers) > 100
    for n in page.numbers:
        v = _at(report, n["key"])
        assert json.loads(n["value"]) == v, n["key"]
        if isinstance(v, bool) or v is None:
            continue
        shown, step = _shown(n["text"])  # the shown figure is the value rounded to its last shown digit
        assert abs(shown - v * n["scale"]) <= step / 2 * (1 + 1e-9), n

    keys = {n["key"] for n in page.numbers}
    wanted = [p for p, v in _leaves(report["totals"], "/totals") + _leaves(report["sites"], "/sites")
              + _leaves(report["kpis"], "/kpis") + _leaves(report["scope3_context"], "/scope3_context")
              if isinstance(v, int | float) and not isinstance(v, bool)]
    assert wanted and [p for p in wanted if p not in keys] == []

    # self-contained: no scripts, stylesheets, images or frames; no URL in any attribute or in the CSS
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert not [v for v in page.attr_values if re.search(r"https?:|//", v)]
    assert "url(" not in page.style and "@import" not in page.style
    assert "<svg" in text and text.count("<rect") >= 5

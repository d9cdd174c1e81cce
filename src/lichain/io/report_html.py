"""Render the ESG report (JSON of :func:`lichain.services.esg.esg_report`) as one self-contained HTML page.

Why a template: the page shows text that users entered (site and material names, organisations, fuel kinds,
reagent names), so all markup comes from one Jinja2 template (``lichain/data/templates/esg.html``, shipped in
the package) rendered with autoescape on: every value, in text and in attributes, is escaped by the engine and
no code here builds markup. This module only turns the report into a view model: tables whose cells are plain
text or :class:`Num` figures, and chart geometry (numbers) for the inline SVG bars.

The page opens anywhere without network access (a mail attachment, an audit file): inline CSS, inline SVG, no
scripts, no fonts, no external URLs. Every number on the page, in tables and in charts, sits in an element
carrying ``data-key`` (the RFC 6901 JSON Pointer of the number in the report) and ``data-value`` (the JSON text
of that number); ``data-scale`` says when the displayed figure is the value times a factor (percent, GJ, t). A
test walks these attributes and compares them with the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

__all__ = ["Num", "fmt_number", "pointer", "render_esg_html"]

Path = tuple[str | int, ...]
Cell = Any  # str (plain text) or Num
Table = dict[str, Any]  # {"head": [str], "rows": [[Cell]]}

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")
_SCOPE1, _SCOPE2 = "#8c564b", "#1f77b4"

_CITES = ("GHG Protocol Corporate Accounting and Reporting Standard (revised edition, 2004); GHG Protocol "
          "Scope 2 Guidance (2015); Regulation (EU) 2023/1542 Art. 8 and Annex XII Part C; Commission "
          "Delegated Regulation (EU) 2025/606; China MIIT standard conditions for waste power-battery "
          "recycling (2024).")


def pointer(*parts: str | int) -> str:
    """RFC 6901 JSON Pointer of a path: ``pointer("sites", 0, "water_m3")`` → ``/sites/0/water_m3``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def fmt_number(v: Any, scale: float = 1.0) -> str:
    """Display text of a number: thousands separators, about four significant digits below 10."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int) and scale == 1.0:
        return f"{v:,d}"
    x = float(v) * scale
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:,.1f}" if abs(x) >= 10 else f"{x:.4g}"


class Num(NamedTuple):
    """A figure on the page: its JSON Pointer, exact JSON text, scale attribute, shown text and CSS class."""

    key: str
    json: str
    scale: str  # "" when the figure is shown unscaled
    text: str
    cls: str


def _n(path: Path, value: Any, scale: float = 1.0, suffix: str = "", cls: str = "num") -> Num:
    if isinstance(value, bool):
        cls += " ok" if value else " bad"
    return Num(pointer(*path), json.dumps(value), f"{scale:g}" if scale != 1.0 else "",
               fmt_number(value, scale) + suffix, cls)


def _pct(path: Path, value: Any, suffix: str = " %") -> Num:
    return _n(path, value, 100, suffix)


def _span(path: Path, value: Any) -> Num:
    return _n(path, value, cls="n")


def _table(head: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Table:
    return {"head": list(head), "rows": [list(r) for r in rows]}


# --- charts ---------------------------------------------------------------------------------------------
class _Seg(NamedTuple):
    """A bar segment: colour, name, JSON path and value, and the factor to the chart's axis unit."""

    colour: str
    name: str
    path: Path
    value: Any
    scale: float


class _Bar(NamedTuple):
    """A stacked bar: label, segments, and the total printed at its end (JSON path, value, scale)."""

    label: str
    segs: Sequence[_Seg]
    total_path: Path
    total: Any
    total_scale: float


def _hbars(title: str, unit: str, bars: Sequence[_Bar], legend: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Geometry of horizontal stacked bars; widths are value × scale, relative to the longest bar."""
    from lichain.io.report_kpi import CHAR_W

    label_w = int(max([20, *[len(b.label) for b in bars]]) * CHAR_W) + 16  # as wide as the longest label
    bar_w, row_h, top = 560, 22, 26
    width, height = label_w + bar_w + 150, top + row_h * max(len(bars), 1) + 10
    longest = max((sum(max(float(g.value or 0) * g.scale, 0) for g in b.segs) for b in bars), default=0.0)
    longest = longest or 1.0
    rows = []
    for i, b in enumerate(bars):
        y = top + i * row_h
        x = float(label_w)
        segs = []
        for g in b.segs:
            w = max(float(g.value or 0) * g.scale, 0) / longest * bar_w
            if w <= 0:
                continue
            segs.append({"x": f"{x:.2f}", "y": y + 3, "w": f"{w:.2f}", "h": row_h - 6, "colour": g.colour,
                         "num": _n(g.path, g.value), "tip": f"{b.label}, {g.name}: {fmt_number(g.value)}"})
            x += w
        rows.append({"label": b.label, "label_x": label_w - 6, "text_y": y + 14, "segs": segs,
                     "total_x": f"{x + 5:.2f}", "total": _n(b.total_path, b.total, b.total_scale)})
    return {"title": title, "unit": unit, "unit_x": label_w, "width": width, "height": height, "bars": rows,
            "legend": list(legend)}


def _energy_chart(sites: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    names = sorted({("electricity_kwh", k) for s in sites for k in s["energy"]["electricity_kwh"]}
                   | {("fuel_mj", k) for s in sites for k in s["energy"]["fuel_mj"]})
    colour = {n: _PALETTE[i % len(_PALETTE)] for i, n in enumerate(names)}
    label = {n: f"{n[0].split('_')[0]}: {n[1].replace('_', ' ')}" for n in names}
    bars = []
    for i, s in enumerate(sites):
        segs = [_Seg(colour[(g, k)], label[(g, k)], ("sites", i, "energy", g, k), v,
                     3.6e-3 if g == "electricity_kwh" else 1e-3)
                for g in ("electricity_kwh", "fuel_mj") for k, v in s["energy"][g].items()]
        bars.append(_Bar(s["id"], segs, ("sites", i, "energy", "total_mj"), s["energy"]["total_mj"], 1e-3))
    return _hbars("Energy by source per site", "GJ (electricity at 3.6 MJ/kWh)", bars,
                  [(label[n], colour[n]) for n in names])


def _scope_chart(sites: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    bars = []
    for i, s in enumerate(sites):
        e, p = s["emissions"], ("sites", i, "emissions")
        for basis in ("location", "market"):
            segs = [_Seg(_SCOPE1, "Scope 1", (*p, "scope1_kg_co2e"), e["scope1_kg_co2e"], 1e-3),
                    _Seg(_SCOPE2, f"Scope 2 {basis}-based", (*p, f"scope2_{basis}_kg_co2e"),
                         e[f"scope2_{basis}_kg_co2e"], 1e-3)]
            bars.append(_Bar(f"{s['id']} ({basis})", segs, (*p, f"scope1_2_{basis}_kg_co2e"),
                             e[f"scope1_2_{basis}_kg_co2e"], 1e-3))
    return _hbars("Scope 1 and 2 emissions per site, location- and market-based", "t CO2e", bars,
                  [("Scope 1", _SCOPE1), ("Scope 2", _SCOPE2)])


def _footprint_chart(sites: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    bars = []
    for i, s in enumerate(sites):
        for j, q in enumerate(s["products"]):
            v = q["intensity_location_kg_co2e_per_kg"]
            if v is not None:
                path = ("sites", i, "products", j, "intensity_location_kg_co2e_per_kg")
                seg = _Seg(_PALETTE[0], "location-based", path, v, 1.0)
                bars.append(_Bar(f"{q['material']} @ {s['id']}", [seg], path, v, 1.0))
    if not bars:
        return None
    return _hbars("Product footprints (location-based)", "kg CO2e per kg product", bars)


# --- tables ---------------------------------------------------------------------------------------------
def _kv_rows(base: Path, m: Mapping[str, Any], unit: str) -> list[list[Cell]]:
    return [[k.replace("_", " "), unit, _n((*base, k), v)] for k, v in m.items()]


def _common(p: Path, s: Mapping[str, Any]) -> dict[str, Any]:
    """Energy and water, emissions, and waste tables of a site or of the totals (``p``: its JSON path)."""
    en, em, w, ep = s["energy"], s["emissions"], s["waste"], (*p, "emissions")
    rows = _kv_rows((*p, "energy", "electricity_kwh"), en["electricity_kwh"], "kWh")
    rows.append(["electricity, total", "kWh", _n((*p, "energy", "electricity_kwh_total"),
                                                  en["electricity_kwh_total"])])
    rows += _kv_rows((*p, "energy", "fuel_mj"), en["fuel_mj"], "MJ")
    rows += [["fuels, total", "MJ", _n((*p, "energy", "fuel_mj_total"), en["fuel_mj_total"])],
             ["all energy", "MJ", _n((*p, "energy", "total_mj"), en["total_mj"])],
             ["water", "m³", _n((*p, "water_m3"), s["water_m3"])]]
    energy = _table(["source", "unit", "amount"], rows)

    def both(name: str, part: str, loc: str, mkt: str, lv: Any, mv: Any) -> list[Cell]:
        return [name, part, _n((*ep, *loc.split(".")), lv), _n((*ep, *mkt.split(".")), mv)]

    rows = [["Scope 1", "total", _n((*ep, "scope1_kg_co2e"), em["scope1_kg_co2e"]), ""]]
    rows += [["Scope 1", c.replace("_", " "), _n((*ep, "scope1_by_cause_kg_co2e", c), v), ""]
             for c, v in em["scope1_by_cause_kg_co2e"].items()]
    rows.append(both("Scope 2", "total", "scope2_location_kg_co2e", "scope2_market_kg_co2e",
                     em["scope2_location_kg_co2e"], em["scope2_market_kg_co2e"]))
    rows += [both("Scope 2", k.replace("_", " "), f"scope2_location_by_source_kg_co2e.{k}",
                  f"scope2_market_by_source_kg_co2e.{k}", v, em["scope2_market_by_source_kg_co2e"].get(k))
             for k, v in em["scope2_location_by_source_kg_co2e"].items()]
    rows.append(both("Scope 1 + 2", "total", "scope1_2_location_kg_co2e", "scope1_2_market_kg_co2e",
                     em["scope1_2_location_kg_co2e"], em["scope1_2_market_kg_co2e"]))
    emissions = _table(["scope", "part", "location-based", "market-based"], rows)
    rows = _kv_rows((*p, "waste", "element_losses_kg"), w["element_losses_kg"], "kg")
    rows += [["element losses, total", "kg", _n((*p, "waste", "element_losses_kg_total"),
                                                w["element_losses_kg_total"])],
             ["production scrap made", "kg", _n((*p, "waste", "scrap_output_kg"), w["scrap_output_kg"])]]
    return {"energy": energy, "emissions": emissions, "complete": bool(em["complete"]),
            "waste": _table(["element / stream", "unit", "mass"], rows)}


def _recycled(rp: Path, rec: Mapping[str, Any]) -> Table:
    kg = ("consumed_kg", "recycled_kg", "pre_consumer_kg", "post_consumer_kg")
    sh = ("share", "pre_consumer_share", "post_consumer_share")
    rows = [[el, *[_n((*rp, el, k), r[k]) for k in kg], *[_pct((*rp, el, k), r[k]) for k in sh]]
            for el, r in rec.items()]
    return _table(["element", "input kg", "recycled kg", "pre-consumer kg", "post-consumer kg",
                   "recycled share", "pre-consumer share", "post-consumer share"], rows)


def _recovery(rp: Path, rec: Mapping[str, Any]) -> dict[str, Any]:
    """Recovery per element (circularity service shape) and its comparison with each target."""
    ep = (*rp, "elements")
    kg = ("black_mass_in_kg", "recovered_kg", "waste_in_kg")
    rows = [[el, *[_n((*ep, el, k), r[k]) for k in kg], _pct((*ep, el, "recovery"), r["recovery"]),
             _pct((*ep, el, "overall"), r["overall"])] for el, r in rec["elements"].items()]
    trows = [[el, g["key"], g["regime"], g["applies_from"],
              _pct((*ep, el, "targets", j, "minimum"), g["minimum"]),
              _pct((*ep, el, "targets", j, "gap"), g["gap"], " pp"),
              _n((*ep, el, "targets", j, "meets"), g["meets"]), g["status"]]
             for el, r in rec["elements"].items() for j, g in enumerate(r["targets"])]
    return {"runs": _span((*rp, "runs"), rec["runs"]), "status": rec["status"], "basis": rec["basis"],
            "elements": _table(["element", "black mass in kg", "recovered kg", "waste in kg", "recovery",
                                "overall (from waste)"], rows),
            "targets": _table(["element", "target", "rule", "applies from", "minimum", "gap", "meets",
                               "status"], trows)}


def _products(pp: Path, products: Sequence[Mapping[str, Any]]) -> Table:
    cols = ("lots", "mass_kg", "intensity_location_kg_co2e_per_kg", "intensity_market_kg_co2e_per_kg")
    rows = [[f"{q['material']} ({q['stage']})", *[_n((*pp, j, k), q[k]) for k in cols]]
            for j, q in enumerate(products)]
    return _table(["material", "lots", "mass kg", "location-based", "market-based"], rows)


def _made_recycled(pp: Path, products: Sequence[Mapping[str, Any]]) -> Table | None:
    """Recycled content of the lots made (each lot's own physical pre-/post-consumer share, element-weighted)."""
    rows = [[f"{q['material']} ({q['stage']})", el, _n((*pp, j, "recycled_content", el, "element_kg"),
                                                       r["element_kg"]),
             _n((*pp, j, "recycled_content", el, "recycled_kg"), r["recycled_kg"]),
             _pct((*pp, j, "recycled_content", el, "share"), r["share"])]
            for j, q in enumerate(products) for el, r in q.get("recycled_content", {}).items()]
    return _table(["material", "element", "element kg", "recycled kg", "recycled share"], rows) if rows else None


def _site(i: int, s: Mapping[str, Any], base: Path = ("sites",)) -> dict[str, Any]:
    p: Path = (*base, i)
    return {
        "i": i if base == ("sites",) else f"c{i}", "id": s["id"], "name": s["name"], "kind": s["kind"], "country": s["country"],
        "grid_region": s.get("grid_region") or "", "organisation": s["organisation"],
        "runs": _span((*p, "runs"), s["runs"]),
        "commissioned_lots": _span((*p, "commissioned_lots"), s["commissioned_lots"]),
        "common": _common(p, s),
        "recycled": _recycled((*p, "recycled_input"), s["recycled_input"]) if s["recycled_input"] else None,
        "recovery": _recovery((*p, "recovery"), s["recovery"]) if s.get("recovery") else None,
        "products": _products((*p, "products"), s["products"]) if s["products"] else None,
        "made_recycled": _made_recycled((*p, "products"), s["products"]),
        "problems": _table(["kind", "message", "activity rows"],
                           [[q["kind"], q["message"], _n((*p, "problems", j, "count"), q["count"])]
                            for j, q in enumerate(s["problems"])]) if s["problems"] else None,
    }


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(loader=PackageLoader("lichain", "data/templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("esg.html")


def render_esg_html(report: Mapping[str, Any]) -> str:
    """The whole report as one HTML page (UTF-8 text): no scripts, no external resources, all text escaped."""
    from lichain.io.report_kpi import kpi_view, target_chart

    sites, ctx = report["sites"], report["scope3_context"]
    figs = list(enumerate(report["kpis"]["figures"]))
    view = {
        "period": report["period"], "ledger_head": report["ledger_head"],
        "organisation": report["organisation"], "previous": report["kpis"]["previous_period"],
        "kpis": kpi_view(report["kpis"]["figures"]),
        "recycled_chart": target_chart("Recycled content of CAM made against Art. 8 minimums",
                                       [(i, f) for i, f in figs if f["key"].startswith("recycled_share_")]),
        "recovery_chart": target_chart("Recovery from black mass against Annex XII Part C minimums",
                                       [(i, f) for i, f in figs if f["key"].startswith("recovery_")]),
        "context_note": ctx["note"],
        "context_sites": [_site(i, x, ("scope3_context", "sites")) for i, x in enumerate(ctx["sites"])],
        "context_total_sites": _span(("scope3_context", "totals", "sites"), ctx["totals"]["sites"]),
        "context_totals": _common(("scope3_context", "totals"), ctx["totals"]),
        "factor_library": report["factor_library"],
        "total_sites": _span(("totals", "sites"), report["totals"]["sites"]),
        "totals": _common(("totals",), report["totals"]),
        "energy_chart": _energy_chart(sites), "scope_chart": _scope_chart(sites),
        "footprint_chart": _footprint_chart(sites),
        "sites": [_site(i, s) for i, s in enumerate(sites)],
        "problems": [(q["kind"], q["message"]) for q in report["problems"]],
        "method": [(k.replace("_", " "), str(v)) for k, v in report["method"].items()],
        "cites": _CITES,
        "factors": _table(["factor", "value", "unit", "basis", "source"],
                          [[f["key"], _n(("factors_used", j, "value"), f["value"]), f["unit"],
                            f.get("basis") or "", f.get("source") or ""]
                           for j, f in enumerate(report["factors_used"])]),
    }
    return _template().render(view)

"""Render the ESG report (JSON of :func:`lichain.services.esg.esg_report`) as one self-contained HTML page.

Why a hand-written renderer: the page must open anywhere without network access (a mail attachment, an
audit file) and its numbers must be checkable against the JSON. So it uses the standard library only: inline
CSS, inline SVG bar charts drawn here, no scripts, no fonts, no external URLs. Every number on the page, in
tables and in charts, sits in an element carrying ``data-key`` (the RFC 6901 JSON Pointer of the number in
the report) and ``data-value`` (the JSON text of that number); ``data-scale`` says when the displayed figure
is the value times a factor (percent, GJ, t). A test walks these attributes and compares them with the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, NamedTuple

__all__ = ["fmt_number", "pointer", "render_esg_html"]

Path = tuple[str | int, ...]

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")
_SCOPE1, _SCOPE2 = "#8c564b", "#1f77b4"

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:2rem auto;
max-width:1100px;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}
h2{margin-top:2.2rem;border-bottom:2px solid #ddd;padding-bottom:.2rem}
h3{margin:1.4rem 0 .4rem}.meta,.note{color:#555}.note{font-size:.9em}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.92em}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.ok{color:#1a7f37}.bad{color:#b42318}
.site{border:1px solid #e5e5e5;border-radius:6px;padding:.2rem 1rem;margin:1rem 0}
svg{display:block;margin:.5rem 0 1.2rem;max-width:100%;height:auto}
svg text{font:12px system-ui,sans-serif;fill:#222}
.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em}
@media print{.site{break-inside:avoid}}
"""

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


def _attrs(key: str, value: Any, scale: float = 1.0) -> str:
    a = f' data-key="{escape(key)}" data-value="{escape(json.dumps(value))}"'
    return a + (f' data-scale="{scale:g}"' if scale != 1.0 else "")


def _num(tag: str, path: Path, value: Any, scale: float = 1.0, suffix: str = "", cls: str = "num") -> str:
    """An element showing a number, carrying its JSON Pointer and exact value."""
    if isinstance(value, bool):
        cls += " ok" if value else " bad"
    return (f'<{tag} class="{cls}"{_attrs(pointer(*path), value, scale)}>'
            f"{fmt_number(value, scale)}{suffix}</{tag}>")


def _td(path: Path, value: Any, scale: float = 1.0, suffix: str = "") -> str:
    return _num("td", path, value, scale, suffix)


def _pct(path: Path, value: Any, suffix: str = " %") -> str:
    return _num("td", path, value, 100, suffix)


def _span(path: Path, value: Any) -> str:
    return _num("span", path, value, cls="n")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table from header texts and cells: ready-made ``<td>`` strings, or plain text (escaped here)."""
    h = "".join(f"<th>{escape(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(c if c.startswith("<td") else f"<td>{escape(c)}</td>" for c in r)
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


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


def _legend(items: Sequence[tuple[str, str]]) -> str:
    return '<p class="legend">' + "".join(f'<span><i style="background:{c}"></i>{escape(t)}</span>'
                                          for t, c in items) + "</p>"


def _hbars(title: str, unit: str, bars: Sequence[_Bar]) -> str:
    """Horizontal stacked bars as inline SVG; bar widths are value × scale, relative to the longest bar."""
    label_w, bar_w, row_h, top = 250, 560, 22, 26
    width, height = label_w + bar_w + 150, top + row_h * max(len(bars), 1) + 10
    longest = max((sum(max(float(g.value or 0) * g.scale, 0) for g in b.segs) for b in bars), default=0.0)
    longest = longest or 1.0
    out = [f'<svg role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
           f"<title>{escape(title)}</title>", f'<text x="{label_w}" y="16">{escape(unit)}</text>']
    for i, b in enumerate(bars):
        y = top + i * row_h
        out.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(b.label[:40])}</text>')
        x = float(label_w)
        for g in b.segs:
            w = max(float(g.value or 0) * g.scale, 0) / longest * bar_w
            if w <= 0:
                continue
            tip = f"{b.label}, {g.name}: {fmt_number(g.value)}"
            out.append(f'<rect x="{x:.2f}" y="{y + 3}" width="{w:.2f}" height="{row_h - 6}" fill="{g.colour}"'
                       f"{_attrs(pointer(*g.path), g.value)}><title>{escape(tip)}</title></rect>")
            x += w
        total = _attrs(pointer(*b.total_path), b.total, b.total_scale)
        out.append(f'<text x="{x + 5:.2f}" y="{y + 14}"{total}>'
                   f"{fmt_number(b.total, b.total_scale)}</text>")
    return "".join(out) + "</svg>"


def _energy_chart(sites: Sequence[Mapping[str, Any]]) -> str:
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
    return (_legend([(label[n], colour[n]) for n in names])
            + _hbars("Energy by source per site", "GJ (electricity at 3.6 MJ/kWh)", bars))


def _scope_chart(sites: Sequence[Mapping[str, Any]]) -> str:
    bars = []
    for i, s in enumerate(sites):
        e, p = s["emissions"], ("sites", i, "emissions")
        for basis in ("location", "market"):
            segs = [_Seg(_SCOPE1, "Scope 1", (*p, "scope1_kg_co2e"), e["scope1_kg_co2e"], 1e-3),
                    _Seg(_SCOPE2, f"Scope 2 {basis}-based", (*p, f"scope2_{basis}_kg_co2e"),
                         e[f"scope2_{basis}_kg_co2e"], 1e-3)]
            bars.append(_Bar(f"{s['id']} ({basis})", segs, (*p, f"scope1_2_{basis}_kg_co2e"),
                             e[f"scope1_2_{basis}_kg_co2e"], 1e-3))
    return (_legend([("Scope 1", _SCOPE1), ("Scope 2", _SCOPE2)])
            + _hbars("Scope 1 and 2 emissions per site, location- and market-based", "t CO2e", bars))


def _footprint_chart(sites: Sequence[Mapping[str, Any]]) -> str:
    bars = []
    for i, s in enumerate(sites):
        for j, q in enumerate(s["products"]):
            v = q["intensity_location_kg_co2e_per_kg"]
            if v is not None:
                path = ("sites", i, "products", j, "intensity_location_kg_co2e_per_kg")
                seg = _Seg(_PALETTE[0], "location-based", path, v, 1.0)
                bars.append(_Bar(f"{q['material']} @ {s['id']}", [seg], path, v, 1.0))
    if not bars:
        return '<p class="note">No product footprints available for this period.</p>'
    return _hbars("Product footprints (location-based)", "kg CO2e per kg product", bars)


# --- tables ---------------------------------------------------------------------------------------------
def _kv_rows(base: Path, m: Mapping[str, Any], unit: str) -> list[list[str]]:
    return [[k.replace("_", " "), unit, _td((*base, k), v)] for k, v in m.items()]


def _common(p: Path, s: Mapping[str, Any]) -> str:
    """Energy and water, emissions, and waste tables of a site or of the totals (``p``: its JSON path)."""
    en, em, w, ep = s["energy"], s["emissions"], s["waste"], (*p, "emissions")
    rows = _kv_rows((*p, "energy", "electricity_kwh"), en["electricity_kwh"], "kWh")
    rows.append(["electricity, total", "kWh", _td((*p, "energy", "electricity_kwh_total"),
                                                   en["electricity_kwh_total"])])
    rows += _kv_rows((*p, "energy", "fuel_mj"), en["fuel_mj"], "MJ")
    rows += [["fuels, total", "MJ", _td((*p, "energy", "fuel_mj_total"), en["fuel_mj_total"])],
             ["all energy", "MJ", _td((*p, "energy", "total_mj"), en["total_mj"])],
             ["water", "m³", _td((*p, "water_m3"), s["water_m3"])]]
    out = "<h4>Energy and water</h4>" + _table(["source", "unit", "amount"], rows)

    def both(name: str, part: str, loc: str, mkt: str, lv: Any, mv: Any) -> list[str]:
        return [name, part, _td((*ep, *loc.split(".")), lv), _td((*ep, *mkt.split(".")), mv)]

    rows = [["Scope 1", "total", _td((*ep, "scope1_kg_co2e"), em["scope1_kg_co2e"]), ""]]
    rows += [["Scope 1", c.replace("_", " "), _td((*ep, "scope1_by_cause_kg_co2e", c), v), ""]
             for c, v in em["scope1_by_cause_kg_co2e"].items()]
    rows.append(both("Scope 2", "total", "scope2_location_kg_co2e", "scope2_market_kg_co2e",
                     em["scope2_location_kg_co2e"], em["scope2_market_kg_co2e"]))
    rows += [both("Scope 2", k.replace("_", " "), f"scope2_location_by_source_kg_co2e.{k}",
                  f"scope2_market_by_source_kg_co2e.{k}", v, em["scope2_market_by_source_kg_co2e"].get(k))
             for k, v in em["scope2_location_by_source_kg_co2e"].items()]
    rows.append(both("Scope 1 + 2", "total", "scope1_2_location_kg_co2e", "scope1_2_market_kg_co2e",
                     em["scope1_2_location_kg_co2e"], em["scope1_2_market_kg_co2e"]))
    flag = "" if em["complete"] else ' <span class="bad">(incomplete: some data had no factor)</span>'
    out += f"<h4>Emissions [kg CO2e]{flag}</h4>" + _table(["scope", "part", "location-based", "market-based"],
                                                           rows)
    rows = _kv_rows((*p, "waste", "element_losses_kg"), w["element_losses_kg"], "kg")
    rows += [["element losses, total", "kg", _td((*p, "waste", "element_losses_kg_total"),
                                                 w["element_losses_kg_total"])],
             ["production scrap made", "kg", _td((*p, "waste", "scrap_output_kg"), w["scrap_output_kg"])]]
    return out + ("<h4>Waste and residues (declared element losses to effluent and residue)</h4>"
                  + _table(["element / stream", "unit", "mass"], rows))


def _recycled(rp: Path, rec: Mapping[str, Any]) -> str:
    kg = ("consumed_kg", "recycled_kg", "pre_consumer_kg", "post_consumer_kg")
    sh = ("share", "pre_consumer_share", "post_consumer_share")
    rows = [[el, *[_td((*rp, el, k), r[k]) for k in kg], *[_pct((*rp, el, k), r[k]) for k in sh]]
            for el, r in rec.items()]
    return ("<h4>Recycled input share (element mass entering the site)</h4>"
            + _table(["element", "input kg", "recycled kg", "pre-consumer kg", "post-consumer kg",
                      "recycled share", "pre-consumer share", "post-consumer share"], rows))


def _recovery(rp: Path, rec: Mapping[str, Any]) -> str:
    """Recovery per element (circularity service shape) and its comparison with each target."""
    ep = (*rp, "elements")
    kg = ("black_mass_in_kg", "recovered_kg", "waste_in_kg")
    rows = [[el, *[_td((*ep, el, k), r[k]) for k in kg], _pct((*ep, el, "recovery"), r["recovery"]),
             _pct((*ep, el, "overall"), r["overall"])] for el, r in rec["elements"].items()]
    trows = [[el, g["key"], g["regime"], g["applies_from"],
              _pct((*ep, el, "targets", j, "minimum"), g["minimum"]),
              _pct((*ep, el, "targets", j, "gap"), g["gap"], " pp"),
              _td((*ep, el, "targets", j, "meets"), g["meets"]), g["status"]]
             for el, r in rec["elements"].items() for j, g in enumerate(r["targets"])]
    runs = _span((*rp, "runs"), rec["runs"])
    return (f'<h4>Recovery efficiency ({runs} runs; {escape(rec["status"])})</h4>'
            f'<p class="note">{escape(rec["basis"])}</p>'
            + _table(["element", "black mass in kg", "recovered kg", "waste in kg", "recovery",
                      "overall (from waste)"], rows)
            + _table(["element", "target", "rule", "applies from", "minimum", "gap", "meets", "status"],
                     trows))


def _products(pp: Path, products: Sequence[Mapping[str, Any]]) -> str:
    cols = ("lots", "mass_kg", "intensity_location_kg_co2e_per_kg", "intensity_market_kg_co2e_per_kg")
    rows = [[f"{q['material']} ({q['stage']})", *[_td((*pp, j, k), q[k]) for k in cols]]
            for j, q in enumerate(products)]
    return ("<h4>Products made and their footprint [kg CO2e per kg, mass-weighted mean over lots]</h4>"
            + _table(["material", "lots", "mass kg", "location-based", "market-based"], rows))


def _site(i: int, s: Mapping[str, Any]) -> str:
    p: Path = ("sites", i)
    grid = f", grid {escape(s['grid_region'])}" if s.get("grid_region") else ""
    out = [f'<section class="site" id="site-{i}"><h3>{escape(s["id"])} — {escape(s["name"])}</h3>',
           f'<p class="meta">{escape(s["kind"])}, {escape(s["country"])}{grid}, {escape(s["organisation"])}; '
           f'runs {_span((*p, "runs"), s["runs"])}, commissioned lots '
           f'{_span((*p, "commissioned_lots"), s["commissioned_lots"])}</p>', _common(p, s)]
    if s["recycled_input"]:
        out.append(_recycled((*p, "recycled_input"), s["recycled_input"]))
    if s.get("recovery"):
        out.append(_recovery((*p, "recovery"), s["recovery"]))
    if s["products"]:
        out.append(_products((*p, "products"), s["products"]))
    if s["problems"]:
        rows = [[q["kind"], q["message"], _td((*p, "problems", j, "count"), q["count"])]
                for j, q in enumerate(s["problems"])]
        out.append("<h4>Data problems</h4>" + _table(["kind", "message", "activity rows"], rows))
    return "".join(out) + "</section>"


def _method(r: Mapping[str, Any]) -> str:
    items = "".join(f"<li><b>{escape(k.replace('_', ' '))}</b>: {escape(str(v))}</li>"
                    for k, v in r["method"].items())
    rows = [[f["key"], _td(("factors_used", j, "value"), f["value"]), f["unit"], f.get("basis") or "",
             f.get("source") or ""] for j, f in enumerate(r["factors_used"])]
    return (f'<h2>Method and factors</h2><ul>{items}</ul><p class="note">References: {escape(_CITES)}</p>'
            + _table(["factor", "value", "unit", "basis", "source"], rows))


def render_esg_html(report: Mapping[str, Any]) -> str:
    """The whole report as one HTML page (UTF-8 text): no scripts, no external resources."""
    per, sites = report["period"], report["sites"]
    toc = "".join(f'<li><a href="#site-{i}">{escape(s["id"])}</a></li>' for i, s in enumerate(sites))
    problems = "".join(f"<li>{escape(q['kind'])}: {escape(q['message'])}</li>" for q in report["problems"])
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>ESG report {escape(per['label'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>ESG management report — {escape(per['label'])}</h1>",
        f'<p class="meta">Period {escape(per["start"])} to {escape(per["end"])} (end exclusive, UTC). Ledger '
        f'head <code>{escape(report["ledger_head"])}</code>; factor library '
        f'{escape(report["factor_library"])}.</p>',
        "<h2>All reported sites</h2><p>Sites reported: "
        f'{_span(("totals", "sites"), report["totals"]["sites"])}. They may belong to different '
        "organisations (suppliers and customers recorded in the ledger).</p>",
        _common(("totals",), report["totals"]),
        "<h2>Energy by source</h2>", _energy_chart(sites),
        "<h2>Scope 1 and Scope 2</h2>", _scope_chart(sites),
        "<h2>Product footprints</h2>", _footprint_chart(sites),
        f"<h2>Sites</h2><ul>{toc}</ul>", *(_site(i, s) for i, s in enumerate(sites)),
        f"<h2>Report-level problems</h2><ul>{problems}</ul>" if problems else "",
        _method(report), "</body></html>",
    ])

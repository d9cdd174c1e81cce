"""View model of the ESG report's opening: key-figure cards and the target charts (inline SVG geometry).

Why a module of its own: the summary is what people read first, so its figures are rounded for people
(``1,234 t CO2e``, ``23.9 kg CO2e/kg``, ``16.2 %``) while each still carries its JSON Pointer and exact value,
like every number of the page (:mod:`lichain.io.report_html`). Chart text is placed so it lies inside the
SVG's viewBox whatever the label: label columns are as wide as their longest label (``CHAR_W`` per character,
an upper bound of a 12 px sans-serif glyph's advance), never cut.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from lichain.io.report_html import Num, pointer

__all__ = ["CHAR_W", "fmt_people", "kpi_view", "target_chart"]

#: Width reserved per character of chart text [px] (12 px font; a wide glyph's advance is about 0.6 em).
CHAR_W = 7.5
_BAR, _TARGET = "#2ca02c", "#b42318"
_ARROW = {"up": "▲ up", "down": "▼ down", "flat": "= flat", "n/a": "n/a"}


def fmt_people(v: Any, scale: float = 1.0) -> str:
    """A figure rounded for people: ``1,234`` at and above 100, one decimal from 1, two significant digits below."""
    if v is None:
        return "—"
    x = float(v) * scale
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1 or x == 0:
        return f"{x:.1f}"
    return f"{x:.2g}"


def _num(path: tuple[str | int, ...], v: Any, scale: float = 1.0, suffix: str = "", sign: bool = False) -> Num:
    text = fmt_people(v, scale)
    if sign and v is not None and float(v) > 0:
        text = "+" + text
    return Num(pointer(*path), json.dumps(v), f"{scale:g}" if scale != 1.0 else "", text + suffix, "num")


def kpi_view(figures: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One card per key figure: value, previous value, change and target, each a :class:`Num`."""
    out = []
    for i, f in enumerate(figures):
        p = ("kpis", "figures", i)
        share = f["unit"] == "share"
        scale, pct = (100.0, " %") if share else (1.0, "")  # units with digits (CO2e) stay outside the figure
        card = {"label": f["label"], "unit": "" if share else f["unit"],
                "value": _num((*p, "value"), f["value"], scale, pct),
                "previous": _num((*p, "previous"), f["previous"], scale, pct),
                "change": _num((*p, "change"), f["change"], scale, " pp" if share else "", sign=True),
                "trend": _ARROW.get(f["trend"], f["trend"]), "source": f["source"],
                "target": None, "meets": None}
        if f.get("target_key"):
            card["target"] = _num((*p, "target"), f["target"], scale, pct)
            card["target_key"] = f["target_key"]
            card["meets"] = f["meets_target"]
        out.append(card)
    return out


def target_chart(title: str, figures: Sequence[tuple[int, Mapping[str, Any]]]) -> dict[str, Any] | None:
    """Horizontal bars of shares (0..100 %) with each figure's target as a marker; ``figures``: (index, figure)."""
    if not figures:
        return None
    labels = [f["label"] for _, f in figures]
    label_w = int(max(len(x) for x in labels) * CHAR_W) + 16
    bar_w, row_h, top, right = 400, 24, 28, 130
    width, height = label_w + bar_w + right, top + row_h * len(figures) + 12
    top_v = max([1.0, *[float(f["value"] or 0) for _, f in figures],
                 *[float(f.get("target") or 0) for _, f in figures]])
    rows = []
    for r, (i, f) in enumerate(figures):
        y = top + r * row_h
        p = ("kpis", "figures", i)
        w = max(float(f["value"] or 0), 0.0) / top_v * bar_w
        row: dict[str, Any] = {"label": f["label"], "label_x": label_w - 8, "text_y": y + 15, "y": y + 4,
                               "h": row_h - 8, "x": label_w, "w": f"{w:.2f}", "colour": _BAR,
                               "value_x": f"{label_w + w + 5:.2f}", "value": _num((*p, "value"), f["value"], 100,
                                                                                   " %"),
                               "target": None}
        if f.get("target") is not None:
            tx = label_w + float(f["target"]) / top_v * bar_w
            row["target"] = {"x": f"{tx - 1:.2f}", "y": y + 1, "h": row_h - 2, "colour": _TARGET,
                             "text_x": width - 6, "num": _num((*p, "target"), f["target"], 100, " %"),
                             "key": f["target_key"]}
        rows.append(row)
    return {"title": title, "width": width, "height": height, "rows": rows, "unit_x": label_w,
            "unit": "share of element mass, %", "head_x": width - 6, "head": "target",
            "grid": [{"x": f"{label_w + g / top_v * bar_w:.2f}", "h": height - 30} for g in (0.0, 0.5, 1.0)]}

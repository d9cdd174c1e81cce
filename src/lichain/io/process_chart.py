"""A control chart as a self-contained SVG: the centre statistic (X̄ or I) and the spread (R or MR) with their
centre lines and 3-sigma limits, signalled points marked, in our own drawing code (no network, no library).

Why this exists: quality reads a chart faster than a table of signals, and the chart must work offline in the
report and the dashboard; all text is escaped and placed inside the viewBox.
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["chart_svg"]

_W, _H, _LEFT, _RIGHT, _TOP = 900, 200, 70, 90, 24
_ALARM, _LINE, _LIMIT = "#b42318", "#1f4e79", "#888888"


def _panel(y0: int, title: str, values: list[float | None], center: float, lcl: float, ucl: float,
           marked: set[int], unit: str) -> list[str]:
    present = [v for v in values if v is not None]
    lo = min([lcl, *present]) if present else lcl
    hi = max([ucl, *present]) if present else ucl
    pad = (hi - lo) * 0.08 or 1.0
    lo, hi = lo - pad, hi + pad
    n = max(len(values) - 1, 1)
    plot_w = _W - _LEFT - _RIGHT

    def x(i: int) -> float:
        return _LEFT + plot_w * i / n

    def y(v: float) -> float:
        return y0 + _TOP + (_H - _TOP - 10) * (hi - v) / (hi - lo)

    out = [f'<text x="{_LEFT}" y="{y0 + 16}" font-size="13" font-weight="bold">{escape(title)} [{escape(unit)}]'
           "</text>"]
    for name, level, dash in (("UCL", ucl, "6 4"), ("CL", center, ""), ("LCL", lcl, "6 4")):
        out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
                   f'stroke="{_LIMIT}" stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{_W - _RIGHT + 6}" y="{y(level) + 4:.1f}" font-size="11">{name} {level:.4g}</text>')
    pts = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
    if pts:
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
        out.append(f'<polyline fill="none" stroke="{_LINE}" stroke-width="1.2" points="{path}"/>')
    for i, v in enumerate(values):
        if v is None:
            continue
        colour, r = (_ALARM, 3.5) if i in marked else (_LINE, 1.8)
        out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{r}" fill="{colour}"/>')
    return out


def chart_svg(r: Any) -> str:
    """The SVG text of an :class:`lichain.services.spc.SpcResult`."""
    names = ("X̄", "R") if r.chart == "xbar-r" else ("I", "MR")
    codes = ("xbar", "r") if r.chart == "xbar-r" else ("i", "mr")
    marked_c = {a.index for a in r.alarms if a.chart == codes[0]}
    marked_s = {a.index for a in r.alarms if a.chart == codes[1]}
    height = 2 * _H + 40
    title = (f"{r.parameter} on line {r.line}, {r.period}: {names[0]}–{names[1]} chart, {len(r.points)} points, "
             f"{len(r.alarms)} signals ({r.rules})")
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" width="{_W}" height="{height}" '
            f'font-family="sans-serif" role="img" aria-label="{escape(title)}">',
            f'<text x="{_LEFT}" y="18" font-size="14">{escape(title)}</text>']
    c, s = r.center_limits, r.spread_limits
    body += _panel(24, names[0], [p.value for p in r.points], c.center, c.lcl, c.ucl, marked_c, r.unit)
    body += _panel(24 + _H + 10, names[1], [p.spread for p in r.points], s.center, s.lcl, s.ucl, marked_s, r.unit)
    body.append("</svg>")
    return "\n".join(body) + "\n"

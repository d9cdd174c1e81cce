"""The ESG report's key figures: what opens the report, each with its trend against the previous period.

Why a module of its own: the summary is computed from the report's own site figures (the reporting
organisation's sites only), for this period and the one before, so each key figure names the report fields it
comes from and a reader can redo the arithmetic. Figures are frozen dataclasses; :meth:`Kpi.figure` gives the
report's :class:`~lichain.services.esg_results.KeyFigure`.

* ``t CO2e``: Scope 1 + Scope 2 of the organisation's sites (location- and market-based) ÷ 1000;
* ``kg CO2e per kg CAM``: mass-weighted mean cradle-to-gate intensity of the CAM (stage ``cam``) its sites made;
* recycled share per element: recycled (pre- plus post-consumer) element mass in that CAM ÷ its element mass,
  against the Regulation (EU) 2023/1542 Art. 8 recycled-content minimum in force at the period's end (before
  18 Aug 2031: the first one to come, indicative: Art. 8 applies to batteries, not to CAM);
* recovery per element: element recovered ÷ element in black mass consumed at its recyclers, against the
  Regulation (EU) 2023/1542 Art. 71 / Annex XII Part C material-recovery target in force at the period's end
  (before 31 Dec 2027: the first one to come).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lichain.core.period import Period
from lichain.core.targets import targets_for
from lichain.services.esg_results import IndicatorTotals, KeyFigure, SiteIndicators

__all__ = ["Kpi", "key_figures", "previous_period"]

_ELEMENTS = ("Ni", "Co", "Li", "Mn")


@dataclass(frozen=True, slots=True)
class Kpi:
    """One key figure: value in ``unit`` (``share`` for a fraction 0..1), previous period's value, and its source."""

    key: str
    label: str
    unit: str
    value: float | None
    previous: float | None
    source: str
    target: float | None = None  # a minimum, same unit as ``value``
    target_key: str | None = None

    @property
    def change(self) -> float | None:
        """``value − previous`` (percentage points × 0.01 for shares); None when either is missing."""
        return None if self.value is None or self.previous is None else self.value - self.previous

    @property
    def trend(self) -> str:
        """``up``, ``down``, ``flat`` or ``n/a`` (no previous figure)."""
        c = self.change
        if c is None:
            return "n/a"
        return "flat" if abs(c) <= 1e-12 * max(abs(self.value or 0), 1.0) else ("up" if c > 0 else "down")

    def figure(self) -> KeyFigure:
        """The figure as it appears in the report."""
        meets = None if self.value is None or self.target is None else self.value >= self.target
        return KeyFigure(self.key, self.label, self.unit, self.value, self.previous, self.change, self.trend,
                         self.source, self.target, self.target_key, meets)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON of the figure."""
        out: dict[str, Any] = {"key": self.key, "label": self.label, "unit": self.unit, "value": self.value,
                               "previous": self.previous, "change": self.change, "trend": self.trend,
                               "source": self.source}
        if self.target_key is not None:
            out.update({"target": self.target, "target_key": self.target_key,
                        "meets_target": None if self.value is None or self.target is None
                        else self.value >= self.target})
        return out


def _shift_months(t: datetime, months: int) -> datetime:
    m = t.year * 12 + t.month - 1 - months
    return t.replace(year=m // 12, month=m % 12 + 1)


def previous_period(p: Period) -> Period:
    """The period of the same calendar shape just before ``p`` (year, quarter, month; else the same length)."""
    if re.fullmatch(r"\d{4}", p.label):
        return Period(str(int(p.label) - 1), _shift_months(p.start, 12), p.start)
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", p.label):
        y, q = int(m[1]), int(m[2]) - 1
        label = f"{y - 1}-Q4" if q == 0 else f"{y}-Q{q}"
        return Period(label, _shift_months(p.start, 3), p.start)
    if re.fullmatch(r"\d{4}-\d{2}", p.label):
        start = _shift_months(p.start, 1)
        return Period(f"{start.year:04d}-{start.month:02d}", start, p.start)
    span: timedelta = p.end - p.start
    start = p.start - span
    return Period(f"{start.isoformat()}..{p.start.isoformat()}", start, p.start)


def _intensity(sites: Sequence[SiteIndicators]) -> float | None:
    got = [(q.intensity_location_kg_co2e_per_kg, q.mass_kg) for s in sites for q in s.products
           if q.stage == "cam" and q.intensity_location_kg_co2e_per_kg is not None]
    w = sum(m for _, m in got)
    return sum(v * m for v, m in got) / w if w else None


def _recycled(sites: Sequence[SiteIndicators], el: str) -> float | None:
    rc = [q.recycled_content[el] for s in sites for q in s.products if q.stage == "cam" and el in q.recycled_content]
    t = sum(r.element_kg for r in rc)
    return sum(r.recycled_kg for r in rc) / t if t else None


def _recovery(sites: Sequence[SiteIndicators], el: str) -> float | None:
    got = [s.recovery.elements[el] for s in sites if s.recovery is not None and el in s.recovery.elements]
    bm = sum(r.black_mass_in_kg for r in got)
    return sum(r.recovered_kg for r in got) / bm if bm else None


def _target(metric: str, el: str, end: datetime) -> tuple[float | None, str | None]:
    """The EU minimum of ``metric`` in force at ``end``, else the first one to come."""
    ts = sorted(targets_for(metric, el, ["eu."]), key=lambda t: t.applies_from)
    if not ts:
        return None, None
    last_day: date = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    now = [t for t in ts if t.applies_from <= last_day]
    t = now[-1] if now else ts[0]
    return float(t.minimum), t.key


def key_figures(sites: Sequence[SiteIndicators], totals: IndicatorTotals,
                prev_sites: Sequence[SiteIndicators], prev_totals: IndicatorTotals,
                period: Period) -> list[Kpi]:
    """Key figures of the organisation's sites (``sites``/``totals``) against the previous period's.

    A previous period in which none of the organisation's sites ran has no figures (``previous`` None, trend
    ``n/a``), not zeros.
    """
    out = []
    for basis in ("location", "market"):
        k = f"scope1_2_{basis}_kg_co2e"
        out.append(Kpi(f"scope1_2_{basis}_t_co2e", f"Scope 1+2 ({basis}-based)", "t CO2e",
                       getattr(totals.emissions, k) / 1000 if sites else None,
                       getattr(prev_totals.emissions, k) / 1000 if prev_sites else None,
                       f"/totals/emissions/{k} ÷ 1000"))
    out.append(Kpi("cam_intensity_kg_co2e_per_kg", "Footprint of CAM made (location-based)", "kg CO2e/kg CAM",
                   _intensity(sites), _intensity(prev_sites),
                   "mass-weighted mean of /sites/*/products/* (stage cam) intensity_location_kg_co2e_per_kg"))
    for el in _ELEMENTS:
        v = _recycled(sites, el)
        if v is not None:
            tv, tk = _target("recycled_content", el, period.end)
            out.append(Kpi(f"recycled_share_{el}", f"Recycled {el} in CAM made", "share", v,
                           _recycled(prev_sites, el),
                           f"Σ recycled_kg ÷ Σ element_kg of /sites/*/products/* (stage cam) recycled_content/{el}",
                           tv, tk))
    for el in _ELEMENTS:
        v = _recovery(sites, el)
        if v is not None:
            tv, tk = _target("material_recovery", el, period.end)
            out.append(Kpi(f"recovery_{el}", f"{el} recovered from black mass", "share", v,
                           _recovery(prev_sites, el),
                           f"Σ recovered_kg ÷ Σ black_mass_in_kg of /sites/*/recovery/elements/{el}", tv, tk))
    return out

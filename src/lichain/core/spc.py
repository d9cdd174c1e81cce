"""Statistical process control: X̄–R and I-MR control limits, run rules, and process capability.

Why this exists: the precursor lines log pH, temperature, ammonia and feed rates continuously, and quality asks
whether a line was *in statistical control* while it made a lot (a shift in pH during co-precipitation changes
particle size and tap density). This module is the arithmetic only, on plain sequences of floats (stdlib, no
numpy: a month of hourly subgroups is a few hundred points); the use case (:mod:`lichain.services.spc`) reads the
readings and records alarms.

Conventions
-----------
- Control limits are the Shewhart 3-sigma limits estimated from the data (phase I), or from a given centre and
  sigma (phase II). For X̄–R: CL = X̿, limits X̿ ± A2·R̄; R chart D3·R̄ … D4·R̄; σ̂ within = R̄/d2. For I-MR: moving
  ranges of span 2, limits X̄ ± 3·MR̄/d2(2), MR chart UCL = D4(2)·MR̄.
- Zones for the run rules use the sigma of the plotted statistic: (UCL − CL)/3.
- A rule is reported at the point that completes its pattern (and at every later point that continues it), as
  statistical software reports it; "k of m beyond a zone" rules also require the completing point to be beyond.

References
----------
Montgomery, D. C. (2009). *Introduction to Statistical Quality Control*, 6th ed., Wiley: §6.2 (X̄ and R
charts), §6.4 (individuals and moving range), §5.3.6 (Western Electric rules), §8.2 (process capability ratios),
Appendix Table VI (factors for control charts). Western Electric Co. (1956). *Statistical Quality Control
Handbook*, pp. 25–28. Nelson, L. S. (1984). The Shewhart control chart — tests for special causes. *Journal of
Quality Technology* 16(4), 237–239. doi:10.1080/00224065.1984.11978921.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "FACTORS",
    "NELSON",
    "WESTERN_ELECTRIC",
    "Capability",
    "ChartFactors",
    "Limits",
    "RuleHit",
    "capability",
    "imr_limits",
    "revised_limits",
    "rule_hits",
    "xbar_r_limits",
]


@dataclass(frozen=True, slots=True)
class ChartFactors:
    """Factors for variables control charts for subgroups of ``n`` (Montgomery, Appendix Table VI)."""

    n: int
    a2: float
    d2: float
    d3: float
    big_d3: float  # D3
    big_d4: float  # D4


#: Montgomery (2009), Appendix Table VI (the same values as ASTM MNL 7A, Table 49): A2, d2, d3, D3, D4.
FACTORS: dict[int, ChartFactors] = {f.n: f for f in (
    ChartFactors(2, 1.880, 1.128, 0.853, 0.0, 3.267),
    ChartFactors(3, 1.023, 1.693, 0.888, 0.0, 2.574),
    ChartFactors(4, 0.729, 2.059, 0.880, 0.0, 2.282),
    ChartFactors(5, 0.577, 2.326, 0.864, 0.0, 2.114),
    ChartFactors(6, 0.483, 2.534, 0.848, 0.0, 2.004),
    ChartFactors(7, 0.419, 2.704, 0.833, 0.076, 1.924),
    ChartFactors(8, 0.373, 2.847, 0.820, 0.136, 1.864),
    ChartFactors(9, 0.337, 2.970, 0.808, 0.184, 1.816),
    ChartFactors(10, 0.308, 3.078, 0.797, 0.223, 1.777),
)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Limits:
    """Centre line and 3-sigma control limits of one chart; ``sigma`` is the sigma of the plotted statistic."""

    center: float
    lcl: float
    ucl: float

    @property
    def sigma(self) -> float:
        """Sigma of the plotted statistic, (UCL − CL)/3 (zones A, B, C are 1, 2, 3 of these)."""
        return (self.ucl - self.center) / 3.0


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A run rule fired at point ``index`` (0-based) of a chart's points."""

    rule: str  # e.g. "WE1", "N5"
    index: int


def _mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs)


def xbar_r_limits(subgroups: Sequence[Sequence[float]]) -> tuple[Limits, Limits, float]:
    """Phase-I X̄ and R chart limits from equal-size subgroups, and σ̂ within = R̄/d2.

    Parameters
    ----------
    subgroups : sequence of subgroups, each of n values (2 ≤ n ≤ 10) [unit of the parameter]

    Returns
    -------
    (X̄ limits, R limits, sigma_within) [unit of the parameter]
    """
    if not subgroups:
        raise ValueError("X̄–R limits need at least one subgroup")
    n = len(subgroups[0])
    if n not in FACTORS or any(len(g) != n for g in subgroups):
        raise ValueError(f"X̄–R subgroups must all have the same size, 2..10 (got {sorted({len(g) for g in subgroups})})")
    f = FACTORS[n]
    xbarbar = _mean([_mean(g) for g in subgroups])
    rbar = _mean([max(g) - min(g) for g in subgroups])
    return (Limits(xbarbar, xbarbar - f.a2 * rbar, xbarbar + f.a2 * rbar),
            Limits(rbar, f.big_d3 * rbar, f.big_d4 * rbar), rbar / f.d2)


def imr_limits(values: Sequence[float]) -> tuple[Limits, Limits, float]:
    """Phase-I individuals and moving-range chart limits (span 2), and σ̂ = MR̄/d2(2).

    Parameters
    ----------
    values : individual observations in time order, at least 2 [unit of the parameter]
    """
    if len(values) < 2:
        raise ValueError("an I-MR chart needs at least two observations")
    f = FACTORS[2]
    mrbar = _mean([abs(b - a) for a, b in itertools.pairwise(values)])
    xbar = _mean(values)
    sigma = mrbar / f.d2
    return Limits(xbar, xbar - 3 * sigma, xbar + 3 * sigma), Limits(mrbar, 0.0, f.big_d4 * mrbar), sigma


def revised_limits(points: Sequence[Sequence[float]], chart: str = "xbar-r",
                   max_rounds: int = 20) -> tuple[Limits, Limits, float, tuple[int, ...]]:
    """Phase-I limits revised by dropping points beyond the trial limits until none is (Montgomery §6.2.1).

    ``points`` are subgroups (``chart`` "xbar-r") or one-value sequences (``"i-mr"``, individuals in time
    order). A point whose X̄ (or I) or R (or MR) lies beyond the trial limits is excluded and the limits are
    computed again from the rest; the excluded indices are returned with the final limits.

    Returns
    -------
    (centre-chart limits, spread-chart limits, sigma within, excluded point indices)
    """
    keep = list(range(len(points)))
    for _ in range(max_rounds):
        if chart == "xbar-r":
            lc, ls, sigma = xbar_r_limits([points[i] for i in keep])
            stat = {i: (_mean(points[i]), max(points[i]) - min(points[i])) for i in keep}
        else:
            xs = [points[i][0] for i in keep]
            lc, ls, sigma = imr_limits(xs)
            stat = {i: (x, abs(x - xs[k - 1]) if k else 0.0) for k, (i, x) in enumerate(zip(keep, xs, strict=True))}
        out = {i for i, (c, s) in stat.items() if not lc.lcl <= c <= lc.ucl or not ls.lcl <= s <= ls.ucl}
        if not out or len(keep) - len(out) < 2:
            break
        keep = [i for i in keep if i not in out]
    return lc, ls, sigma, tuple(sorted(set(range(len(points))) - set(keep)))


def _side(x: float, center: float) -> int:
    return 1 if x > center else -1 if x < center else 0


def _k_of_m(points: Sequence[float], center: float, sigma: float, zone: float, k: int, m: int) -> list[int]:
    """Indices where k of the last m points lie beyond ``zone`` sigmas on one side, the last one among them."""
    out = []
    for i in range(len(points)):
        for side in (1, -1):
            if side * (points[i] - center) <= zone * sigma:
                continue
            window = points[max(0, i - m + 1): i + 1]
            if sum(1 for x in window if side * (x - center) > zone * sigma) >= k:
                out.append(i)
                break
    return out


def _runs(flags: Sequence[bool], length: int) -> list[int]:
    """Indices ending a run of at least ``length`` consecutive true flags."""
    out, run = [], 0
    for i, f in enumerate(flags):
        run = run + 1 if f else 0
        if run >= length:
            out.append(i)
    return out


def _same_side(points: Sequence[float], center: float, length: int) -> list[int]:
    out, run, last = [], 0, 0
    for i, x in enumerate(points):
        s = _side(x, center)
        run = run + 1 if s != 0 and s == last else (1 if s != 0 else 0)
        last = s
        if run >= length:
            out.append(i)
    return out


def _trend(points: Sequence[float], length: int) -> list[int]:
    """Indices ending ``length`` points in a row steadily increasing or decreasing (length − 1 steps)."""
    out, run, last = [], 0, 0
    for i in range(1, len(points)):
        s = _side(points[i], points[i - 1])
        run = run + 1 if s != 0 and s == last else (1 if s != 0 else 0)
        last = s
        if run >= length - 1:
            out.append(i)
    return out


def _alternating(points: Sequence[float], length: int) -> list[int]:
    """Indices ending ``length`` points in a row alternating up and down (length − 1 alternating steps)."""
    out, run, last = [], 0, 0
    for i in range(1, len(points)):
        s = _side(points[i], points[i - 1])
        run = run + 1 if s != 0 and s == -last else (1 if s != 0 else 0)
        last = s
        if run >= length - 1:
            out.append(i)
    return out


_Rule = Callable[[Sequence[float], float, float], list[int]]

#: Western Electric rules (Handbook 1956; Montgomery §5.3.6): 1 beyond 3σ; 2 of 3 beyond 2σ, same side; 4 of 5
#: beyond 1σ, same side; 8 in a row on one side of the centre line.
WESTERN_ELECTRIC: dict[str, _Rule] = {
    "WE1": lambda p, c, s: _k_of_m(p, c, s, 3.0, 1, 1),
    "WE2": lambda p, c, s: _k_of_m(p, c, s, 2.0, 2, 3),
    "WE3": lambda p, c, s: _k_of_m(p, c, s, 1.0, 4, 5),
    "WE4": lambda p, c, s: _same_side(p, c, 8),
}
#: Nelson (1984) tests 1–8: beyond 3σ; 9 on one side; 6 steadily increasing or decreasing; 14 alternating up and
#: down; 2 of 3 beyond 2σ same side; 4 of 5 beyond 1σ same side; 15 in a row within 1σ (either side); 8 in a row
#: beyond 1σ (either side).
NELSON: dict[str, _Rule] = {
    "N1": lambda p, c, s: _k_of_m(p, c, s, 3.0, 1, 1),
    "N2": lambda p, c, s: _same_side(p, c, 9),
    "N3": lambda p, c, s: _trend(p, 6),
    "N4": lambda p, c, s: _alternating(p, 14),
    "N5": lambda p, c, s: _k_of_m(p, c, s, 2.0, 2, 3),
    "N6": lambda p, c, s: _k_of_m(p, c, s, 1.0, 4, 5),
    "N7": lambda p, c, s: _runs([abs(x - c) < s for x in p], 15),
    "N8": lambda p, c, s: _runs([abs(x - c) > s for x in p], 8),
}


def rule_hits(points: Sequence[float], limits: Limits, rules: str = "nelson") -> list[RuleHit]:
    """Every point at which a rule of ``rules`` ("western_electric" or "nelson") fires, in (index, rule) order."""
    table = {"western_electric": WESTERN_ELECTRIC, "nelson": NELSON}.get(rules)
    if table is None:
        raise ValueError(f"rules must be 'western_electric' or 'nelson', got {rules!r}")
    hits = [RuleHit(name, i) for name, rule in table.items() for i in rule(points, limits.center, limits.sigma)]
    return sorted(hits, key=lambda h: (h.index, h.rule))


@dataclass(frozen=True, slots=True)
class Capability:
    """Process capability against specification limits (either may be absent: one-sided indices)."""

    cp: float | None
    cpk: float | None
    pp: float | None
    ppk: float | None
    mean: float
    sigma_within: float
    sigma_overall: float


def capability(values: Sequence[float], sigma_within: float, lsl: float | None, usl: float | None) -> Capability:
    """Cp, Cpk (σ̂ within) and Pp, Ppk (overall sample standard deviation) of ``values``.

    Parameters
    ----------
    values : the individual observations [unit of the parameter]
    sigma_within : short-term sigma, e.g. R̄/d2 or MR̄/d2 [same unit]
    lsl, usl : specification limits; Cp and Pp need both, Cpk and Ppk take the nearer one present

    Notes
    -----
    Cp = (USL − LSL)/6σ, Cpk = min(USL − μ, μ − LSL)/3σ (Montgomery §8.2); Pp and Ppk use the overall standard
    deviation s (n − 1 in the denominator) in place of σ̂ within.
    """
    if len(values) < 2:
        raise ValueError("capability needs at least two observations")
    if lsl is None and usl is None:
        raise ValueError("capability needs at least one specification limit")
    mu = _mean(values)
    s = math.sqrt(math.fsum((x - mu) ** 2 for x in values) / (len(values) - 1))

    def indices(sigma: float) -> tuple[float | None, float | None]:
        if sigma <= 0:
            return None, None
        cp = (usl - lsl) / (6 * sigma) if usl is not None and lsl is not None else None
        sides = [v for v in ((usl - mu) if usl is not None else None, (mu - lsl) if lsl is not None else None)
                 if v is not None]
        return cp, min(sides) / (3 * sigma)

    cp, cpk = indices(sigma_within)
    pp, ppk = indices(s)
    return Capability(cp, cpk, pp, ppk, mu, sigma_within, s)

"""SPC arithmetic against a textbook data set, an independent statement of each rule, and independent capability.

The piston-ring data and the published results are described in tests/data/spc/SOURCES.md (Montgomery,
Introduction to Statistical Quality Control, Example 6.1; qcc's ``pistonrings``).
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

from lichain.core.spc import FACTORS, Limits, capability, imr_limits, rule_hits, xbar_r_limits

DATA = Path(__file__).parents[1] / "data" / "spc" / "pistonrings.txt"


def _rows() -> list[list[float]]:
    return [[float(x) for x in line.split()] for line in DATA.read_text().splitlines() if line.strip()]


def test_piston_rings_phase_one_limits_match_the_book() -> None:
    rows = _rows()
    assert len(rows) == 40 and all(len(r) == 5 for r in rows)
    xbar, r, sigma = xbar_r_limits(rows[:25])
    assert round(xbar.center, 3) == 74.001 and round(r.center, 3) == 0.023
    assert round(xbar.lcl, 3) == 73.988 and round(xbar.ucl, 3) == 74.014
    means = [sum(g) / 5 for g in rows]
    ranges = [max(g) - min(g) for g in rows]
    assert rule_hits(means[:25], xbar, "western_electric") == []  # the book: phase I in control
    assert rule_hits(ranges[:25], r, "western_electric") == []
    assert sigma == pytest.approx(r.center / 2.326)


def test_piston_rings_phase_two_signals_at_samples_37_to_39() -> None:
    rows = _rows()
    xbar, _, _ = xbar_r_limits(rows[:25])
    means = [sum(g) / 5 for g in rows]
    beyond = sorted({h.index + 1 for h in rule_hits(means, xbar, "western_electric") if h.rule == "WE1"})
    assert beyond == [37, 38, 39]
    nelson = {h.index + 1 for h in rule_hits(means, xbar, "nelson") if h.rule == "N1"}
    assert nelson == {37, 38, 39}


def _d2(n: int) -> float:
    """Expected range of n standard normal values: ∫ 1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ dx (numerical, scipy)."""
    value, _ = integrate.quad(lambda x: 1 - stats.norm.cdf(x) ** n - (1 - stats.norm.cdf(x)) ** n, -12, 12)
    return float(value)


@pytest.mark.parametrize("n", sorted(FACTORS))
def test_factor_table_agrees_with_the_range_distribution(n: int) -> None:
    f = FACTORS[n]
    assert round(_d2(n), 3) == pytest.approx(f.d2, abs=0.0011)
    assert 3 / (f.d2 * math.sqrt(n)) == pytest.approx(f.a2, abs=0.0011)
    # D3, D4 = 1 ∓ 3·d3/d2 from the rounded d3, d2 of the table: three-decimal rounding moves them by < 0.0025
    assert 1 + 3 * f.d3 / f.d2 == pytest.approx(f.big_d4, abs=0.0025)
    assert max(0.0, 1 - 3 * f.d3 / f.d2) == pytest.approx(f.big_d3, abs=0.0025)


# --- each rule stated independently, as windows over zone labels -----------------------------------------------
def _zone(x: float, c: float, s: float) -> float:
    return (x - c) / s


def _brute(points: list[float], c: float, s: float) -> dict[str, set[int]]:
    z = [_zone(x, c, s) for x in points]
    out: dict[str, set[int]] = {k: set() for k in
                                ("WE1", "WE2", "WE3", "WE4", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8")}
    for i in range(len(z)):
        if abs(z[i]) > 3:
            out["WE1"].add(i)
            out["N1"].add(i)
        for name, k, m, a in (("WE2", 2, 3, 2), ("WE3", 4, 5, 1), ("N5", 2, 3, 2), ("N6", 4, 5, 1)):
            w = z[max(0, i - m + 1): i + 1]
            if (z[i] > a and sum(v > a for v in w) >= k) or (z[i] < -a and sum(v < -a for v in w) >= k):
                out[name].add(i)
        for name, length in (("WE4", 8), ("N2", 9)):
            w = z[i - length + 1: i + 1] if i >= length - 1 else []
            if w and (all(v > 0 for v in w) or all(v < 0 for v in w)):
                out[name].add(i)
        if i >= 5:
            d = np.diff(points[i - 5: i + 1])
            if bool(np.all(d > 0)) or bool(np.all(d < 0)):
                out["N3"].add(i)
        if i >= 13:
            d = np.sign(np.diff(points[i - 13: i + 1]))
            if bool(np.all(d != 0)) and bool(np.all(d[1:] == -d[:-1])):
                out["N4"].add(i)
        if i >= 14 and all(abs(v) < 1 for v in z[i - 14: i + 1]):
            out["N7"].add(i)
        if i >= 7 and all(abs(v) > 1 for v in z[i - 7: i + 1]):
            out["N8"].add(i)
    return out


def _hits(points: list[float], limits: Limits) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for rules in ("western_electric", "nelson"):
        for h in rule_hits(points, limits, rules):
            out.setdefault(h.rule, set()).add(h.index)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_rules_agree_with_an_independent_statement(seed: int) -> None:
    rnd = random.Random(seed)
    n = rnd.randint(5, 80)
    kind = seed % 4
    if kind == 0:
        points = [rnd.gauss(0, 1) for _ in range(n)]
    elif kind == 1:  # a shift half-way
        points = [rnd.gauss(0 if i < n // 2 else 1.5, 1) for i in range(n)]
    elif kind == 2:  # a drift
        points = [rnd.gauss(0.08 * i, 0.3) for i in range(n)]
    else:  # low variance and alternation, rounded to make ties
        points = [round((-1) ** i * rnd.uniform(0, 1.4), 1) for i in range(n)]
    limits = Limits(0.0, -3.0, 3.0)
    expected = {k: v for k, v in _brute(points, 0.0, 1.0).items() if v}
    assert _hits(points, limits) == expected


@pytest.mark.parametrize(("points", "rule", "first"), [
    ([0.1] * 3 + [3.5], "N1", 3),
    ([0.5] * 8 + [0.2], "N2", 8),
    ([0.5] * 7 + [0.2], "WE4", 7),
    ([-2, -1.5, -1, -0.5, 0, 0.5], "N3", 5),
    ([0.5 * (-1) ** i for i in range(14)], "N4", 13),
    ([2.5, 0.0, 2.2], "N5", 2),
    ([1.5, 1.2, -0.5, 1.1, 1.3], "N6", 4),
    ([0.3, -0.3] * 7 + [0.2], "N7", 14),
    ([1.5, -1.5] * 4, "N8", 7),
])
def test_each_rule_fires_where_its_pattern_completes(points: list[float], rule: str, first: int) -> None:
    hits = [h.index for h in rule_hits([float(p) for p in points], Limits(0.0, -3.0, 3.0),
                                       "western_electric" if rule.startswith("WE") else "nelson") if h.rule == rule]
    assert hits and hits[0] == first


def test_individuals_chart_limits_by_hand() -> None:
    x = [10.0, 12.0, 11.0, 13.0, 12.0]
    lim, mr, sigma = imr_limits(x)
    mrbar = (2 + 1 + 2 + 1) / 4
    assert lim.center == pytest.approx(11.6)
    assert sigma == pytest.approx(mrbar / 1.128)
    assert lim.ucl == pytest.approx(11.6 + 3 * mrbar / 1.128)
    assert mr.ucl == pytest.approx(3.267 * mrbar)


def test_capability_against_numpy() -> None:
    rows = np.array(_rows()[:25])
    values = rows.ravel()
    sigma_within = float(np.mean(np.ptp(rows, axis=1))) / _d2(5)
    got = capability(values.tolist(), sigma_within, 73.95, 74.05)
    mu, s = float(np.mean(values)), float(np.std(values, ddof=1))
    assert got.cp == pytest.approx(0.1 / (6 * sigma_within), rel=1e-9)
    assert got.cpk == pytest.approx(min(74.05 - mu, mu - 73.95) / (3 * sigma_within), rel=1e-9)
    assert got.pp == pytest.approx(0.1 / (6 * s), rel=1e-9)
    assert got.ppk == pytest.approx(min(74.05 - mu, mu - 73.95) / (3 * s), rel=1e-9)
    one_sided = capability(values.tolist(), sigma_within, None, 74.05)
    assert one_sided.cp is None and one_sided.cpk == pytest.approx((74.05 - mu) / (3 * sigma_within))


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="same size"):
        xbar_r_limits([[1.0, 2.0], [1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="two"):
        imr_limits([1.0])
    with pytest.raises(ValueError, match="specification"):
        capability([1.0, 2.0], 1.0, None, None)

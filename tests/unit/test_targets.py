"""Targets: the Art. 8, Annex XII and MIIT 2024 figures with their dates, and honest comparisons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lichain.core.targets import INDICATIVE, NOT_IMPLEMENTED, TARGETS, compare, targets_for


def _min(metric: str, element: str) -> dict[str, tuple[Decimal, date]]:
    return {t.key: (t.minimum, t.applies_from) for t in targets_for(metric, element)}


@pytest.mark.parametrize(("element", "y2031", "y2036"), [("Co", "0.16", "0.26"), ("Li", "0.06", "0.12"),
                                                         ("Ni", "0.06", "0.15")])
def test_art8_minimums_and_dates(element: str, y2031: str, y2036: str) -> None:
    assert _min("recycled_content", element) == {
        f"eu.art8.2031.{element}": (Decimal(y2031), date(2031, 8, 18)),
        f"eu.art8.2036.{element}": (Decimal(y2036), date(2036, 8, 18)),
    }


def test_annex_xii_and_miit_recovery_minimums() -> None:
    for e in ("Co", "Ni", "Cu", "Pb"):
        got = {k: v for k, v in _min("material_recovery", e).items() if k.startswith("eu.")}
        assert got == {f"eu.annex12.2027.{e}": (Decimal("0.90"), date(2027, 12, 31)),
                       f"eu.annex12.2031.{e}": (Decimal("0.95"), date(2031, 12, 31))}
    assert _min("material_recovery", "Li")["eu.annex12.2027.Li"][0] == Decimal("0.50")
    assert _min("material_recovery", "Li")["eu.annex12.2031.Li"][0] == Decimal("0.80")
    miit = {t.element: t.minimum for t in TARGETS if t.key.startswith("cn.miit2024")}
    assert miit == {"Li": Decimal("0.90"), "Ni": Decimal("0.98"), "Co": Decimal("0.98"), "Mn": Decimal("0.98")}
    assert not _min("material_recovery", "Mn").keys() - {"cn.miit2024.Mn"}  # Mn has no EU recovery target


def test_every_target_names_its_source_and_methodology() -> None:
    keys = [t.key for t in TARGETS]
    assert len(keys) == len(set(keys))
    for t in TARGETS:
        assert t.citations and t.methodology and 0 < t.minimum <= 1
    art8 = [t for t in TARGETS if t.metric == "recycled_content"]
    assert art8 and all(not t.methodology_adopted and t.status == INDICATIVE for t in art8)
    assert all("not adopted" in t.methodology for t in art8)
    xii = [t for t in TARGETS if t.key.startswith("eu.annex12.")]
    assert all(t.methodology_adopted and t.status == NOT_IMPLEMENTED and "2025/606" in t.methodology for t in xii)


def test_comparison_is_indicative_and_never_claims_compliance() -> None:
    rows = compare(0.084, "recycled_content", "Ni")
    assert [(r.key, r.meets) for r in rows] == [("eu.art8.2031.Ni", True), ("eu.art8.2036.Ni", False)]
    assert all(r.status == "methodology not adopted; indicative comparison" for r in rows)
    assert rows[1].gap == pytest.approx(0.084 - 0.15)
    assert all(r.meets is None and r.gap is None for r in compare(None, "recycled_content", "Co"))
    assert compare(0.5, "recycled_content", "Mn") == ()


def test_figures_are_compared_at_reported_precision() -> None:
    # a recovery of 0.98 computed through integer milligrams as 0.9799999991 meets a 98 % minimum
    row = compare(0.9799999991, "material_recovery", "Ni", ("cn.",))
    assert [r.meets for r in row] == [True]
    assert [r.meets for r in compare(0.97999, "material_recovery", "Ni", ("cn.",))] == [False]


def test_target_json_is_plain() -> None:
    d = targets_for("recycled_content", "Co")[0].to_json()
    assert d["minimum"] == 0.16 and d["applies_from"] == "2031-08-18" and d["methodology_adopted"] is False

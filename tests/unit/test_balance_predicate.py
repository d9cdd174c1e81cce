"""The one element-balance predicate at its edges (exact integers, mg·ppb)."""

from __future__ import annotations

from decimal import Decimal

from lichain.core.balance import element_balance
from lichain.core.quantities import FRACTION_SCALE

MG = FRACTION_SCALE  # one mg of element in mg·ppb


def test_edge_of_tolerance_is_accepted_and_one_unit_beyond_is_not() -> None:
    i = 200_000_000 * MG  # 200 kg of Ni in
    tol = Decimal("0.005")
    allowed = int(tol * i) + 2 * MG  # 0.5 % of input + 1 mg for the one output + 1 mg for the loss
    assert element_balance("Ni", i, i - allowed, 0, tol, 1).ok
    assert not element_balance("Ni", i, i - allowed - 1, 0, tol, 1).ok
    assert element_balance("Ni", i, i + allowed, 0, tol, 1).ok


def test_each_output_adds_one_mg_of_resolution() -> None:
    i = 10 * MG
    assert not element_balance("Co", i, i - 3 * MG, 0, Decimal(0), 1).ok
    assert element_balance("Co", i, i - 3 * MG, 0, Decimal(0), 2).ok


def test_element_from_nowhere_is_refused() -> None:
    assert not element_balance("Li", 0, 1, 0, Decimal("0.5"), 3).ok
    assert not element_balance("Li", 0, 0, 1, Decimal("0.5"), 3).ok
    assert element_balance("Li", 0, 0, 0, Decimal(0), 1).ok


def test_message_reports_kilograms() -> None:
    b = element_balance("Ni", 100_000_000 * MG, 90_000_000 * MG, 0, Decimal("0.005"), 1)
    assert b.kg() == (100.0, 90.0, 0.0, 10.0)
    assert "in 100.000000 kg, out 90.000000 kg" in b.message("R-1")

"""The integer fast path of the element balance decides exactly as the one predicate (``ElementBalance.ok``)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.core.balance import balances, element_balance
from lichain.core.quantities import FRACTION_SCALE

MG = FRACTION_SCALE
_TOL = st.sampled_from([Decimal(0), Decimal("0.005"), Decimal("0.001"), Decimal("0.05"), Decimal("0.1234567"),
                        Decimal("1E-9"), Decimal("0.3333333333333333333333333333"), Decimal("-0.01")])
_MASS = st.one_of(st.integers(0, 10**12 * MG), st.integers(0, 10**30), st.just(0))


@settings(max_examples=2_000, deadline=None)
@given(i=_MASS, tol=_TOL, n=st.integers(0, 5), loss=st.integers(-(10**6) * MG, 10**9 * MG),
       step=st.integers(-3, 3), side=st.sampled_from([-1, 1]), far=st.integers(0, 10**25))
def test_fast_path_equals_the_predicate_at_and_around_the_edge(i: int, tol: Decimal, n: int, loss: int, step: int,
                                                               side: int, far: int) -> None:
    edge = int(tol * i) + (1 + n) * MG  # the largest accepted |difference|, give or take the Decimal rounding
    for d in (side * (edge + step), side * (edge // 2), side * far):
        out = i - loss - d
        assert balances(i, out, loss, tol, n) == element_balance("Ni", i, out, loss, tol, n).ok


def test_fast_path_on_named_cases() -> None:
    i = 200_000_000 * MG
    tol = Decimal("0.005")
    allowed = int(tol * i) + 2 * MG
    assert balances(i, i - allowed, 0, tol, 1)
    assert not balances(i, i - allowed - 1, 0, tol, 1)
    assert not balances(0, 1, 0, Decimal("0.5"), 3)  # an element from nowhere
    assert balances(0, 0, 0, Decimal(0), 1)

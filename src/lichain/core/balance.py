"""The element-balance predicate (DESIGN §2 invariant 3), one definition for the write-time check and re-checks.

Element masses are exact integers in mg·ppb (mass [mg] × mass fraction [ppb]); ``FRACTION_SCALE`` mg·ppb are one
mg of element. A run balances for element e when |in − out − declared loss| ≤ tolerance × in + the ledger's 1 mg
resolution of each output mass and of the declared loss, and an element that appears in outputs or losses with
none in the inputs is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from lichain.core.quantities import FRACTION_SCALE

__all__ = ["ElementBalance", "balances", "element_balance"]

_KG = 1_000_000 * FRACTION_SCALE  # mg·ppb per kg of element


@dataclass(frozen=True, slots=True)
class ElementBalance:
    """One element of one run: input, output and declared loss [mg·ppb], and whether they balance."""

    element: str
    input: int
    output: int
    loss: int
    tolerance: Decimal
    n_outputs: int

    @property
    def difference(self) -> int:
        """in − out − declared loss [mg·ppb]."""
        return self.input - self.output - self.loss

    @property
    def allowed(self) -> Decimal:
        """The largest |difference| accepted [mg·ppb]: tolerance × input + 1 mg per output and per loss."""
        return self.tolerance * self.input + (1 + self.n_outputs) * FRACTION_SCALE

    @property
    def ok(self) -> bool:
        """True when the element balances."""
        if self.input == 0 and (self.output > 0 or self.loss > 0):
            return False
        return abs(self.difference) <= self.allowed

    def kg(self) -> tuple[float, float, float, float]:
        """(in, out, loss, difference) [kg of element], for people."""
        return (self.input / _KG, self.output / _KG, self.loss / _KG, self.difference / _KG)

    def message(self, run_id: str) -> str:
        """A one-line reason, in kg, for a run that does not balance."""
        i, o, loss, d = self.kg()
        return (f"run {run_id}: {self.element} does not balance: in {i:.6f} kg, out {o:.6f} kg, declared loss "
                f"{loss:.6f} kg, difference {d:+.6f} kg exceeds {self.tolerance * 100}% of input")


def element_balance(element: str, input_: int, output: int, loss: int, tolerance: Decimal,
                    n_outputs: int) -> ElementBalance:
    """The balance of one element of a run from exact sums [mg·ppb] (see the module docstring for the rule)."""
    return ElementBalance(element, input_, output, loss, tolerance, n_outputs)


@lru_cache(maxsize=64)
def _ratio(tolerance: Decimal) -> tuple[int, int]:
    return tolerance.as_integer_ratio()


def balances(input_: int, output: int, loss: int, tolerance: Decimal, n_outputs: int) -> bool:
    """Exactly ``element_balance(...).ok``, decided in integers when the run is clearly inside the tolerance.

    With the tolerance as a fraction p/q, |in − out − loss|·q ≤ p·in + (1 + n_outputs)·SCALE·q is the rule in exact
    integers; a margin of 10⁻²⁰ of the right-hand side covers the 28-digit Decimal rounding of the predicate, and
    any run at or past that margin (or with no input) is decided by :class:`ElementBalance` itself.
    """
    p, q = _ratio(tolerance)
    allowed = p * input_ + (1 + n_outputs) * FRACTION_SCALE * q
    if input_ > 0 and p >= 0 and abs(input_ - output - loss) * q <= allowed - allowed // 10**20 - 1:
        return True
    return ElementBalance("", input_, output, loss, tolerance, n_outputs).ok

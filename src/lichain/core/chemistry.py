"""Chemical formulas, CIAAW atomic weights, molar masses and element mass fractions.

Why this exists: lichain checks element mass balances and computes element shares per lot, so a lot's nominal
composition must come from its formula by arithmetic, not from a table of magic percentages (DESIGN.md §2). This
module turns text such as ``LiNi0.8Co0.1Mn0.1O2`` or ``NiSO4·6H2O`` into exact element counts, molar masses
[g mol⁻¹] and mass fractions [kg kg⁻¹]. It is pure standard library and uses :class:`decimal.Decimal` throughout.

Formula grammar
---------------
- An element symbol is a capital letter and an optional lower-case letter (``Ni``, ``O``); it must be one of
  :data:`ATOMIC_WEIGHTS`.
- A subscript follows a symbol or a closing bracket: digits with an optional decimal part (``O2``, ``Ni0.8``).
  A missing subscript means 1; a zero subscript is an error.
- Groups ``(...)``, ``[...]`` and ``{...}`` nest and take a subscript (``Ca3(PO4)2``, ``Ni0.8Co0.1Mn0.1(OH)2``).
- Components of an adduct (hydrate) are joined by ``·`` (U+00B7), ``•``, ``⋅`` or ``*``, optionally with spaces
  around them, or by ``.``; each component may start with a coefficient (``NiSO4·6H2O``, ``CaSO4·0.5H2O``).
  A leading coefficient is also allowed on the first component (``2H2O``).

The ``.`` is both a decimal point and a hydrate separator in plain-text formulas. A ``.`` is read as
a **hydrate separator** when the text after it

1. starts with a letter or an opening bracket (``MnSO4.H2O``, ``LiOH.H2O``, ``K2SO4.Al2(SO4)3.24H2O``), or
2. is a coefficient followed by ``H2O`` that ends the formula or is followed by a separator
   (``NiSO4.6H2O``, ``Na2CO3.10H2O``, ``CaSO4.0.5H2O``);

otherwise a ``.`` between two digits is a **decimal point** (``Ni0.8``, ``Li1.2Mn0.54Ni0.13Co0.13O2``,
``Na2.5Fe1.75(SO4)3``), and any other ``.`` is an error. Write adducts other than water with ``·``
(``CaCl2·2NH3``): ``CaCl2.2NH3`` reads as ``CaCl2.2`` followed by ``NH3``.

References
----------
.. [1] CIAAW 2021, Standard atomic weights, https://www.ciaaw.org/atomic-weights.htm
.. [2] T. Prohaska et al., "Standard atomic weights of the elements 2021 (IUPAC Technical Report)",
   Pure Appl. Chem. 94 (2022) 573, doi:10.1515/pac-2019-0603
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal
from functools import lru_cache
from types import MappingProxyType

from lichain.core.errors import FormulaError

__all__ = [
    "ATOMIC_WEIGHTS",
    "Formula",
    "FormulaError",
    "mass_fractions",
    "molar_mass",
    "parse_formula",
]

# CIAAW 2021 standard atomic weights [1, 2], without their uncertainties. Where the standard atomic weight is an
# interval (H, Li, B, C, N, O, Mg, Si, S, Cl, Ar, Br, Tl, Pb) the CIAAW conventional value is used, as in the
# reference §5.1 (e.g. Li 6.94 for the interval [6.938, 6.997]). Elements without a standard atomic weight
# (Tc, Pm, Po and the other radioactive elements apart from Th, Pa and U) are absent on purpose.
_WEIGHTS_TEXT = """
H 1.008 He 4.002602 Li 6.94 Be 9.0121831 B 10.81 C 12.011 N 14.007 O 15.999 F 18.998403162
Ne 20.1797 Na 22.98976928 Mg 24.305 Al 26.9815384 Si 28.085 P 30.973761998 S 32.06 Cl 35.45 Ar 39.95
K 39.0983 Ca 40.078 Sc 44.955907 Ti 47.867 V 50.9415 Cr 51.9961 Mn 54.938043 Fe 55.845 Co 58.933194
Ni 58.6934 Cu 63.546 Zn 65.38 Ga 69.723 Ge 72.630 As 74.921595 Se 78.971 Br 79.904 Kr 83.798
Rb 85.4678 Sr 87.62 Y 88.905838 Zr 91.224 Nb 92.90637 Mo 95.95 Ru 101.07 Rh 102.90549 Pd 106.42
Ag 107.8682 Cd 112.414 In 114.818 Sn 118.710 Sb 121.760 Te 127.60 I 126.90447 Xe 131.293
Cs 132.90545196 Ba 137.327 La 138.90547 Ce 140.116 Pr 140.90766 Nd 144.242 Sm 150.36 Eu 151.964
Gd 157.25 Tb 158.925354 Dy 162.500 Ho 164.930329 Er 167.259 Tm 168.934219 Yb 173.045 Lu 174.9668
Hf 178.486 Ta 180.94788 W 183.84 Re 186.207 Os 190.23 Ir 192.217 Pt 195.084 Au 196.966570 Hg 200.592
Tl 204.38 Pb 207.2 Bi 208.98040 Th 232.0377 Pa 231.03588 U 238.02891
"""


def _load_weights(text: str) -> Mapping[str, Decimal]:
    """Parse the whitespace-separated symbol/value pairs above into a read-only mapping."""
    tokens = text.split()
    return MappingProxyType({tokens[i]: Decimal(tokens[i + 1]) for i in range(0, len(tokens), 2)})


ATOMIC_WEIGHTS: Mapping[str, Decimal] = _load_weights(_WEIGHTS_TEXT)
"""Standard atomic weight A_r° by element symbol (CIAAW 2021); dimensionless, numerically the molar mass [g mol⁻¹]."""

# Counts and molar masses are sums of short products: 60 digits keeps them exact for any realistic formula.
_EXACT = Context(prec=60)
# Mass fractions are quotients and cannot be exact; they are rounded once, to Decimal's default 28 digits.
_ROUNDED = Context(prec=28)

_DIGITS = frozenset("0123456789")
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = frozenset(_OPEN.values())
_SEPARATORS = frozenset("·•⋅*")
# Rule 2 of the module docstring: ".6H2O", ".0.5H2O" at the end or before another separator.
_WATER_AFTER_DOT = re.compile(r"[0-9]+(?:\.[0-9]+)?H2O(?=$|[·•⋅*.\s])")


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed chemical formula: the text as given and the element counts per formula unit.

    ``counts`` maps element symbol to the number of atoms [mol mol⁻¹] in one formula unit, in order of first
    appearance; hydrate water and bracket multipliers are already folded in.
    """

    text: str
    counts: Mapping[str, Decimal] = field(hash=False)

    def __str__(self) -> str:
        return self.text


class _Parser:
    """Recursive-descent parser over one formula string; positions in messages are 0-based."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str, pos: int | None = None) -> FormulaError:
        where = self.pos if pos is None else pos
        return FormulaError(f"{message} at position {where} in formula {self.text!r}")

    # -- top level ---------------------------------------------------------------------------------------
    def parse(self) -> dict[str, Decimal]:
        if not self.text.strip():
            raise FormulaError("empty formula: expected element symbols such as 'NiSO4·6H2O'")
        total: dict[str, Decimal] = {}
        while True:
            start = self.pos
            coefficient = self.number(coefficient=True)
            if coefficient is not None and coefficient == 0:
                raise self.fail("zero coefficient", start)
            part = self.sequence(closing=None)
            if not part:
                if self.pos < len(self.text) and self.at_separator():
                    raise self.fail(f"empty component before separator {self.text[self.pos]!r}")
                raise self.fail("expected an element symbol or '('")
            _merge(total, part, coefficient if coefficient is not None else Decimal(1))
            if self.pos >= len(self.text):
                return total
            self.skip_separator()
            if self.pos >= len(self.text):
                raise self.fail("formula ends with a hydrate separator", self.pos - 1)

    def at_separator(self) -> bool:
        """Whether the character at ``pos`` (or spaces then a separator) separates adduct components."""
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] == " ":
            pos += 1
        if pos >= len(text):
            return False
        if text[pos] in _SEPARATORS:
            return True
        return pos == self.pos and text[pos] == "." and self.dot_separates(pos)

    def skip_separator(self) -> None:
        text = self.text
        while text[self.pos] == " ":
            self.pos += 1
        self.pos += 1
        if text[self.pos - 1] != ".":
            while self.pos < len(text) and text[self.pos] == " ":
                self.pos += 1

    def dot_separates(self, pos: int) -> bool:
        """Apply rules 1 and 2 of the module docstring to the ``.`` at ``pos``."""
        rest = self.text[pos + 1 :]
        if not rest:
            return True  # reported as "formula ends with a hydrate separator"
        if (rest[0].isascii() and rest[0].isalpha()) or rest[0] in _OPEN:
            return True
        return _WATER_AFTER_DOT.match(rest) is not None

    # -- groups ------------------------------------------------------------------------------------------
    def sequence(self, closing: str | None) -> dict[str, Decimal]:
        """Parse elements and bracket groups until the end, a separator or a closing bracket."""
        text = self.text
        counts: dict[str, Decimal] = {}
        while self.pos < len(text):
            char = text[char_pos := self.pos]
            if "A" <= char <= "Z":
                symbol = char
                if char_pos + 1 < len(text) and "a" <= text[char_pos + 1] <= "z":
                    symbol += text[char_pos + 1]
                if symbol not in ATOMIC_WEIGHTS:
                    raise self.fail(f"unknown element symbol {symbol!r}", char_pos)
                self.pos += len(symbol)
                _merge(counts, {symbol: Decimal(1)}, self.subscript())
            elif char in _OPEN:
                self.pos += 1
                inner = self.sequence(closing=_OPEN[char])
                if self.pos >= len(text):
                    raise self.fail(f"unclosed {char!r} opened", char_pos)
                if text[self.pos] != _OPEN[char]:
                    raise self.fail(
                        f"bracket {char!r} opened at position {char_pos} is closed by {text[self.pos]!r}"
                    )
                if not inner:
                    raise self.fail(f"empty brackets {char}{_OPEN[char]}", char_pos)
                self.pos += 1
                _merge(counts, inner, self.subscript())
            elif char in _CLOSE:
                if closing is None:
                    raise self.fail(f"unmatched {char!r}")
                return counts
            elif self.at_separator():
                if closing is not None:
                    raise self.fail(f"hydrate separator {text[self.pos]!r} inside brackets")
                return counts
            elif "a" <= char <= "z":
                raise self.fail(
                    f"unexpected lower-case {char!r} (element symbols start with a capital letter)"
                )
            elif char in _DIGITS:
                raise self.fail(f"unexpected number {char!r} (a coefficient may only start a component)")
            elif char == ".":
                raise self.fail("'.' is neither a decimal point between digits nor a hydrate separator")
            else:
                raise self.fail(f"unexpected character {char!r}")
        return counts

    # -- numbers -----------------------------------------------------------------------------------------
    def subscript(self) -> Decimal:
        start = self.pos
        value = self.number(coefficient=False)
        if value is None:
            return Decimal(1)
        if value == 0:
            raise self.fail("zero subscript", start)
        return value

    def number(self, *, coefficient: bool) -> Decimal | None:
        """Read ``digits[.digits]`` at ``pos``; a subscript's ``.`` yields to a hydrate separator."""
        text, start = self.text, self.pos
        while self.pos < len(text) and text[self.pos] in _DIGITS:
            self.pos += 1
        if self.pos == start:
            return None
        dot = self.pos
        if (
            dot + 1 < len(text)
            and text[dot] == "."
            and text[dot + 1] in _DIGITS
            and (coefficient or not self.dot_separates(dot))
        ):
            self.pos += 1
            while self.pos < len(text) and text[self.pos] in _DIGITS:
                self.pos += 1
        return Decimal(text[start : self.pos])


def _merge(total: dict[str, Decimal], part: Mapping[str, Decimal], times: Decimal) -> None:
    """Add ``times`` × ``part`` into ``total`` exactly."""
    for symbol, count in part.items():
        total[symbol] = _EXACT.add(total.get(symbol, Decimal(0)), _EXACT.multiply(count, times))


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Formula:
    return Formula(text=text, counts=MappingProxyType(_Parser(text).parse()))


def parse_formula(formula: str) -> Formula:
    """Parse a chemical formula into exact element counts.

    Parameters
    ----------
    formula : str
        Formula text, e.g. ``"LiNi0.8Co0.1Mn0.1O2"``, ``"Ni0.8Co0.1Mn0.1(OH)2"``, ``"NiSO4·6H2O"`` or
        ``"NiSO4.6H2O"``. The grammar, and how ``.`` is read, is in the module docstring.

    Returns
    -------
    Formula
        The text as given and ``counts``: element symbol → atoms per formula unit [mol mol⁻¹].

    Raises
    ------
    FormulaError
        If the text is empty or malformed, or names an element without a CIAAW standard atomic weight;
        the message names the offending character and its 0-based position.

    Examples
    --------
    >>> dict(parse_formula("NiSO4·6H2O").counts)
    {'Ni': Decimal('1'), 'S': Decimal('1'), 'O': Decimal('10'), 'H': Decimal('12')}
    """
    if not isinstance(formula, str):
        raise TypeError(f"formula must be str, got {type(formula).__name__}")
    return _parse_cached(formula)


def _as_formula(formula: str | Formula) -> Formula:
    return formula if isinstance(formula, Formula) else parse_formula(formula)


def molar_mass(formula: str | Formula) -> Decimal:
    """Molar mass of a formula from CIAAW 2021 standard atomic weights.

    ``M = Σ_e n_e · A_r(e)`` with ``n_e`` atoms of element ``e`` per formula unit, computed exactly.

    Parameters
    ----------
    formula : str or Formula
        Formula text (see :func:`parse_formula`) or an already parsed formula.

    Returns
    -------
    Decimal
        Molar mass [g mol⁻¹], e.g. 97.2798437 for ``LiNi0.8Co0.1Mn0.1O2``.

    References
    ----------
    .. [1] CIAAW 2021, Standard atomic weights, https://www.ciaaw.org/atomic-weights.htm
    .. [2] Prohaska et al., Pure Appl. Chem. 94 (2022) 573, doi:10.1515/pac-2019-0603
    """
    total = Decimal(0)
    for symbol, count in _as_formula(formula).counts.items():
        total = _EXACT.add(total, _EXACT.multiply(count, ATOMIC_WEIGHTS[symbol]))
    return total


def mass_fractions(formula: str | Formula) -> dict[str, Decimal]:
    """Element mass fractions of a formula.

    ``w_e = n_e · A_r(e) / M``; each quotient is rounded once to 28 significant digits, so the fractions sum
    to 1 within a few units of 10⁻²⁸.

    Parameters
    ----------
    formula : str or Formula
        Formula text (see :func:`parse_formula`) or an already parsed formula.

    Returns
    -------
    dict of str to Decimal
        Element symbol → mass fraction [kg kg⁻¹, 0..1], in order of first appearance; e.g. Ni 0.4827 for
        ``LiNi0.8Co0.1Mn0.1O2`` and Ni 0.2233 for ``NiSO4·6H2O``.

    References
    ----------
    .. [1] CIAAW 2021, Standard atomic weights, https://www.ciaaw.org/atomic-weights.htm
    .. [2] Prohaska et al., Pure Appl. Chem. 94 (2022) 573, doi:10.1515/pac-2019-0603
    """
    parsed = _as_formula(formula)
    total = molar_mass(parsed)
    return {
        symbol: _ROUNDED.divide(_EXACT.multiply(count, ATOMIC_WEIGHTS[symbol]), total)
        for symbol, count in parsed.counts.items()
    }

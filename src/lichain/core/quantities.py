"""Exact quantities at the boundary of record: masses, mass fractions, energies, distances.

The ledger stores masses as integer milligrams and mass fractions as integer parts per 10⁹ (ppb), so sums and
balances are exact and identical on every backend. Parsing returns ``Decimal`` or a problem message (errors as
values); nothing here raises on bad user input.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from lichain.core.limits import MAX_MASS_KG

__all__ = [
    "FRACTION_SCALE",
    "MASS_UNITS_KG",
    "MG_PER_KG",
    "fraction_to_ppb",
    "kg_to_mg",
    "mg_to_kg",
    "parse_decimal",
    "parse_fraction",
    "parse_mass_kg",
    "ppb_to_fraction",
]

MG_PER_KG = 1_000_000
FRACTION_SCALE = 1_000_000_000  # mass fractions are stored in parts per 10⁹

#: Mass units (UN/ECE Recommendation 20 common codes, as EPCIS uses them) → kilograms per unit, exact.
#: 1 lb = 0.453 592 37 kg exactly (International yard and pound agreement, 1959).
MASS_UNITS_KG: dict[str, Decimal] = {
    "KGM": Decimal(1),
    "kg": Decimal(1),
    "TNE": Decimal(1000),
    "t": Decimal(1000),
    "GRM": Decimal("0.001"),
    "g": Decimal("0.001"),
    "MGM": Decimal("0.000001"),
    "mg": Decimal("0.000001"),
    "LBR": Decimal("0.45359237"),
    "lb": Decimal("0.45359237"),
    "KTN": Decimal(1_000_000),
}

_MG = Decimal("0.000001")
_PPB = Decimal("0.000000001")


def parse_decimal(value: object) -> Decimal | str:
    """Parse a finite decimal from a JSON number, string or Decimal; return a message on failure."""
    if isinstance(value, bool) or value is None:
        return f"expected a number, got {value!r}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return f"expected a finite number, got {value!r}"
        value = repr(value)
    if isinstance(value, int | Decimal):
        d = Decimal(value)
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            return f"expected a number, got {value!r}"
    else:
        return f"expected a number, got {type(value).__name__}"
    if not d.is_finite():
        return f"expected a finite number, got {value!r}"
    return d


def parse_mass_kg(value: object, uom: object = "KGM") -> Decimal | str:
    """Parse a mass and convert it exactly to kilograms; a mass must be > 0 [kg]."""
    d = parse_decimal(value)
    if isinstance(d, str):
        return d
    if not isinstance(uom, str) or uom not in MASS_UNITS_KG:
        return f"unknown mass unit {uom!r} (known: {', '.join(sorted(k for k in MASS_UNITS_KG if k.isupper()))})"
    kg = d * MASS_UNITS_KG[uom]
    if kg <= 0:
        return f"mass must be > 0 kg, got {value} {uom}"
    if kg > MAX_MASS_KG:
        return (f"mass {value} {uom} exceeds the largest mass the ledger stores, {MAX_MASS_KG:,} kg "
                "(2^63 - 1 mg)")
    if kg.quantize(_MG, rounding=ROUND_HALF_EVEN) == 0:
        return f"mass {value} {uom} is below the 1 mg resolution of the ledger"
    return kg


def parse_fraction(value: object) -> Decimal | str:
    """Parse a mass fraction in 0..1 [kg kg⁻¹]."""
    d = parse_decimal(value)
    if isinstance(d, str):
        return d
    if d < 0 or d > 1:
        return f"mass fraction must be within 0..1, got {value}"
    return d


def kg_to_mg(kg: Decimal) -> int:
    """Kilograms → integer milligrams, rounded half-even to the ledger's 1 mg resolution."""
    return int((kg * MG_PER_KG).to_integral_value(rounding=ROUND_HALF_EVEN))


def mg_to_kg(mg: int) -> Decimal:
    """Integer milligrams → exact kilograms."""
    return (Decimal(mg) / MG_PER_KG).normalize() if mg else Decimal(0)


def fraction_to_ppb(fraction: Decimal) -> int:
    """Mass fraction → integer parts per 10⁹, rounded half-even (1 ppb is below any assay's precision)."""
    return int((fraction * FRACTION_SCALE).to_integral_value(rounding=ROUND_HALF_EVEN))


def ppb_to_fraction(ppb: int) -> Decimal:
    """Integer parts per 10⁹ → exact mass fraction."""
    return (Decimal(ppb) / FRACTION_SCALE).normalize() if ppb else Decimal(0)

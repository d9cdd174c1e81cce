"""Stoichiometric recipes for NCM precursor (pCAM) and cathode active material (CAM).

Why this exists: production and R&D ask "what salts, how much NaOH, how much lithium source for this target NCM
ratio and mass?" (DESIGN.md §1, job *make*), and the footprint defaults of the reference (§4.3) are derived from the
same per-kg masses (§5.2). The arithmetic is done here once, from formulas and CIAAW atomic weights, instead of
being copied as numbers.

Reactions (M = Ni, Co, Mn in the target ratio):

- co-precipitation: ``MSO4·nH2O + 2 NaOH → M(OH)2 + Na2SO4 + n H2O`` — one salt formula unit and 2 NaOH per mol
  of metal; the Na2SO4 by-product is one per mol of metal fed.
- lithiation (calcination): ``M(OH)2 + LiOH·H2O + ¼ O2 → LiMO2 + 5/2 H2O`` or
  ``M(OH)2 + ½ Li2CO3 + ¼ O2 → LiMO2 + H2O + ½ CO2``. The feed carries ``li_me_ratio`` mol Li per mol of transition
  metal, typically 1.02–1.05 for Ni-rich NCM: the excess makes up for lithium that volatilises during calcination,
  and what stays as surface Li2CO3/LiOH is washed off; none of it is in the CAM formula.

Internally the arithmetic is exact rational (:class:`fractions.Fraction` of the CIAAW Decimals); each reported
quantity is rounded once, to 28 significant digits, when it becomes a :class:`~decimal.Decimal`.

References
----------
.. [1] CIAAW 2021, Standard atomic weights, https://www.ciaaw.org/atomic-weights.htm
.. [2] lichain docs/reference/regulation-and-factors.md §5.2 (NCM811 mass balances) and §5.3 (Li/Me 1.02–1.05).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import TypeAlias

from lichain.core.chemistry import ATOMIC_WEIGHTS, molar_mass, parse_formula
from lichain.core.errors import RecipeError

__all__ = [
    "NAMED_COMPOSITIONS",
    "PCAM_SALTS",
    "CamRecipe",
    "Composition",
    "PcamRecipe",
    "RecipeError",
    "as_composition",
    "cam_recipe",
    "pcam_recipe",
]


Number: TypeAlias = Decimal | Fraction | int | str
"""Exact numbers accepted at the boundary; ``float`` is refused because it is not exact."""

_ROUNDED = Context(prec=28)
_METALS = ("Ni", "Co", "Mn")
_FORMULA_PLACES = 6  # decimals shown in a formula for a ratio without a finite decimal expansion (1/3)

PCAM_SALTS: Mapping[str, str] = MappingProxyType({"Ni": "NiSO4·6H2O", "Co": "CoSO4·7H2O", "Mn": "MnSO4·H2O"})
"""Sulfate salt fed to co-precipitation, by metal."""


def _exact(value: Number, what: str) -> Fraction:
    """Convert an exact number to a Fraction; refuse float and bool."""
    if isinstance(value, bool) or not isinstance(value, Decimal | Fraction | int | str):
        raise TypeError(
            f"{what} must be Decimal, Fraction, int or str (not {type(value).__name__}: not exact)"
        )
    try:
        return Fraction(value)
    except (ValueError, ZeroDivisionError) as exc:
        raise RecipeError(f"{what}: {value!r} is not a number") from exc


def _decimal(value: Fraction) -> Decimal:
    """Round an exact rational once to 28 significant digits."""
    return _ROUNDED.divide(Decimal(value.numerator), Decimal(value.denominator))


def _subscript(value: Fraction) -> str:
    """Formula subscript for a ratio: exact decimal when finite, else rounded; '' for 1."""
    if value == 1:
        return ""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    text = _decimal(value) if denominator == 1 else round(_decimal(value), _FORMULA_PLACES)
    return format(text.normalize(), "f")


@dataclass(frozen=True, slots=True)
class Composition:
    """Molar ratio of the transition metals in an NCM material, ni + co + mn = 1 [mol mol⁻¹]."""

    ni: Fraction
    co: Fraction
    mn: Fraction
    name: str | None = None

    def __post_init__(self) -> None:
        for metal, value in zip(_METALS, (self.ni, self.co, self.mn), strict=True):
            if not isinstance(value, Fraction):
                raise TypeError(f"Composition.{metal.lower()} must be a Fraction; use as_composition()")
            if not 0 <= value <= 1:
                raise RecipeError(f"{metal} molar ratio must be within 0..1, got {value}")
        total = self.ni + self.co + self.mn
        if total != 1:
            raise RecipeError(
                f"Ni + Co + Mn molar ratios must sum to exactly 1, got {_decimal(total)}; "
                "give exact ratios such as ('1/3', '1/3', '1/3')"
            )

    @property
    def ratios(self) -> dict[str, Fraction]:
        """Metal symbol → molar ratio [mol mol⁻¹], metals with ratio 0 left out."""
        values = dict(zip(_METALS, (self.ni, self.co, self.mn), strict=True))
        return {metal: value for metal, value in values.items() if value}

    @property
    def metal_formula(self) -> str:
        """The metal part of the formula, e.g. ``Ni0.8Co0.1Mn0.1`` (ratios without finite decimals rounded)."""
        return "".join(f"{metal}{_subscript(value)}" for metal, value in self.ratios.items())

    @property
    def pcam_formula(self) -> str:
        """Hydroxide precursor formula, e.g. ``Ni0.8Co0.1Mn0.1(OH)2``."""
        return f"{self.metal_formula}(OH)2"

    @property
    def cam_formula(self) -> str:
        """Layered oxide formula, e.g. ``LiNi0.8Co0.1Mn0.1O2``."""
        return f"Li{self.metal_formula}O2"


def _named(name: str, ni: str, co: str, mn: str) -> Composition:
    return Composition(Fraction(ni), Fraction(co), Fraction(mn), name)


NAMED_COMPOSITIONS: Mapping[str, Composition] = MappingProxyType(
    {
        c.name or "": c
        for c in (
            _named("NCM111", "1/3", "1/3", "1/3"),
            _named("NCM523", "0.5", "0.2", "0.3"),
            _named("NCM622", "0.6", "0.2", "0.2"),
            _named("NCM811", "0.8", "0.1", "0.1"),
            _named("NCM955", "0.9", "0.05", "0.05"),
        )
    }
)
"""Named NCM compositions (Ni:Co:Mn), keyed by name; ``NMC…`` spellings are accepted by :func:`as_composition`."""


def as_composition(composition: str | Composition | tuple[Number, Number, Number]) -> Composition:
    """Resolve a composition name (``"NCM811"``, ``"nmc622"``), a Composition or an exact (ni, co, mn) tuple."""
    if isinstance(composition, Composition):
        return composition
    if isinstance(composition, str):
        key = composition.strip().upper().replace("NMC", "NCM")
        if key not in NAMED_COMPOSITIONS:
            raise RecipeError(f"unknown composition {composition!r}; known: {', '.join(NAMED_COMPOSITIONS)}")
        return NAMED_COMPOSITIONS[key]
    if isinstance(composition, tuple) and len(composition) == 3:
        ni, co, mn = (_exact(v, f"{m} ratio") for m, v in zip(_METALS, composition, strict=True))
        return Composition(ni, co, mn)
    raise TypeError("composition must be a name, a Composition or a (ni, co, mn) tuple")


def _weight(symbol: str) -> Fraction:
    return Fraction(ATOMIC_WEIGHTS[symbol])


def _pcam_molar_mass(composition: Composition) -> Fraction:
    """M(Ni_x Co_y Mn_z (OH)2) [g mol⁻¹], exact for the exact ratios."""
    metals = sum((ratio * _weight(metal) for metal, ratio in composition.ratios.items()), Fraction(0))
    return metals + 2 * (_weight("O") + _weight("H"))


def _cam_molar_mass(composition: Composition) -> Fraction:
    """M(Li Ni_x Co_y Mn_z O2) [g mol⁻¹], exact for the exact ratios."""
    return _pcam_molar_mass(composition) - 2 * _weight("H") + _weight("Li")


def _positive(value: Number, what: str) -> Fraction:
    exact = _exact(value, what)
    if exact <= 0:
        raise RecipeError(f"{what} must be > 0, got {value}")
    return exact


def _yield(value: Number) -> Fraction:
    exact = _positive(value, "yield_fraction")
    if exact > 1:
        raise RecipeError(f"yield_fraction must be within (0, 1], got {value}")
    return exact


@dataclass(frozen=True, slots=True)
class PcamRecipe:
    """Feed for co-precipitating ``pcam_mass_kg`` of hydroxide precursor; masses in [kg]."""

    composition: Composition
    pcam_mass_kg: Decimal
    yield_fraction: Decimal
    pcam_formula: str
    pcam_molar_mass: Decimal  # [g mol⁻¹]
    pcam_amount_mol: Decimal  # [mol] of M(OH)2 in the product, = mol of transition metal
    nickel_sulfate_kg: Decimal  # NiSO4·6H2O
    cobalt_sulfate_kg: Decimal  # CoSO4·7H2O
    manganese_sulfate_kg: Decimal  # MnSO4·H2O
    sodium_hydroxide_kg: Decimal  # NaOH
    sodium_sulfate_kg: Decimal  # Na2SO4 by-product in the mother liquor

    @property
    def reagents_kg(self) -> dict[str, Decimal]:
        """Reagent formula → mass fed [kg]."""
        return {
            PCAM_SALTS["Ni"]: self.nickel_sulfate_kg,
            PCAM_SALTS["Co"]: self.cobalt_sulfate_kg,
            PCAM_SALTS["Mn"]: self.manganese_sulfate_kg,
            "NaOH": self.sodium_hydroxide_kg,
        }


def pcam_recipe(
    composition: str | Composition | tuple[Number, Number, Number],
    pcam_mass_kg: Number,
    yield_fraction: Number = 1,
) -> PcamRecipe:
    """Sulfate salts and NaOH to co-precipitate a mass of NCM hydroxide precursor.

    With ``n = 1000 · m / M_pCAM`` mol of M(OH)2 in the product and metal yield ``η``, the feed is
    ``n · x_M / η`` mol of each salt and ``2 n / η`` mol NaOH; all sulfate leaves as ``n / η`` mol Na2SO4.

    Parameters
    ----------
    composition : str, Composition or tuple
        ``"NCM811"``, ``"NCM622"``, ``"NCM523"``, ``"NCM955"``, ``"NCM111"`` or exact (ni, co, mn) summing to 1.
    pcam_mass_kg : Decimal, Fraction, int or str
        Mass of dry precursor to make [kg], > 0.
    yield_fraction : Decimal, Fraction, int or str, optional
        Fraction of the metal fed that ends in the product [mol mol⁻¹], 0 < η ≤ 1; default 1 (stoichiometric).

    Returns
    -------
    PcamRecipe
        Salt, NaOH and Na2SO4 masses [kg], pCAM formula, molar mass [g mol⁻¹] and amount [mol].
        For 1 kg NCM811: 2.277 kg NiSO4·6H2O, 0.304 kg CoSO4·7H2O, 0.183 kg MnSO4·H2O, 0.866 kg NaOH.

    References
    ----------
    .. [1] CIAAW 2021, Standard atomic weights, https://www.ciaaw.org/atomic-weights.htm
    .. [2] lichain docs/reference/regulation-and-factors.md §5.2.
    """
    comp = as_composition(composition)
    mass = _positive(pcam_mass_kg, "pcam_mass_kg")
    eta = _yield(yield_fraction)
    molar = _pcam_molar_mass(comp)
    amount = 1000 * mass / molar  # [mol]
    fed = amount / eta  # [mol] of metal fed

    salts: dict[str, Fraction] = {}
    for metal, salt in PCAM_SALTS.items():
        ratio = comp.ratios.get(metal, Fraction(0))
        per_unit = Fraction(parse_formula(salt).counts[metal])  # metal atoms per salt formula unit
        salts[metal] = fed * ratio / per_unit * Fraction(molar_mass(salt)) / 1000
    return PcamRecipe(
        composition=comp,
        pcam_mass_kg=_decimal(mass),
        yield_fraction=_decimal(eta),
        pcam_formula=comp.pcam_formula,
        pcam_molar_mass=_decimal(molar),
        pcam_amount_mol=_decimal(amount),
        nickel_sulfate_kg=_decimal(salts["Ni"]),
        cobalt_sulfate_kg=_decimal(salts["Co"]),
        manganese_sulfate_kg=_decimal(salts["Mn"]),
        sodium_hydroxide_kg=_decimal(2 * fed * Fraction(molar_mass("NaOH")) / 1000),
        sodium_sulfate_kg=_decimal(fed * Fraction(molar_mass("Na2SO4")) / 1000),
    )


@dataclass(frozen=True, slots=True)
class CamRecipe:
    """Feed for calcining ``cam_mass_kg`` of layered-oxide cathode; masses in [kg]."""

    composition: Composition
    cam_mass_kg: Decimal
    li_me_ratio: Decimal  # [mol Li per mol Ni+Co+Mn] in the feed
    lithium_source: str
    yield_fraction: Decimal
    cam_formula: str
    cam_molar_mass: Decimal  # [g mol⁻¹]
    cam_amount_mol: Decimal  # [mol] of LiMO2 in the product
    pcam_formula: str
    pcam_molar_mass: Decimal  # [g mol⁻¹]
    pcam_kg: Decimal
    lithium_source_kg: Decimal
    oxygen_kg: Decimal  # stoichiometric O2 for M(II) → M(III), ¼ mol per mol metal


def cam_recipe(
    composition: str | Composition | tuple[Number, Number, Number],
    cam_mass_kg: Number,
    li_me_ratio: Number = Decimal("1.04"),
    lithium_source: str = "LiOH·H2O",
    yield_fraction: Number = 1,
) -> CamRecipe:
    """Precursor and lithium salt to calcine a mass of NCM cathode active material LiNi_xCo_yMn_zO2.

    With ``n = 1000 · m / M_CAM`` mol of LiMO2 and metal yield ``η``, the feed is ``n / η`` mol of pCAM and
    ``n · (Li/Me) / (η · ν_Li)`` mol of lithium source with ``ν_Li`` Li atoms per formula unit; O2 is
    ``n / (4 η)`` mol. The Li above Li/Me = 1 is lost (volatilised, or washed off as surface Li2CO3/LiOH).

    Parameters
    ----------
    composition : str, Composition or tuple
        ``"NCM811"``, ``"NCM622"``, ``"NCM523"``, ``"NCM955"``, ``"NCM111"`` or exact (ni, co, mn) summing to 1.
    cam_mass_kg : Decimal, Fraction, int or str
        Mass of CAM to make [kg], > 0.
    li_me_ratio : Decimal, Fraction, int or str, optional
        Li/Me, mol Li fed per mol of Ni+Co+Mn [mol mol⁻¹], ≥ 1; default 1.04 (1.02–1.05 typical for Ni-rich NCM).
    lithium_source : str, optional
        Lithium salt formula, ``"LiOH·H2O"`` (default) or ``"Li2CO3"``; any Li-bearing formula is accepted.
    yield_fraction : Decimal, Fraction, int or str, optional
        Fraction of the metal fed that ends in the product [mol mol⁻¹], 0 < η ≤ 1; default 1.

    Returns
    -------
    CamRecipe
        pCAM, lithium-source and O2 masses [kg], formulas, molar masses [g mol⁻¹] and CAM amount [mol].
        For 1 kg NCM811 at Li/Me 1.04: 0.949 kg pCAM, 0.449 kg LiOH·H2O, 0.082 kg O2.

    References
    ----------
    .. [1] CIAAW 2021, Standard atomic weights, https://www.ciaaw.org/atomic-weights.htm
    .. [2] lichain docs/reference/regulation-and-factors.md §5.2 (mass balance) and §5.3 (Li/Me 1.02–1.05).
    """
    comp = as_composition(composition)
    mass = _positive(cam_mass_kg, "cam_mass_kg")
    eta = _yield(yield_fraction)
    li_me = _exact(li_me_ratio, "li_me_ratio")
    if li_me < 1:
        raise RecipeError(f"li_me_ratio must be ≥ 1 to make LiMO2, got {li_me_ratio}")
    source = parse_formula(lithium_source)
    li_per_unit = source.counts.get("Li")
    if li_per_unit is None:
        raise RecipeError(f"lithium_source {lithium_source!r} contains no Li")
    molar = _cam_molar_mass(comp)
    amount = 1000 * mass / molar  # [mol]
    fed = amount / eta  # [mol] of metal fed
    li_source_mol = fed * li_me / Fraction(li_per_unit)
    return CamRecipe(
        composition=comp,
        cam_mass_kg=_decimal(mass),
        li_me_ratio=_decimal(li_me),
        lithium_source=lithium_source,
        yield_fraction=_decimal(eta),
        cam_formula=comp.cam_formula,
        cam_molar_mass=_decimal(molar),
        cam_amount_mol=_decimal(amount),
        pcam_formula=comp.pcam_formula,
        pcam_molar_mass=_decimal(_pcam_molar_mass(comp)),
        pcam_kg=_decimal(fed * _pcam_molar_mass(comp) / 1000),
        lithium_source_kg=_decimal(li_source_mol * Fraction(molar_mass(source)) / 1000),
        oxygen_kg=_decimal(fed / 4 * 2 * _weight("O") / 1000),
    )

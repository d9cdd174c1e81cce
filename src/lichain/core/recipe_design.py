"""Recipe design: inputs per kg of precursor (pCAM) and per kg of cathode (CAM) for any target composition.

Why this exists: :mod:`lichain.core.recipe` answers "how much of each sulfate for NCM at theoretical purity";
R&D designs recipes for any layered oxide (NCM of any ratio, NCA, high-Ni with Al/Zr/Ti/W dopants in ppm) and for
LFP, from real inputs whose assays differ from the theoretical, with a lithium excess and step yields. This
module does that arithmetic exactly (:class:`fractions.Fraction` of CIAAW 2021 atomic weights, rounded once to 28
digits) and returns every input as (what it supplies, assay, kg per kg product); pricing footprints and recycled
content onto those kg is :mod:`lichain.services.recipe`'s job.

Model (n = mol of host formula unit per kg CAM; M molar masses [g mol⁻¹]; w mass fractions [kg kg⁻¹]):

- **dopants** Al, Zr, Ti, W are given as element mass fraction in the CAM [ppm = mg kg⁻¹] and enter as their
  oxide (Al2O3, ZrO2, TiO2, WO3), which stays in the product: oxide mass per kg CAM
  ``w_ox = ppm·10⁻⁶ · M_ox / (ν · M_d)`` (ν dopant atoms per oxide unit); the host is ``h = 1 − Σ w_ox`` kg.
- **host**: layered ``Li Me O2`` (Me = Σ rᵢ Mᵢ over Ni, Co, Mn, Al, Σ rᵢ = 1) from ``Me(OH)2`` precursor, or
  olivine ``LiFePO4`` from ``FePO4``; ``n = 1000 h / M_CAM``.
- **calcination** (yield η_c = fraction of the metal fed that ends in the CAM): pCAM fed ``n/η_c · M_pCAM``;
  lithium fed ``(Li/Me) · n/η_c`` mol, i.e. ``(Li/Me) · n/η_c · M_Li / w_Li`` kg of a source with Li assay w_Li;
  dopant source ``ppm·10⁻⁶ / (η_c · w_d)``; O2 ``n/(4 η_c)`` mol for layered (Me²⁺ → Me³⁺).
- **co-precipitation** (yield η_p): per kg pCAM, metal i fed ``rᵢ · 1000/M_pCAM / η_p`` mol, i.e.
  ``… · Mᵢ / wᵢ`` kg of its salt with assay wᵢ; NaOH ``Σ zᵢ rᵢ · 1000/M_pCAM / η_p`` mol (z = 2 for Ni, Co, Mn;
  3 for Al); LFP: Fe from iron(II) sulfate and P from phosphoric acid, one each per FePO4.

The Al of NCA is co-precipitated (its hydroxide formula is written ``Ni0.8Co0.15Al0.05(OH)2`` as customary; the
extra z OH⁻ of Al³⁺ is counted in the NaOH only). The reductant and carbon coating of LFP are not modelled.

References
----------
.. [1] CIAAW 2021, Standard atomic weights, https://www.ciaaw.org/atomic-weights.htm; T. Prohaska et al.,
   Pure Appl. Chem. 94 (2022) 573, doi:10.1515/pac-2019-0603
.. [2] lichain docs/reference/regulation-and-factors.md §5.2 (NCM811 mass balances), §5.3 (Li/Me 1.02–1.05).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction

from lichain.core.chemistry import ATOMIC_WEIGHTS, molar_mass, parse_formula
from lichain.core.errors import RecipeError
from lichain.core.recipe import NAMED_COMPOSITIONS

__all__ = ["DEFAULT_INPUTS", "DOPANT_OXIDES", "Design", "InputSpec", "Line", "Target", "design", "parse_target"]

_ROUNDED = Context(prec=28)
LAYERED_METALS = ("Ni", "Co", "Mn", "Al")
DOPANT_OXIDES: Mapping[str, str] = {"Al": "Al2O3", "Zr": "ZrO2", "Ti": "TiO2", "W": "WO3"}
"""Oxide each dopant is fed as (and stays as in the product)."""
DEFAULT_INPUTS: Mapping[str, str] = {"Ni": "NiSO4·6H2O", "Co": "CoSO4·7H2O", "Mn": "MnSO4·H2O",
                                     "Al": "Al2(SO4)3·18H2O", "Fe": "FeSO4·7H2O", "P": "H3PO4"}
"""Salt fed to the precursor step for each element it supplies (theoretical assay unless another is given)."""
_VALENCE = {"Ni": 2, "Co": 2, "Mn": 2, "Al": 3}
_NAMED_OTHER = {"NCA": {"Ni": "0.8", "Co": "0.15", "Al": "0.05"}}  # LiNi0.8Co0.15Al0.05O2, the classic NCA


def _w(symbol: str) -> Fraction:
    return Fraction(ATOMIC_WEIGHTS[symbol])


def _dec(v: Fraction) -> Decimal:
    return _ROUNDED.divide(Decimal(v.numerator), Decimal(v.denominator))


@dataclass(frozen=True, slots=True)
class Target:
    """A CAM target: ``family`` "layered" (metals Ni, Co, Mn, Al) or "olivine" (LiFePO4), molar ratios, dopants."""

    name: str
    family: str
    metals: tuple[tuple[str, Fraction], ...]
    dopants_ppm: tuple[tuple[str, Fraction], ...] = ()

    @property
    def cam_formula(self) -> str:
        """The host CAM formula (dopants not written)."""
        if self.family == "olivine":
            return "LiFePO4"
        return "Li" + "".join(f"{m}{_sub(r)}" for m, r in self.metals) + "O2"

    @property
    def pcam_formula(self) -> str:
        """The precursor formula."""
        if self.family == "olivine":
            return "FePO4"
        return "".join(f"{m}{_sub(r)}" for m, r in self.metals) + "(OH)2"


def _sub(r: Fraction) -> str:
    if r == 1:
        return ""
    d = _dec(r)
    return format(d.normalize() if r.denominator in (2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 1000) else round(d, 6),
                  "f")


_FORMULA = re.compile(r"^Li(?:1(?:\.0+)?)?((?:(?:Ni|Co|Mn|Al)[0-9.]*)+)O2$")


def parse_target(text: str, dopants_ppm: Mapping[str, str | int | Decimal] | None = None) -> Target:
    """A target from a name (NCM111…NCM955, NCA, LFP) or a layered formula such as ``LiNi0.88Co0.09Al0.03O2``.

    Dopants: element (Al, Zr, Ti, W) → mass fraction in the CAM [ppm], ≥ 0 and < 10⁵.
    """
    key = text.strip().replace(" ", "")
    up = key.upper().replace("NMC", "NCM")
    metals: dict[str, Fraction]
    if up in NAMED_COMPOSITIONS:
        c = NAMED_COMPOSITIONS[up]
        metals, family = {"Ni": c.ni, "Co": c.co, "Mn": c.mn}, "layered"
    elif up in _NAMED_OTHER:
        metals, family = {m: Fraction(v) for m, v in _NAMED_OTHER[up].items()}, "layered"
    elif up in ("LFP", "LIFEPO4"):
        metals, family = {"Fe": Fraction(1)}, "olivine"
    elif (m := _FORMULA.match(key)) is not None:
        counts = parse_formula(m.group(1)).counts
        metals, family = {e: Fraction(v) for e, v in counts.items()}, "layered"
        total = sum(metals.values(), Fraction(0))
        if total != 1:
            raise RecipeError(f"target {text!r}: metal ratios sum to {_dec(total)}, not 1")
        up = key
    else:
        raise RecipeError(f"unknown target {text!r}: give NCM111/523/622/811/955, NCA, LFP or a layered formula "
                          "such as LiNi0.88Co0.09Al0.03O2")
    dop: list[tuple[str, Fraction]] = []
    for e, v in (dopants_ppm or {}).items():
        if e not in DOPANT_OXIDES:
            raise RecipeError(f"dopant {e!r}: known dopants are {', '.join(DOPANT_OXIDES)}")
        try:
            ppm = Fraction(Decimal(str(v)))
        except (ValueError, ArithmeticError) as exc:
            raise RecipeError(f"dopant {e}: {v!r} is not a number of ppm") from exc
        if not 0 <= ppm < 100_000:
            raise RecipeError(f"dopant {e}: {v} ppm must be within 0..100000")
        dop.append((e, ppm))
    return Target(up, family, tuple((k, v) for k, v in metals.items() if v), tuple(dop))


@dataclass(frozen=True, slots=True)
class InputSpec:
    """What supplies an element: a name (a formula gives the theoretical assay), and optionally a measured assay
    (mass fraction of ``element`` in the input [kg kg⁻¹])."""

    element: str
    name: str
    assay: Fraction | None = None

    def assay_of(self) -> Fraction:
        """The given assay, else the element's mass fraction in the formula ``name``."""
        if self.assay is not None:
            if not 0 < self.assay <= 1:
                raise RecipeError(f"assay of {self.name} for {self.element} must be within (0, 1], got {self.assay}")
            return self.assay
        try:
            f = parse_formula(self.name)
        except ValueError as exc:
            raise RecipeError(f"input {self.name!r} for {self.element}: give its assay (not a formula)") from exc
        n = f.counts.get(self.element)
        if n is None:
            raise RecipeError(f"input {self.name} contains no {self.element}")
        return Fraction(n) * _w(self.element) / Fraction(molar_mass(f))


@dataclass(frozen=True, slots=True)
class Line:
    """One input: the element it supplies, its name, assay [kg kg⁻¹], and kg fed per kg of the step's product."""

    step: str  # "pcam" or "cam"
    element: str
    name: str
    assay: Decimal
    kg: Decimal


@dataclass(frozen=True, slots=True)
class Design:
    """A designed recipe: per kg pCAM (``pcam``) and per kg CAM (``cam``, the pCAM fed included) [kg kg⁻¹]."""

    target: Target
    cam_formula: str
    pcam_formula: str
    cam_molar_mass: Decimal  # host [g mol⁻¹]
    pcam_molar_mass: Decimal
    li_me_ratio: Decimal
    pcam_yield: Decimal
    cam_yield: Decimal
    pcam_lines: tuple[Line, ...]
    cam_lines: tuple[Line, ...]
    pcam_kg_per_kg_cam: Decimal
    oxygen_kg_per_kg_cam: Decimal
    host_kg_per_kg_cam: Decimal
    cam_mass_fractions: tuple[tuple[str, Decimal], ...]
    pcam_mass_fractions: tuple[tuple[str, Decimal], ...]


def _molar(t: Target) -> tuple[Fraction, Fraction]:
    if t.family == "olivine":
        pcam = _w("Fe") + _w("P") + 4 * _w("O")
        return pcam + _w("Li"), pcam
    metals = sum((r * _w(m) for m, r in t.metals), Fraction(0))
    return _w("Li") + metals + 2 * _w("O"), metals + 2 * (_w("O") + _w("H"))


def _ratio(v: Fraction | Decimal | int | str, what: str, lo: Fraction, hi: Fraction | None) -> Fraction:
    f = Fraction(Decimal(str(v))) if not isinstance(v, Fraction) else v
    if f < lo or (hi is not None and f > hi) or f <= 0:
        raise RecipeError(f"{what} must be within ({lo}, {hi if hi is not None else '∞'}], got {_dec(f)}")
    return f


def design(target: Target, li_me_ratio: Fraction | Decimal | str = "1.04", *, pcam_yield: Fraction | Decimal | str = "1",
           cam_yield: Fraction | Decimal | str = "1", inputs: Mapping[str, InputSpec] | None = None,
           lithium_source: str | None = None) -> Design:
    """Inputs per kg pCAM and per kg CAM for ``target`` (see the module docstring for the model).

    Parameters
    ----------
    target : Target
        From :func:`parse_target`.
    li_me_ratio : Fraction, Decimal or str
        Li fed per mol of host metal (Ni+Co+Mn+Al, or Fe) [mol mol⁻¹], ≥ 1; default 1.04.
    pcam_yield, cam_yield : Fraction, Decimal or str
        Fraction of the metal fed that ends in the step's product, 0 < η ≤ 1.
    inputs : mapping element → InputSpec, optional
        Inputs with their assays; default :data:`DEFAULT_INPUTS`, the dopant oxides, and ``lithium_source``.
    lithium_source : str, optional
        Li input when ``inputs`` has none: LiOH·H2O (layered default) or Li2CO3 (LFP default).

    Returns
    -------
    Design
        For NCM811 at Li/Me 1.04 with theoretical assays: 2.277 kg NiSO4·6H2O per kg pCAM, 0.949 kg pCAM and
        0.449 kg LiOH·H2O per kg CAM (reference §5.2).
    """
    li_me = _ratio(li_me_ratio, "li_me_ratio", Fraction(1), None)
    eta_p = _ratio(pcam_yield, "pcam_yield", Fraction(0), Fraction(1))
    eta_c = _ratio(cam_yield, "cam_yield", Fraction(0), Fraction(1))
    spec = dict(inputs or {})
    li_default = lithium_source or ("Li2CO3" if target.family == "olivine" else "LiOH·H2O")
    spec.setdefault("Li", InputSpec("Li", li_default))
    m_cam, m_pcam = _molar(target)
    oxide = {d: Fraction(molar_mass(DOPANT_OXIDES[d])) / (Fraction(parse_formula(DOPANT_OXIDES[d]).counts[d]) * _w(d))
             for d, _ in target.dopants_ppm}
    host = 1 - sum((ppm / 10**6 * oxide[d] for d, ppm in target.dopants_ppm), Fraction(0))
    n = 1000 * host / m_cam  # mol host per kg CAM
    fed = n / eta_c
    pcam_kg = fed * m_pcam / 1000
    cam: list[tuple[str, str, Fraction, Fraction]] = [("pCAM", target.pcam_formula, Fraction(1), pcam_kg)]
    li = spec["Li"]
    cam.append(("Li", li.name, li.assay_of(), li_me * fed * _w("Li") / 1000 / li.assay_of()))
    for d, ppm in target.dopants_ppm:
        s = spec.get(f"dopant:{d}", InputSpec(d, DOPANT_OXIDES[d]))
        cam.append((d, s.name, s.assay_of(), ppm / 10**6 / eta_c / s.assay_of()))
    per_pcam = 1000 / m_pcam / eta_p  # mol metal fed per kg pCAM
    pcam: list[tuple[str, str, Fraction, Fraction]] = []
    supplied = [("Fe", Fraction(1)), ("P", Fraction(1))] if target.family == "olivine" else list(target.metals)
    for e, r in supplied:
        s = spec.get(e, InputSpec(e, DEFAULT_INPUTS[e]))
        pcam.append((e, s.name, s.assay_of(), per_pcam * r * _w(e) / 1000 / s.assay_of()))
    if target.family == "layered":
        oh = sum((_VALENCE[m] * r for m, r in target.metals), Fraction(0))
        naoh = Fraction(molar_mass("NaOH"))
        pcam.append(("OH", "NaOH", (_w("O") + _w("H")) / naoh, per_pcam * oh * naoh / 1000))
    o2 = fed / 4 * 2 * _w("O") / 1000 if target.family == "layered" else Fraction(0)
    if o2:
        cam.append(("O", "O2", Fraction(1), o2))
    cam_fr = _cam_fractions(target, m_cam, host, oxide)
    pcam_fr = ((e, r * _w(e) / m_pcam) for e, r in supplied) if target.family == "olivine" else \
        ((m, r * _w(m) / m_pcam) for m, r in target.metals)
    return Design(
        target, target.cam_formula, target.pcam_formula, _dec(m_cam), _dec(m_pcam), _dec(li_me), _dec(eta_p),
        _dec(eta_c),
        tuple(Line("pcam", e, name, _dec(a), _dec(kg)) for e, name, a, kg in pcam),
        tuple(Line("cam", e, name, _dec(a), _dec(kg)) for e, name, a, kg in cam),
        _dec(pcam_kg), _dec(o2), _dec(host), tuple((e, _dec(v)) for e, v in cam_fr),
        tuple((e, _dec(v)) for e, v in pcam_fr))


def _cam_fractions(t: Target, m_cam: Fraction, host: Fraction, oxide: Mapping[str, Fraction]) -> list[
        tuple[str, Fraction]]:
    """Element mass fractions of the CAM: host elements × host share, plus the dopants [kg kg⁻¹]."""
    host_atoms = [("Li", Fraction(1)), *(t.metals if t.family == "layered" else (("Fe", Fraction(1)),
                                                                                   ("P", Fraction(1))))]
    out: dict[str, Fraction] = {e: host * r * _w(e) / m_cam for e, r in host_atoms}
    for d, ppm in t.dopants_ppm:
        out[d] = out.get(d, Fraction(0)) + ppm / 10**6
    return list(out.items())

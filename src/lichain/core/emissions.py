"""Own emissions of a run or commissioning step, and transport emissions of a shipment [kg CO2e].

The footprint of a lot is its inputs' footprints plus the emissions of the step that made it (DESIGN §3).
This module computes that step's own part from its activity data and the factors, exactly (``Decimal``), as
two totals:

* **location-based**: every kWh at the grid-mix factor of the site's region, except electricity that
  physically is the site's own supply — a captive plant or a direct line to a generator — which counts at
  that plant's generation factor. This is what the draft delegated act Ares(2024)3131389, Annex §2.4.1, would
  accept (national grid mix, or a plant-specific factor only through a direct connection); that act is **not
  adopted**, so no result here claims compliance with it.
* **market-based**: as above, but electricity bought under a PPA or backed by guarantees of origin counts at
  the contractual instrument's factor (JRC CFB-EV 2023 electricity hierarchy: on-site generation, then
  supplier-specific contractual instruments meeting quality criteria, then the residual/consumption grid mix);
  plain grid electricity counts at the residual mix where the library has one for the same grid level
  (e.g. ``residual:CN``), else at the grid mix.

Each total is broken down by cause (:data:`CAUSES`). A datum without a factor is never silently zero: it counts
zero *and* the result carries a ``missing`` :class:`~lichain.core.factors.FactorProblem` (``complete`` is
False). Water counts under "reagents" (a purchased input, factor ``water:supply``).

The per-datum resolution (:func:`line_factor`) is shared with the bulk reader in
:mod:`lichain.storage.emissions_reader`, which resolves each distinct datum context once and multiplies with
numpy; both therefore give the same numbers.

References: Andreasi Bassi S. et al., *Rules for the calculation of the Carbon Footprint of Electric Vehicle
Batteries (CFB-EV)*, JRC 2023; draft Commission Delegated Regulation Ares(2024)3131389 (29 Apr 2024) and its
Annex §2.4.1; Regulation (EU) 2023/1542 Art. 7 and Annex II.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from lichain.core.factors import Factor, FactorProblem, FactorResolver
from lichain.core.model import Activity, Shipment, Site

__all__ = [
    "CAUSES",
    "CONTRACTUAL_SOURCES",
    "PHYSICAL_SOURCES",
    "Emissions",
    "Line",
    "LineFactor",
    "TransportEmissions",
    "activity_lines",
    "element_problem",
    "line_factor",
    "own_emissions",
    "transport_emissions",
    "transport_factor",
]

#: Breakdown causes of own emissions, in array column order.
CAUSES: tuple[str, ...] = ("electricity", "fuels", "reagents", "process")

#: Electricity sources that are physically the site's supply: their generation factor counts in both totals.
PHYSICAL_SOURCES: dict[str, str] = {"captive_coal": "captive:coal", "captive_gas": "captive:gas"}

#: Electricity sources that are contracts: only the market-based total uses the instrument's factor.
CONTRACTUAL_SOURCES: tuple[str, ...] = ("ppa", "guarantee_of_origin")

_PER = {"electricity": "kwh", "fuel": "mj", "reagent": "kg", "water": "m3"}
_CAUSE = {"electricity": "electricity", "fuel": "fuels", "reagent": "reagents", "water": "reagents",
          "process": "process"}
_ZERO = Decimal(0)
_ONE = Decimal(1)
_MG_PER_T = Decimal(10**9)


@dataclass(frozen=True, slots=True)
class Line:
    """One activity datum as the ledger stores it (``activities`` row): kind, name, amount [unit]."""

    kind: str  # electricity | fuel | reagent | water | process
    name: str  # electricity source, fuel kind, reagent name
    amount: Decimal  # kWh | MJ | kg | m3 | kg CO2e
    factor_key: str | None = None
    instrument: str | None = None


def activity_lines(activity: Activity) -> tuple[Line, ...]:
    """The activity's data as lines, in the order the store writes them."""
    out = [Line("electricity", e.source, e.kwh, e.factor_key, e.instrument) for e in activity.electricity]
    out += [Line("fuel", f.kind, f.mj) for f in activity.fuels]
    out += [Line("reagent", r.name, r.kg, r.factor_key) for r in activity.reagents]
    if activity.water_m3 is not None:
        out.append(Line("water", "water", activity.water_m3))
    if activity.process_kg_co2e is not None:
        out.append(Line("process", "process", activity.process_kg_co2e))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class LineFactor:
    """Factors of one datum context: kg CO2e per unit of amount, location- and market-based, and its cause."""

    cause: str
    location: Decimal
    market: Decimal
    factors: tuple[Factor, ...] = ()
    problems: tuple[FactorProblem, ...] = ()
    element: str | None = None  # the factor is per kg of this element contained: amount x the owner's assay

    @property
    def counted(self) -> bool:
        """False when a factor is missing and the datum counts zero."""
        return not any(p.kind == "missing" for p in self.problems)


def _check(f: Factor | FactorProblem, per: str, what: str) -> Factor | FactorProblem:
    """``f`` if it is an emission factor per ``per``; else a problem saying why it cannot be used."""
    if isinstance(f, FactorProblem):
        return FactorProblem(f.kind, f.keys, f"{what}: no emission factor ({' / '.join(f.keys)})")
    if not f.is_emission or f.per != per:
        return FactorProblem("missing", (f.key,), f"{what}: factor {f.key} is in {f.unit}, not kg CO2e per {per}")
    return f


def _grid(site: Site, time: datetime | None, r: FactorResolver, what: str) -> tuple[Factor | None, list[FactorProblem]]:
    """Grid-mix factor of the site, with a ``fallback`` problem when only the world average fits."""
    g = _check(r.grid(site, time), "kwh", what)
    if isinstance(g, FactorProblem):
        return None, [g]
    if g.key.casefold() == "grid:world":
        region = site.grid_region or site.country or "an unknown country"
        return g, [FactorProblem("fallback", ("grid:world",), f"{what}: no grid factor for {region}; world average used")]
    return g, []


def _electricity(source: str, key: str | None, instrument: str | None, site: Site, time: datetime | None,
                 r: FactorResolver) -> LineFactor:
    what = f"electricity ({source}) at site {site.id}"
    if source in PHYSICAL_SOURCES or source == "direct_line" or (source == "grid" and key):
        # physically the site's supply (or an explicitly chosen grid factor): one factor for both totals
        phys_key = key or PHYSICAL_SOURCES.get(source)
        if phys_key:
            f = _check(r.resolve(phys_key, site=site.id, time=time), "kwh", what)
            if isinstance(f, Factor):
                return LineFactor("electricity", f.value, f.value, (f,))
            miss = f
        else:
            miss = FactorProblem("missing", (), f"{what}: a direct line needs the generator's factor_key "
                                                "(e.g. generation:hydro)")
        g, gp = _grid(site, time, r, what)
        if g is None:  # nothing fits at all
            return LineFactor("electricity", _ZERO, _ZERO, (), (miss, *gp))
        fb = FactorProblem("fallback", miss.keys, f"{miss.message}; grid factor {g.key} used (conservative)")
        return LineFactor("electricity", g.value, g.value, (g,), (fb, *gp))
    probs: list[FactorProblem] = []
    if source not in ("grid", *CONTRACTUAL_SOURCES):
        probs.append(FactorProblem("fallback", (), f"{what}: unknown electricity source; grid factor used"))
    g, gp = _grid(site, time, r, what)
    probs += gp
    if g is None:
        return LineFactor("electricity", _ZERO, _ZERO, (), tuple(probs))
    # residual mix at the same grid level as the location factor, for grid kWh not covered by an instrument
    res = r.resolve(f"residual:{g.key.partition(':')[2]}", site=site.id, time=time)
    usable = isinstance(res, Factor) and res.per == "kwh" and res.is_emission
    # a library residual mix does not fit a grid factor the user recorded for the site: keep theirs
    if isinstance(res, Factor) and g.version == "override" and res.version != "override":
        usable = False
    residual = res if usable and isinstance(res, Factor) else g
    used = (g,) if residual is g else (g, residual)
    if source not in CONTRACTUAL_SOURCES:
        return LineFactor("electricity", g.value, residual.value, used, tuple(probs))
    inst_keys = tuple(k for k in (key, instrument) if k)
    if inst_keys:
        inst = _check(r.resolve_first(inst_keys, site=site.id, time=time), "kwh", what)
        if isinstance(inst, Factor):
            return LineFactor("electricity", g.value, inst.value, (g, inst), tuple(probs))
        msg = f"{inst.message}; record a factor override for the instrument, or give factor_key"
    else:
        msg = f"{what}: no instrument factor (factor_key or instrument) given"
    probs.append(FactorProblem("fallback", inst_keys, f"{msg}; market-based total uses the residual/grid mix"))
    return LineFactor("electricity", g.value, residual.value, used, tuple(probs))


def line_factor(kind: str, name: str, factor_key: str | None, instrument: str | None, site: Site,
                time: datetime | None, resolver: FactorResolver) -> LineFactor:
    """Factors [kg CO2e per kWh | MJ | kg | m³ | kg CO2e] for one activity datum context at a site and time.

    Parameters
    ----------
    kind : str
        ``electricity``, ``fuel``, ``reagent``, ``water`` or ``process``.
    name : str
        Electricity source (:data:`lichain.core.model.ELECTRICITY_SOURCES`), fuel kind (key ``fuel:<kind>``,
        per MJ net calorific value) or reagent name (key ``reagent:<name>``, per kg).
    factor_key, instrument : str or None
        Explicit factor key; for PPA / guarantee-of-origin electricity the instrument reference may itself
        name a factor (a recorded override can define it).
    site : Site
        Where the datum was used (grid region, country).
    time : datetime or None
        When (selects period overrides).
    resolver : FactorResolver
        Library and overrides.

    Returns
    -------
    LineFactor
        Location- and market-based factors [kg CO2e per unit of amount], cause, factors used and problems.
    """
    if kind == "electricity":
        return _electricity(name, factor_key, instrument, site, time, resolver)
    cause = _CAUSE.get(kind)
    if cause is None:
        p = FactorProblem("missing", (), f"unknown activity kind {kind!r} ({name}) at site {site.id}")
        return LineFactor("process", _ZERO, _ZERO, (), (p,))
    if kind == "process":
        return LineFactor(cause, _ONE, _ONE)
    default = {"fuel": f"fuel:{name}", "reagent": f"reagent:{name}", "water": "water:supply"}[kind]
    what = f"{kind} {name} at site {site.id}"
    got = resolver.resolve(factor_key or default, site=site.id, time=time)
    if kind == "reagent" and isinstance(got, Factor) and got.is_emission and got.element is not None:
        # per kg of contained element (e.g. an HPAL factor per kg Ni): the caller applies the owner's assay
        return LineFactor(cause, got.value, got.value, (got,), (), got.element)
    f = _check(got, _PER[kind], what)
    if isinstance(f, FactorProblem):
        return LineFactor(cause, _ZERO, _ZERO, (), (f,))
    return LineFactor(cause, f.value, f.value, (f,))


@dataclass(frozen=True, slots=True)
class Emissions:
    """Own emissions of one activity [kg CO2e], location- and market-based, each broken down by cause."""

    location_kg_co2e: Decimal
    market_kg_co2e: Decimal
    location_by_cause_kg_co2e: Mapping[str, Decimal]
    market_by_cause_kg_co2e: Mapping[str, Decimal]
    factors: tuple[Factor, ...] = ()
    problems: tuple[FactorProblem, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        """False when some datum had no factor (and so counted zero)."""
        return not any(p.kind == "missing" for p in self.problems)


def element_problem(lf: LineFactor, name: str, owner: str, has_assay: bool) -> FactorProblem:
    """The located refusal to apply a per-kg-of-element factor to an amount without that element's assay."""
    key = lf.factors[0].key if lf.factors else "?"
    unit = lf.factors[0].unit if lf.factors else f"kg CO2e/kg {lf.element}"
    why = (f"{owner} has no {lf.element} assay" if has_assay
           else f"{owner} carries no assay (record the material as a lot with its assay)")
    return FactorProblem("missing", (key,), f"reagent {name}: factor {key} is per kg of {lf.element} contained "
                                            f"({unit}) and {why}; not applied")


def own_emissions(activity: Activity, site: Site, time: datetime | None, resolver: FactorResolver,
                  assay: Mapping[str, Decimal] | None = None, owner: str = "the run") -> Emissions:
    """Own emissions of a run or commissioning step from its activity data [kg CO2e].

    Parameters
    ----------
    activity : Activity
        Electricity [kWh] with source type, fuels [MJ, net calorific value], reagents [kg], water [m³] and
        direct process emissions [kg CO2e].
    site : Site
        The site where the step ran (its grid region and country select the grid factor:
        ``grid:<region>``, else ``grid:<country>``, else ``grid:world`` with a ``fallback`` problem).
    time : datetime or None
        When the step ran (end of the run); selects period overrides.
    resolver : FactorResolver
        Factor library and the ledger's overrides.
    assay : mapping, optional
        Mass fractions (0..1) of the lot whose commissioning this is: a reagent line whose factor is per kg of a
        contained element (``kg CO2e/kg Ni``) counts amount [kg] × fraction × factor. Without the element's
        fraction the line counts zero with a ``missing`` problem (never a guess).
    owner : str
        How problems name the activity's owner (e.g. ``"lot L1"``).

    Returns
    -------
    Emissions
        ``location_kg_co2e`` and ``market_kg_co2e`` [kg CO2e] with breakdowns by :data:`CAUSES`. Location-based:
        grid mix for grid, PPA and guarantee-of-origin electricity; generation factor for captive plants and
        direct lines (the basis the draft delegated act Ares(2024)3131389 §2.4.1 would accept — not adopted).
        Market-based: the instrument's factor for PPA / guarantee of origin, residual mix for the rest of the
        grid (JRC CFB-EV 2023 hierarchy).

    Examples
    --------
    1 000 kWh from the East China grid (0.5617 kg CO2/kWh) give 561.7 kg in both totals; with a guarantee
    of origin for hydropower (factor ``generation:hydro``, 0.026) the market-based total is 26 kg.
    """
    loc = dict.fromkeys(CAUSES, _ZERO)
    mkt = dict.fromkeys(CAUSES, _ZERO)
    factors: list[Factor] = []
    problems: list[FactorProblem] = []
    for ln in activity_lines(activity):
        lf = line_factor(ln.kind, ln.name, ln.factor_key, ln.instrument, site, time, resolver)
        amount = ln.amount
        if lf.element is not None:
            frac = (assay or {}).get(lf.element)
            if not frac:
                factors.extend(lf.factors)
                problems.append(element_problem(lf, ln.name, owner, assay is not None))
                continue
            amount = amount * frac
        loc[lf.cause] += amount * lf.location
        mkt[lf.cause] += amount * lf.market
        factors.extend(lf.factors)
        problems.extend(lf.problems)
    return Emissions(
        sum(loc.values(), _ZERO), sum(mkt.values(), _ZERO), loc, mkt,
        tuple(dict.fromkeys(factors)), tuple(dict.fromkeys(problems)),
    )


@dataclass(frozen=True, slots=True)
class TransportEmissions:
    """Emissions of one shipment [kg CO2e] and its transport work [t·km]."""

    kg_co2e: Decimal
    tonne_km: Decimal
    factor: Factor | None
    problems: tuple[FactorProblem, ...] = ()


def transport_factor(mode: str, site: str | None, time: datetime | None,
                     resolver: FactorResolver) -> Factor | FactorProblem:
    """Factor ``transport:<mode>`` [kg CO2e/(t·km)] for a shipment leaving ``site`` at ``time``."""
    f = resolver.resolve(f"transport:{mode}", site=site, time=time)
    return _check(f, "t-km", f"shipment by {mode}" + (f" from site {site}" if site else ""))


def transport_emissions(shipment: Shipment, resolver: FactorResolver) -> TransportEmissions:
    """Transport emissions of a shipment: mass [t] × distance [km] × mode factor [kg CO2e/(t·km)].

    Parameters
    ----------
    shipment : Shipment
        Mass [mg, exact], distance [km], mode (factor key ``transport:<mode>``, e.g. ``sea_container``,
        ``sea_bulk``, ``road``, ``rail``, ``air``), origin site and time (for overrides).
    resolver : FactorResolver
        Factor library and the ledger's overrides.

    Returns
    -------
    TransportEmissions
        ``kg_co2e`` [kg CO2e]; zero with a ``missing`` problem when the mode has no factor. Default factors
        are tank-to-wake (UK DESNZ/DEFRA); the well-to-tank add-ons are separate keys
        (``transport:<mode>:wtt``) and are not added here (GLEC Framework v3 / ISO 14083 are well-to-wake).
    """
    tkm = Decimal(shipment.mass_mg) / _MG_PER_T * shipment.distance_km
    f = transport_factor(shipment.mode, shipment.from_site, shipment.shipped_at, resolver)
    if isinstance(f, FactorProblem):
        return TransportEmissions(_ZERO, tkm, None, (f,))
    return TransportEmissions(tkm * f.value, tkm, f)

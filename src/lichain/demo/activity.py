"""Activity data of the demo runs: electricity by source type, fuels, reagents not tracked as lots, water.

Why: the footprint engine needs primary activity data per run, as a plant historian would record it. Each
intensity below carries its source tag ([S] retrieved, [D] derived by stoichiometry or arithmetic, [R] recalled,
[A] assumption of the demo, a placeholder for plant meter data); docs/demo.md tabulates them. Factor keys name
rows of ``docs/reference/emission-factors.csv`` so a reader can follow each quantity to a factor.

Amounts are rounded to whole kWh, MJ, kg and m³ (meter resolution at tonne-scale runs); zero amounts are left out.
"""

from __future__ import annotations

from decimal import Decimal

from lichain.core.chemistry import molar_mass
from lichain.core.model import Activity, Electricity, Fuel, Reagent
from lichain.demo.sites import S

__all__ = [
    "cam",
    "cells",
    "hpal",
    "hydromet",
    "lioh",
    "metal_mol",
    "mining",
    "pcam",
    "purchased",
    "refining",
    "shredding",
]

_M = {f: float(molar_mass(f)) for f in ("H2SO4", "H2O2", "NaOH", "Na2CO3", "Li2CO3", "MgO")}
_M_METAL = {"Ni": 58.6934, "Co": 58.933194, "Mn": 54.938043, "Li": 6.94}  # CIAAW 2021 [S: reference §5.1]

# Electricity supply per site: (share, source type, contractual instrument, explicit factor key).
_GRID = ((1.0, "grid", None, None),)
_POWER: dict[str, tuple[tuple[float, str, str | None, str | None], ...]] = {
    # HPAL parks in Morowali/Weda Bay/Obi run on captive coal [S: Dialogue Earth / GEM via reference §4.1]
    S.HPAL: ((1.0, "captive_coal", None, "captive:coal"),),
    # 30 % of the cathode plant's power under a wind PPA [A]: market-based ≠ location-based total
    S.CAM: ((0.7, "grid", None, None), (0.3, "ppa", "PPA-ZJ-2026-WIND-01", "generation:wind")),
    # the Hungarian cell plant covers its whole load with hydro guarantees of origin [A]
    S.HU: ((1.0, "guarantee_of_origin", "GO-HU-2026-HYDRO", "generation:hydro"),),
}


def _q(x: float) -> Decimal:
    return Decimal(round(x))


def _power(site: str, kwh: float) -> tuple[Electricity, ...]:
    out = []
    for share, src, inst, key in _POWER.get(site, _GRID):
        q = round(kwh * share)
        if q > 0:
            out.append(Electricity(Decimal(q), src, inst, key))
    return tuple(out)


def _reagents(*items: tuple[str, float, str]) -> tuple[Reagent, ...]:
    out = []
    for name, kg, key in items:
        q = round(kg)
        if q > 0:
            out.append(Reagent(name, Decimal(q), key))
    return tuple(out)


def _fuel(kind: str, mj: float) -> tuple[Fuel, ...]:
    return (Fuel(kind, _q(mj)),) if round(mj) > 0 else ()


def _water(m3: float) -> Decimal | None:
    return _q(m3) if round(m3) > 0 else None


#: Secondary factor of each purchased intermediate (library keys; the Co(OH)2 factor is per kg Co contained and is
#: applied through the lot's assay). Mn ore has none retrieved: the demo records a supplier PCF instead.
PURCHASED_FACTORS: dict[str, str] = {
    "CO-HYDROXIDE": "material:Co(OH)2:DRC",  # [S] Istrate et al. 2024, mine site, per kg Co
    "SPODUMENE-SC6": "material:spodumene:AU",  # [S] Istrate et al. 2024, mine gate, energy only (a lower bound)
    "LI2CO3": "material:Li2CO3:brine-CL",  # [S] Istrate et al. 2024, Atacama brine
}


def purchased(code: str, mass_kg: float) -> Activity | None:
    """Commissioning of a purchased lot of ``mass_kg`` [kg] at its secondary factor (None: no factor for ``code``).

    The line is a reagent named after the material with the lot's own mass: a factor per kg of product counts
    mass × factor, a factor per kg of contained element mass × the lot's assay × factor.
    """
    key = PURCHASED_FACTORS.get(code)
    if key is None:
        return None
    return Activity(reagents=(Reagent(code, Decimal(round(mass_kg, 6)).normalize(), key),))


def mining(ore_t: float) -> Activity:
    """Mining and haulage of laterite ore [t]: diesel 1.5 L t⁻¹ × 35.8 MJ L⁻¹ = 54 MJ t⁻¹ [A; NCV R]."""
    return Activity(fuels=_fuel("diesel", 54.0 * ore_t))


def hpal(ore_t: float, ni_out_kg: float) -> Activity:
    """HPAL leach of ``ore_t`` [t] ore making MHP with ``ni_out_kg`` [kg] Ni.

    Per t ore: 130 kWh captive-coal power [A, calibrated so that, with the reagents, the plant lands at
    ~22 kg CO2e kg⁻¹ Ni, inside the 10–30 range around the 20 of the Indonesian-nickel whitepaper, reference
    §4.2]; 300 kg H2SO4 from the on-site sulfur-burning acid plant [R: 250–400 kg t⁻¹ for limonite]; 180 kg
    limestone for neutralisation [A] with its stoichiometric CO2 (0.4397 kg kg⁻¹) as direct process emission
    [D: reference §4.6]; MgO for MHP precipitation 1.2 × 40.30/58.69 kg per kg Ni [D]; 1.5 m³ water [A].
    """
    limestone = 180.0 * ore_t
    return Activity(
        electricity=_power(S.HPAL, 130.0 * ore_t),
        reagents=_reagents(("H2SO4", 300.0 * ore_t, "reagent:H2SO4:onsite-sulfur-burning"),
                           ("CaCO3", limestone, "reagent:CaCO3:quarry"),
                           ("MgO", 1.2 * _M["MgO"] / _M_METAL["Ni"] * ni_out_kg, "reagent:MgO")),
        water_m3=_water(1.5 * ore_t),
        process_kg_co2e=_q(0.4397 * limestone),
        readings=(("P_kPa", "4500"), ("T_C", "250")),  # [R] typical HPAL autoclave conditions
    )


def refining(site: str, salt_kg: float, metal_mol: float, naoh_kg: float, fuel: str = "natural_gas") -> Activity:
    """Leach, purify and crystallise sulfate salts (``salt_kg`` [kg] product, ``metal_mol`` [mol] metal leached).

    H2SO4 1.1 × stoichiometric (one per mol M: M(OH)2/MO + H2SO4 → MSO4) [D]; ``naoh_kg`` [kg] NaOH as given by
    the caller; 0.3 kWh and 3 MJ heat per kg salt for evaporative crystallisation [A, so that refining adds
    ~0.5 kg CO2e kg⁻¹ NiSO4·6H2O as the reference §4.2 derivation assumes]; 5 m³ water per t salt [A].
    """
    return Activity(
        electricity=_power(site, 0.3 * salt_kg),
        fuels=_fuel(fuel, 3.0 * salt_kg),
        reagents=_reagents(("H2SO4", 1.1 * metal_mol * _M["H2SO4"] / 1000, "reagent:H2SO4"),
                           ("NaOH", naoh_kg, "reagent:NaOH")),
        water_m3=_water(0.005 * salt_kg),
    )


def lioh(lioh_kg: float) -> Activity:
    """Spodumene → LiOH·H2O [kg]: per kg 3.5 kWh and 71.3 MJ coal heat [S: Kelly et al. 2021 via reference §4.2];
    1.52 kg H2SO4, 1.18 kg NaOH, 0.6 kg CaO, 0.025 kg Na2CO3 [S: Istrate et al. 2024 LCI via emission-factors.csv];
    10 m³ water per t [A]."""
    return Activity(
        electricity=_power(S.LIREF, 3.5 * lioh_kg),
        fuels=_fuel("coal", 71.3 * lioh_kg),
        reagents=_reagents(("H2SO4", 1.52 * lioh_kg, "reagent:H2SO4"),
                           ("NaOH", 1.18 * lioh_kg, "reagent:NaOH"),
                           ("CaO", 0.6 * lioh_kg, "reagent:CaO"),
                           ("Na2CO3", 0.025 * lioh_kg, "reagent:Na2CO3:light")),
        water_m3=_water(0.010 * lioh_kg),
    )


def pcam(pcam_kg: float, naoh_per_kg: float, ph: str) -> Activity:
    """Co-precipitation of ``pcam_kg`` [kg] precursor.

    NaOH from :func:`lichain.core.recipe.pcam_recipe` (2 OH⁻ per metal) [D]; ~0.05 kg net NH3 per kg [A:
    reference §4.3]; 3 kWh kg⁻¹ [A: reference §4.3 placeholder]; 12 m³ water per t [A]. Readings: pH 11.00,
    60 °C, NH3/M 0.8 [S: published NCM622 CSTR recipe, reference §5.3].
    """
    return Activity(
        electricity=_power(S.PCAM, 3.0 * pcam_kg),
        reagents=_reagents(("NaOH", naoh_per_kg * pcam_kg, "reagent:NaOH"),
                           ("NH3", 0.05 * pcam_kg, "reagent:NH3:coal")),
        water_m3=_water(0.012 * pcam_kg),
        readings=(("NH3_to_metal_mol_ratio", "0.8"), ("T_C", "60"), ("pH", ph)),
    )


def cam(cam_kg: float, chem: str) -> Activity:
    """Calcination of ``cam_kg`` [kg] CAM: 4 kWh kg⁻¹ [A: reference §4.3 placeholder]; 0.5 kg O2 kg⁻¹ for an O2
    atmosphere [A: reference §4.3]; 1 MJ kg⁻¹ natural gas for drying [A]. Readings: NCM811 ~760 °C in O2 [R],
    NCM622 875 °C in air [S: reference §5.3]."""
    hot = (("atmosphere", "O2"), ("T_C", "760")) if chem == "NCM811" else (("atmosphere", "air"), ("T_C", "875"))
    return Activity(
        electricity=_power(S.CAM, 4.0 * cam_kg),
        fuels=_fuel("natural_gas", 1.0 * cam_kg),
        reagents=_reagents(("O2", 0.5 * cam_kg, "reagent:O2:onsite-ASU-CN-EAST")),
        readings=hot,
    )


def cells(site: str, cell_kwh: float) -> Activity:
    """Cell manufacturing of ``cell_kwh`` [kWh] capacity: 28.9 kWh per kWh, midpoint of 20.3–37.5 [S: Degen et
    al., Nature Energy 8 (2023) 1284, doi:10.1038/s41560-023-01355-z], all electric as in that study."""
    return Activity(electricity=_power(site, 28.9 * cell_kwh))


def shredding(input_t: float) -> Activity:
    """Discharge, shredding and sieving of ``input_t`` [t] scrap: 100 kWh t⁻¹ [A; reference §4.6: no retrieved
    value for mechanical pre-treatment]."""
    return Activity(electricity=_power(S.RECYCLER, 100.0 * input_t))


def hydromet(bm_kg: float, metal_mol: float, li_mol: float) -> Activity:
    """Leach, solvent extraction and crystallisation of ``bm_kg`` [kg] black mass.

    H2SO4 1.2 × (1.5 mol per mol Ni+Co+Mn for 2 LiMO2 + 3 H2SO4 + H2O2) [D]; H2O2 1.2 × 0.5 mol per mol M [D];
    NaOH 2 mol per mol M extracted (saponified extractant releases 2 H⁺) [D]; Na2CO3 1.2 × ½ mol per mol Li for
    Li2CO3 precipitation [D]; 1 kWh and 8 MJ natural gas per kg black mass [A; reference §4.4: absolute hydromet
    footprint not retrieved]; 10 m³ water per t [A].
    """
    return Activity(
        electricity=_power(S.RECYCLER, 1.0 * bm_kg),
        fuels=_fuel("natural_gas", 8.0 * bm_kg),
        reagents=_reagents(("H2SO4", 1.2 * 1.5 * metal_mol * _M["H2SO4"] / 1000, "reagent:H2SO4"),
                           ("H2O2", 1.2 * 0.5 * metal_mol * _M["H2O2"] / 1000, "reagent:H2O2"),
                           ("NaOH", 2.0 * metal_mol * _M["NaOH"] / 1000, "reagent:NaOH"),
                           ("Na2CO3", 1.2 * 0.5 * li_mol * _M["Na2CO3"] / 1000, "reagent:Na2CO3:light")),
        water_m3=_water(0.010 * bm_kg),
    )


def metal_mol(element_kg: dict[str, float]) -> tuple[float, float]:
    """(mol Ni+Co+Mn, mol Li) in element masses [kg]."""
    m = sum(element_kg.get(e, 0.0) * 1000 / _M_METAL[e] for e in ("Ni", "Co", "Mn"))
    return m, element_kg.get("Li", 0.0) * 1000 / _M_METAL["Li"]

"""Process parameters of the demo chain and the scale plan that turns a lot count into capacities and stocks.

Why: the generator must reach any size (a few thousand lots for tests, one plant-year by default, millions for
benchmarks) with the same realistic per-run numbers. Lot sizes, grades and yields are fixed here, with their
sources; only the number of parallel line-sets ``k`` and the time span change with the requested lot count
(:func:`make_plan`). Compositions and assays come from :mod:`lichain.core.chemistry` and
:mod:`lichain.core.recipe` (stoichiometric mass fractions × purity), never from typed-in percentages.

Source tags: [S] retrieved source, [D] derived here by arithmetic, [R] recalled, verify, [A] assumption of the
demo (no source retrieved; replace with plant data). docs/demo.md lists every number again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from lichain.core.chemistry import mass_fractions
from lichain.core.recipe import NAMED_COMPOSITIONS, cam_recipe, pcam_recipe

__all__ = [
    "CAM_CHEMS",
    "LI_RECOVERY",
    "LOTS_PER_YEAR",
    "RECIPES",
    "P",
    "Plan",
    "make_plan",
    "wf",
]


def wf(formula: str) -> dict[str, float]:
    """Tracked-element mass fractions of a formula [kg kg⁻¹] as floats (for sizing; ledger values are ints)."""
    return {e: float(v) for e, v in mass_fractions(formula).items() if e in ("Ni", "Co", "Mn", "Li")}


#: CAM chemistries made by the demo: name → (pCAM code, CAM code, lithium source formula, lithium source material).
#: Ni-rich NCM811 is calcined with LiOH·H2O, NCM622 with Li2CO3 [R: common industrial practice].
CAM_CHEMS: dict[str, tuple[str, str, str]] = {
    "NCM811": ("PCAM-NCM811", "CAM-NCM811", "LiOH·H2O"),
    "NCM622": ("PCAM-NCM622", "CAM-NCM622", "Li2CO3"),
}


class P:
    """Fixed process parameters (per run or per lot); see the module docstring for the source tags."""

    # --- Indonesian laterite and HPAL ------------------------------------------------------------------------
    ORE_LOT_T = 5000.0  # [A] one day's ore from one pit block
    # limonite 1.25 % Ni, 0.13 % Co [S: HPAL project of WIKA/CNI, kompas.com 2020-11-28]; 1.2–1.8 % Ni typical
    # [S: discoveryalert.com.au, MHP 2025]. Co 0.12 % and Mn 0.8 % used here [A].
    ORE_GRADE: ClassVar[Mapping[str, float]] = {"Ni": 0.0125, "Co": 0.0012, "Mn": 0.0080}
    ORE_GRADE_SD = 0.06  # relative lot-to-lot spread [A]
    HPAL_ORE_T = 4000.0  # ore leached per HPAL run (one autoclave-day) [A]
    # HPAL → MHP overall recovery: Ni 92 %, Co 90 % [R: typical 90–95 % leach extraction, minus precipitation];
    # most Mn stays in solution and is removed before MHP precipitation: 12 % to MHP [A].
    HPAL_YIELD: ClassVar[Mapping[str, float]] = {"Ni": 0.92, "Co": 0.90, "Mn": 0.12}
    # MHP 39 % Ni dry [S: Indonesian MHP 35–40 % Ni, 2–4 % Co, discoveryalert.com.au; Obi HPAL design
    # 96 kt/yr MHP with 37.3 kt Ni and 4.6 kt Co = 38.8 % Ni, davisindex via ec2 mirror, 2021]; Co follows (~3.7 %).
    MHP_NI = 0.39
    # --- DRC cobalt hydroxide (Fastmarkets benchmark spec: Co ≥ 30 %, Mn ≤ 6.5 % [S: fastmarkets.com]) ---------
    COH_LOT_T = 25.0  # one container [A]
    COH_GRADE: ClassVar[Mapping[str, float]] = {"Co": 0.30, "Mn": 0.035}
    # --- Australian spodumene concentrate SC6: 6 % Li2O → 2.79 % Li [D: × 2·6.94/29.88 (chemistry)] -----------
    SC6_LOT_T = 2000.0  # [A] one rail train / stockpile lot
    SC6_LI2O = 0.06
    # --- Chilean brine Li2CO3 (battery grade, 99.5 %) ------------------------------------------------------------
    LI2CO3_LOT_T = 20.0  # one container of 1 t bags [A]
    # --- South African manganese ore 37 % Mn [R: Kalahari Mamatwan-type ore 35–38 % Mn] ----------------------
    MNORE_LOT_T = 500.0
    MNORE_GRADE: ClassVar[Mapping[str, float]] = {"Mn": 0.37}
    # --- refining in Zhejiang ----------------------------------------------------------------------------------
    SALT_PURITY = 0.995  # battery-grade salt: stoichiometric fraction × 0.995, the rest impurities, moisture [A]
    MHP_REFINE_NI_T = 45.0  # Ni leached per MHP refining run (~115 t MHP) [A]
    # MHP → NiSO4/CoSO4 by leach + solvent extraction + crystallisation: Ni 98.5 %, Co 97 % [R]; Mn to residue.
    MHP_REFINE_YIELD: ClassVar[Mapping[str, float]] = {"Ni": 0.985, "Co": 0.97}
    COH_REFINE_CO_T = 7.5  # Co leached per Co(OH)2 refining run (one container) [A]
    COH_REFINE_YIELD: ClassVar[Mapping[str, float]] = {"Co": 0.97}  # [R]; Mn removed as impurity
    MN_REFINE_MN_T = 13.0  # Mn per MnSO4 run [A]
    MN_REFINE_YIELD: ClassVar[Mapping[str, float]] = {"Mn": 0.90}  # reductive leach of MnO2 ore [R: 85–95 %]
    SALT_LOT_T = 50.0  # salt lot size (one crystalliser campaign / 50 × 1 t bags) [A]
    LI_REFINE_LI_T = 10.0  # Li in SC6 per LiOH run [A]
    # 6.42 kg SC6 per kg LiOH·H2O [S: Kelly et al., RCR 174 (2021) 105762, via reference §4.2] → Li recovery
    # 0.1654 / (6.42 × 0.0279) = 92.3 % [D].
    SC6_PER_LIOH = 6.42
    # --- pCAM co-precipitation and CAM calcination ---------------------------------------------------------------
    PCAM_LOT_T = 8.0  # one filter-press discharge after drying, the QC lot [A]
    PCAM_LOTS_PER_RUN = 2  # a co-precipitation campaign fills two lots [A]
    PCAM_YIELD = 0.995  # metal to product; the rest to mother liquor / wastewater treatment [A]
    PCAM_PURITY = 0.995  # Na, S, moisture and other impurities [A; Na 100–300 ppm, S 1500–2500 ppm, reference §5.3]
    RECOVERED_MAX_SHARE = 0.30  # blending limit of recovered salts per metal in a pCAM run [A]
    CAM_LOT_T = 10.0  # one QC lot (big bags) of a roller-hearth kiln line [A]
    CAM_LOTS_PER_RUN = 2  # a calcination campaign fills two lots [A]
    CAM_YIELD = 0.998  # metal to product; kiln dust [A]
    CAM_PURITY = 0.998  # residual Li2CO3/LiOH and moisture [A]
    LI_ME = Decimal("1.04")  # Li/Me fed; excess Li volatilises or is washed off [S: reference §5.3, 1.02–1.05]
    RECOVERED_LI_MAX_SHARE = 0.40  # blending limit of recovered Li2CO3 in an NCM622 calcination [A]
    # 40 kt/yr CAM: a mid-sized integrated producer [A]; 60 % NCM811, 40 % NCM622 [A]
    CAM_T_PER_DAY: ClassVar[Mapping[str, float]] = {"NCM811": 40000.0 * 0.6 / 365, "NCM622": 40000.0 * 0.4 / 365}
    # --- cells at the customers ----------------------------------------------------------------------------------
    # production scrap 5–10 % of CAM input; mature plants ~10 % after five years, 15–30 % in ramp-up
    # [S: Fraunhofer FFB 2024, via zoniax.com]. Per plant [A]: Korea mature, Hungary still ramping up.
    SCRAP_RATE: ClassVar[Mapping[str, float]] = {"KR-OCHANG-CELLS": 0.06, "PL-WROCLAW-CELLS": 0.08, "HU-IVANCSA-CELLS": 0.10}
    SCRAP_CAM_SHARE = 0.85  # CAM share of cathode scrap mass (rest Al foil, binder, carbon) [A]
    # CAM share of cell mass [D]: cell 250 Wh/kg (811) and 230 Wh/kg (622) [R], CAM 0.73 and 0.65 kWh/kg [D, below]
    CELL_CAM_SHARE: ClassVar[Mapping[str, float]] = {"NCM811": 0.34, "NCM622": 0.35}
    # specific energy of the CAM in a cell [kWh/kg]: ~200 mAh/g × 3.65 V and ~175 mAh/g × 3.7 V [R]
    CAM_KWH_PER_KG: ClassVar[Mapping[str, float]] = {"NCM811": 0.73, "NCM622": 0.65}
    # --- recycling --------------------------------------------------------------------------------------------------
    EOL_T_PER_DAY = 16.4  # 6 kt/yr end-of-life modules collected [A]
    EOL_LOT_T = 4.0  # one truckload of modules [A]
    EOL_CAM_SHARE = 0.25  # CAM share of module mass [A]
    EOL_MIX = (("NCM523", 0.3), ("NCM622", 0.4), ("NCM811", 0.3))  # chemistry of returned modules [A]
    SHRED_BATCH_T = 25.0
    # electrode powder recovered after crushing/separation ≥ 98 % [S: MIIT 规范条件 2024, reference §4.4]
    SHRED_YIELD = 0.98
    BM_MASS_YIELD: ClassVar[Mapping[str, float]] = {"scrap": 0.88, "eol": 0.40}  # black mass per input mass (foil, casing, plastics out) [A]
    HYDROMET_BATCH_T = 30.0
    # metallurgical recovery Ni, Co, Mn ≥ 98 %, Li ≥ 90 % [S: MIIT 规范条件 2024, reference §4.4 and
    # emission-factors.csv recycling.recovery.*]; above the EU Annex XII 2031 floors (95 %, 80 %).
    HYDROMET_YIELD: ClassVar[Mapping[str, float]] = {"Ni": 0.98, "Co": 0.98, "Mn": 0.98, "Li": 0.90}
    AGE_DAYS = 10  # a waste stock older than this is processed even if below batch size [A]


def _cam_chemistry() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for chem, (_pcam, _cam, li_src) in CAM_CHEMS.items():
        comp = NAMED_COMPOSITIONS[chem]
        pr = pcam_recipe(comp, 1, Decimal(str(P.PCAM_YIELD)))
        cr = cam_recipe(comp, 1, P.LI_ME, li_src, Decimal(str(P.CAM_YIELD)))
        out[chem] = {
            "naoh_per_pcam": float(pr.sodium_hydroxide_kg),
            "pcam_per_cam": float(cr.pcam_kg),
            "li_src_per_cam": float(cr.lithium_source_kg),
            "o2_per_cam": float(cr.oxygen_kg),
        }
    return out


#: Per-kg recipe numbers from :mod:`lichain.core.recipe`, computed once: NaOH per kg pCAM (at PCAM_YIELD),
#: pCAM, lithium source and O2 per kg CAM (at CAM_YIELD and Li/Me 1.04).
RECIPES: dict[str, dict[str, float]] = _cam_chemistry()

#: Li recovery of the spodumene → LiOH·H2O refinery [kg kg⁻¹]: Li in 1 kg battery-grade LiOH·H2O over Li in
#: 6.42 kg SC6 [D from Kelly et al. 2021], about 0.92.
LI_RECOVERY = wf("LiOH·H2O")["Li"] * P.SALT_PURITY / (P.SC6_PER_LIOH * P.SC6_LI2O * wf("Li2O")["Li"])

#: Lots per simulated year at k = 1 (measured with seed 0; the generator stops at the requested count anyway).
LOTS_PER_YEAR = 20_500
_MAX_YEARS = 5.0


@dataclass(frozen=True, slots=True)
class Plan:
    """Scale of one generated chain: line-sets ``k``, expected years, daily element demand [kg d⁻¹] by stock."""

    lots: int
    k: float
    years: float
    demand: dict[str, float]

    @property
    def max_days(self) -> int:
        """Hard stop of the simulation [d] (the lot count normally stops it first)."""
        return int(self.years * 365 * 1.6) + 120


def _demand() -> dict[str, float]:
    """Element demand per stock [kg d⁻¹] at k = 1, from the CAM plan through the yields (recycling ignored)."""
    d: dict[str, float] = {"Ni": 0.0, "Co": 0.0, "Mn": 0.0}
    li: dict[str, float] = {}
    for chem, (_pcam, _cam, li_src) in CAM_CHEMS.items():
        t = P.CAM_T_PER_DAY[chem] * 1000
        w = wf(f"Li{NAMED_COMPOSITIONS[chem].metal_formula}O2")
        for e in ("Ni", "Co", "Mn"):
            d[e] += t * w[e] / (P.CAM_YIELD * P.PCAM_YIELD)
        li[li_src] = t * w["Li"] * float(P.LI_ME) / P.CAM_YIELD
        d[f"pcam:{chem}"] = t * w["Ni"] / P.CAM_YIELD
    mhp_ni = d["Ni"] / P.MHP_REFINE_YIELD["Ni"]
    mhp_co_per_ni = P.ORE_GRADE["Co"] * P.HPAL_YIELD["Co"] / (P.ORE_GRADE["Ni"] * P.HPAL_YIELD["Ni"])
    co_from_mhp = mhp_ni * mhp_co_per_ni * P.MHP_REFINE_YIELD["Co"]
    return {
        "salt:Ni": d["Ni"], "salt:Co": d["Co"], "salt:Mn": d["Mn"],
        "pcam:NCM811": d["pcam:NCM811"], "pcam:NCM622": d["pcam:NCM622"],
        "li:LiOH·H2O": li["LiOH·H2O"], "li:Li2CO3": li["Li2CO3"],
        "mhp:Ni": mhp_ni,
        "ore:Ni": mhp_ni / P.HPAL_YIELD["Ni"],
        "coh:Co": max(0.0, d["Co"] - co_from_mhp) / P.COH_REFINE_YIELD["Co"],
        "mnore:Mn": d["Mn"] / P.MN_REFINE_YIELD["Mn"],
        "sc6:Li": li["LiOH·H2O"] / LI_RECOVERY,
    }  # fmt: skip


def make_plan(lots: int) -> Plan:
    """Choose line-sets ``k`` and span for a lot count.

    Up to one year's worth (:data:`LOTS_PER_YEAR`) the chain runs about a year at reduced capacity (``k < 1``),
    so every stage and the recycling loop appear even in small test chains; up to five years it runs at
    ``k = 1`` for longer; beyond that, ``k`` parallel line-sets share the same sites over five years.
    """
    if lots <= 0:
        raise ValueError(f"lots must be > 0, got {lots}")
    years = lots / LOTS_PER_YEAR
    if years <= 1.0:
        k, span = years, 1.0
    elif years <= _MAX_YEARS:
        k, span = 1.0, years
    else:
        k, span = years / _MAX_YEARS, _MAX_YEARS
    return Plan(lots, k, span, _demand())

"""The demo cell makers' statements for the battery passport: cell data of their first cell lots, a few battery ids.

Why a module of its own: a passport needs data only the cell maker knows (docs/passport.md). The demo's three cell
plants state it for their first :data:`SPEC_LOTS` cell lots (one cell model per plant and chemistry) and register
:data:`BATTERIES` battery ids in the first lot, so ``lichain passport LOT`` and ``lichain passport BATTERY_ID`` work
on any demo ledger. The figures are a demo cell maker's declaration [A: assumed, plausible for automotive cells],
consistent with the chain: specific energy 250 Wh/kg (NCM811) and 230 Wh/kg (NCM622) as in
:attr:`lichain.demo.plan.P.CELL_CAM_SHARE`; rated energy = capacity × nominal voltage.
"""

from __future__ import annotations

from decimal import Decimal as D

from lichain.core.model import BatteryRegistration, CellSpec

__all__ = ["BATTERIES", "SPEC_LOTS", "battery_ids", "cell_spec"]

#: Cell lots per plant that get a cell-spec statement, and battery ids registered in the first of them.
SPEC_LOTS = 2
BATTERIES = 3
# plant prefix → (model, format, capacity [Ah] by chemistry, street, postal code)
_PLANTS = {
    "KR": ("P", "pouch", {"NCM811": D("60"), "NCM622": D("50")}, "1 Demo-ro, Ochang-eup", "28117"),
    "PL": ("P", "pouch", {"NCM811": D("60"), "NCM622": D("50")}, "1 Demo Street, Biskupice Podgorne", "55-040"),
    "HU": ("R", "prismatic", {"NCM811": D("120"), "NCM622": D("100")}, "1 Demo utca, Ivancsa", "2454"),
}
_WH_PER_KG = {"NCM811": D("250"), "NCM622": D("230")}
_VOLT = D("3.65")


def cell_spec(lot: str, site: str, organisation: str, chemistry: str) -> CellSpec:
    """The demo cell maker's statement about one cell lot of ``chemistry`` (NCM811 or NCM622) at ``site``."""
    cc = site[:2]
    kind, fmt, caps, street, postal = _PLANTS[cc]
    cap = caps[chemistry]
    kwh = cap * _VOLT / 1000
    return CellSpec(
        lot, f"DEMO-{cc}-{kind}{cap}-{chemistry}", "ev", chemistry, cap, _VOLT, kwh,
        (kwh * 1000 / _WH_PER_KG[chemistry]).quantize(D("0.001")), organisation, 2000, D("10"),
        chemistry_name=f"lithium nickel manganese cobalt oxide ({chemistry}, {fmt} cell)",
        manufacturer_country=cc, manufacturer_street=street, manufacturer_postal_code=postal,
        place_street=street, place_postal_code=postal, min_voltage_v=D("2.5"), max_voltage_v=D("4.2"),
        round_trip_efficiency_pct=D("95"), round_trip_efficiency_50_pct=D("93"),
        capacity_threshold_exhaustion_pct=D("70"), internal_resistance_ohm=D("0.0008") if cap > 80 else D("0.0012"),
        internal_resistance_level="cell", c_rate=D("1"), c_rate_life_cycle_test=D("0.5"),
        temp_idle_min_c=D("-20"), temp_idle_max_c=D("45"),
    )


def battery_ids(lot: str, site: str) -> BatteryRegistration:
    """:data:`BATTERIES` battery ids registered in the first spec'd lot of ``site``."""
    return BatteryRegistration(lot, tuple(f"{site}-BAT-{n:06d}" for n in range(1, BATTERIES + 1)))

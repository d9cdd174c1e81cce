"""The vocabulary of manufacturing data: certificate-of-analysis properties and process parameters, each with
the one unit it is recorded in.

Why this exists: a value without its unit is a guess, and two spellings of one property make a specification
miss a failing value. Every CoA value, specification limit and process reading names its property from these
tables and states its unit, and the unit must be the one listed here (no silent conversion).
"""

from __future__ import annotations

__all__ = ["COA_PROPERTIES", "PROCESS_PARAMETERS", "unit_problem"]

#: Certificate-of-analysis properties → unit. Assays are mass fractions (kg kg⁻¹, 0..1) as everywhere in lichain.
COA_PROPERTIES: dict[str, str] = {
    "assay_Ni": "kg/kg", "assay_Co": "kg/kg", "assay_Mn": "kg/kg", "assay_Li": "kg/kg", "assay_Al": "kg/kg",
    "D10": "µm", "D50": "µm", "D90": "µm",
    "tap_density": "g/cm3",
    "BET": "m2/g",
    "Na": "ppm", "S": "ppm", "Fe": "ppm", "Cu": "ppm", "Zn": "ppm",
    "moisture": "%",
    "magnetic": "ppb",
}  # fmt: skip

#: Process parameters of the precursor (co-precipitation) and cathode (calcination) lines → unit.
PROCESS_PARAMETERS: dict[str, str] = {
    "pH": "pH",
    "temperature": "°C",
    "nh3_concentration": "g/L",
    "stirring_speed": "rpm",
    "feed_metal": "L/h",
    "feed_naoh": "L/h",
    "feed_nh3": "L/h",
    "residence_time": "h",
    "peak_temperature": "°C",
    "dwell_time": "h",
    "o2_flow": "L/min",
}


def unit_problem(prop: str, unit: str, table: dict[str, str], what: str) -> str | None:
    """Why ``unit`` cannot be the unit of ``prop`` in ``table`` (None when it is)."""
    expected = table.get(prop)
    if expected is None:
        return f"unknown {what} {prop!r} (known: {', '.join(table)})"
    if unit != expected:
        return f"{what} {prop} is recorded in {expected!r}, got {unit!r}"
    return None

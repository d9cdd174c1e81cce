"""Battery passport source data: the cell maker's statements about a cell lot, and battery ids registered in it.

Why this exists: a battery passport (Regulation (EU) 2023/1542 Art. 77, Annex XIII) carries data only the cell
maker knows — rated capacity, nominal voltage, rated energy, chemistry, mass, manufacturer, place and date of
manufacture, expected lifetime, performance and durability figures (Annex IV) — beside what lichain computes from
the chain (carbon footprint, recycled content, composition). The cell maker's data enter the ledger as
:class:`lichain.core.model.CellSpec` events (one per lot; a later one supersedes, the earlier stays on record) and
individual batteries as :class:`lichain.core.model.BatteryRegistration` events. This module holds the field table
(names, units, ranges: one source for the codec, the spreadsheet sheet and the docs) and the rules a statement must
meet before it is written: each a located problem, nothing guessed, nothing written on refusal.

Units are in the field names (Ah, V, kWh, kg, Ω, %, °C, years, cycles); ranges are physical plausibility bounds
(a figure outside them is a unit mistake or a typo, e.g. capacity in mAh given as Ah) and the BatteryPass Data
Model 1.2 bounds where it has them (idle temperature −100…200 °C). Rated energy must agree with rated capacity ×
nominal voltage within :data:`ENERGY_TOLERANCE` (IEC 62660-1 defines rated energy from the two).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from lichain.core.codec import format_time, parse_time
from lichain.core.model import BatteryRegistration, CellSpec

__all__ = [
    "CATEGORIES",
    "ENERGY_TOLERANCE",
    "REGISTRATION_FIELDS",
    "SPEC_FIELDS",
    "STATUSES",
    "SpecField",
    "record_from_json",
    "record_to_json",
    "registration_problems",
    "spec_problems",
]

#: Battery categories of Art. 2 as the BatteryPass model spells them.
CATEGORIES: tuple[str, ...] = ("ev", "lmt", "industrial", "stationary")
#: Status of a registered battery (BatteryPass batteryStatus, Art. 77(6): a second life gets a new passport).
STATUSES: tuple[str, ...] = ("original", "reused", "repurposed", "remanufactured")
#: Where an internal resistance was measured (BatteryPass batteryComponent).
LEVELS: tuple[str, ...] = ("cell", "module", "pack")
#: Largest relative difference between rated energy and rated capacity × nominal voltage.
ENERGY_TOLERANCE = Decimal("0.10")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")


@dataclass(frozen=True, slots=True)
class SpecField:
    """One field of a cell-spec statement: unit, whether required, bounds (exclusive low when ``open_low``)."""

    name: str
    unit: str
    required: bool
    meaning: str
    low: Decimal | None = None
    high: Decimal | None = None
    open_low: bool = False


def _f(name: str, unit: str, req: bool, meaning: str, low: str | None = None, high: str | None = None,
       open_low: bool = False) -> SpecField:
    return SpecField(name, unit, req, meaning, None if low is None else Decimal(low),
                     None if high is None else Decimal(high), open_low)


#: The fields of :class:`lichain.core.model.CellSpec` in order, with units and plausibility bounds.
SPEC_FIELDS: tuple[SpecField, ...] = (
    _f("lot", "", True, "the cell or battery lot the statement is about"),
    _f("model", "", True, "battery model identifier (the passport's product identifier)"),
    _f("category", "", True, "ev, lmt, industrial or stationary (Art. 2)"),
    _f("chemistry", "", True, "short name of the chemistry, e.g. NMC811"),
    _f("rated_capacity_ah", "Ah", True, "rated capacity of one battery", "0", "10000", True),
    _f("nominal_voltage_v", "V", True, "nominal voltage", "0", "1500", True),
    _f("rated_energy_kwh", "kWh", True, "rated energy of one battery (≈ capacity × voltage)", "0", "5000", True),
    _f("mass_kg", "kg", True, "mass of one battery", "0", "10000", True),
    _f("manufacturer", "", True, "manufacturer's name"),
    _f("expected_lifetime_cycles", "cycles", True, "expected lifetime in full cycles", "1", "100000"),
    _f("expected_lifetime_years", "years", True, "expected lifetime in calendar years", "0", "50", True),
    _f("chemistry_name", "", False, "clear name of the chemistry, e.g. lithium nickel manganese cobalt oxide"),
    _f("manufacturer_id", "", False, "manufacturer's unique identifier (e.g. GLN, LEI)"),
    _f("manufacturer_street", "", False, "manufacturer's street address"),
    _f("manufacturer_postal_code", "", False, "manufacturer's postal code"),
    _f("manufacturer_country", "", False, "manufacturer's country (ISO 3166-1 alpha-2)"),
    _f("manufactured_at", "time", False, "date of manufacture (default: the lot's production time)"),
    _f("place_street", "", False, "street address of the place of manufacture (its site gives the country)"),
    _f("place_postal_code", "", False, "postal code of the place of manufacture"),
    _f("min_voltage_v", "V", False, "minimum voltage", "0", "1500", True),
    _f("max_voltage_v", "V", False, "maximum voltage", "0", "1500", True),
    _f("rated_max_power_kw", "kW", False, "rated maximum power", "0", "10000", True),
    _f("round_trip_efficiency_pct", "%", False, "initial round-trip energy efficiency", "0", "100", True),
    _f("round_trip_efficiency_50_pct", "%", False, "round-trip efficiency at 50 % of cycle life", "0", "100", True),
    _f("round_trip_efficiency_fade_pct", "%", False, "round-trip efficiency fade", "0", "100"),
    _f("power_fade_pct", "%", False, "power fade", "0", "100"),
    _f("capacity_fade_pct", "%", False, "capacity fade stated by the cell maker", "0", "100"),
    _f("capacity_threshold_exhaustion_pct", "%", False, "capacity threshold for exhaustion (EV)", "0", "100", True),
    _f("internal_resistance_ohm", "Ω", False, "initial internal (ohmic) resistance", "0", "10", True),
    _f("internal_resistance_level", "", False, "where it was measured: cell, module or pack (default cell)"),
    _f("self_discharge_pct_per_month", "%/month", False, "initial self-discharge rate", "0", "100"),
    _f("c_rate", "C", False, "C-rate of the relevant cycle-life test", "0", "100", True),
    _f("c_rate_life_cycle_test", "C", False, "C-rate of the life-cycle test", "0", "100", True),
    _f("temp_idle_min_c", "°C", False, "lower bound of the idle-state temperature range", "-100", "200"),
    _f("temp_idle_max_c", "°C", False, "upper bound of the idle-state temperature range", "-100", "200"),
    _f("lifetime_reference_test", "", False, "URI of the lifetime reference test report"),
)
#: The fields of :class:`lichain.core.model.BatteryRegistration` (battery_ids separated by ';' in a sheet).
REGISTRATION_FIELDS: tuple[SpecField, ...] = (
    _f("lot", "", True, "the cell or battery lot the batteries belong to"),
    _f("battery_ids", "", True, "battery ids registered, separated by ';' (each a unique identifier)"),
    _f("status", "", False, "original (default), reused, repurposed or remanufactured"),
    _f("predecessor", "", False, "for a second life: the battery's id in its first life"),
    _f("operator", "", False, "for a second life: the operator who took the battery over"),
)
_BOUNDS = {f.name: f for f in SPEC_FIELDS}


def _kind(body: Any, name: str) -> str:
    ann = {f.name: str(f.type) for f in fields(body)}[name]
    for k in ("Decimal", "datetime", "tuple", "int"):
        if k in ann:
            return k
    return "str"


def record_to_json(body: CellSpec | BatteryRegistration) -> dict[str, Any]:
    """Canonical JSON form (text values; a list for battery ids; absent optional fields left out)."""
    out: dict[str, Any] = {}
    for f in fields(body):
        v = getattr(body, f.name)
        if v is None:
            continue
        out[f.name] = (format_time(v) if isinstance(v, datetime) else list(v) if isinstance(v, tuple)
                       else str(v))
    return out


def record_from_json(cls: type[CellSpec] | type[BatteryRegistration], d: Mapping[str, Any]
                     ) -> CellSpec | BatteryRegistration:
    """Inverse of :func:`record_to_json` (raises KeyError, ValueError or ArithmeticError on malformed input)."""
    proto = cls.__dataclass_fields__
    unknown = sorted(set(d) - set(proto))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")
    kw: dict[str, Any] = {}
    for name, f in proto.items():
        if name not in d or d[name] is None:
            continue
        ann, v = str(f.type), d[name]
        if "tuple" in ann:
            if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
                raise ValueError(f"{name} must be a list of texts")
            kw[name] = tuple(v)
        elif "Decimal" in ann:
            kw[name] = Decimal(str(v))
            if not kw[name].is_finite():
                raise ValueError(f"{name} is not a finite number")
        elif "datetime" in ann:
            kw[name] = parse_time(str(v))
        elif "int" in ann:
            kw[name] = int(str(v))
        else:
            kw[name] = str(v)
    return cls(**kw)


def _range(name: str, v: Decimal | int) -> str | None:
    b = _BOUNDS[name]
    low_bad = b.low is not None and (v <= b.low if b.open_low else v < b.low)
    high_bad = b.high is not None and v > b.high
    if low_bad or high_bad:
        lo = "" if b.low is None else f"{'>' if b.open_low else '≥'} {b.low}"
        return f"{name} must be {lo} and ≤ {b.high} {b.unit}, got {v} (check the unit: {b.unit})"
    return None


def spec_problems(s: CellSpec) -> list[tuple[str, str]]:
    """Why a cell-spec statement cannot be recorded: (field suffix, reason) pairs; empty when it can."""
    out: list[tuple[str, str]] = []
    for name in ("lot", "model", "chemistry", "manufacturer"):
        if not str(getattr(s, name)).strip():
            out.append((f"/{name}", f"{name} is required"))
    if s.category not in CATEGORIES:
        out.append(("/category", f"category must be one of {', '.join(CATEGORIES)}, got {s.category!r}"))
    for b in SPEC_FIELDS:
        v = getattr(s, b.name)
        if isinstance(v, Decimal | int) and not isinstance(v, bool) and (msg := _range(b.name, v)) is not None:
            out.append((f"/{b.name}", msg))
    c, u, e = s.rated_capacity_ah, s.nominal_voltage_v, s.rated_energy_kwh
    if c > 0 and u > 0 and e > 0 and abs(c * u / 1000 - e) > ENERGY_TOLERANCE * e:
        out.append(("/rated_energy_kwh", f"rated energy {e} kWh disagrees with rated capacity × nominal voltage "
                                         f"= {c} Ah × {u} V = {c * u / 1000} kWh by more than "
                                         f"{ENERGY_TOLERANCE * 100} %"))
    if s.min_voltage_v is not None and s.min_voltage_v >= u:
        out.append(("/min_voltage_v", f"minimum voltage {s.min_voltage_v} V is not below the nominal {u} V"))
    if s.max_voltage_v is not None and s.max_voltage_v <= u:
        out.append(("/max_voltage_v", f"maximum voltage {s.max_voltage_v} V is not above the nominal {u} V"))
    lo, hi = s.temp_idle_min_c, s.temp_idle_max_c
    if lo is not None and hi is not None and lo >= hi:
        out.append(("/temp_idle_max_c", f"idle temperature range {lo}…{hi} °C is empty"))
    if s.manufacturer_country is not None and not _COUNTRY.match(s.manufacturer_country):
        out.append(("/manufacturer_country", f"country must be an ISO 3166-1 alpha-2 code, got "
                                             f"{s.manufacturer_country!r}"))
    if s.internal_resistance_level is not None and s.internal_resistance_level not in LEVELS:
        out.append(("/internal_resistance_level", f"must be one of {', '.join(LEVELS)}, got "
                                                  f"{s.internal_resistance_level!r}"))
    if s.lifetime_reference_test is not None and not _URI.match(s.lifetime_reference_test):
        out.append(("/lifetime_reference_test", f"must be a URI, got {s.lifetime_reference_test!r}"))
    return out


def registration_problems(r: BatteryRegistration, known: Mapping[str, str]) -> list[tuple[str, str]]:
    """Why a registration cannot be recorded: (field suffix, reason) pairs; empty when it can.

    ``known`` maps battery ids already registered (on record or earlier in the document) to their lot.
    """
    out: list[tuple[str, str]] = []
    if not r.battery_ids:
        out.append(("/battery_ids", "register at least one battery id"))
    seen: set[str] = set()
    for k, bid in enumerate(r.battery_ids):
        if not bid.strip() or bid != bid.strip() or any(ch.isspace() for ch in bid) or len(bid) > 200:
            out.append((f"/battery_ids/{k}", f"battery id {bid!r} must be 1-200 characters without spaces"))
        elif bid in seen:
            out.append((f"/battery_ids/{k}", f"battery id {bid!r} is listed twice"))
        elif bid in known:
            out.append((f"/battery_ids/{k}", f"battery id {bid!r} is already registered (lot {known[bid]}): a "
                                             "battery id identifies one battery"))
        seen.add(bid)
    if r.status not in STATUSES:
        out.append(("/status", f"status must be one of {', '.join(STATUSES)}, got {r.status!r}"))
    elif r.status == "original":
        if r.predecessor is not None:
            out.append(("/predecessor", "an original battery has no predecessor (give status reused, repurposed "
                                        "or remanufactured)"))
    else:
        if len(r.battery_ids) != 1:
            out.append(("/battery_ids", f"a {r.status} battery is registered alone: one new id for its "
                                        "predecessor"))
        if r.predecessor is None:
            out.append(("/predecessor", f"a {r.status} battery names its predecessor (its id in its first life)"))
        elif r.predecessor not in known:
            out.append(("/predecessor", f"predecessor {r.predecessor!r} is not a registered battery"))
        elif known[r.predecessor] != r.lot:
            out.append(("/lot", f"predecessor {r.predecessor!r} belongs to lot {known[r.predecessor]}, not "
                                f"{r.lot}"))
        if not (r.operator or "").strip():
            out.append(("/operator", f"a {r.status} battery names the operator who took it over (Art. 77(7))"))
    return out

"""Spreadsheet rows of a cell maker's cell data (``cell_specs``) and of battery registrations (``battery_registrations``).

Why a module of its own: the two sheets have many columns (one per field of
:data:`lichain.core.passport.SPEC_FIELDS`), all declared once in :mod:`lichain.core.passport`; reading a row and
writing one back are generic over that table, so the tabular reader and writer call in here with one line each.
Numbers keep their sign here (an idle temperature may be below 0 °C); ranges are the ledger's rules, checked on
ingest with the row's location.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from lichain.core.codec import format_time
from lichain.core.model import BatteryRegistration, CellSpec, Event
from lichain.core.passport import REGISTRATION_FIELDS, SPEC_FIELDS, SpecField
from lichain.core.quantities import parse_decimal
from lichain.io.tabular_cells import Row

__all__ = ["read_registration", "read_spec", "registration_cells", "spec_cells"]

_TEXT_UNITS = ("", "time")


def _value(r: Row, f: SpecField) -> object | None:
    if f.unit == "time":
        return r.time(f.name, required=f.required)
    if f.unit in _TEXT_UNITS:
        return r.text(f.name, required=f.required)
    v = r.raw(f.name)
    if v is None:
        r.text(f.name, required=f.required)  # reports an empty required cell
        return None
    d = parse_decimal(v)
    if isinstance(d, str):
        r.bad(f.name, f"{d} [{f.unit}]")
        return None
    if f.unit == "cycles":
        if d != d.to_integral_value():
            r.bad(f.name, f"{f.name} is a whole number of cycles, got {v}")
            return None
        return int(d)
    return d


def read_spec(r: Row) -> tuple[CellSpec, datetime | None] | None:
    """A cell_specs row and when it was declared (declared_at; None: not given)."""
    values = {f.name: _value(r, f) for f in SPEC_FIELDS}
    at = r.time("declared_at")
    if not r.ok or any(values[f.name] is None for f in SPEC_FIELDS if f.required):
        return None
    return CellSpec(**values), at  # type: ignore[arg-type]


def read_registration(r: Row) -> tuple[BatteryRegistration, datetime | None] | None:
    """A battery_registrations row (ids separated by ';') and when it was made (None: not given)."""
    lot, ids = r.text("lot", required=True), r.text("battery_ids", required=True)
    at = r.time("registered_at")
    if not r.ok or lot is None or ids is None:
        return None
    return BatteryRegistration(lot, tuple(i.strip() for i in ids.split(";") if i.strip()),
                               r.text("status") or "original", r.text("predecessor"), r.text("operator")), at


def _cell(v: object) -> object | None:
    if isinstance(v, datetime):
        return format_time(v)
    if isinstance(v, Decimal | int):
        return str(v)
    return v


def spec_cells(b: CellSpec, ev: Event) -> dict[str, object | None]:
    """The cell_specs row of a cell-spec event (its event time as declared_at)."""
    return {**{f.name: _cell(getattr(b, f.name)) for f in SPEC_FIELDS}, "declared_at": format_time(ev.time)}


def registration_cells(b: BatteryRegistration, ev: Event) -> dict[str, object | None]:
    """The battery_registrations row of a registration event (its event time as registered_at)."""
    return {"lot": b.lot, "battery_ids": ";".join(b.battery_ids), "status": b.status, "predecessor": b.predecessor,
            "operator": b.operator, "registered_at": format_time(ev.time)}


assert [f.name for f in REGISTRATION_FIELDS] == ["lot", "battery_ids", "status", "predecessor", "operator"]

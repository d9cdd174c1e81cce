"""Read a chain from a workbook people filled (XLSX, or a folder of CSV files) into located ledger events.

The parser checks shape, types, units and references within the workbook, and reports every problem in one pass
with the cell it is in; the ledger rules (:func:`lichain.core.validate.check_document`) then check the events
against the stored state. Events come out in an order the ledger accepts: sites, materials, source lots, then
runs and shipments interleaved by time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from lichain.core.codec import kind_of
from lichain.core.errors import Problem
from lichain.core.model import (
    DEFAULT_ELEMENTS,
    ELECTRICITY_SOURCES,
    Activity,
    BatteryRegistration,
    CellSpec,
    Consumption,
    DiligencePolicy,
    Electricity,
    Event,
    EventBody,
    Fuel,
    Lot,
    Material,
    Reagent,
    RiskMeasure,
    Run,
    Shipment,
    Site,
    SiteRisk,
    SupplierPcf,
)
from lichain.core.quantities import kg_to_mg
from lichain.core.validate import LocatedEvent
from lichain.io.passport_sheets import read_registration, read_spec
from lichain.io.tabular_cells import Row, Table, load_tables

__all__ = ["NO_TIME", "read_lot", "read_material", "read_measure", "read_pcf", "read_policy", "read_risk",
           "read_run_head", "read_shipment", "read_site", "read_workbook"]

#: Time of site and material events when the workbook holds no dated record at all.
NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class _RunHead:
    row: Row
    id: str
    site: str
    kind: str
    started_at: datetime
    ended_at: datetime
    activity: Activity
    losses_mg: dict[str, int]
    allocation: str
    inputs: list[Consumption] = field(default_factory=list)
    outputs: list[Lot] = field(default_factory=list)
    values: dict[str, Decimal] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=lambda: {"run_inputs": 0, "run_outputs": 0})
    broken: bool = False


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(";") if p.strip())


def _activity(r: Row) -> Activity:
    """Activity columns of a lots or runs row."""
    elec: list[Electricity] = []
    kwh, src = r.number("electricity_kwh", unit="kWh"), r.text("electricity_source")
    instrument = r.text("electricity_instrument")
    if src is not None and src not in ELECTRICITY_SOURCES:
        r.bad(
            "electricity_source",
            f"unknown electricity source {src!r} (known: {', '.join(ELECTRICITY_SOURCES)})",
        )
    if kwh is not None:
        elec.append(Electricity(kwh, src or "grid", instrument))
    elif (src or instrument) and r.raw("electricity_kwh") is None:
        r.bad("electricity_source" if src else "electricity_instrument", "electricity_kwh is empty")
    for header, source in r.family("electricity_kwh:<source>"):
        if (v := r.number(header, unit="kWh")) is not None:
            elec.append(Electricity(v, source))
    fuels: list[Fuel] = []
    kind, mj = r.text("fuel_kind"), r.number("fuel_mj", unit="MJ")
    if kind is not None and mj is not None:
        fuels.append(Fuel(kind, mj))
    elif kind is not None and r.raw("fuel_mj") is None:
        r.bad("fuel_kind", "fuel_mj is empty: give the energy of this fuel [MJ]")
    elif mj is not None:
        r.bad("fuel_mj", "fuel_kind is empty: name the fuel (e.g. natural_gas, diesel)")
    for header, fuel in r.family("fuel_mj:<kind>"):
        if (v := r.number(header, unit="MJ")) is not None:
            fuels.append(Fuel(fuel, v))
    reagents = [
        Reagent(name, kg)
        for header, name in r.family("reagent:<name>")
        if (kg := r.number(header, unit="kg")) is not None
    ]
    readings = sorted(
        (name, t) for header, name in r.family("reading:<name>") if (t := r.text(header)) is not None
    )
    return Activity(
        tuple(elec),
        tuple(fuels),
        tuple(reagents),
        r.number("water_m3", unit="m³"),
        r.number("process_kg_co2e", unit="kg CO2e"),
        tuple(readings),
    )


def read_lot(
    r: Row,
    id_col: str,
    *,
    site: str | None = None,
    produced_at: datetime | None = None,
    activity: bool = False,
) -> Lot | None:
    """Lot columns of a lots or run_outputs row; defaults for site and time come from the run."""
    lot_id, material = r.text(id_col, required=True), r.text("material", required=True)
    site = r.text("site", required=site is None) or site
    produced_at = r.time("produced_at", required=produced_at is None) or produced_at
    mass = r.mass_mg()
    assay: dict[str, int] = {}
    for e in DEFAULT_ELEMENTS:
        if (v := r.fraction_ppb(e)) is not None:
            assay[e] = v
    for header, e in r.family("assay:<El>"):
        if (v := r.fraction_ppb(header)) is not None:
            assay[e] = v
    quality = {name: t for header, name in r.family("quality:<name>") if (t := r.text(header)) is not None}
    act = _activity(r) if activity else None
    if not r.ok or lot_id is None or material is None or site is None or produced_at is None or mass is None:
        return None
    return Lot(
        lot_id,
        material,
        site,
        produced_at,
        mass,
        assay,
        r.text("origin") or "virgin",
        quality,
        r.text("assay_method"),
        r.text("assay_lab"),
        None if act is None or act.is_empty() else act,
    )


def read_run_head(r: Row) -> _RunHead | None:
    """A runs row: the run without its input and output rows (None after a problem)."""
    rid, site, kind = (r.text(c, required=True) for c in ("id", "site", "kind"))
    started, ended = r.time("started_at", required=True), r.time("ended_at", required=True)
    activity = _activity(r)
    losses: dict[str, int] = {}
    headers = [(f"loss_{e}", e) for e in DEFAULT_ELEMENTS] + r.family("loss_<El>")
    for header, e in headers:
        if (kg := r.number(header, unit="kg")) is not None:
            losses[e] = kg_to_mg(kg)
    allocation = r.text("allocation") or "mass"
    if allocation not in ("mass", "economic"):
        r.bad("allocation", f"allocation must be mass or economic, got {allocation!r}")
    if not r.ok or rid is None or site is None or kind is None or started is None or ended is None:
        return None
    return _RunHead(r, rid, site, kind, started, ended, activity, losses, allocation)


def read_site(r: Row) -> Site | None:
    """A sites row (None after a problem)."""
    vals = [r.text(c, required=True) for c in ("id", "name", "kind", "country", "organisation")]
    if not r.ok or any(v is None for v in vals):
        return None
    sid, name, kind, country, org = (v or "" for v in vals)
    owner = (r.text("ledger_owner") or "").strip().casefold()
    if owner not in ("", "yes", "no", "true", "false"):
        r.bad("ledger_owner", f"ledger_owner must be yes or no, not {owner!r}")
        return None
    return Site(
        sid,
        name,
        kind,
        country,
        org,
        r.text("grid_region"),
        _split(r.text("certifications")),
        _split(r.text("risk")),
        owner in ("yes", "true"),
    )


def read_material(r: Row) -> Material | None:
    """A materials row (None after a problem)."""
    code, name, stage = (r.text(c, required=True) for c in ("code", "name", "stage"))
    if code is None or name is None or stage is None:
        return None
    return Material(code, name, stage, r.text("formula"))


def read_shipment(r: Row) -> Shipment | None:
    """A shipments row (None after a problem)."""
    sid, lot, frm, to = (r.text(c, required=True) for c in ("id", "lot", "from_site", "to_site"))
    mass, at = r.mass_mg(), r.time("shipped_at", required=True)
    dist = r.number("distance_km", unit="km")
    if not r.ok or sid is None or lot is None or frm is None or to is None or mass is None or at is None:
        return None
    return Shipment(
        sid,
        lot,
        mass,
        frm,
        to,
        at,
        r.text("mode") or "sea_container",
        dist or Decimal(0),
        r.text("to_organisation"),
    )


def read_pcf(r: Row) -> tuple[SupplierPcf, datetime | None] | None:
    """A supplier PCF row and its declaration time (None: not given)."""
    lot, supplier, doc = (r.text(c, required=True) for c in ("lot", "supplier", "document"))
    value = r.number("value", required=True)
    dqr, share = r.number("data_quality_rating"), r.number("primary_data_share", unit="%")
    vf, vu, at = r.time("valid_from"), r.time("valid_until"), r.time("declared_at")
    if not r.ok or lot is None or supplier is None or doc is None or value is None:
        return None
    pcf = SupplierPcf(lot, value, supplier, doc, r.text("unit") or "kg CO2e/kg", r.text("boundary") or "cradle-to-gate",
                      r.text("standard") or "ISO 14067:2018", dqr, share, vf, vu)
    return pcf, at or vf


def read_risk(r: Row) -> tuple[SiteRisk, datetime] | None:
    """A site risk statement row and when it was made (declared_at, default valid_from)."""
    rid, site, kind, status, source = (r.text(c, required=True) for c in ("id", "site", "kind", "status", "source"))
    vf, vt, at = r.time("valid_from", required=True), r.time("valid_to"), r.time("declared_at")
    if not r.ok or rid is None or site is None or kind is None or status is None or source is None or vf is None:
        return None
    return SiteRisk(rid, site, kind, status, vf, source, vt, r.text("category"), r.text("scheme"),
                    r.text("reference")), at or vf


def read_policy(r: Row) -> DiligencePolicy | None:
    """A due-diligence policy row."""
    rid, org, title, ref = (r.text(c, required=True) for c in ("id", "organisation", "title", "reference"))
    adopted = r.time("adopted", required=True)
    if not r.ok or rid is None or org is None or title is None or ref is None or adopted is None:
        return None
    return DiligencePolicy(rid, org, title, adopted, ref, r.text("public_url"), r.text("verification"))


def read_measure(r: Row) -> RiskMeasure | None:
    """A risk-mitigation measure row."""
    rid, site, action, owner, status = (r.text(c, required=True) for c in ("id", "site", "action", "owner",
                                                                           "status"))
    vf, due = r.time("valid_from", required=True), r.time("due")
    if not r.ok or rid is None or site is None or action is None or owner is None or status is None or vf is None:
        return None
    return RiskMeasure(rid, site, action, owner, status, vf, r.text("risk"), r.text("strategy"), due,
                       r.text("reference"))


class _Reader:
    def __init__(self, tables: dict[str, Table], problems: list[Problem]) -> None:
        self.tables, self.problems = tables, problems
        self.runs: dict[str, _RunHead] = {}
        self.bad_runs: set[str] = set()

    def rows(self, sheet: str) -> list[Row]:
        t = self.tables.get(sheet)
        return list(t.records(self.problems)) if t is not None else []

    def run_of(self, r: Row) -> _RunHead | None:
        """The run a run_inputs / run_outputs row belongs to; a problem if the runs sheet lacks it."""
        rid = r.text("run", required=True)
        if rid is None or rid in self.bad_runs:
            return None
        head = self.runs.get(rid)
        if head is None:
            r.bad("run", f"run {rid!r} is not in the runs sheet")
        else:
            head.rows[r.table.sheet.name] += 1
        return head

    def read_runs(self) -> None:
        for r in self.rows("runs"):
            rid = r.text("id")
            if rid is not None and (rid in self.runs or rid in self.bad_runs):
                r.bad("id", f"run {rid} appears twice in the runs sheet")
                continue
            h = read_run_head(r)
            if h is None:
                self.bad_runs.add(rid or "")
            else:
                self.runs[h.id] = h

    def read_inputs(self) -> None:
        for r in self.rows("run_inputs"):
            head, lot_id, mass = self.run_of(r), r.text("lot", required=True), r.mass_mg()
            if head is None:
                continue
            if r.ok and lot_id is not None and mass is not None:
                head.inputs.append(Consumption(lot_id, mass))
            else:
                head.broken = True

    def read_outputs(self) -> None:
        for r in self.rows("run_outputs"):
            head = self.run_of(r)
            # an unknown run gives dummy defaults: the row is still checked, and then dropped
            lot = read_lot(
                r, "lot", site=head.site if head else "", produced_at=head.ended_at if head else NO_TIME
            )
            value = r.number("value")
            if head is None:
                continue
            if value is not None and head.allocation != "economic":
                r.bad(
                    "value",
                    f"run {head.id} uses mass allocation: a value is only used with allocation economic",
                )
            elif value is None and head.allocation == "economic":
                r.bad("value", f"run {head.id} uses economic allocation: every output needs a value")
            if lot is None or not r.ok:
                head.broken = True
                continue
            head.outputs.append(lot)
            if value is not None:
                head.values[lot.id] = value

    def finish_runs(self) -> list[tuple[datetime, int, int, str, EventBody]]:
        """Whole runs, keyed for the time sort; a run without input or output rows is a problem."""
        timed: list[tuple[datetime, int, int, str, EventBody]] = []
        for i, h in enumerate(self.runs.values()):
            missing = [what for what, n in h.rows.items() if n == 0]
            for what in missing:
                h.row.bad("id", f"run {h.id} has no rows in the {what} sheet")
            if h.broken or missing:
                continue
            values = h.values if h.allocation == "economic" else {}
            run = Run(
                h.id,
                h.site,
                h.kind,
                h.started_at,
                h.ended_at,
                tuple(h.inputs),
                tuple(h.outputs),
                h.losses_mg,
                h.activity,
                h.allocation,
                values,
            )
            timed.append((h.started_at, 0, i, h.row.loc("id"), run))
        return timed

    def read(self) -> list[LocatedEvent]:
        head: list[tuple[str, EventBody]] = []
        for sheet, parse, key in (("sites", read_site, "id"), ("materials", read_material, "code")):
            for r in self.rows(sheet):
                if (b := parse(r)) is not None:
                    head.append((r.loc(key), b))
        for r in self.rows("lots"):
            if (lot := read_lot(r, "id", activity=True)) is not None:
                head.append((r.loc("id"), lot))
        self.read_runs()
        self.read_inputs()
        self.read_outputs()
        timed = self.finish_runs()
        for i, r in enumerate(self.rows("shipments")):
            if (s := read_shipment(r)) is not None:
                timed.append((s.shipped_at, 1, i, r.loc("id"), s))
        from lichain.io.process_tabular import read_quality  # specifications, CoAs, deviations, SPC, batches

        quality = read_quality(self.rows)
        timed += [(when, 2, i, loc, b) for i, (when, loc, b, _) in enumerate(quality)]
        event_time = {id(b): at for _, _, b, at in quality}
        timed.sort(key=lambda x: x[:3])
        pcfs = [(r.loc("lot"), p) for r in self.rows("supplier_pcfs") if (p := read_pcf(r)) is not None]
        risks = [(r.loc("id"), x) for r in self.rows("site_risks") if (x := read_risk(r)) is not None]
        records: list[tuple[str, tuple[DiligencePolicy | RiskMeasure, datetime]]] = [
            (r.loc("id"), (dp, dp.adopted)) for r in self.rows("diligence_policies")
            if (dp := read_policy(r)) is not None]
        records += [(r.loc("id"), (rm, rm.valid_from)) for r in self.rows("risk_measures")
                    if (rm := read_measure(r)) is not None]
        times = [_time(b) for _, b in head if isinstance(b, Lot)] + [t[0] for t in timed if id(t[4]) not in
                                                                      event_time]
        cells: list[tuple[str, tuple[CellSpec | BatteryRegistration, datetime | None]]] = [
            (r.loc("lot"), c) for r in self.rows("cell_specs") if (c := read_spec(r)) is not None]
        cells += [(r.loc("lot"), g) for r in self.rows("battery_registrations")
                  if (g := read_registration(r)) is not None]
        first = min(times, default=NO_TIME)
        return ([_located(loc, b, first) for loc, b in head]
                + [LocatedEvent(t[3], Event("", kind_of(t[4]), event_time[id(t[4])], t[4])) if id(t[4]) in event_time
                   else _located(t[3], t[4], first) for t in timed]
                + [LocatedEvent(loc, Event("", kind_of(b), at or first, b)) for loc, (b, at) in pcfs]
                + [LocatedEvent(loc, Event("", kind_of(x), at, x)) for loc, (x, at) in risks]
                + [LocatedEvent(loc, Event("", kind_of(y), at, y)) for loc, (y, at) in records]
                + [LocatedEvent(loc, Event("", kind_of(b), at or first, b)) for loc, (b, at) in cells])


def _time(b: EventBody) -> datetime:
    if isinstance(b, Lot):
        return b.produced_at
    if isinstance(b, Run):
        return b.ended_at
    if isinstance(b, Shipment):
        return b.shipped_at
    raise TypeError(type(b).__name__)


def _located(loc: str, body: EventBody, first: datetime) -> LocatedEvent:
    t = first if isinstance(body, Site | Material) else _time(body)
    return LocatedEvent(loc, Event("", kind_of(body), t, body))


def read_workbook(
    path: Path, resolve: Callable[[Sequence[str]], Mapping[str, Sequence[tuple[str, str]]]] | None = None
) -> tuple[list[LocatedEvent], list[Problem]]:
    """Read an ``.xlsx`` workbook, or a folder of CSV files, into located events and every problem found.

    Events have ``event_id = ""`` (the ingest service assigns ids; with a corrections sheet, lots, runs and
    shipments get theirs here) and come in an order the ledger accepts. Site and material events carry the
    earliest time in the workbook. ``resolve`` finds corrections' references in the ledger
    (:mod:`lichain.io.tabular_corrections`). When problems are returned, the events are those rows that
    parsed; callers should not ingest them.
    """
    from lichain.io.tabular_corrections import add_corrections

    problems: list[Problem] = []
    tables = load_tables(Path(path), problems)
    events = _Reader(tables, problems).read()
    events = add_corrections(tables.get("corrections"), events, problems, resolve, datetime.now(UTC))
    return events, problems

"""Write the tabular format: the fill-in template with its README sheet, and an export of ledger events.

People start from a template that already holds a tiny valid chain (mine lot → refinery runs → shipments), so
every column is shown with a sensible value and unit; the export writes a ledger's events in the same format so a
chain can be reviewed or edited in a spreadsheet and read back unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from lichain.core.codec import body_to_json, format_time
from lichain.core.model import (
    DEFAULT_ELEMENTS,
    Activity,
    BatteryRegistration,
    CellSpec,
    DiligencePolicy,
    Event,
    KeyStatement,
    Lot,
    Material,
    Retraction,
    RiskMeasure,
    Run,
    Shipment,
    Site,
    SiteRisk,
    SupplierPcf,
)
from lichain.core.quantities import mg_to_kg, ppb_to_fraction
from lichain.io.passport_sheets import registration_cells, spec_cells
from lichain.io.process_tabular import quality_cells
from lichain.io.tabular_schema import README_INTRO, SHEETS, Sheet, match_pattern
from lichain.io.tabular_template import TEMPLATE

__all__ = ["write_template", "write_workbook"]

Cells = dict[str, object]


def _readme() -> list[list[object]]:
    rows: list[list[object]] = [[line] for line in README_INTRO]
    rows += [[], ["sheet", "column", "required", "unit", "meaning"]]
    for s in SHEETS.values():
        rows.append([s.name, "", "", "", s.meaning])
        rows += [[s.name, c.name, "yes" if c.required else "", c.unit, c.meaning] for c in s.columns]
    return rows


def _columns(sheet: Sheet, rows: Sequence[Mapping[str, object]], every: bool) -> list[str]:
    """Columns to write, in declared order: required ones, default elements, those some row uses (or all)."""
    used: dict[str, None] = {}
    for r in rows:
        used.update(dict.fromkeys(r))
    out: list[str] = []
    for c in sheet.columns:
        if c.prefix is None:
            if every or c.required or c.name in used or c.name in DEFAULT_ELEMENTS:
                out.append(c.name)
        else:
            out += [
                k
                for k in used
                if k not in out and (m := match_pattern(sheet, k)) and m[0] is c and k not in sheet.fixed()
            ]
    return out


def _xlsx_value(v: object) -> object:
    """Numbers stay numbers in a workbook where a float holds them exactly; else text (read back exactly)."""
    if isinstance(v, Decimal):
        if v == v.to_integral_value() and abs(v) < 2**53:
            return int(v)
        return float(v) if len(v.normalize().as_tuple().digits) <= 15 else format(v, "f")
    return v


def _csv_value(v: object) -> str:
    if v is None:
        return ""
    return format(v.normalize(), "f") if isinstance(v, Decimal) else str(v)


def _save(tables: Mapping[str, Sequence[Mapping[str, object]]], path: Path, *, every: bool = False) -> None:
    """Write one sheet per table (README first) as XLSX, or as CSV files in a folder when no .xlsx suffix."""
    grids: dict[str, list[list[object]]] = {"README": _readme()}
    for name, sheet in SHEETS.items():
        rows = tables.get(name, ())
        cols = _columns(sheet, rows, every)
        grids[name] = [list[object](cols)] + [[r.get(c) for c in cols] for r in rows]
    if path.suffix.lower() == ".xlsx":
        wb = Workbook()
        wb.remove(wb.active)
        for name, grid in grids.items():
            ws = wb.create_sheet(name)
            for row in grid:
                ws.append([_xlsx_value(v) for v in row])
            bold_row = 1 if name != "README" else len(README_INTRO) + 2
            for cell in ws[bold_row]:
                cell.font = Font(bold=True)
            if name != "README":
                ws.freeze_panes = "A2"
            for i, col in enumerate(ws.iter_cols(min_row=1 if name != "README" else bold_row), start=1):
                width = max((len(str(c.value)) for c in col if c.value is not None), default=8)
                ws.column_dimensions[col[0].column_letter].width = min(
                    max(width + 2, 8), 60 if i < 5 else 100
                )
        wb.save(path)
        return
    path.mkdir(parents=True, exist_ok=True)
    for name, grid in grids.items():
        with (path / f"{name}.csv").open("w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows([[_csv_value(v) for v in row] for row in grid])


def write_template(path: Path) -> None:
    """Write the fill-in template (XLSX, or a CSV folder when ``path`` has no ``.xlsx`` suffix).

    It holds every sheet's header, a README sheet explaining each column and its unit, and example rows forming
    a tiny chain that :func:`~lichain.io.tabular_read.read_workbook` and the ledger accept.
    """
    _save(TEMPLATE, Path(path), every=True)


# --- export -----------------------------------------------------------------------------------------------------


def _refuse(what: str) -> ValueError:
    return ValueError(f"{what} cannot be represented in the tabular format; export it as EPCIS instead")


def _activity_cells(a: Activity | None, who: str) -> Cells:
    d: Cells = {}
    if a is None:
        return d
    if any(e.factor_key for e in a.electricity) or any(r.factor_key for r in a.reagents):
        raise _refuse(f"{who}: an explicit factor_key")
    if a.electricity:
        first, *rest = a.electricity
        d.update(
            electricity_kwh=first.kwh,
            electricity_source=first.source,
            electricity_instrument=first.instrument,
        )
        for e in rest:
            if e.instrument or f"electricity_kwh:{e.source}" in d:
                raise _refuse(f"{who}: a second {e.source} electricity entry or its instrument")
            d[f"electricity_kwh:{e.source}"] = e.kwh
    if a.fuels:
        d.update(fuel_kind=a.fuels[0].kind, fuel_mj=a.fuels[0].mj)
        for f in a.fuels[1:]:
            if f"fuel_mj:{f.kind}" in d:
                raise _refuse(f"{who}: fuel {f.kind} listed twice")
            d[f"fuel_mj:{f.kind}"] = f.mj
    for r in a.reagents:
        if f"reagent:{r.name}" in d:
            raise _refuse(f"{who}: reagent {r.name} listed twice")
        d[f"reagent:{r.name}"] = r.kg
    d.update(water_m3=a.water_m3, process_kg_co2e=a.process_kg_co2e)
    d.update({f"reading:{k}": v for k, v in a.readings})
    return {k: v for k, v in d.items() if v is not None}


def _lot_cells(lot: Lot) -> Cells:
    d: Cells = {
        "material": lot.material,
        "site": lot.site,
        "produced_at": format_time(lot.produced_at),
        "mass": mg_to_kg(lot.mass_mg),
        "mass_unit": "kg",
        "origin": lot.origin,
        "assay_method": lot.assay_method,
        "assay_lab": lot.assay_lab,
    }
    for e, ppb in lot.assay.items():
        d[e if e in DEFAULT_ELEMENTS else f"assay:{e}"] = ppb_to_fraction(ppb)
    d.update({f"quality:{k}": v for k, v in lot.quality.items()})
    return {k: v for k, v in d.items() if v is not None}


def _run_rows(run: Run, tables: dict[str, list[Cells]]) -> None:
    r: Cells = {
        "id": run.id,
        "site": run.site,
        "kind": run.kind,
        "started_at": format_time(run.started_at),
        "ended_at": format_time(run.ended_at),
        **_activity_cells(run.activity, f"run {run.id}"),
    }
    for e, mg in run.losses_mg.items():
        r[f"loss_{e}"] = mg_to_kg(mg)
    if run.allocation != "mass":
        r["allocation"] = run.allocation
    tables["runs"].append(r)
    tables["run_inputs"] += [
        {"run": run.id, "lot": c.lot, "mass": mg_to_kg(c.mass_mg), "mass_unit": "kg"} for c in run.inputs
    ]
    for o in run.outputs:
        if o.activity is not None and not o.activity.is_empty():
            raise _refuse(f"run {run.id}: activity data on output lot {o.id}")
        d = {"run": run.id, "lot": o.id, **_lot_cells(o)}
        if o.site == run.site:
            del d["site"]
        if o.produced_at == run.ended_at:
            del d["produced_at"]
        if run.allocation == "economic" and o.id in run.output_values:
            d["value"] = run.output_values[o.id]
        tables["run_outputs"].append(d)


def _names(events: Sequence[Event]) -> dict[str, tuple[str, str]]:
    """Event id → (kind, record id) of the lots, runs and shipments, as a corrections row names them."""
    out: dict[str, tuple[str, str]] = {}
    for ev in events:
        b = ev.body
        if isinstance(b, Run | Shipment | Lot):
            out[ev.event_id] = (ev.kind.value, b.id)
    return out


def _correction(b: Retraction, names: Mapping[str, tuple[str, str]]) -> Cells:
    if not b.reason:
        raise _refuse(f"the retraction of {b.target_event_id} without a reason")
    kind, ref = names.get(b.target_event_id, ("event", b.target_event_id))
    return {
        "retract": ref,
        "reason": b.reason,
        "corrected_by": ";".join(names.get(f, ("", f))[1] for f in b.corrective_event_ids) or None,
        "declared_at": format_time(b.declared_at),
        "kind": kind,
    }


def _pcf_cells(b: SupplierPcf, ev: Event) -> Cells:
    """The supplier_pcfs row of a supplier PCF event (its event time as declared_at)."""
    return {"lot": b.lot, "value": b.value, "unit": b.unit, "supplier": b.supplier, "document": b.document,
            "boundary": b.boundary, "standard": b.standard, "data_quality_rating": b.data_quality_rating,
            "primary_data_share": b.primary_data_share,
            "valid_from": format_time(b.valid_from) if b.valid_from else None,
            "valid_until": format_time(b.valid_until) if b.valid_until else None,
            "declared_at": format_time(ev.time)}


def _risk_cells(b: SiteRisk, ev: Event) -> Cells:
    """The site_risks row of a site risk statement (its event time as declared_at)."""
    return {"id": b.id, "site": b.site, "kind": b.kind, "status": b.status, "valid_from": format_time(b.valid_from),
            "valid_to": format_time(b.valid_to) if b.valid_to else None, "category": b.category,
            "scheme": b.scheme, "source": b.source, "reference": b.reference, "declared_at": format_time(ev.time)}


def write_workbook(events: Iterable[Event], path: Path) -> None:
    """Export ledger events (sites, materials, lots, runs, shipments, supplier PCFs, retractions) as a workbook.

    Retractions become corrections rows naming their target and replacements by record id. Reading the
    result back gives the same event bodies (event ids are the CBV 2.0 hashes the reader gives). Not
    representable, and refused with ``ValueError``: factor overrides and custody claims, retractions without a
    reason, explicit emission ``factor_key``\\ s, activity data on run outputs, and repeated electricity
    sources or fuels within one activity.
    """
    tables: dict[str, list[Cells]] = {name: [] for name in SHEETS}
    events = list(events)
    names = _names(events)
    for ev in events:
        b = ev.body
        if isinstance(b, Site):
            tables["sites"].append(
                {
                    "id": b.id,
                    "name": b.name,
                    "kind": b.kind,
                    "country": b.country,
                    "organisation": b.organisation,
                    "grid_region": b.grid_region,
                    "certifications": ";".join(b.certifications) or None,
                    "risk": ";".join(b.risk) or None,
                    "ledger_owner": "yes" if b.ledger_owner else None,
                }
            )
        elif isinstance(b, Material):
            tables["materials"].append(
                {"code": b.code, "name": b.name, "stage": b.stage, "formula": b.formula}
            )
        elif isinstance(b, Lot):
            tables["lots"].append({"id": b.id, **_lot_cells(b), **_activity_cells(b.activity, f"lot {b.id}")})
        elif isinstance(b, Run):
            _run_rows(b, tables)
        elif isinstance(b, Shipment):
            tables["shipments"].append(
                {
                    "id": b.id,
                    "lot": b.lot,
                    "mass": mg_to_kg(b.mass_mg),
                    "mass_unit": "kg",
                    "from_site": b.from_site,
                    "to_site": b.to_site,
                    "shipped_at": format_time(b.shipped_at),
                    "mode": b.mode,
                    "distance_km": b.distance_km,
                    "to_organisation": b.to_organisation,
                }
            )
        elif isinstance(b, Retraction):
            tables["corrections"].append(_correction(b, names))
        elif isinstance(b, SupplierPcf):
            tables["supplier_pcfs"].append(_pcf_cells(b, ev))
        elif isinstance(b, SiteRisk):
            tables["site_risks"].append(_risk_cells(b, ev))
        elif isinstance(b, DiligencePolicy | RiskMeasure):
            tables["diligence_policies" if isinstance(b, DiligencePolicy) else "risk_measures"].append(
                body_to_json(b))
        elif isinstance(b, KeyStatement):
            continue  # signing-key statements travel in EPCIS exports only (docs/signing.md)
        elif (quality := quality_cells(b, ev)) is not None:  # specifications, CoAs, deviations, SPC, batches
            tables[quality[0]].extend(quality[1])
        elif isinstance(b, CellSpec):
            tables["cell_specs"].append(spec_cells(b, ev))
        elif isinstance(b, BatteryRegistration):
            tables["battery_registrations"].append(registration_cells(b, ev))
        else:
            raise _refuse(f"event {ev.event_id} ({ev.kind.value})")
    _save(
        {k: [{c: v for c, v in r.items() if v is not None} for r in rows] for k, rows in tables.items()},
        Path(path),
    )

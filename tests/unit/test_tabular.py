"""The tabular format: template accepted by reader and ledger, XLSX = CSV, located problems, exact units, round trip.

Expected masses are by hand from the exact unit definitions: 1 t = 1000 kg; 1 lb = 0.453 592 37 kg exactly
(International yard and pound agreement, 1959), so 20 000 lb = 9 071.847 4 kg = 9 071 847 400 mg.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from lichain.core.codec import canonical_payload
from lichain.core.errors import Problem
from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    Event,
    EventKind,
    Fuel,
    Lot,
    Material,
    Reagent,
    Retraction,
    Run,
    Site,
)
from lichain.core.ports import LotState, Movement
from lichain.core.validate import LocatedEvent, check_document
from lichain.io.tabular import SHEETS, read_workbook, write_template, write_workbook
from lichain.services.ingest import ingest_events
from lichain.storage.sql import SqlStore

BAD = Path(__file__).parents[1] / "data" / "bad" / "tabular"
DOCS = Path(__file__).parents[2] / "docs" / "tabular.md"


class EmptyView:
    """A ledger with nothing recorded yet."""

    def lots(self, ids: Iterable[str]) -> dict[str, LotState]:
        return {}

    def sites(self, ids: Iterable[str]) -> set[str]:
        return set()

    def materials(self, codes: Iterable[str]) -> set[str]:
        return set()

    def event_payloads(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        return {}

    def retracted(self, ids: Iterable[str]) -> set[str]:
        return set()

    def record_ids(self, kind: str, ids: Iterable[str]) -> dict[str, str]:
        return {}

    def lots_of_event(self, event_id: str) -> Sequence[LotState]:
        return []

    def movements(self, ids: Iterable[str]) -> dict[str, list[Movement]]:
        return {}


def with_ids(events: Sequence[LocatedEvent]) -> list[LocatedEvent]:
    """Assign ids as the ingest service does (CBV 2.0 hashes for lots, runs, shipments; content ids else)."""
    from lichain.services.record import assign_ids

    ids = assign_ids(le.event for le in events)
    return [LocatedEvent(le.location, ev) for le, ev in zip(events, ids, strict=True)]


def facts(events: Sequence[LocatedEvent]) -> list[tuple[EventKind, datetime, object]]:
    """What must survive a format change: kind, time and body (not ids, not locations)."""
    return [(le.event.kind, le.event.time, le.event.body) for le in events]


def read_ok(path: Path) -> list[LocatedEvent]:
    events, problems = read_workbook(path)
    assert problems == []
    return events


@pytest.fixture
def template_csv(tmp_path: Path) -> Path:
    write_template(tmp_path / "chain")
    return tmp_path / "chain"


def edit_csv(folder: Path, sheet: str, row: int, column: str, value: str) -> None:
    """Set one cell (row 1 = header) of a CSV sheet, adding the column when it is new."""
    f = folder / f"{sheet}.csv"
    with f.open(encoding="utf-8-sig", newline="") as fh:
        grid = list(csv.reader(fh))
    if column not in grid[0]:
        for r in grid:
            r.append("")
        grid[0][-1] = column
    grid[row - 1][grid[0].index(column)] = value
    with f.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(grid)


def drop_csv_column(folder: Path, sheet: str, column: str) -> None:
    f = folder / f"{sheet}.csv"
    with f.open(encoding="utf-8-sig", newline="") as fh:
        grid = list(csv.reader(fh))
    i = grid[0].index(column)
    with f.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([r[:i] + r[i + 1 :] for r in grid])


# --- template ---------------------------------------------------------------------------------------------------


def test_template_reads_back_clean_and_the_ledger_accepts_it(tmp_path: Path) -> None:
    write_template(tmp_path / "chain.xlsx")
    events = read_ok(tmp_path / "chain.xlsx")
    assert all(le.event.event_id == "" for le in events)
    result = check_document(with_ids(events), EmptyView())
    assert result.problems == []
    assert len(result.new_events) == len(events) == 16  # incl. the supplier PCF of the bought MHP lot


def test_template_is_ingested_into_a_sqlite_ledger(tmp_path: Path, sqlite_store: SqlStore) -> None:
    write_template(tmp_path / "chain.xlsx")
    events = with_ids(read_ok(tmp_path / "chain.xlsx"))
    r = ingest_events(events, sqlite_store)
    assert r.ok and r.problems == () and r.events_written == 16


def test_template_has_readme_and_every_sheet_with_its_declared_columns(tmp_path: Path) -> None:
    write_template(tmp_path / "chain.xlsx")
    wb = load_workbook(tmp_path / "chain.xlsx", read_only=True)
    assert wb.sheetnames == ["README", *SHEETS]
    readme = [tuple(r) for r in wb["README"].iter_rows(values_only=True)]
    for sheet in SHEETS.values():
        header = next(wb[sheet.name].iter_rows(values_only=True))
        assert set(sheet.fixed()) <= set(header)
        for col in sheet.columns:  # every column (and column family) is explained, with its unit
            assert any(r[:2] == (sheet.name, col.name) and r[4] for r in readme if len(r) >= 5), col.name
    wb.close()


def test_events_come_in_ledger_order_with_runs_and_shipments_interleaved_by_time(tmp_path: Path) -> None:
    write_template(tmp_path / "chain.xlsx")
    events = read_ok(tmp_path / "chain.xlsx")
    kinds = [le.event.kind.value for le in events]
    assert kinds == ["site"] * 3 + ["material"] * 3 + ["lot"] * 2 + ["shipment"] * 2 + ["run"] * 2 + [
        "shipment", "shipment", "supplier_pcf", "retraction"
    ]
    assert [le.location.split("#")[1] for le in events[8:]] == [
        "shipments!A2",
        "shipments!A3",
        "runs!A2",
        "runs!A3",
        "shipments!A4",
        "shipments!A5",
        "supplier_pcfs!A2",
        "corrections!A2",  # after the shipment it retracts
    ]
    first = datetime(2024, 1, 9, 22, tzinfo=UTC)  # 2024-01-10T06:00+08:00, the earliest time in the workbook
    assert all(le.event.time == first for le in events[:6])


def test_csv_folder_and_xlsx_give_the_same_events(tmp_path: Path, template_csv: Path) -> None:
    write_template(tmp_path / "chain.xlsx")
    from_xlsx, from_csv = read_ok(tmp_path / "chain.xlsx"), read_ok(template_csv)
    assert facts(from_xlsx) == facts(from_csv)
    assert from_csv[0].location == f"{template_csv / 'sites.csv'}:2:id"
    assert from_xlsx[0].location == f"{tmp_path / 'chain.xlsx'}#sites!A2"


# --- units ------------------------------------------------------------------------------------------------------


def test_unit_conversion_is_exact(tmp_path: Path) -> None:
    write_template(tmp_path / "chain.xlsx")
    events = read_ok(tmp_path / "chain.xlsx")
    lots = {le.event.body.id: le.event.body for le in events if isinstance(le.event.body, Lot)}
    assert lots["MHP-2024-0001"].mass_mg == 20 * 1000 * 10**6  # 20 t
    assert lots["MHP-2024-0002"].mass_mg == 9_071_847_400  # 20 000 lb × 0.45359237 kg/lb
    assert lots["MHP-2024-0001"].assay == {
        "Ni": 390_000_000,
        "Co": 40_000_000,
        "Mn": 20_000_000,
        "Fe": 8_000_000,
    }
    run = next(le.event.body for le in events if isinstance(le.event.body, Run))
    assert run.inputs == (
        Consumption("MHP-2024-0001", 12 * 10**9),
        Consumption("MHP-2024-0002", 9_071_847_400),
    )
    assert run.outputs[0].mass_mg == 37 * 10**9 and run.outputs[1].mass_mg == 3_700 * 10**6
    assert run.losses_mg == {"Ni": 137_400_000, "Co": 21_600_000, "Mn": 466_800_000}
    # outputs without produced_at are made when the run ends; times are stored in UTC
    assert run.outputs[0].produced_at == run.ended_at == datetime(2024, 2, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "unit", "mg"),
    [
        ("1.5", "t", 1_500_000_000),
        ("2.5", "g", 2_500),
        ("1", "lb", 453_592),  # 0.45359237 kg = 453 592.37 mg → 453 592 mg at the ledger's 1 mg resolution
        ("0.001", "TNE", 1_000_000),
        ("7", "KGM", 7_000_000),
    ],
)
def test_mass_units(template_csv: Path, value: str, unit: str, mg: int) -> None:
    edit_csv(template_csv, "shipments", 4, "mass", value)
    edit_csv(template_csv, "shipments", 4, "mass_unit", unit)
    events = read_ok(template_csv)
    shp = next(le.event.body for le in events if getattr(le.event.body, "id", None) == "SHP-0003")
    assert shp.mass_mg == mg  # type: ignore[union-attr]


# --- problems ---------------------------------------------------------------------------------------------------


def test_all_problems_of_a_bad_folder_are_reported_at_once_with_their_cells() -> None:
    folder = BAD / "many_problems"
    events, problems = read_workbook(folder)
    got = {(p.location.removeprefix(f"{folder}/"), p.message.split(":")[0]) for p in problems}
    expected = {
        ("sites.csv:1:colour", "unknown column 'colour' in sheet sites (known"),
        ("sites.csv:3:name", "name is required but the cell is empty"),
        ("lots.csv:1:Cu", "unknown column 'Cu' in sheet lots"),
        ("lots.csv:2:mass_unit", "unknown mass unit 'tonnes'"),
        ("lots.csv:2:Ni", "mass fraction 39 is > 1"),
        ("lots.csv:3:produced_at", "time '2024-01-10 06"),
        ("lots.csv:3:mass", "expected a number, got '12,5'"),
        ("lots.csv:3:Co", "mass fraction must be within 0..1, got -0.1"),
        ("runs.csv:2:electricity_source", "unknown electricity source 'coal' (known"),
        ("runs.csv:2:fuel_kind", "fuel_mj is empty"),
        ("runs.csv:3:ended_at", "bad time 'yesterday'"),
        ("runs.csv:4:id", "run RUN3 has no rows in the run_inputs sheet"),
        ("runs.csv:4:id", "run RUN3 has no rows in the run_outputs sheet"),
        ("run_inputs.csv:1", "sheet run_inputs is missing the required column mass_unit"),
        ("run_inputs.csv:3:run", "run 'RUN9' is not in the runs sheet"),
        ("shipments.csv:2:distance_km", "distance_km must be ≥ 0, got -3"),
    }
    assert got == expected
    assert len(problems) == len(expected)
    hints = {p.location.rsplit("/", 1)[1]: p.message for p in problems}
    assert "divide percentages by 100 (39 % is 0.39)" in hints["lots.csv:2:Ni"]
    assert "write assay:Cu" in hints["lots.csv:1:Cu"]
    assert "UTC offset" in hints["lots.csv:3:produced_at"]
    assert [le.event.kind.value for le in events] == ["site", "material", "material"]  # the rows that parsed


@pytest.mark.parametrize(
    ("sheet", "row", "column", "value", "where", "message"),
    [
        ("runs", 2, "started_at", "2024-02-01T08:00:00", "runs.csv:2:started_at", "has no UTC offset"),
        ("runs", 2, "started_at", "2024-02-01", "runs.csv:2:started_at", "has no UTC offset"),
        (
            "runs",
            2,
            "electricity_kwh",
            "lots",
            "runs.csv:2:electricity_kwh",
            "expected a number, got 'lots' [kWh]",
        ),
        ("runs", 2, "loss_Ni", "-1", "runs.csv:2:loss_Ni", "loss_Ni must be ≥ 0"),
        ("runs", 2, "allocation", "economic", "run_outputs.csv:2:value", "every output needs a value"),
        ("runs", 2, "allocation", "energy", "runs.csv:2:allocation", "allocation must be mass or economic"),
        ("runs", 3, "id", "RUN-REF-0001", "runs.csv:3:id", "appears twice"),
        ("runs", 2, "ni", "0.1", "runs.csv:1:ni", "unknown column"),
        ("lots", 2, "ni", "0.1", "lots.csv:1:ni", "did you mean Ni?"),
        ("lots", 2, "assay:Ni", "0.1", "lots.csv:1:assay:Ni", "write the Ni mass fraction in column Ni"),
        ("lots", 2, "electricity_kwh:coal", "1", "lots.csv:1:electricity_kwh:coal", "did you mean"),
        ("lots", 2, "mass", "0", "lots.csv:2:mass", "mass must be > 0 kg"),
        ("lots", 2, "mass_unit", "", "lots.csv:2:mass_unit", "mass_unit is required"),
        ("lots", 2, "Ni", "39%", "lots.csv:2:Ni", "expected a number"),
        ("lots", 2, "fuel_kind", "", "lots.csv:2:fuel_mj", "fuel_kind is empty"),
        ("run_outputs", 2, "run", "RUN-X", "run_outputs.csv:2:run", "run 'RUN-X' is not in the runs sheet"),
        ("run_outputs", 2, "value", "10", "run_outputs.csv:2:value", "only used with allocation economic"),
        ("run_inputs", 2, "lot", "", "run_inputs.csv:2:lot", "lot is required but the cell is empty"),
        ("shipments", 2, "shipped_at", "15/01/2024", "shipments.csv:2:shipped_at", "bad time"),
        ("sites", 2, "", "x", "sites.csv:1:#10", "has values but no name"),
    ],
)
def test_each_malformed_cell_gives_a_located_problem(
    template_csv: Path, sheet: str, row: int, column: str, value: str, where: str, message: str
) -> None:
    edit_csv(template_csv, sheet, row, column, value)
    _, problems = read_workbook(template_csv)
    located = [p for p in problems if p.location == str(template_csv / where)]
    assert located and message in located[0].message, problems


def test_missing_required_column_and_missing_run_rows(template_csv: Path) -> None:
    drop_csv_column(template_csv, "run_outputs", "mass_unit")
    (template_csv / "run_inputs.csv").write_text("run,lot,mass,mass_unit\n", encoding="utf-8")
    _, problems = read_workbook(template_csv)
    assert (
        Problem(
            str(template_csv / "run_outputs.csv:1"),
            "sheet run_outputs is missing the required column "
            "mass_unit: every mass needs its unit, kg, t, g or lb, or a UN/ECE code KGM, TNE, GRM, LBR",
        )
        in problems
    )
    assert {p.location.rsplit("/", 1)[1] for p in problems} == {
        "run_outputs.csv:1",
        "runs.csv:2:id",
        "runs.csv:3:id",
    }
    assert all("no rows in the run_inputs sheet" in p.message for p in problems if "runs.csv" in p.location)


def test_unknown_sheet_file_and_unreadable_paths(template_csv: Path, tmp_path: Path) -> None:
    (template_csv / "notes.csv").write_text("a\n1\n", encoding="utf-8")
    _, problems = read_workbook(template_csv)
    assert [p.location for p in problems] == [str(template_csv / "notes.csv")]
    assert "unknown sheet file 'notes.csv'" in problems[0].message
    (tmp_path / "x.xlsx").write_text("not a zip", encoding="utf-8")
    assert read_workbook(tmp_path / "x.xlsx")[1][0].message.startswith("cannot read the workbook")
    assert read_workbook(tmp_path / "none.xlsx")[1] == [
        Problem(str(tmp_path / "none.xlsx"), "no such file or folder")
    ]


def test_xlsx_locations_name_sheet_and_cell_and_date_cells_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "chain.xlsx"
    write_template(path)
    wb = load_workbook(path)
    ws = wb["runs"]
    ws["D3"] = datetime(2024, 2, 5)  # a date cell: no UTC offset
    ws["F2"] = "many"
    wb["lots"]["G3"] = 41  # Ni as a percentage
    wb.create_sheet("Sheet9")["A1"] = "notes"
    wb.save(path)
    _, problems = read_workbook(path)
    by_loc = {p.location.removeprefix(str(path)): p.message for p in problems}
    assert set(by_loc) == {"#runs!D3", "#runs!F2", "#lots!G3", "#Sheet9"}
    assert "has no UTC offset" in by_loc["#runs!D3"] and "expected a number" in by_loc["#runs!F2"]
    assert "divide percentages by 100" in by_loc["#lots!G3"]


def test_semicolon_separated_csv_is_read(template_csv: Path) -> None:
    expected = facts(read_ok(template_csv))
    f = template_csv / "materials.csv"
    with f.open(encoding="utf-8-sig", newline="") as fh:
        grid = list(csv.reader(fh))
    with f.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(grid)
    assert facts(read_ok(template_csv)) == expected


# --- export -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["out.xlsx", "out"])
def test_template_events_round_trip_through_write_workbook(tmp_path: Path, name: str) -> None:
    write_template(tmp_path / "chain.xlsx")
    events = read_ok(tmp_path / "chain.xlsx")
    write_workbook([le.event for le in events], tmp_path / name)
    assert facts(read_ok(tmp_path / name)) == facts(events)


def _rich_events() -> list[Event]:
    t0 = datetime(2025, 3, 1, 6, 30, 15, 250000, tzinfo=UTC)
    t1 = datetime(2025, 3, 2, tzinfo=UTC)
    site = Site("S:1", "Plant", "cathode_plant", "HU", "Org", None, ("ISO 14001", "IATF 16949"), ("CAHRA",))
    site2 = Site("S:2", "Store", "warehouse", "HU", "Org")
    mats = [
        Material("PCAM811", "precursor", "pcam", "Ni0.8Co0.1Mn0.1(OH)2"),
        Material("CAM", "cathode", "cam"),
    ]
    src = Lot(
        "P1",
        "PCAM811",
        "S:1",
        t0,
        1_234_567_891_234_567,
        {"Ni": 506_123_456, "Cu": 12, "Co": 0},
        "pre_consumer",
        {"D50_um": "10.5"},
        "ICP-OES",
        "Lab A",
        Activity(
            (Electricity(Decimal("12.5"), "ppa", "PPA-7"), Electricity(Decimal(3), "grid")),
            (Fuel("natural_gas", Decimal("100.25")), Fuel("diesel", Decimal(2))),
            (Reagent("LiOH", Decimal("0.000001")),),
            Decimal("0.5"),
            Decimal(7),
            (("T_C", "750"), ("pH", "11.2")),
        ),
    )
    out = (
        Lot("C1", "CAM", "S:1", t1, 1_000_000_000, {"Ni": 480_000_000}, "virgin"),
        Lot("C2", "CAM", "S:2", t0 + (t1 - t0) / 2, 1_000, {}, "virgin", {}, None, None),
    )
    run = Run(
        "R/1",
        "S:1",
        "calcination",
        t0 + (t1 - t0) / 4,
        t1,
        (Consumption("P1", 1_000_000_001),),
        out,
        {"Ni": 1, "Cu": 0},
        Activity(water_m3=Decimal("1.25")),
        "economic",
        {"C1": Decimal("1000.5"), "C2": Decimal(0)},
    )
    bodies = [site, site2, *mats, src, run]
    return [
        Event(
            "",
            EventKind.SITE
            if isinstance(b, Site)
            else EventKind.MATERIAL
            if isinstance(b, Material)
            else EventKind.LOT
            if isinstance(b, Lot)
            else EventKind.RUN,
            t0,
            b,
        )
        for b in bodies
    ]


@pytest.mark.parametrize("name", ["rich.xlsx", "rich"])
def test_export_round_trips_every_representable_field(tmp_path: Path, name: str) -> None:
    events = _rich_events()
    write_workbook(events, tmp_path / name)
    back = read_ok(tmp_path / name)
    assert [le.event.body for le in back] == [e.body for e in events]
    assert [canonical_payload(le.event.body) for le in back] == [canonical_payload(e.body) for e in events]


def test_export_refuses_what_the_format_cannot_hold(tmp_path: Path) -> None:
    t = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="retraction"):
        write_workbook([Event("e1", EventKind.RETRACTION, t, Retraction("e0", t))], tmp_path / "x.xlsx")
    lot = Lot("L", "M", "S", t, 1, activity=Activity(reagents=(Reagent("NaOH", Decimal(1), "key"),)))
    with pytest.raises(ValueError, match="factor_key"):
        write_workbook([Event("e2", EventKind.LOT, t, lot)], tmp_path / "y.xlsx")


def test_empty_workbook_gives_no_events_and_no_problems(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "sites"
    wb.save(tmp_path / "empty.xlsx")
    assert read_workbook(tmp_path / "empty.xlsx") == ([], [])


def test_docs_describe_every_sheet_and_column_as_declared() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert "lichain template --out chain.xlsx" in text
    for sheet in SHEETS.values():
        table = "\n".join(
            ["| column | required | unit | meaning |", "|---|---|---|---|"]
            + [
                f"| `{c.name}` | {'yes' if c.required else ''} | {c.unit} | {c.meaning} |"
                for c in sheet.columns
            ]
        )
        assert f"### `{sheet.name}`" in text and table in text, (
            f"docs/tabular.md is out of date for {sheet.name}"
        )

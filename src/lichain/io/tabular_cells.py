"""Loading sheets (XLSX or CSV) into tables, and reading typed cells, each problem at the cell a person sees.

Workbooks are filled by hand, so the reader never stops at the first mistake: every cell accessor records a
located :class:`~lichain.core.errors.Problem` and returns None, and the caller skips the record. Locations name the
cell as a spreadsheet shows it (``chain.xlsx#runs!C7``) or the CSV line and column (``chain/runs.csv:7:started_at``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from lichain.core.codec import parse_time
from lichain.core.errors import Problem
from lichain.core.quantities import (
    MASS_UNITS_KG,
    fraction_to_ppb,
    kg_to_mg,
    parse_decimal,
    parse_fraction,
    parse_mass_kg,
)
from lichain.io.tabular_schema import MASS_UNIT_HINT, SHEETS, Sheet, match_pattern

__all__ = ["IGNORED", "Row", "Table", "blank", "csv_encoding", "extra_cell", "load_tables", "nul_problem",
           "read_header", "undecodable"]

_TIME_HINT = "write ISO 8601 text with a UTC offset or Z, e.g. 2024-03-01T08:00:00Z"
IGNORED = frozenset({"readme"})  # sheet names (lower case) that are documentation, not records


@dataclass(slots=True)
class Table:
    """One sheet's header and rows, and how to name its cells."""

    sheet: Sheet
    label: str  # the workbook path, or the CSV file path
    xlsx: bool
    rows: list[tuple[int, Sequence[object]]]
    cols: dict[str, int] = field(default_factory=dict)  # header → column index (0-based)
    families: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # family name → [(header, part)]

    def cell(self, row: int, col: str) -> str:
        """Location of a cell as a person sees it."""
        if self.xlsx:
            i = self.cols.get(col)
            ref = f"{row}:{row}" if i is None else f"{get_column_letter(i + 1)}{row}"
            return f"{self.label}#{self.sheet.name}!{ref}"
        return f"{self.label}:{row}:{col}"

    def header_row(self) -> str:
        """Location of the header row."""
        return f"{self.label}#{self.sheet.name}!1:1" if self.xlsx else f"{self.label}:1"

    def records(self, problems: list[Problem]) -> Iterator[Row]:
        """The non-empty rows, as typed-cell readers."""
        for n, values in self.rows:
            if any(blank(v) is not None for v in values):
                yield Row(self, n, values, problems)


def _has_values(rows: Sequence[tuple[int, Sequence[object]]]) -> bool:
    return any(blank(v) is not None for _, r in rows for v in r)


def blank(v: object) -> object | None:
    """A cell value, or None when the cell is empty or only whitespace."""
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


class Row:
    """Typed access to the cells of one row; bad cells add a located problem and read as None."""

    def __init__(self, table: Table, number: int, values: Sequence[object], problems: list[Problem]) -> None:
        self.table, self.line, self.values, self.problems = table, number, values, problems
        self.count = 0  # problems found in this row

    @property
    def ok(self) -> bool:
        """True while no cell of this row has had a problem."""
        return self.count == 0

    def loc(self, col: str) -> str:
        """Location of a cell of this row."""
        return self.table.cell(self.line, col)

    def bad(self, col: str, message: str) -> None:
        """Record a problem at a cell of this row."""
        self.problems.append(Problem(self.loc(col), message))
        self.count += 1

    def raw(self, col: str) -> object | None:
        """The cell value, None when the column is absent or the cell empty."""
        i = self.table.cols.get(col)
        if i is None or i >= len(self.values):
            return None
        return blank(self.values[i])

    def family(self, name: str) -> list[tuple[str, str]]:
        """The headers of a column family present in this sheet, with their variable part."""
        return self.table.families.get(name, [])

    def text(self, col: str, *, required: bool = False) -> str | None:
        """A text cell (numbers are kept as written: 7 → "7")."""
        v = self.raw(col)
        if v is None:
            if required and col in self.table.cols:
                self.bad(col, f"{col} is required but the cell is empty")
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, datetime):
            return v.isoformat()
        return str(v).strip()

    def number(self, col: str, *, required: bool = False, unit: str = "") -> Decimal | None:
        """A number ≥ 0 in the column's fixed unit."""
        v = self.raw(col)
        if v is None:
            if required and col in self.table.cols:
                self.bad(col, f"{col} is required but the cell is empty")
            return None
        d = parse_decimal(v)
        if isinstance(d, str):
            self.bad(col, d + (f" [{unit}]" if unit else ""))
            return None
        if d < 0:
            self.bad(col, f"{col} must be ≥ 0, got {v}")
            return None
        return d

    def mass_mg(self, col: str = "mass", unit_col: str = "mass_unit") -> int | None:
        """A required mass with its unit, exactly in mg."""
        v, u = self.raw(col), self.text(unit_col, required=True)
        if v is None:
            self.text(col, required=True)
            return None
        if u is not None and u not in MASS_UNITS_KG:
            self.bad(unit_col, f"unknown mass unit {u!r}: use {MASS_UNIT_HINT}")
            u = None
        kg = parse_mass_kg(v, u or "kg")
        if isinstance(kg, str):
            self.bad(col, kg)
            return None
        return kg_to_mg(kg) if u is not None else None

    def fraction_ppb(self, col: str) -> int | None:
        """An optional mass fraction 0..1, in parts per 10⁹."""
        v = self.raw(col)
        if v is None:
            return None
        d = parse_fraction(v)
        if isinstance(d, str):
            d2 = parse_decimal(v)
            if not isinstance(d2, str) and 1 < d2 <= 100:
                d = (
                    f"mass fraction {v} is > 1: mass fractions are 0..1, so divide percentages by 100 "
                    f"({v} % is {d2 / 100})"
                )
            self.bad(col, d)
            return None
        return fraction_to_ppb(d)

    def time(self, col: str, *, required: bool = False) -> datetime | None:
        """A time with a UTC offset, as UTC."""
        v = self.raw(col)
        if v is None:
            if required and col in self.table.cols:
                self.bad(col, f"{col} is required but the cell is empty")
            return None
        if isinstance(v, datetime):
            self.bad(col, f"time {v.isoformat()} has no UTC offset (a date cell carries none): {_TIME_HINT}")
            return None
        try:
            return parse_time(str(v).strip())
        except ValueError as exc:
            self.bad(col, f"{exc}: {_TIME_HINT}" if "offset" in str(exc) else f"bad time {v!r}: {_TIME_HINT}")
            return None


# --- loading ----------------------------------------------------------------------------------------------------


def _unknown_column(sheet: Sheet, header: str) -> str:
    known = ", ".join(c.name for c in sheet.columns)
    for c in sheet.columns:
        if c.name.lower() == header.lower() or (c.prefix and header.lower().startswith(c.prefix.lower())):
            return f"unknown column {header!r} in sheet {sheet.name}: did you mean {c.name}? (known: {known})"
    if re.match(r"^[A-Z][a-z]?$", header) and "assay:<El>" in {c.name for c in sheet.columns}:
        return f"unknown column {header!r} in sheet {sheet.name}: write assay:{header} for an assay column"
    return f"unknown column {header!r} in sheet {sheet.name} (known: {known})"


def read_header(t: Table, problems: list[Problem], filled: Collection[int] | None = None) -> None:
    """Read row 1 of a table into its columns, checking names; ``filled``: the column indices that hold a value
    in some later row (default: found in ``t.rows``; a streamed table passes them)."""
    header = t.rows[0][1] if t.rows and t.rows[0][0] == 1 else ()
    fixed, seen = t.sheet.fixed(), set[str]()
    if t.rows and t.rows[0][0] == 1:
        t.rows = t.rows[1:]

    def at(i: int, name: str) -> str:
        return f"{t.label}#{t.sheet.name}!{get_column_letter(i + 1)}1" if t.xlsx else f"{t.label}:1:{name}"

    for i, h in enumerate(header):
        name = "" if blank(h) is None else str(h).strip()
        if not name:
            if (i in filled if filled is not None
                    else any(i < len(v) and blank(v[i]) is not None for _, v in t.rows)):
                problems.append(
                    Problem(at(i, f"#{i + 1}"), f"column {i + 1} has values but no name in row 1")
                )
            continue
        if name in seen:
            problems.append(Problem(at(i, name), f"duplicate column {name!r}"))
            continue
        seen.add(name)
        fam = None if name in fixed else match_pattern(t.sheet, name)
        if name in fixed:
            t.cols[name] = i
        elif fam is not None and not (fam[0].name == "assay:<El>" and fam[1] in fixed):
            t.cols[name] = i
            t.families.setdefault(fam[0].name, []).append((name, fam[1]))
        elif fam is not None:
            problems.append(Problem(at(i, name), f"write the {fam[1]} mass fraction in column {fam[1]}"))
        else:
            problems.append(Problem(at(i, name), _unknown_column(t.sheet, name)))
    missing = [c for c in t.sheet.required() if c not in t.cols]
    for c in missing:
        hint = f": every mass needs its unit, {MASS_UNIT_HINT}" if c == "mass_unit" else ""
        problems.append(
            Problem(t.header_row(), f"sheet {t.sheet.name} is missing the required column {c}{hint}")
        )


def _load_xlsx(path: Path, problems: list[Problem]) -> dict[str, Table]:
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors alike for a file that is not XLSX
        problems.append(Problem(str(path), f"cannot read the workbook: {type(exc).__name__}: {exc}"))
        return {}
    tables: dict[str, Table] = {}
    try:
        for ws in wb.worksheets:
            name = str(ws.title).strip()
            if name.lower() in IGNORED:
                continue
            ws.reset_dimensions()  # some writers store wrong dimensions; read every row that is there
            rows: list[tuple[int, Sequence[object]]] = [
                (n, tuple(r)) for n, r in enumerate(ws.iter_rows(values_only=True), start=1)
            ]
            if name in SHEETS:
                tables[name] = Table(SHEETS[name], str(path), True, rows)
            elif _has_values(rows):  # an empty "Sheet1" left by the spreadsheet program is harmless
                problems.append(
                    Problem(f"{path}#{name}", f"unknown sheet {name!r} (known: {', '.join(SHEETS)})")
                )
    finally:
        wb.close()
    return tables


def _decode_csv(f: Path, problems: list[Problem]) -> str | None:
    """The text of a CSV file in UTF-8 (with or without BOM) or UTF-16 with BOM; anything else is refused."""
    data = f.read_bytes()
    enc = csv_encoding(data)
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        problems.append(undecodable(f, enc, exc.start, data[exc.start:exc.start + 1]))
        return None
    if "\x00" in text:
        problems.append(nul_problem(f, data.index(0), data.count(0), len(data),
                                    text.count(chr(10), 0, text.index(chr(0))) + 1))
        return None
    return text


def csv_encoding(start: bytes) -> str:
    """The codec of a CSV file from its first two bytes: UTF-16 with a byte-order mark, else UTF-8 (BOM or not)."""
    return "utf-16" if start[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"


def undecodable(f: Path, enc: str, offset: int, byte: bytes) -> Problem:
    """The refusal of a CSV file that is not text in its encoding (``byte`` at ``offset`` cannot be decoded)."""
    return Problem(str(f), f"not {'UTF-16' if enc == 'utf-16' else 'UTF-8'} text: byte 0x{byte.hex().upper()} at "
                           f"offset {offset} cannot be decoded (save the sheet as CSV UTF-8, or UTF-16 with a "
                           "byte-order mark)")


def nul_problem(f: Path, at: int, zeros: int, size: int, line: int) -> Problem:
    """The refusal of a CSV file holding NUL: ``zeros`` zero bytes of ``size``, the first at ``at``, on ``line``."""
    if zeros * 4 > size:
        return Problem(str(f), f"NUL bytes from offset {at}: the file looks like UTF-16 without a byte-order mark "
                               "(save it as CSV UTF-8)")
    return Problem(f"{f}:{line}", f"a NUL byte at offset {at}: a CSV cell cannot hold the control character U+0000")


def _formula_cells(path: Path, problems: list[Problem]) -> None:
    """Formula cells whose result was never saved read as empty: refuse them with their cell, never guess."""
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
        cached = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # the data-only load reports an unreadable workbook
        return
    try:
        for ws in wb.worksheets:
            if str(ws.title).strip() not in SHEETS:
                continue
            ws.reset_dimensions()
            vs = cached[ws.title]
            vs.reset_dimensions()
            for (n, formulas), values in zip(enumerate(ws.iter_rows(values_only=True), start=1),
                                             vs.iter_rows(values_only=True), strict=False):
                for i, (f, v) in enumerate(zip(formulas, values, strict=False)):
                    if isinstance(f, str) and f.startswith("=") and v is None:
                        problems.append(Problem(f"{path}#{ws.title}!{get_column_letter(i + 1)}{n}",
                                                f"formula {f[:60]!r} has no saved value (open and save the "
                                                "workbook in a spreadsheet program, or enter the value)"))
    finally:
        wb.close()
        cached.close()


def extra_cell(t: Table, width: int, n: int, values: Sequence[object]) -> Problem | None:
    """The refusal of row ``n``'s first value beyond the header row's ``width`` cells (it would be dropped)."""
    for i in range(width, len(values)):
        if blank(values[i]) is not None:
            where = (f"{t.label}#{t.sheet.name}!{get_column_letter(i + 1)}{n}" if t.xlsx
                     else f"{t.label}:{n}:column {i + 1}")
            return Problem(where, f"a value in column {i + 1}, beyond the {width} columns of the header row: add "
                                  "the column's name to row 1 or remove the value")
    return None


def _extra_cells(t: Table, width: int, problems: list[Problem]) -> None:
    """Values beyond the header row's last cell are refused with their cell (they would be dropped)."""
    for n, values in t.rows:
        if (p := extra_cell(t, width, n, values)) is not None:
            problems.append(p)


def _load_csv_dir(path: Path, problems: list[Problem]) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for f in sorted(path.glob("*.csv")):
        if f.stem.lower() in IGNORED:
            continue
        if f.stem not in SHEETS:
            problems.append(
                Problem(
                    str(f), f"unknown sheet file {f.name!r} (known: {', '.join(s + '.csv' for s in SHEETS)})"
                )
            )
            continue
        text = _decode_csv(f, problems)
        if text is None:
            continue
        first = text.split("\n", 1)[0]
        delimiter = ";" if ";" in first and "," not in first else ","
        reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
        rows: list[tuple[int, Sequence[object]]] = []
        start = 1
        for rec in reader:
            rows.append((start, tuple(rec)))
            start = reader.line_num + 1
        tables[f.stem] = Table(SHEETS[f.stem], str(f), False, rows)
    return tables


def load_tables(path: Path, problems: list[Problem]) -> dict[str, Table]:
    """The known sheets of a workbook or CSV folder, headers read and checked; problems are appended."""
    if path.is_dir():
        tables = _load_csv_dir(path, problems)
    elif not path.exists():
        problems.append(Problem(str(path), "no such file or folder"))
        return {}
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        tables = _load_xlsx(path, problems)
        if tables:
            _formula_cells(path, problems)
    else:
        problems.append(Problem(str(path), "expected an .xlsx workbook or a folder of CSV files"))
        return {}
    tables = {name: tables[name] for name in SHEETS if name in tables and _has_values(tables[name].rows)}
    for t in tables.values():
        width = len(t.rows[0][1]) if t.rows and t.rows[0][0] == 1 else 0
        read_header(t, problems)
        _extra_cells(t, width, problems)
    return tables

"""Read process readings from CSV or Parquet in bounded chunks, checking each value, unit and time.

Why this exists: a line's historian exports tens of millions of readings; they are read with pyarrow in chunks
(never the whole file in memory as Python objects) and every chunk is checked vectorised. The file is long format,
one reading a row::

    time,run,parameter,value,unit
    2026-01-05T10:00:00Z,RUN-PC-0001,pH,11.42,pH

``time`` carries its UTC offset; ``run`` may be empty (a reading between runs); ``parameter`` is one of
:data:`lichain.core.quality_vocab.PROCESS_PARAMETERS` and ``unit`` must be its unit. A problem is located at the
file's line (CSV, header = line 1) or row (Parquet, first row = 1) and column; the caller writes nothing then.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from lichain.core.codec import parse_time
from lichain.core.errors import Problem
from lichain.core.quality_vocab import PROCESS_PARAMETERS

__all__ = ["COLUMNS", "SCHEMA", "ReadingChunk", "ReadingsRefused", "check_chunk", "read_readings"]

#: Columns of a readings file, in order.
COLUMNS = ("time", "run", "parameter", "value", "unit")
#: Arrow schema of readings as read and as stored (the unit is dropped on store: it is fixed per parameter).
SCHEMA = pa.schema([("time", pa.timestamp("us", tz="UTC")), ("run", pa.string()), ("parameter", pa.string()),
                    ("value", pa.float64()), ("unit", pa.string())])
#: Physical bounds of a reading, per unit (a value outside is a typing or sensor error, not a process signal).
_BOUNDS: dict[str, tuple[float, float]] = {"pH": (0.0, 14.0), "°C": (-50.0, 1500.0)}
_MAX_PROBLEMS = 20
_BLOCK = 8 << 20  # bytes of CSV per chunk


@dataclass(frozen=True, slots=True)
class ReadingChunk:
    """A checked chunk of readings and the file line/row of its first reading."""

    table: pa.Table
    first: int


def _where(src: str, csv: bool, index: int, column: str) -> str:
    return f"{src}:{index + 2}/{column}" if csv else f"{src}#row{index + 1}/{column}"


def _first(mask: pa.Array, n: int = 5) -> list[int]:
    idx = pc.indices_nonzero(pc.fill_null(mask, True))
    return [int(i) for i in idx.slice(0, n).to_pylist()]


def check_chunk(t: pa.Table, offset: int, src: str, csv: bool) -> list[Problem]:
    """Every problem of one chunk (at most a few per kind), located by file line or row and column."""
    out: list[Problem] = []

    def add(mask: pa.Array, column: str, why: object) -> None:
        for i in _first(mask):
            v = t.column(column)[i].as_py()
            out.append(Problem(_where(src, csv, offset + i, column),
                               why(v, i) if callable(why) else f"{why} (got {v!r})"))

    param, unit, value = t.column("parameter"), t.column("unit"), t.column("value")
    add(pc.invert(pc.is_in(param, value_set=pa.array(list(PROCESS_PARAMETERS)))), "parameter",
        f"unknown parameter (known: {', '.join(PROCESS_PARAMETERS)})")
    for p, u in PROCESS_PARAMETERS.items():
        bad = pc.and_(pc.equal(param, p), pc.invert(pc.fill_null(pc.equal(unit, u), False)))
        if pc.any(bad).as_py():
            add(bad, "unit", f"{p} is recorded in {u!r}")
    add(pc.invert(pc.fill_null(pc.is_finite(value), False)), "value", "a reading needs a finite number")
    for u, (lo, hi) in _BOUNDS.items():
        bad = pc.and_(pc.equal(unit, u), pc.or_(pc.less(value, lo), pc.greater(value, hi)))
        if pc.any(pc.fill_null(bad, False)).as_py():
            add(pc.fill_null(bad, False), "value", f"a reading in {u} lies within {lo:g}..{hi:g}")
    add(pc.is_null(t.column("time")), "time", "a reading needs its time")
    return out[:_MAX_PROBLEMS]


def _bad_text(column: str, text: str | None) -> bool:
    if text is None:
        return True
    try:
        if column == "value":
            return not math.isfinite(float(text))
        parse_time(text)
    except ValueError:
        return True
    return False


def _locate_structure(path: Path, src: str) -> list[Problem]:
    """The first line whose number of fields differs from the header's (slow path: errors only)."""
    import csv

    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        width = len(next(reader, []))
        for row in reader:
            if len(row) != width:
                return [Problem(f"{src}:{reader.line_num}", f"expected {width} fields as in the header, got "
                                                            f"{len(row)} (a decimal comma needs quotes)")]
    return []


def _locate_conversion(path: Path, src: str, exc: Exception) -> list[Problem]:
    """The first rows whose text cannot be read as a number or a time with offset (slow path: errors only)."""
    if "parse error" in str(exc):
        return _locate_structure(path, src) or [Problem(src, f"cannot read the readings: {exc}")]
    opts = pcsv.ConvertOptions(column_types={c: pa.string() for c in COLUMNS}, include_columns=list(COLUMNS))
    want = {"value": "a finite number", "time": "an ISO 8601 time with its UTC offset"}
    out: list[Problem] = []
    offset = 0
    with pcsv.open_csv(path, convert_options=opts, read_options=pcsv.ReadOptions(block_size=_BLOCK)) as r:
        for batch in r:
            for column in ("time", "value"):
                for i, text in enumerate(batch.column(column).to_pylist()):
                    if _bad_text(column, text):
                        out.append(Problem(f"{src}:{offset + i + 2}/{column}",
                                           f"{column} must be {want[column]}, got {text!r}"))
                        if len(out) >= 5:
                            return out
            offset += batch.num_rows
    return out or [Problem(src, f"cannot read the readings: {exc}")]


def _csv_chunks(path: Path) -> Iterator[pa.Table]:
    opts = pcsv.ConvertOptions(column_types={f.name: f.type for f in SCHEMA}, include_columns=list(COLUMNS),
                               strings_can_be_null=True)
    with pcsv.open_csv(path, convert_options=opts, read_options=pcsv.ReadOptions(block_size=_BLOCK)) as r:
        for batch in r:
            yield pa.Table.from_batches([batch])


def _parquet_chunks(path: Path) -> Iterator[pa.Table]:
    f = pq.ParquetFile(path)
    for batch in f.iter_batches(batch_size=1 << 20, columns=list(COLUMNS)):
        t = pa.Table.from_batches([batch])
        yield t.cast(SCHEMA) if t.schema != SCHEMA else t


def _header_problem(path: Path, src: str, csv: bool) -> Problem | None:
    if csv:
        import csv as csv_text

        with path.open("r", newline="", encoding="utf-8-sig", errors="replace") as fh:
            names = [c.strip() for c in next(csv_text.reader(fh), [])]
    else:
        names = pq.ParquetFile(path).schema_arrow.names
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        where = f"{src}:1" if csv else src
        return Problem(where, f"missing column(s) {', '.join(missing)}: a readings file has the columns "
                              f"{', '.join(COLUMNS)}")
    return None


def read_readings(path: Path) -> tuple[Iterator[ReadingChunk], list[Problem]]:
    """Checked chunks of a readings file, or the problems that stop it before the first chunk.

    Iterating may still raise :class:`ReadingsRefused` with located problems found in a later chunk.
    """
    src = path.name
    csv = path.suffix.lower() != ".parquet"
    head = _header_problem(path, src, csv)
    if head is not None:
        return iter(()), [head]
    return _chunks(path, src, csv), []


class ReadingsRefused(Exception):
    """A chunk of the file has problems (the caller discards what it wrote)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _chunks(path: Path, src: str, csv: bool) -> Iterator[ReadingChunk]:
    offset = 0
    it = _csv_chunks(path) if csv else _parquet_chunks(path)
    while True:
        try:
            t = next(it)
        except StopIteration:
            return
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ReadingsRefused(_locate_conversion(path, src, exc) if csv else
                                  [Problem(src, f"cannot read the readings: {exc}")]) from None
        problems = check_chunk(t, offset, src, csv)
        if problems:
            raise ReadingsRefused(problems)
        yield ReadingChunk(t, offset)
        offset += t.num_rows

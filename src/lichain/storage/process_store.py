"""The process-readings store: immutable Parquet partition files by line and month, beside the ledger.

Why this store: readings are tens of millions of (time, run, parameter, value) rows a line and a year, written
once and read by column ranges (one run's pH, one month of a line). Columnar Parquet with dictionary-encoded run
and parameter columns and zstd compression stores them at a few bytes a reading, and pyarrow reads only the row
groups whose statistics can match a filter (each file is sorted by run, parameter and time). The ledger holds
each batch's manifest (a ``process_batch`` event: files, SHA-256 of each, rows, time range, units), so reads
take their file list from the ledger, a file not on record is never read, and ``verify`` finds a changed or
missing file. PostgreSQL range-partitioned tables (by line and month) are the production alternative when
readings must be joined in SQL or written by many concurrent clients; this store needs no database server and
keeps the ledger's tables small.

Layout: ``ROOT/line=<line>/month=<YYYY-MM>/part-<batch>-<n>.parquet``. ``ROOT`` is ``LICHAIN_PROCESS_DIR`` when
set, else ``<ledger>.process`` beside a SQLite ledger file; a server database needs ``LICHAIN_PROCESS_DIR``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from lichain.core.quality_model import ProcessFile

__all__ = ["LINE_ID", "STORED", "PartitionWriter", "file_problems", "process_root", "read_files", "sha256_of"]

#: Stored columns (the unit is fixed per parameter and kept in the batch event).
STORED = pa.schema([("time", pa.timestamp("us", tz="UTC")), ("run", pa.string()), ("parameter", pa.string()),
                    ("value", pa.float64())])
#: What a line id may contain (it is a folder name).
LINE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_ROW_GROUP = 131_072


def process_root(url: str) -> Path | None:
    """Where the readings of the ledger at ``url`` are kept (see the module doc); None for a server database
    without ``LICHAIN_PROCESS_DIR`` (it has no folder beside it)."""
    env = os.environ.get("LICHAIN_PROCESS_DIR")
    if env:
        return Path(env)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db = Path(url.removeprefix("sqlite:///"))
        return db.with_name(db.stem + ".process")
    return None


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes (hex), streamed."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class PartitionWriter:
    """Writes one batch's readings into month partitions of a line; ``finish`` seals them, ``abort`` removes them."""

    def __init__(self, root: Path, line: str, batch: str) -> None:
        self.root, self.line, self.batch = root, line, batch
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}
        self.tmp = f".{os.getpid()}-{os.urandom(4).hex()}.tmp"  # one writer's own temporary files

    def _path(self, month: str) -> Path:
        return self.root / f"line={self.line}" / f"month={month}" / f"part-{self.batch}.parquet"

    def write(self, table: pa.Table) -> None:
        """Add checked readings (columns of :data:`STORED`, extra columns ignored)."""
        t = table.select(list(STORED.names)).cast(STORED)
        stamp = t.column("time")
        months = pc.add(pc.multiply(pc.year(stamp), 100), pc.month(stamp))  # YYYYMM in UTC
        for code in pc.unique(months).to_pylist():
            month = f"{code // 100:04d}-{code % 100:02d}"
            part = t.filter(pc.equal(months, code)).sort_by([("run", "ascending"), ("parameter", "ascending"),
                                                               ("time", "ascending")])
            w = self.writers.get(month)
            if w is None:
                path = self._path(month)
                path.parent.mkdir(parents=True, exist_ok=True)
                w = pq.ParquetWriter(str(path) + self.tmp, STORED, compression="zstd",
                                     use_dictionary=["run", "parameter"], write_statistics=True)
                self.writers[month] = w
                self.rows[month] = 0
            w.write_table(part, row_group_size=_ROW_GROUP)
            self.rows[month] += part.num_rows

    def finish(self) -> list[ProcessFile]:
        """Close and seal the files; their paths relative to the root, SHA-256 and rows."""
        out = []
        for month, w in sorted(self.writers.items()):
            w.close()
            path = self._path(month)
            os.replace(str(path) + self.tmp, path)
            out.append(ProcessFile(path.relative_to(self.root).as_posix(), sha256_of(path), self.rows[month]))
        self.writers.clear()
        return out

    def abort(self, files: Iterable[ProcessFile] = ()) -> None:
        """Remove what this batch wrote (open temporary files and sealed ones)."""
        for month, w in self.writers.items():
            w.close()
            Path(str(self._path(month)) + self.tmp).unlink(missing_ok=True)
        self.writers.clear()
        for f in files:
            (self.root / f.path).unlink(missing_ok=True)


def read_files(root: Path, files: Sequence[str], *, run: str | None = None, parameter: str | None = None,
               start: datetime | None = None, end: datetime | None = None) -> pa.Table:
    """Readings of the listed files matching the filters (``start`` ≤ time < ``end``), sorted by time."""
    if not files:
        return STORED.empty_table()
    dataset = ds.dataset([str(root / f) for f in files], schema=STORED, format="parquet")
    cond = None
    for c in ((ds.field("run") == run) if run is not None else None,
              (ds.field("parameter") == parameter) if parameter is not None else None,
              (ds.field("time") >= pa.scalar(start, STORED.field("time").type)) if start is not None else None,
              (ds.field("time") < pa.scalar(end, STORED.field("time").type)) if end is not None else None):
        if c is not None:
            cond = c if cond is None else cond & c
    return dataset.to_table(filter=cond).sort_by([("time", "ascending"), ("run", "ascending")])


def file_problems(root: Path, files: Iterable[ProcessFile]) -> list[tuple[str, str]]:
    """(file, problem) for each listed file that is missing or whose bytes changed."""
    out = []
    for f in files:
        path = root / f.path
        if not path.is_file():
            out.append((f.path, "missing"))
        elif sha256_of(path) != f.sha256:
            out.append((f.path, "changed: its SHA-256 is not the one recorded when it was ingested"))
    return out

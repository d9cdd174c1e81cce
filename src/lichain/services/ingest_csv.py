"""Use case: ingest a big folder of CSV sheets in bounded memory, still all or nothing.

Why this exists: read whole, a CSV folder's rows and events all sit in memory before the first check. Above a size
(:data:`lichain.services.record.STREAM_ABOVE_BYTES`, as for EPCIS) the folder is staged in a temporary SQLite
database next to the system's temporary files (:mod:`lichain.io.tabular_stream_load`), parsed with the whole
reader's row functions and problems (:mod:`lichain.io.tabular_stream`), and its events go in ledger order, in
chunks, through :func:`lichain.services.ingest.ingest_chunks`: one unit of work under the write lock, committed
only if no chunk had a problem. A folder with a corrections sheet is read whole (corrections reorder events
around what they retract; such folders are hand-made and small).
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from lichain.core.ports import LedgerStore
from lichain.core.validate import BalancePolicy
from lichain.services.ingest import IngestResult, ingest_chunks

__all__ = ["csv_folder_to_stream", "ingest_csv_folder"]

#: A corrections sheet larger than this [bytes] is not inspected: the folder is read whole.
_CORRECTIONS_PEEK = 1 << 16


def _has_corrections(folder: Path) -> bool:
    """True if the folder's corrections sheet may hold a row below its header (then the folder is read whole)."""
    f = folder / "corrections.csv"
    if not f.is_file():
        return False
    if f.stat().st_size > _CORRECTIONS_PEEK:
        return True
    lines = f.read_bytes().splitlines()[1:]
    return any(line.strip(b" \t,;\"\x00\xef\xbb\xbf\xff\xfe") for line in lines)


def csv_folder_to_stream(path: Path, stream_above: int) -> Path | None:
    """The CSV folder to stream for ``path`` (a folder, or one of its ``.csv`` files), or None to read it whole:
    not a folder of CSV sheets, at most ``stream_above`` bytes of CSV, or a corrections sheet with rows."""
    folder = path.parent if path.suffix.lower() == ".csv" and path.is_file() else path
    if not folder.is_dir() or _has_corrections(folder):
        return None
    size = sum(f.stat().st_size for f in folder.glob("*.csv"))
    return folder if size > stream_above else None


def ingest_csv_folder(
    store: LedgerStore,
    folder: Path,
    policy: BalancePolicy | None = None,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    chunk_events: int = 5_000,
    source: str | None = None,
) -> IngestResult:
    """Ingest a CSV folder streamed: every problem of the whole reader, or its events in chunks, all or nothing.

    ``progress`` gets (bytes read, 0) while the files are staged, then (all bytes, events checked).
    """
    from lichain.io.tabular_stream import StreamReader
    from lichain.io.tabular_stream_load import stage_csv_dir
    from lichain.services.record import assign_ids_located

    with tempfile.TemporaryDirectory(prefix="lichain-csv-") as tmp:
        db = sqlite3.connect(Path(tmp) / "staging.db")
        try:
            db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;"
                             "PRAGMA cache_size = -16000;")
            staged = stage_csv_dir(folder, db, progress)
            reader = StreamReader(staged)
            problems = reader.parse()
            if problems:
                return IngestResult(False, 0, 0, tuple(problems))
            total = staged.total_bytes

            def tick(events: int) -> None:
                if progress is not None:
                    progress(total, events)

            chunks = ((assign_ids_located(c), ()) for c in reader.chunks(chunk_events, tick))
            return ingest_chunks(chunks, store, policy=policy, source=source or folder.name, dry_run=dry_run)
        finally:
            db.close()

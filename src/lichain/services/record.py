"""Use cases that write the ledger: ingest files, run the demo chain, give generated events their ids.

Files are parsed by the ``io`` adapters into located events; events that carry no id of their own (spreadsheets,
the demo generator) get one here before the ledger rules see them: the CBV 2.0 event hash of their EPCIS
rendering for lots, runs and shipments, a content UUID for master data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from lichain.core.codec import canonical_payload, content_event_id
from lichain.core.errors import Problem
from lichain.core.model import Event, EventKind
from lichain.core.plain import dumps
from lichain.core.ports import LedgerStore
from lichain.core.validate import BalancePolicy, LocatedEvent
from lichain.services.ingest import IngestResult, ingest_chunks, ingest_events, ingest_stream
from lichain.storage.sql import SqlStore

__all__ = ["STREAM_ABOVE_BYTES", "assign_ids", "assign_ids_located", "dumps", "ingest_batches", "ingest_file", "read_document"]

_EPCIS_KINDS = (EventKind.LOT, EventKind.RUN, EventKind.SHIPMENT)


def assign_ids(events: Iterable[Event]) -> list[Event]:
    """Events with an id: unchanged if they have one, else the CBV 2.0 hash (EPCIS events) or a content id."""
    from lichain.io.epcis import assign_event_id

    out: list[Event] = []
    for ev in events:
        if not ev.event_id:
            if ev.kind in _EPCIS_KINDS:
                ev = replace(ev, event_id=assign_event_id(ev))
            else:
                ev = replace(ev, event_id=content_event_id(ev.kind, canonical_payload(ev.body)))
        out.append(ev)
    return out


def read_document(path: Path, store: LedgerStore | None = None) -> tuple[list[LocatedEvent], list[Problem]]:
    """Parse one file (EPCIS JSON-LD, XLSX workbook, or a folder of CSV sheets) into located events.

    ``store`` (a SQL ledger) lets a workbook's corrections sheet name runs, shipments and lots already in it.
    """
    name = str(path)
    if not path.exists():
        return [], [Problem(name, "no such file or directory")]
    if path.is_dir() or path.suffix.lower() in (".xlsx", ".xlsm", ".csv"):
        from lichain.io.tabular import read_workbook
        from lichain.services.corrections import ledger_resolver

        located, problems = read_workbook(path.parent if path.suffix.lower() == ".csv" else path,
                                          ledger_resolver(store) if isinstance(store, SqlStore) else None)
    elif path.suffix.lower() in (".json", ".jsonld"):
        from lichain.io.epcis import read_epcis

        located, problems = read_epcis(path.read_bytes(), name)
    else:
        return [], [Problem(name, f"unknown document type {path.suffix!r}: expected .jsonld/.json (EPCIS 2.0), "
                                  ".xlsx or a folder of .csv sheets")]
    ids = assign_ids(le.event for le in located)
    return [LocatedEvent(le.location, ev) for le, ev in zip(located, ids, strict=True)], problems


#: EPCIS documents larger than this [bytes] are streamed in chunks rather than parsed whole.
STREAM_ABOVE_BYTES = 16 * 1024 * 1024


def ingest_file(
    store: LedgerStore,
    path: Path,
    policy: BalancePolicy | None = None,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    stream_above: int = STREAM_ABOVE_BYTES,
    chunk_events: int = 5_000,
) -> IngestResult:
    """Ingest one document, all or nothing (``dry_run``: check it, write nothing).

    EPCIS documents and CSV folders larger than ``stream_above`` bytes are streamed in bounded memory
    (:func:`lichain.io.epcis_stream.iter_epcis_chunks`, :func:`lichain.services.ingest_csv.ingest_csv_folder`;
    ``chunk_events`` events at a time); ``progress`` gets (bytes read, events read).
    """
    is_epcis = path.suffix.lower() in (".json", ".jsonld")
    if is_epcis and path.is_file() and path.stat().st_size > stream_above:
        from lichain.io.epcis_stream import StreamLimits, iter_epcis_chunks

        limits = StreamLimits(chunk_events=chunk_events)
        chunks = ((assign_ids_located(located), problems)
                  for located, problems in iter_epcis_chunks(path, str(path), limits, progress))
        from lichain.io.epcis_pointers import relocate

        return ingest_chunks(chunks, store, policy=policy, source=path.name, dry_run=dry_run, relocate=relocate)
    if not is_epcis:  # a CSV folder above stream_above bytes is staged on disk and streamed (services/ingest_csv)
        from lichain.services.ingest_csv import csv_folder_to_stream, ingest_csv_folder

        if (folder := csv_folder_to_stream(path, stream_above)) is not None:
            return ingest_csv_folder(store, folder, policy, dry_run=dry_run, progress=progress,
                                     chunk_events=chunk_events, source=path.name)
    located, problems = read_document(path, store)
    if problems:
        return IngestResult(False, 0, 0, tuple(problems))
    result = ingest_events(located, store, policy=policy, source=path.name, dry_run=dry_run)
    if is_epcis:
        from lichain.io.epcis_pointers import relocate

        result = replace(result, problems=tuple(relocate(result.problems, located)))
    return result


def assign_ids_located(located: Sequence[LocatedEvent]) -> list[LocatedEvent]:
    """Located events with ids assigned where they have none (see :func:`assign_ids`)."""
    ids = assign_ids(le.event for le in located)
    return [LocatedEvent(le.location, ev) for le, ev in zip(located, ids, strict=True)]


def ingest_batches(
    store: SqlStore,
    batches: Iterable[Sequence[Event]],
    *,
    label: str = "demo",
    on_batch: Callable[[int], None] | None = None,
    policy: BalancePolicy | None = None,
) -> IngestResult:
    """Ingest consecutive generated batches (each its own all-or-nothing document)."""
    located = ([LocatedEvent(f"{label}#batch{b}/{i}", ev) for i, ev in enumerate(assign_ids(batch))]
               for b, batch in enumerate(batches))
    return ingest_stream(located, store, policy=policy, source=label, on_batch=on_batch)



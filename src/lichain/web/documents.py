"""Taking a document sent over HTTP into the ledger: parse, check the caller may record it, ingest, remember.

Why this exists: ``POST /ingest`` (EPCIS 2.0 JSON-LD or the workbook) and the EPCIS capture interface
(``POST /capture``) take documents the same way the CLI does (the same parsers, the same all-or-nothing
``ingest_events``, the same located problems), with two additions: a document may only hold records of the
caller's organisation (:func:`lichain.web.access.document_problems`), and ingest is idempotent: the same
document (same bytes) sent again by the same organisation gets the same result as when it was first accepted,
without being checked again.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from lichain.core.codec import event_from_payload
from lichain.core.errors import Problem
from lichain.core.model import BatteryRegistration, CellSpec, Event, LocatedEvent, Retraction, SupplierPcf
from lichain.core.quality_model import Certificate, Deviation
from lichain.entrypoints.present import jsonable
from lichain.services.ingest import IngestResult, ingest_events
from lichain.storage import access_sql as acc
from lichain.storage.sql import SqlStore
from lichain.web.access import Principal, document_problems

__all__ = ["Outcome", "kind_of", "take_document"]

DocKind = Literal["epcis", "workbook"]
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Outcome:
    """A document's fate: HTTP status, the use case's result, the job that recorded it and whether it is a
    replay of an earlier accepted ingest of the same bytes."""

    status: int
    result: IngestResult
    job: str | None
    replayed: bool


def kind_of(content_type: str, name: str | None) -> DocKind | None:
    """The document kind from the media type (or the file name's suffix), None when unknown."""
    ct = content_type.split(";")[0].strip().lower()
    if ct in ("application/ld+json", "application/json") or (name or "").lower().endswith((".jsonld", ".json")):
        return "epcis"
    if ct == _XLSX or (name or "").lower().endswith(".xlsx"):
        return "workbook"
    return None


def _parse(store: SqlStore, data: bytes, kind: DocKind, name: str) -> tuple[list[LocatedEvent], list[Problem]]:
    from lichain.services.record import assign_ids_located

    if kind == "epcis":
        from lichain.io.epcis import read_epcis

        located, problems = read_epcis(data, name)
        return assign_ids_located(located), problems
    from lichain.services.record import read_document

    with tempfile.TemporaryDirectory(prefix="lichain-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        located, problems = read_document(path, store)
        fix = str(path)  # locations name the document as sent, not the temporary file

        def relabel(loc: str) -> str:
            return name + loc[len(fix):] if loc.startswith(fix) else loc

        return ([LocatedEvent(relabel(le.location), le.event) for le in located],
                [Problem(relabel(p.location), p.message) for p in problems])


def _access(store: SqlStore, p: Principal, located: list[LocatedEvent]) -> list[Problem]:
    from lichain.services.query import canonical_lot_id

    lots = {b.lot: acc.lot_parties(store, (b.lot, canonical_lot_id(b.lot)))
            for b in (le.event.body for le in located)
            if isinstance(b, SupplierPcf | CellSpec | BatteryRegistration | Certificate | Deviation)}
    targets: dict[str, Event | None] = {}
    for le in located:
        b = le.event.body
        if isinstance(b, Retraction):
            st = store.stored_event(b.target_event_id)
            targets[b.target_event_id] = (None if st is None else
                                          event_from_payload(st.event_id, st.kind, st.time, st.payload))
    return document_problems(p, located, acc.site_organisations(store), lots, targets)


def take_document(store: SqlStore, p: Principal, data: bytes, kind: DocKind, name: str, *, dry_run: bool = False,
                  job: bool = True) -> Outcome:
    """Parse, check and ingest one document all or nothing; 200 accepted, 403 not the caller's to record,
    422 refused by the ledger's rules (nothing written in either case)."""
    digest = hashlib.sha256(data).hexdigest()
    if not dry_run and p.organisation is not None:
        done = acc.accepted_job(store, p.organisation, digest)
        if done is not None and done.result is not None:
            return Outcome(200, _result_of(json.loads(done.result)), done.id, True)
    job_id = acc.create_job(store, _user_row(p), digest) if job and not dry_run else None
    located, problems = _parse(store, data, kind, name)
    status = 422
    if problems:
        result = IngestResult(False, 0, 0, tuple(problems))
    elif forbidden := _access(store, p, located):
        result, status = IngestResult(False, 0, 0, tuple(forbidden)), 403
    else:
        result = ingest_events(located, store, source=name, dry_run=dry_run)
        if kind == "epcis":
            from lichain.io.epcis_pointers import relocate

            result = replace(result, problems=tuple(relocate(result.problems, located)))
        status = 200 if result.ok else 422
    if job_id is not None:
        acc.finish_job(store, job_id, "succeeded" if result.ok else "failed", jsonable(result))
    return Outcome(status, result, job_id, False)


def _user_row(p: Principal) -> acc.UserRow:
    return acc.UserRow(p.user or "", p.organisation or "", p.role, tuple(p.orgs), "", None, 0)


def _result_of(d: dict[str, Any]) -> IngestResult:
    return IngestResult(bool(d["ok"]), int(d["events_written"]), int(d["events_skipped"]),
                        tuple(Problem(x["location"], x["message"]) for x in d["problems"]), bool(d["dry_run"]))

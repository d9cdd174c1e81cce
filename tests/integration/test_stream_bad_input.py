"""The hostile EPCIS corpus read by the streaming reader: every document a located refusal, nothing written.

`ingest_file(..., stream_above=0)` streams every document (two ijson passes, chunked writes in one transaction),
as a document above 16 MiB would be. Each of the corpus's EPCIS documents must be refused with its expected reason
and nothing may change: no crash (before the byte screen, an integer of 5,000 digits killed the process with a
segmentation fault) and no accept (a lone surrogate escape was read as "?" and the lot was accepted). Locations:
the manifest's JSON pointer; for JSON-level refusals the same line (the C parser notices some errors at the end
of the offending token, Python's at its start); a lone surrogate is refused by the byte screen before any JSON
pointer exists, so at its line and column.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lichain.services.record import ingest_file
from lichain.storage.sql import SqlStore

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "bad_input"
EPCIS = [d for d in json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8")) if d["kind"] == "epcis"]


def _located(path: Path, d: dict[str, str], location: str) -> bool:
    want = d["location"]
    if location.startswith(f"{path}{want}") and (want.startswith("#") or not want):
        return True
    m = re.fullmatch(re.escape(str(path)) + r":(\d+):(\d+)", location)
    if m is None:
        return False
    if want.startswith(":"):
        return want.split(":")[1] == m.group(1)
    return d["reason"] == "lone surrogate"


def _check(store: SqlStore, d: dict[str, str]) -> str | None:
    path = CORPUS / d["document"]
    before = (store.counts(), store.head())
    try:
        r = ingest_file(store, path, stream_above=0)
    except Exception as exc:  # the corpus proves there is none
        return f"{d['document']}: crashed: {type(exc).__name__}: {exc}"
    if r.ok or r.events_written:
        return f"{d['document']}: accepted"
    if (store.counts(), store.head()) != before:
        return f"{d['document']}: the ledger changed"
    if not any(d["reason"] in p.message and _located(path, d, p.location) for p in r.problems):
        got = [(p.location[len(str(path)):], p.message[:100]) for p in r.problems[:4]]
        return f"{d['document']}: expected {d['location']!r} / {d['reason']!r}, got {got}"
    return None


def test_every_bad_epcis_document_streamed_is_a_located_refusal(store: SqlStore) -> None:
    assert len(EPCIS) >= 100
    assert ingest_file(store, DATA / "bad" / "ledger" / "base.jsonld", stream_above=0).ok
    failures: list[Any] = [f for d in EPCIS if (f := _check(store, d))]
    assert failures == [], "\n".join(failures)

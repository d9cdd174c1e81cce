"""The hostile-input corpus: every document is refused with its expected location and reason; nothing changes.

tests/data/bad_input/ holds documents made by its make_corpus.py (EPCIS JSON-LD, XLSX workbooks, CSV folders),
each breaking one thing, and manifest.json with the location and reason each refusal must carry. Every document
is ingested on SQLite and on PostgreSQL: no crash, no accept, the expected problem present, table counts and the
chain head unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lichain.services.record import ingest_file
from lichain.storage.sql import SqlStore, open_store

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "bad_input"
MANIFEST: list[dict[str, str]] = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    from tests.conftest import _pg_store

    if request.param == "sqlite":
        s = open_store(str(tmp_path / "ledger.db"))
        yield s
        s.close()
    else:
        yield from _pg_store()


def test_the_corpus_is_large_and_covers_every_format() -> None:
    kinds = [d["kind"] for d in MANIFEST]
    assert len(MANIFEST) >= 150
    assert kinds.count("epcis") >= 100 and kinds.count("xlsx") >= 10 and kinds.count("csv") >= 15
    assert all((CORPUS / d["document"]).exists() for d in MANIFEST)
    assert all(d["location"] or d["kind"] == "epcis" for d in MANIFEST)


def _check(store: SqlStore, d: dict[str, str]) -> str | None:
    path = CORPUS / d["document"]
    before = (store.counts(), store.head())
    try:
        r = ingest_file(store, path)
    except Exception as exc:  # the corpus proves there is none
        return f"{d['document']}: crashed: {type(exc).__name__}: {exc}"
    if r.ok or r.events_written:
        return f"{d['document']}: accepted"
    if (store.counts(), store.head()) != before:
        return f"{d['document']}: the ledger changed"
    want = str(path) + d["location"]
    hits = [p for p in r.problems if p.location.startswith(want) and d["reason"] in p.message]
    if not hits:
        got = [(p.location[len(str(path)):], p.message[:120]) for p in r.problems[:4]]
        return f"{d['document']}: expected {d['location']!r} / {d['reason']!r}, got {got}"
    if d["kind"] == "epcis":
        return _pointers_resolve(path, [p.location for p in r.problems])
    return None


def _pointers_resolve(path: Path, locations: list[str]) -> str | None:
    """Every ``#/json/pointer`` of a refusal names a member of the document, or a missing member of one."""
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None  # refused before it was JSON: located by line and column instead
    for loc in locations:
        if not loc.startswith(f"{path}#/"):
            continue
        node: Any = doc
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in loc.split("#/", 1)[1].split("/")]
        for n, t in enumerate(tokens):
            if isinstance(node, dict) and t in node:
                node = node[t]
            elif isinstance(node, list) and t.isdigit() and int(t) < len(node):
                node = node[int(t)]
            elif n == len(tokens) - 1:
                break  # a missing member of an existing object: "missing X"
            else:
                return f"{path.name}: {loc.split('#', 1)[1]} is not in the document"
    return None


def test_every_bad_document_is_a_located_refusal(ledger: SqlStore) -> None:
    assert ingest_file(ledger, DATA / "bad" / "ledger" / "base.jsonld").ok
    failures: list[Any] = [f for d in MANIFEST if (f := _check(ledger, d))]
    assert failures == [], "\n".join(failures)

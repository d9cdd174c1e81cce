"""Streamed EPCIS ingest: the same ledger as a whole-document read, still all or nothing, every problem located."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from lichain.services import query
from lichain.services.exchange import export_epcis
from lichain.services.record import ingest_batches, ingest_file
from lichain.services.verify import verify_chain
from lichain.storage.sql import SqlStore, open_store

CHUNK = 400  # events per chunk: the 1,000-lot demo spans several chunks


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lichain.demo import generate

    d = tmp_path_factory.mktemp("stream")
    src = open_store(str(d / "src.db"))
    chain = generate(lots=1000, seed=3)
    assert ingest_batches(src, [chain.master_events, *chain.batches(include_master=False)]).ok
    buf = io.StringIO()
    export_epcis(src, buf)
    src.close()
    path = d / "ledger.jsonld"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _events(path: Path) -> list[dict[str, object]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    events: list[dict[str, object]] = doc["epcisBody"]["eventList"]
    assert len(events) > 3 * CHUNK
    return events


def _variant(path: Path, tmp_path: Path, change: object) -> Path:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)  # type: ignore[operator]
    out = tmp_path / "variant.jsonld"
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out


def test_streamed_equals_whole_document(store: SqlStore, exported: Path, tmp_path: Path) -> None:
    whole = open_store(str(tmp_path / "whole.db"))
    try:
        a = ingest_file(whole, exported)
        b = ingest_file(store, exported, stream_above=0, chunk_events=CHUNK)
        assert a.ok and b.ok, b.problems[:3]
        assert b.events_written == a.events_written == len(_events(exported)) + store.counts()["sites"] + \
            store.counts()["materials"] + store.counts()["overrides"]
        assert store.head()[1] == whole.head()[1]
        assert verify_chain(store).ok and query.balance(store).problems == ()
        again = ingest_file(store, exported, stream_above=0, chunk_events=CHUNK)
        assert again.ok and again.events_written == 0 and again.events_skipped == a.events_written
    finally:
        whole.close()


def test_a_bad_event_in_a_late_chunk_refuses_the_whole_document(store: SqlStore, exported: Path,
                                                                 tmp_path: Path) -> None:
    late = len(_events(exported)) - 5

    def spoil(doc: dict) -> None:  # type: ignore[type-arg]
        doc["epcisBody"]["eventList"][late]["type"] = "NoSuchEvent"

    path = _variant(exported, tmp_path, spoil)
    r = ingest_file(store, path, stream_above=0, chunk_events=CHUNK)
    assert not r.ok and r.events_written == 0
    assert [p.location for p in r.problems] == [f"{path}#/epcisBody/eventList/{late}/type"]
    assert "unknown event type 'NoSuchEvent'" in r.problems[0].message
    assert store.counts()["events"] == 0 and store.counts()["lots"] == 0


def test_an_event_repeated_across_chunks_is_refused(store: SqlStore, exported: Path, tmp_path: Path) -> None:
    def repeat(doc: dict) -> None:  # type: ignore[type-arg]
        doc["epcisBody"]["eventList"].append(doc["epcisBody"]["eventList"][0])

    path = _variant(exported, tmp_path, repeat)
    n = len(_events(path)) - 1
    r = ingest_file(store, path, stream_above=0, chunk_events=CHUNK)
    assert not r.ok
    assert any(p.location == f"{path}#/epcisBody/eventList/{n}" and "duplicate event" in p.message
               for p in r.problems)
    assert store.counts()["events"] == 0


def test_broken_json_is_located_by_line_and_nothing_is_read(store: SqlStore, exported: Path,
                                                            tmp_path: Path) -> None:
    text = exported.read_text(encoding="utf-8")
    lines = text.split("\n")
    k = len(lines) // 2
    lines[k] = lines[k].replace('"type":', '"type" ', 1)  # a missing colon half way through
    path = tmp_path / "broken.jsonld"
    path.write_text("\n".join(lines), encoding="utf-8")
    r = ingest_file(store, path, stream_above=0, chunk_events=CHUNK)
    assert not r.ok and len(r.problems) == 1
    loc = r.problems[0].location
    assert loc.startswith(f"{path}:") and "invalid JSON" in r.problems[0].message
    line, col = (int(x) for x in loc.split(":")[-2:])
    # the parser meets the error at the string after the key, "type" ": the line and column of its closing quote
    assert line == k + 1
    assert lines[k][col - 1] == '"' and re.search(r'"type" "[A-Za-z]+$', lines[k][: col - 1])
    assert store.counts()["events"] == 0


def test_dry_run_checks_everything_and_writes_nothing(store: SqlStore, exported: Path) -> None:
    r = ingest_file(store, exported, stream_above=0, chunk_events=CHUNK, dry_run=True)
    assert r.ok and r.dry_run and store.counts()["events"] == 0
    real = ingest_file(store, exported, stream_above=0, chunk_events=CHUNK)
    assert real.ok and real.events_written == r.events_written > 0


def test_dry_run_of_a_whole_document(store: SqlStore, exported: Path) -> None:
    r = ingest_file(store, exported, dry_run=True)
    assert r.ok and r.dry_run and r.events_written > 0 and store.counts()["events"] == 0

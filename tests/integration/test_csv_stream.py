"""Streamed CSV-folder ingest is the whole-folder ingest in bounded memory: same events, same problems, same head.

The streamed path stages each file on disk a chunk at a time (lichain.io.tabular_stream_load) and emits events by
ordered queries (lichain.io.tabular_stream); the whole path is read_workbook. Every test compares the two: the
demo chain written as CSV (same located events in the same order, same canonical payloads, same chain head after
ingest on SQLite and PostgreSQL), generated folders with random damage (hypothesis: the same events and the same
problem list, in order), random bytes (the same decoding refusals at the same offsets), the CSV documents of the
hostile corpus, and a ledger-rule refusal. Chunk sizes are shrunk so that chunk boundaries fall everywhere.
"""

from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from benchmarks.bench_csv_stream import tabular_form
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lichain.core.codec import canonical_payload
from lichain.core.errors import Problem
from lichain.core.validate import LocatedEvent
from lichain.io import tabular_stream_load
from lichain.io.tabular import read_workbook, write_template, write_workbook
from lichain.io.tabular_cells import load_tables
from lichain.io.tabular_stream import StreamReader
from lichain.io.tabular_stream_load import split_lines, stage_csv_dir
from lichain.services.record import assign_ids_located, ingest_file
from lichain.storage.sql import SqlStore, open_store

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "bad_input"
CSV_DOCS = [d for d in json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8")) if d["kind"] == "csv"]


def streamed(folder: Path, chunk: int = 7) -> tuple[list[LocatedEvent], list[Problem]]:
    """The streamed reader's events (ids assigned, in emission order) and problems."""
    db = sqlite3.connect(":memory:")
    try:
        staged = stage_csv_dir(folder, db)
        reader = StreamReader(staged)
        problems = reader.parse()
        events = [] if problems else [le for c in reader.chunks(chunk) for le in assign_ids_located(c)]
        return events, list(problems)
    finally:
        db.close()


def whole(folder: Path) -> tuple[list[LocatedEvent], list[Problem]]:
    events, problems = read_workbook(folder)
    return ([] if problems else assign_ids_located(events)), problems


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular_stream_load, "CHUNK_BYTES", 61)  # many chunk boundaries, inside rows and cells


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lichain.demo import generate

    chain = generate(lots=600, seed=3)
    events = [tabular_form(ev) for b in [chain.master_events, *chain.batches(include_master=False)] for ev in b]
    folder = tmp_path_factory.mktemp("demo") / "chain"
    write_workbook(events, folder)
    return folder


def test_the_demo_folder_streamed_gives_the_same_events_in_the_same_order(demo_folder: Path) -> None:
    a, pa = whole(demo_folder)
    b, pb = streamed(demo_folder)
    assert pa == pb == []
    assert len(a) > 700 and {type(le.event.body).__name__ for le in a} >= {
        "Site", "Material", "Lot", "Run", "Shipment", "SupplierPcf", "SiteRisk", "CellSpec", "BatteryRegistration"}
    assert [le.location for le in b] == [le.location for le in a]
    assert [(le.event.event_id, le.event.kind, le.event.time) for le in b] == [
        (le.event.event_id, le.event.kind, le.event.time) for le in a]
    assert [canonical_payload(le.event.body) for le in b] == [canonical_payload(le.event.body) for le in a]


def test_the_demo_folder_streamed_ends_at_the_same_chain_head(demo_folder: Path, store: SqlStore,
                                                              tmp_path: Path) -> None:
    ref = open_store(str(tmp_path / "whole.db"))
    try:
        r1 = ingest_file(ref, demo_folder, stream_above=1 << 62)
        ticks: list[tuple[int, int]] = []
        r2 = ingest_file(store, demo_folder, stream_above=0, chunk_events=97,
                         progress=lambda done, n: ticks.append((done, n)))
        assert r1.ok and r2.ok, (r1.problems[:3], r2.problems[:3])
        assert r2.events_written == r1.events_written > 700
        assert store.head() == ref.head()
        total = sum(f.stat().st_size for f in demo_folder.glob("*.csv"))
        assert ticks[-1] == (total, r2.events_written)  # bytes staged, then events checked, to the end
        assert [d for d, _ in ticks] == sorted(d for d, _ in ticks)
        again = ingest_file(store, demo_folder, stream_above=0, chunk_events=97)
        assert again.ok and again.events_written == 0 and again.events_skipped == r1.events_written
    finally:
        ref.close()


def test_a_streamed_dry_run_writes_nothing(demo_folder: Path, sqlite_store: SqlStore) -> None:
    before = (sqlite_store.counts(), sqlite_store.head())
    r = ingest_file(sqlite_store, demo_folder, dry_run=True, stream_above=0, chunk_events=50)
    assert r.ok and r.dry_run and r.events_written > 700
    assert (sqlite_store.counts(), sqlite_store.head()) == before


def test_a_ledger_refusal_streamed_is_the_whole_refusal_and_writes_nothing(tmp_path: Path,
                                                                         sqlite_store: SqlStore) -> None:
    folder = _template(tmp_path)
    rows = (folder / "run_inputs.csv").read_text(encoding="utf-8-sig").splitlines()
    head = rows[0].split(",")
    cells = rows[1].split(",")
    cells[head.index("mass")] = "9e9"  # far more than the lot holds
    (folder / "run_inputs.csv").write_text("\n".join([rows[0], ",".join(cells), *rows[2:]]) + "\n",
                                           encoding="utf-8")
    other = open_store(str(tmp_path / "whole.db"))
    try:
        r1 = ingest_file(other, folder, stream_above=1 << 62)
    finally:
        other.close()
    r2 = ingest_file(sqlite_store, folder, stream_above=0, chunk_events=2)
    assert not r1.ok and not r2.ok and r2.events_written == 0
    assert any("over-consumption" in p.message for p in r2.problems)
    # the refusal itself is the same; a refused chunk is not on record for the later ones, so the shipments of the
    # refused run's output lot are refused too (docs/performance.md, "Streaming CSV ingest")
    assert r2.problems[0] == r1.problems[0] and set(r1.problems) <= set(r2.problems)
    assert all("unknown lot" in p.message and "shipments.csv" in p.location
               for p in set(r2.problems) - set(r1.problems))
    assert sqlite_store.counts() == open_store(str(tmp_path / "empty.db")).counts()


@pytest.mark.parametrize("doc", CSV_DOCS, ids=[d["document"] for d in CSV_DOCS])
def test_every_bad_csv_folder_streamed_gives_the_whole_paths_problems(doc: dict[str, str],
                                                                     sqlite_store: SqlStore) -> None:
    path = CORPUS / doc["document"]
    before = (sqlite_store.counts(), sqlite_store.head())
    r_stream = ingest_file(sqlite_store, path, stream_above=0, chunk_events=3)
    r_whole = ingest_file(sqlite_store, path, stream_above=1 << 62)
    assert not r_stream.ok and r_stream.events_written == 0
    assert r_stream.problems == r_whole.problems
    assert any(p.location.startswith(str(path) + doc["location"]) and doc["reason"] in p.message
               for p in r_stream.problems)
    assert (sqlite_store.counts(), sqlite_store.head()) == before


def test_a_folder_with_many_problems_streamed_lists_the_same_problems_in_the_same_order() -> None:
    folder = DATA / "bad" / "tabular" / "many_problems"
    _, pa = whole(folder)
    _, pb = streamed(folder)
    assert len(pa) >= 10
    assert pb == pa


def _template(tmp_path: Path) -> Path:
    folder = tmp_path / "tpl"
    write_template(folder)
    corrections = folder / "corrections.csv"
    corrections.write_text(corrections.read_text(encoding="utf-8-sig").splitlines()[0] + "\n", encoding="utf-8")
    return folder


_CELLS = st.sampled_from(["", " ", "x", "-1", "0", "12.5", "1e30", "2099-01-01T00:00:00Z", "2024-02-01T00:00:00Z",
                          "2024-02-01", "kg", "t", "lb", "0.4", "1.7", "economic", "R-0001", "RUN-REF-0001",
                          "a;b", 'say "hi"', "line\nbreak", "x\u2028y", "\x0c", "\r", "naïve", "MHP-LOT-01"])
_EDIT = st.tuples(st.sampled_from(["set", "drop", "dup", "swap", "extra", "blank"]), st.integers(0, 20),
                  st.integers(0, 40), _CELLS)


def _damage(folder: Path, edits: list[tuple[str, int, int, str]], semicolon: bool) -> None:
    import csv
    import io

    files = sorted(f for f in folder.glob("*.csv") if f.stem not in ("README", "corrections"))
    for op, fi, ri, value in edits:
        f = files[fi % len(files)]
        rows = list(csv.reader(io.StringIO(f.read_text(encoding="utf-8-sig"), newline="")))
        i = 1 + ri % max(len(rows) - 1, 1) if len(rows) > 1 else 0
        if op == "set" and rows:
            j = (ri * 7 + len(value)) % max(len(rows[i]), 1)
            rows[i][j:j + 1] = [value]
        elif op == "drop" and len(rows) > 1:
            del rows[i]
        elif op == "dup" and len(rows) > 1:
            rows.insert(i, list(rows[i]))
        elif op == "swap" and len(rows) > 2:
            rows[1], rows[-1] = rows[-1], rows[1]
        elif op == "extra" and rows:
            rows[i] = [*rows[i], *([""] * (ri % 3)), value]
        elif op == "blank" and rows:
            rows.insert(i, [""] * (ri % 4))
        out = io.StringIO(newline="")
        csv.writer(out, delimiter=";" if semicolon else ",").writerows(rows)
        f.write_text(out.getvalue(), encoding="utf-8", newline="")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(_EDIT, max_size=6), semicolon=st.booleans())
def test_generated_folders_streamed_give_the_same_events_and_problems(tmp_path_factory: pytest.TempPathFactory,
                                                                      edits: list[tuple[str, int, int, str]],
                                                                      semicolon: bool) -> None:
    folder = _template(tmp_path_factory.mktemp("gen"))
    _damage(folder, edits, semicolon)
    a, pa = whole(folder)
    b, pb = streamed(folder, chunk=3)
    assert pb == pa
    assert [(le.location, le.event) for le in b] == [(le.location, le.event) for le in a]


def test_the_quality_sheets_stream_like_the_whole_reader(tmp_path: Path) -> None:
    from tests.unit.test_quality_tabular import _events

    events = _events()
    write_workbook([replace(ev, event_id="") for ev in events], tmp_path / "q")
    a, pa = whole(tmp_path / "q")
    b, pb = streamed(tmp_path / "q")
    assert pa == pb == [] and len(a) == len(events)
    assert [(le.location, le.event) for le in b] == [(le.location, le.event) for le in a]


_BYTES = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from([b"id,name\n", b"a,b\r\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\xc3\xa9", b"\xc3",
                              b"\xe2\x80\xa8", b"\r", b"\n", b'"q,\n"', b";", b"\x85", b"\xff", b"x"]),
             max_size=40).map(b"".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_BYTES, header=st.booleans(), chunk=st.integers(4, 9))
def test_any_bytes_decode_and_split_as_the_whole_reader_does(tmp_path_factory: pytest.TempPathFactory,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             data: bytes, header: bool, chunk: int) -> None:
    monkeypatch.setattr(tabular_stream_load, "CHUNK_BYTES", chunk)
    folder = tmp_path_factory.mktemp("bytes")
    (folder / "sites.csv").write_bytes((b"id,name,kind,country,organisation\n" if header else b"") + data)
    pa: list[Problem] = []
    tables = load_tables(folder, pa)
    db = sqlite3.connect(":memory:")
    staged = stage_csv_dir(folder, db)
    assert staged.problems == pa
    assert staged.tables.keys() == tables.keys()
    for name, t in tables.items():
        rows = [(n, list(v)) for n, v in t.rows if any(str(x).strip() for x in v)]
        got = [(n, json.loads(c)) for n, c in db.execute(f'SELECT n, cells FROM "raw_{name}" ORDER BY n')]
        assert got == rows
        assert staged.tables[name].cols == t.cols
    db.close()


@given(text=st.text(alphabet="ab,\n\r\x0b\x0c\x1c\x85\u2028\u2029", max_size=60), cut=st.lists(st.integers(0, 60)))
def test_split_lines_is_splitlines_of_the_whole_text(text: str, cut: list[int]) -> None:
    points = sorted({0, len(text), *(c for c in cut if c <= len(text))})

    def chunks() -> Iterator[str]:
        for x, y in itertools.pairwise(points):
            yield text[x:y]

    assert list(split_lines(chunks())) == text.splitlines(keepends=True)


def test_a_folder_with_corrections_rows_is_read_whole(tmp_path: Path) -> None:
    from lichain.services.ingest_csv import csv_folder_to_stream

    folder = tmp_path / "tpl"
    write_template(folder)
    assert csv_folder_to_stream(folder, 0) is None
    shutil.copytree(folder, tmp_path / "plain")
    _template(tmp_path)  # the template with a header-only corrections sheet
    assert csv_folder_to_stream(tmp_path / "tpl", 0) == tmp_path / "tpl"
    assert csv_folder_to_stream(tmp_path / "tpl" / "lots.csv", 0) == tmp_path / "tpl"
    assert csv_folder_to_stream(tmp_path / "tpl", 1 << 40) is None

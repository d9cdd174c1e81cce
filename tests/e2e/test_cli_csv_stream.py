"""``lichain ingest FOLDER`` streams a big CSV folder with a progress bar on a terminal, and writes what it reads.

A folder is streamed above 16 MiB of CSV; here the threshold is lowered so the template streams. The bar is drawn
on the error console only when it is a terminal (forced here into a buffer): it names the phase (rows being read
and staged, then events checked) and the folder.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from lichain.entrypoints import cli
from lichain.entrypoints.cli import app
from lichain.io.tabular import write_template
from lichain.services import ingest_csv
from lichain.storage.sql import open_store

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    f = tmp_path / "chain"
    write_template(f)
    corrections = f / "corrections.csv"
    corrections.write_text(corrections.read_text(encoding="utf-8-sig").splitlines()[0] + "\n", encoding="utf-8")
    return f


def test_a_streamed_folder_shows_its_progress_on_a_terminal(folder: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    original = ingest_csv.csv_folder_to_stream
    streamed: list[Path] = []

    def always(path: Path, stream_above: int) -> Path | None:
        found = original(path, 0)
        if found is not None:
            streamed.append(found)
        return found

    buf = io.StringIO()
    monkeypatch.setattr(ingest_csv, "csv_folder_to_stream", always)
    monkeypatch.setattr(cli, "err", Console(file=buf, force_terminal=True, width=120))
    db = str(tmp_path / "l.db")
    r = runner.invoke(app, ["ingest", str(folder), "--db", db])
    assert r.exit_code == 0, r.output
    assert streamed == [folder]
    assert "15 events" in r.output and "already on record" in r.output
    shown = buf.getvalue()
    assert "chain: reading" in shown and "events" in shown
    s = open_store(db)
    try:
        assert s.head()[0] > 5
    finally:
        s.close()


def test_without_a_terminal_no_bar_is_drawn(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=buf, force_terminal=False))
    r = runner.invoke(app, ["ingest", str(folder), "--db", str(tmp_path / "l.db")])
    assert r.exit_code == 0, r.output
    assert buf.getvalue() == ""

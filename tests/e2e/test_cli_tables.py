"""Terminal tables fit 80 and 120 columns without cutting a number or hiding which lot is which.

Rendered through the CLI on a demo ledger with the Rich console's width set as COLUMNS would set it: every line
fits the width; every mass appears whole; each lot id appears whole or shortened in the middle with both ends
kept (and the table then says so); a listing that leaves rows out says how many there are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from lichain.entrypoints import console
from lichain.entrypoints.cli import app
from lichain.entrypoints.tables import ELLIPSIS, Col, elide_middle, print_table, rows_note

runner = CliRunner()
KOREA = "Demo Cell Korea Co., Ltd."


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("tables") / "l.db")
    assert runner.invoke(app, ["demo", "--db", path, "--lots", "400", "--json"]).exit_code == 0
    return path


@pytest.fixture(params=[80, 120, 180])
def width(request: pytest.FixtureRequest) -> Iterator[int]:
    saved = console.out.width
    console.out.width = request.param
    try:
        yield request.param
    finally:
        console.out.width = saved


def _lines(args: list[str]) -> list[str]:
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return r.stdout.splitlines()


def _shown(full: str, text: str) -> bool:
    """``full`` appears whole in ``text``, or as head…tail with both ends of it."""
    if full in text:
        return True
    for m in re.finditer(rf"(\S+){ELLIPSIS}(\S+)", text):
        head, tail = m.group(1), m.group(2)
        if full.startswith(head) and full.endswith(tail) and len(head) >= 5 and len(tail) >= 8:
            return True
    return False


def test_lots_table_fits_and_keeps_numbers_and_id_ends(db: str, width: int) -> None:
    rows = json.loads(runner.invoke(app, ["lots", "--db", db, "--stage", "cam", "--limit", "8", "--json"]).stdout)
    lines = _lines(["lots", "--db", db, "--stage", "cam", "--limit", "8"])
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= width
    for r in rows:
        assert f"{r['mass_kg']:,.3f}" in text
        assert _shown(r["id"], text), r["id"]
    total = json.loads(runner.invoke(app, ["lots", "--db", db, "--stage", "cam", "--limit", "0", "--json"]).stdout)
    assert f"showing 8 of {len(total):,}; --limit 0 for all" in text
    assert (ELLIPSIS in text) == ("ids shortened in the middle" in text)
    if width == 180:
        assert all(r["id"] in text for r in rows)  # 180 columns hold every lot column and a whole id


def test_shipments_table_fits(db: str, width: int) -> None:
    data = json.loads(runner.invoke(app, ["shipments", "--db", db, "--customer", KOREA, "--limit", "6",
                                          "--json"]).stdout)
    lines = _lines(["shipments", "--db", db, "--customer", KOREA, "--limit", "6"])
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= width
    for s in data["shipments"]:
        assert s["shipped_at"][:10] in text and _shown(s["lot"], text)
        assert f"{float(s['mass_kg']):,.3f}" in text
    assert f"showing 6 of {data['total']:,}; --limit 0 for all" in text


def test_master_data_tables_fit(db: str, width: int) -> None:
    for cmd in ("sites", "materials", "organisations"):
        lines = _lines([cmd, "--db", db])
        assert max(len(line) for line in lines) <= width, cmd
    assert "showing" not in "\n".join(_lines(["sites", "--db", db]))  # nothing left out: nothing said


def test_elide_middle_keeps_both_ends() -> None:
    s = "https://id.gs1.org/01/09520001000904/10/L00000001"
    assert elide_middle(s, len(s)) == s
    e = elide_middle(s, 22)
    assert len(e) == 22 and e == s[:7] + ELLIPSIS + s[-14:]  # a third from the head, the rest from the tail


def test_rows_note() -> None:
    assert rows_note(50, 50) is None
    assert rows_note(50, 1234) == "showing 50 of 1,234; --limit 0 for all"
    assert rows_note(10, 1234, offset=100) == ("showing rows 101–110 of 1,234; --limit 0 for all, --offset 0 from "
                                               "the start")


def test_a_table_too_wide_for_any_id_still_fits(width: int) -> None:
    from rich.console import Console

    c = Console(width=width, record=True)
    cols = [Col("id", "id"), Col("kg", "num"), Col("note")]
    ids = [f"urn:epc:id:sgtin:{'9' * 40}.{i:06d}" for i in range(3)]
    with c.capture() as cap:
        print_table(c, cols, [(x, "1,234,567.891", "a rather long note " * 3) for x in ids])
    lines = cap.get().splitlines()
    assert max(len(line) for line in lines) <= width
    assert all("1,234,567.891" in line for line in lines if ids[0][:5] in line)


LOT = "https://id.gs1.org/01/09520001000904/10/L00000001"


def test_other_tables_fit_without_cutting_anything(db: str, width: int) -> None:
    for args in (["trace", LOT, "--by", "country"], ["recycled", LOT], ["recovery", "--period", "2026"],
                 ["factors"], ["art8", "--customer", KOREA]):
        lines = _lines([*args, "--db", db] if args[0] != "factors" else args)
        assert max(len(line) for line in lines) <= width, args
        assert not any(ELLIPSIS in line for line in lines), args  # these tables have no id to shorten
    groups = json.loads(runner.invoke(app, ["trace", LOT, "--by", "country", "--json", "--db", db]).stdout)["groups"]
    text = "\n".join(_lines(["trace", LOT, "--by", "country", "--db", db]))
    for v in groups.values():
        for e, share in v["share"].items():
            assert f"{share:.4f}" in text and f"{v['element_kg'][e]:,.2f}" in text

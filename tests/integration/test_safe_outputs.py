"""Safe outputs: user text never becomes markup in the report, database passwords are never shown, and an
unusable ``--out`` is a clear usage error.

The HTML test ingests a ledger whose every user-controlled text (site id, name, organisation, grid region,
material code and name, fuel kind, reagent name, run kind, lot ids) carries an HTML/JS payload, renders the
ESG report and parses it with :mod:`html.parser`: every element and attribute must be one the renderer writes
itself, and every payload must come back as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal as D
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    Fuel,
    Lot,
    Material,
    Reagent,
    Run,
    Shipment,
    Site,
)
from lichain.core.validate import LocatedEvent
from lichain.entrypoints.cli import app
from lichain.entrypoints.present import jsonable
from lichain.io.report_html import render_esg_html
from lichain.services.esg import esg_report
from lichain.services.ingest import ingest_events
from lichain.storage.sql import SqlStore
from lichain.storage.urls import redact_url
from tests.conftest import _pg_store
from tests.support.chain_text import event
from tests.support.passport_fixture import CELL_LOT, add_cell_lot

KG = 1_000_000  # mg per kg

# free text may hold spaces; identifiers stay within the GS1 character set 82 and 20 characters
FREE = ('<td><img src=x onerror=alert(1)>', '"><script>alert(2)</script>', "</title><svg onload=alert(3)>",
        "'><iframe srcdoc=x>", "<style>*{x:url(//e)}</style>", "<a href=javascript:alert(4)>x</a>",
        "&lt;b&gt;entity&amp;", "<!--", "]]><rect onclick=5>")
IDS = ("<i/onmouseover=1>", '"><b/onclick=2>', "<svg/onload=3>", "'><u/onfocus=4>", "<a/href=j:5>")

ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "code", "ul",
                "li", "a", "b", "i", "span", "section", "table", "thead", "tbody", "tr", "th", "td", "svg",
                "text", "rect"}
ALLOWED_ATTRS = {"lang", "charset", "name", "content", "class", "id", "href", "data-key", "data-value",
                 "data-scale", "role", "viewbox", "width", "height", "x", "y", "fill", "text-anchor", "style"}


def t(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def hostile_chain() -> list[LocatedEvent]:
    """A mine lot → refinery run chain whose every free text and id is a payload."""
    mine, ref, mat_ore, mat_out = IDS[0], IDS[1], IDS[2], IDS[3]
    bodies: list[Any] = [
        Site(mine, FREE[0], "mine", "ID", FREE[1], FREE[2], (FREE[3],), (FREE[4],), ledger_owner=True),
        Site(ref, FREE[5], "refinery", "CN", FREE[6], FREE[7]),
        Material(mat_ore, FREE[8], "ore"),
        Material(mat_out, FREE[1], "refined_salt"),
        Lot(IDS[4], mat_ore, mine, t("2026-01-05"), 1000 * KG, {"Ni": 12_000_000}, "virgin",
            {FREE[0]: FREE[1]}, FREE[2], FREE[3],
            Activity(fuels=(Fuel(FREE[0], D("540")),), reagents=(Reagent(FREE[1], D("3")),))),
        Shipment("S<x>", IDS[4], 1000 * KG, mine, ref, t("2026-01-20"), "road", D("0"), FREE[6]),
        Run("R<x>", ref, FREE[2], t("2026-02-01"), t("2026-02-02"), (Consumption(IDS[4], 1000 * KG),),
            (Lot('L"1>', mat_out, ref, t("2026-02-02"), 50 * KG, {"Ni": 240_000_000}),), {"Ni": 0},
            Activity(electricity=(Electricity(D("1000"), "grid", FREE[3]),),
                     fuels=(Fuel(FREE[4], D("100")), Fuel(FREE[5], D("7"))),
                     reagents=(Reagent(FREE[6], D("100")),), water_m3=D("10"),
                     readings=((FREE[7], FREE[8]),))),
    ]
    return [LocatedEvent(f"doc:{i}", event(b, t("2026-02-02"))) for i, b in enumerate(bodies)]


class _Page(HTMLParser):
    """Every start tag with its attributes, and all text (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text = ""
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text += data

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def test_report_html_escapes_every_user_text(store: SqlStore, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    r = ingest_events(hostile_chain(), store)
    assert r.ok, r.problems
    report = jsonable(esg_report(store, "2026"))
    html = render_esg_html(report)
    page = _Page()
    page.feed(html)
    page.close()
    tags = {tag for tag, _ in page.elements}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    names = {k for _, attrs in page.elements for k, _ in attrs}
    assert names <= ALLOWED_ATTRS, names - ALLOWED_ATTRS
    hrefs = [v for tag, attrs in page.elements for k, v in attrs if k == "href"]
    assert hrefs and all(re.fullmatch(r"#site-\d+", v or "") for v in hrefs), hrefs
    styles = [v for _, attrs in page.elements for k, v in attrs if k == "style"]
    assert all(re.fullmatch(r"background:#[0-9a-f]{6}", v or "") for v in styles), styles
    assert page.comments == []
    # the payloads the report shows come back as text, not as markup
    shown = [p for p in (*FREE, *IDS) if p in page.text]
    for p in (FREE[0], FREE[1], FREE[2], FREE[4], FREE[5], FREE[6], IDS[0], IDS[1]):
        assert p in shown, p
    assert "<img" not in html and "<script" not in html and "<iframe" not in html
    # and the same page through the CLI
    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", "esg", "--period", "2026", "--db", store.url, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8") == html


def _strings(doc: Any) -> Iterator[tuple[list[Any], str]]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            for path, s in _strings(v):
                yield [k, *path], s
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            for path, s in _strings(v):
                yield [i, *path], s
    elif isinstance(doc, str):
        yield [], doc


def test_every_report_string_is_escaped(store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever string of the report JSON holds markup (even ones the ledger validates), the page has none."""
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    assert ingest_events(hostile_chain(), store).ok
    report = json.loads(json.dumps(jsonable(esg_report(store, "2026"))))
    paths = list(_strings(report))
    assert len(paths) >= 40
    for path, _ in paths:
        node = report
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = FREE[0]
    page = _Page()
    page.feed(render_esg_html(report))
    assert {tag for tag, _ in page.elements} <= ALLOWED_TAGS
    assert {k for _, attrs in page.elements for k, _ in attrs} <= ALLOWED_ATTRS


# --- passwords ------------------------------------------------------------------------------------------------
SECRET = "S3cr3t-Pw-x7"


def with_password(url: str) -> str:
    return make_url(url).set(password=SECRET).render_as_string(hide_password=False)


def test_redact_url() -> None:
    assert redact_url(f"postgresql+psycopg://user:{SECRET}@host/db") == "postgresql+psycopg://user:***@host/db"
    assert redact_url("postgresql+psycopg://us%40er:p%40ss@h:5432/db?sslmode=require") == (
        "postgresql+psycopg://us%40er:***@h:5432/db?sslmode=require")
    assert SECRET not in redact_url(f"postgresql://u@h/db?password={SECRET}&sslmode=require")
    assert SECRET not in redact_url(f"postgresql://u:{SECRET}@h:notaport/db")  # not parseable: still hidden
    assert redact_url("sqlite:///x.db") == "sqlite:///x.db"
    assert redact_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.stdout + res.stderr


@pytest.mark.parametrize("url", [f"postgresql+psycopg://lichain:{SECRET}@127.0.0.1:1/nodb",
                                 f"postgresql+psycopg://lichain:{SECRET}@127.0.0.1:notaport/nodb",
                                 f"postgresql+psycopg://lichain@127.0.0.1:1/nodb?password={SECRET}"])
@pytest.mark.parametrize("command", [["init"], ["verify", "--json"], ["lots", "--json"], ["demo", "--json"],
                                     ["balance"], ["report", "esg", "--period", "2026"]])
def test_unreachable_server_errors_hide_the_password(url: str, command: list[str]) -> None:
    code, text = _cli(*command, "--db", url)
    assert code == 2, text
    assert SECRET not in text
    assert "Traceback" not in text
    if "--json" in command:  # with --json the error is a JSON object
        assert '"kind": "usage"' in text and "cannot open" in text
    else:
        assert "error:" in text


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema's URL (the test server trusts loopback, so any password is accepted)."""
    gen = _pg_store()
    store = next(gen)
    try:
        yield with_password(store.url)
    finally:
        next(gen, None)


def test_postgres_commands_hide_the_password(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    assert SECRET in pg_url
    code, text = _cli("init", "--db", pg_url)
    assert code == 0 and SECRET not in text and ":***@" in text, text
    code, text = _cli("demo", "--lots", "300", "--json", "--db", pg_url)
    assert code == 0, text
    assert SECRET not in text
    assert json.loads(text)["db"] == redact_url(pg_url) and ":***@" in json.loads(text)["db"]
    code, text = _cli("verify", "--json", "--db", pg_url)
    assert code == 0 and SECRET not in text and json.loads(text)["ok"], text
    code, text = _cli("show", "no-such-lot", "--db", pg_url)
    assert code != 0 and SECRET not in text
    out = tmp_path / "r.html"
    code, text = _cli("report", "esg", "--period", "2026", "--out", str(out), "--json", "--db", pg_url)
    assert code == 0 and SECRET not in text and SECRET not in out.read_text(encoding="utf-8")
    # a schema without a ledger: the "run lichain init first" message names the database, redacted
    empty = make_url(pg_url).update_query_dict({"options": "-csearch_path=no_such_schema"})
    code, text = _cli("lots", "--db", empty.render_as_string(hide_password=False))
    assert code == 2 and "lichain init" in text and SECRET not in text and ":***@" in text, text


# --- --out ----------------------------------------------------------------------------------------------------
def _out_commands(db: str, lot: str) -> list[list[str]]:
    """Every command with ``--out`` (the list is checked against the CLI's help below)."""
    return [["template"], ["export", "epcis", "--db", db], ["export", "parquet", "--db", db],
            ["export", "pcf", lot, "--db", db], ["export", "secondary-material", lot, "--db", db],
            ["report", "esg", "--period", "2026", "--organisation", "Example Materials", "--db", db], ["export", "workbook", "--db", db],
            ["export", "emrt", "--customer", "Example Cathode Korea", "--period", "2024", "--db", db],
            ["report", "diligence", "--period", "2024", "--organisation", "Example Materials", "--db", db],
            ["checkpoint", "--key", str(Path(db).parent / "keys" / "lichain.key.pem"), "--db", db],
            ["keys", "generate", "--name", "other", "--db", db, "--organisation", "Example Materials"],
            ["keys", "rotate", "--key", str(Path(db).parent / "keys" / "lichain.key.pem"), "--db", db],
            ["keys", "jwks", "--db", db],
            ["export", "package", "SHP-1", "--sign", str(Path(db).parent / "keys" / "lichain.key.pem"), "--db", db],
            ["passport", CELL_LOT, "--db", db]]


def _commands_with_out() -> set[str]:
    import typer.main

    found: set[str] = set()

    def walk(cmd: Any, name: str) -> None:
        if hasattr(cmd, "commands"):
            for sub, c in cmd.commands.items():
                walk(c, f"{name} {sub}".strip())
        elif any("--out" in p.opts for p in cmd.params):
            found.add(name)

    walk(typer.main.get_command(app), "")
    return found


def test_bad_out_paths_are_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICHAIN_CACHE", str(tmp_path / "cache"))
    db = str(tmp_path / "l.db")
    book = tmp_path / "chain.xlsx"
    assert _cli("template", "--out", str(book))[0] == 0
    assert _cli("ingest", str(book), "--db", db)[0] == 0
    listed = CliRunner().invoke(app, ["lots", "--db", db, "--json", "--stage", "refined_salt"]).stdout
    lot = json.loads(listed)[0]["id"]
    assert _cli("keys", "generate", "--out", str(tmp_path / "keys"), "--db", db, "--organisation", "Example Materials")[0] == 0
    add_cell_lot(db, "REF-CN-01")
    commands = _out_commands(db, lot)
    assert {" ".join(c[:2]) if c[0] in ("export", "report", "keys") else c[0] for c in commands} == _commands_with_out()
    missing = tmp_path / "no" / "such" / "dir" / "x.out"
    a_dir = tmp_path / "a-dir"
    a_file = tmp_path / "a-file"
    a_dir.mkdir()
    a_file.write_text("x", encoding="utf-8")
    (tmp_path / "d.xlsx").mkdir()
    for c in commands:
        if c[0] == "template" or c[:2] == ["export", "workbook"]:  # a workbook (.xlsx) or a CSV folder
            bads = [missing.with_suffix(".xlsx"), missing, tmp_path / "d.xlsx", a_file]
        elif c[:2] in (["export", "parquet"], ["keys", "generate"], ["keys", "rotate"], ["export", "package"]):
            bads = [missing, a_file]
        else:
            bads = [missing, a_dir]
        for bad in bads:
            res = CliRunner().invoke(app, [*c, "--out", str(bad)])
            err = res.stderr.strip()
            assert res.exit_code == 2, (c, bad, res.output)
            assert "Traceback" not in res.output and len(err.splitlines()) == 1, (c, err)
            assert str(bad) in err.replace("\n", ""), (c, err)
            assert not missing.parent.exists()
    assert list(a_dir.iterdir()) == [] and a_file.read_text(encoding="utf-8") == "x"  # nothing written
    # the good paths still work (a package needs a shipment with a complete footprint: test_package_federation.py)
    for c in (c for c in commands if c[:2] != ["export", "package"]):
        target = tmp_path / "ok" / "-".join(c[:2])
        target.parent.mkdir(exist_ok=True)
        xlsx = c[0] == "template" or c[:2] in (["export", "workbook"], ["export", "emrt"])
        res = CliRunner().invoke(app, [*c, "--out", str(target) + (".xlsx" if xlsx else "")])
        assert res.exit_code == 0, (c, res.output)

"""The template's example is consistent with the demo's master data, and a conflicting re-declaration names
each differing attribute with both values (recorded first), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from lichain.core.model import Event, EventKind, LocatedEvent
from lichain.demo.sites import MATERIALS, SITES
from lichain.io.tabular import write_template
from lichain.io.tabular_template import TEMPLATE
from lichain.services.demo import run_demo
from lichain.services.ingest import ingest_events
from lichain.services.record import assign_ids, ingest_file
from lichain.storage.sql import SqlStore


def test_template_materials_are_declared_as_the_demo_declares_them() -> None:
    for row in TEMPLATE["materials"]:
        spec = MATERIALS[str(row["code"])]
        assert (row["name"], row["stage"], row.get("formula")) == (spec.name, spec.stage, spec.formula)
    modes = {str(r["mode"]) for r in TEMPLATE["shipments"]}
    assert modes <= {"road", "rail", "sea_bulk", "sea_container", "air"}


def test_template_ingests_into_a_demo_ledger(sqlite_store: SqlStore, tmp_path: Path) -> None:
    assert run_demo(sqlite_store, lots=300).ok
    book = tmp_path / "chain.xlsx"
    write_template(book)
    r = ingest_file(sqlite_store, book)
    assert r.ok, r.problems
    assert r.events_skipped == 3  # MHP, NISO4, COSO4: the demo's own declarations, already on record
    assert ingest_file(sqlite_store, book).events_written == 0


def _declare(store: SqlStore, body: object, loc: str = "doc:0") -> tuple[str, ...]:
    kind = EventKind.SITE if hasattr(body, "country") else EventKind.MATERIAL
    ev = assign_ids([Event("", kind, datetime(2026, 1, 1, tzinfo=UTC), body)])[0]  # type: ignore[arg-type]
    r = ingest_events([LocatedEvent(loc, ev)], store)
    return tuple(p.message for p in r.problems)


def test_redeclaration_names_the_differing_attributes(store: SqlStore) -> None:
    site = SITES[0]
    mat = MATERIALS["MHP"].material()
    assert _declare(store, site) == () and _declare(store, mat) == ()
    assert _declare(store, replace(site, name="Other name", country="PH")) == (
        f"site {site.id} is already declared with other attributes: "
        f"name: recorded {site.name!r}, here 'Other name'; country: recorded 'ID', here 'PH'",)
    assert _declare(store, replace(mat, name="Mixed hydroxide precipitate")) == (
        "material MHP is already declared with other attributes: name: recorded "
        "'Mixed hydroxide precipitate (Ni-Co), dry basis', here 'Mixed hydroxide precipitate'",)
    assert _declare(store, replace(mat, formula="Ni(OH)2")) == (
        "material MHP is already declared with other attributes: formula: recorded None, here 'Ni(OH)2'",)

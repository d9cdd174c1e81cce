"""The list commands: ``sites``, ``materials``, ``organisations`` and ``shipments``, and name checks for others.

Why a module of its own: the main CLI wires these in with one line (``cli_lists.register(app)``); the queries
are use cases in :mod:`lichain.services.lists`, and this module only presents them (JSON through the one
presenter, tables fitted to the terminal). A name that is not on record exits 1 with the closest known names.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from lichain.core.errors import NotFoundError
from lichain.entrypoints.console import EXIT_REFUSED, Db, Json, emit, fail, out, store_for

__all__ = ["check_names", "fail_unknown_lot", "lots_total", "materials", "organisations", "register", "shipments", "sites"]

Limit = Annotated[int, typer.Option("--limit", min=0, help="At most this many rows (0: all).")]
Offset = Annotated[int, typer.Option("--offset", min=0, help="Skip this many rows.")]


def _json(result: object) -> None:
    from lichain.entrypoints.present import jsonable

    emit(jsonable(result))


def _kg(x: object) -> str:
    return f"{float(str(x)):,.3f}"


def sites(db: Db = None, json_: Json = False) -> None:
    """List the declared sites: id, kind, country, operating organisation and lots produced.

    Example: lichain sites --json
    """
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.lists import list_sites

    r = list_sites(store_for(db))
    if json_:
        _json(r)
        return
    print_table(out, [Col("id", "id"), Col("kind"), Col("country"), Col("organisation"), Col("lots", "num")],
                [(x.id, x.kind, x.country, x.organisation, f"{x.lots:,}") for x in r.sites],
                title=f"{len(r.sites)} sites")


def materials(db: Db = None, json_: Json = False) -> None:
    """List the declared materials: code, stage, formula, name, and their live lots (count, kg).

    Example: lichain materials --json
    """
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.lists import list_materials

    r = list_materials(store_for(db))
    if json_:
        _json(r)
        return
    print_table(out, [Col("code", "id"), Col("stage"), Col("formula"), Col("lots", "num"), Col("mass kg", "num"),
                      Col("name")],
                [(x.code, x.stage, x.formula or "", f"{x.lots:,}", _kg(x.mass_kg), x.name) for x in r.materials],
                title=f"{len(r.materials)} materials")


def organisations(db: Db = None, json_: Json = False) -> None:
    """List the organisations on record: site operators and receivers named on shipments.

    Example: lichain organisations --json
    """
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.lists import list_organisations

    r = list_organisations(store_for(db))
    if json_:
        _json(r)
        return
    print_table(out, [Col("organisation"), Col("countries"), Col("sites")],
                [(x.name, " ".join(x.countries), ", ".join(x.sites) or "(none: receiver only)")
                 for x in r.organisations], title=f"{len(r.organisations)} organisations")


def shipments(
    db: Db = None, json_: Json = False,
    customer: Annotated[str | None, typer.Option(
        "--customer", help="Only shipments to or from this organisation (exact name; see `lichain organisations`)."
    )] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> None:
    """List shipments oldest first: lot, material, kg, date, from and to (site and organisation).

    With --customer ORG, each row says whether ORG received or sent it.
    Example: lichain shipments --customer 'Demo Cell Korea Co., Ltd.' --limit 10
    """
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.lists import list_shipments

    s = store_for(db)
    try:
        r = list_shipments(s, customer, limit=limit or None, offset=offset)
    except NotFoundError as exc:
        fail(str(exc), EXIT_REFUSED)
    if json_:
        _json(r)
        return
    cols = [Col("shipped"), Col("lot", "id"), Col("material"), Col("mass kg", "num")]
    if customer is None:
        cols += [Col("from"), Col("to")]
        rows = [(x.shipped_at[:10], x.lot, x.material, _kg(x.mass_kg), x.from_site, x.to_site) for x in r.shipments]
    else:
        cols += [Col("direction"), Col("counterpart")]
        rows = [(x.shipped_at[:10], x.lot, x.material, _kg(x.mass_kg), x.direction or "",
                 x.from_organisation if x.direction == "received" else x.to_organisation) for x in r.shipments]
    title = f"shipments to or from {customer}" if customer else "shipments"
    print_table(out, cols, rows, title=title, total=r.total, offset=r.offset)


def check_names(db: str | None, *, site: str | None = None, material: str | None = None,
                organisation: str | None = None, stage: str | None = None) -> None:
    """Exit 1 with the closest known names when a given stage, site, material or organisation is not on record."""
    from lichain.services import lists

    if site is None and material is None and organisation is None and stage is None:
        return
    s = store_for(db)
    try:
        if stage is not None:
            lists.require_stage(stage)
        if site is not None:
            lists.require_site(s, site)
        if material is not None:
            lists.require_material(s, material)
        if organisation is not None:
            lists.require_organisation(s, organisation)
    except NotFoundError as exc:
        fail(str(exc), EXIT_REFUSED)


def lots_total(db: str | None, shown: int, limit: int, offset: int, *, stage: str | None, site: str | None,
               material: str | None, customer: str | None) -> int:
    """How many lots ``lots`` matched in all (counted only when the listing may have left some out)."""
    if offset == 0 and (limit == 0 or shown < limit):
        return shown
    from lichain.services.lists import count_lots

    return count_lots(store_for(db), stage=stage, site=site, material=material, customer=customer)


def fail_unknown_lot(db: str | None, lot: str) -> NoReturn:
    """Exit 1: ``lot`` is not on record; name the closest lot ids."""
    from lichain.services.lists import unknown_lot

    fail(str(unknown_lot(store_for(db), lot)), EXIT_REFUSED)


def register(app: typer.Typer) -> None:
    """Add the list commands to ``app``."""
    app.command("sites")(sites)
    app.command("materials")(materials)
    app.command("organisations")(organisations)
    app.command("shipments")(shipments)

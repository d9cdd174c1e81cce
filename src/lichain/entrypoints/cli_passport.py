"""``lichain passport ID``: the battery passport of a cell lot or a registered battery, per access level.

Kept in its own module so the main CLI wires it in with one line; the use case is
:func:`lichain.services.passport.passport`, signing is :mod:`lichain.io.passport_sign`; this module only presents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lichain.entrypoints.console import Db, Json

__all__ = ["passport", "register"]


def passport(
    ident: Annotated[str, typer.Argument(metavar="LOT|BATTERY_ID",
                                         help="A cell lot (its battery model) or a registered battery id.")],
    level: Annotated[str, typer.Option(help="Access level (Annex XIII): public, legitimate (repairers, "
                                            "remanufacturers, second-life operators, recyclers) or authority "
                                            "(notified bodies, market surveillance, Commission).")] = "public",
    format_: Annotated[str, typer.Option("--format", help="batterypass (Battery Pass Data Model 1.2) or aas "
                                                          "(IDTA-02035 submodels).")] = "batterypass",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the passport (or the signed JWS) here.")]
    = None,
    sign: Annotated[Path | None, typer.Option("--sign", metavar="KEY", help="Sign with this Ed25519 private key "
                                                                           "(PEM): the output is a JWS.")] = None,
    previous: Annotated[Path | None, typer.Option(help="The last issued version (JSON or JWS): a changed "
                                                       "passport gets the next version, linked to its digest.")]
    = None,
    db: Db = None, json_: Json = False,
) -> None:
    """The battery passport of a cell lot or battery: what the cell maker declared and what the ledger computes
    (carbon footprint per kWh, recycled content, composition, due-diligence link), fields each access level may
    read, and every field left empty with the reason (missing inputs).

    Example: lichain passport BATTERY-ID --level legitimate --format aas --json
    """
    from lichain.core.errors import LichainError, NotFoundError
    from lichain.core.plain import dumps
    from lichain.entrypoints.console import EXIT_REFUSED, emit, fail, out, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.entrypoints.present import jsonable
    from lichain.io.passport_sign import read_passport
    from lichain.services.passport import passport as run

    check_out(out_file)
    store = store_for(db)
    try:
        prev = read_passport(previous) if previous is not None else None
        p = run(store, ident, level=level, fmt=format_, previous=prev)
    except NotFoundError:
        from lichain.entrypoints.cli_lists import fail_unknown_lot

        fail_unknown_lot(db, ident)
    except LichainError as exc:
        fail(str(exc), EXIT_REFUSED)
    doc = jsonable(p)
    if sign is not None:
        from lichain.services.signed_docs import sign_passport_doc

        try:
            text = sign_passport_doc(store, doc, sign)
        except LichainError as exc:
            fail(str(exc), EXIT_REFUSED)
    else:
        text = dumps(doc)
    if out_file is not None:
        out_file.write_text(text + "\n", encoding="utf-8")
    if json_:
        emit(p)
    elif out_file is None:
        out.print(text, highlight=False, markup=False, soft_wrap=True)
    else:
        filled = sum(1 for a in p.aspects.values() if a)
        out.print(f"passport {p.passport_id} v{p.version} of {p.battery_id or p.lot} ({p.level}, {p.format}): "
                  f"{filled} aspects, {len(p.missing_inputs)} missing inputs, {len(p.withheld)} fields withheld "
                  f"-> {out_file}{' (signed)' if sign else ''}", highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``passport`` to ``app``."""
    app.command("passport")(passport)

"""``lichain diligence LOT``: the due-diligence view of one lot (origins per element, risks it passed through).

Kept in its own module so the main CLI wires it in with one line; the use case is
:func:`lichain.services.diligence.diligence`, this module only presents it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lichain.entrypoints.console import Db, Json

__all__ = ["diligence", "register"]


def diligence(
    lot: Annotated[str, typer.Argument(metavar="LOT_ID", help="The lot (its id or GS1 Digital Link).")],
    db: Db = None, json_: Json = False,
) -> None:
    """Where each element of a lot came from (mines, processors, countries) and the share that passed through a
    site while it carried a risk (red flag, CAHRA, artisanal mining, lapsed audit).

    Example: lichain diligence https://id.gs1.org/01/09520001000904/10/L00000001 --json
    """
    from lichain.core.errors import NotFoundError
    from lichain.entrypoints.console import emit, out, store_for
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.diligence import diligence as run

    try:
        r = run(store_for(db), lot)
    except NotFoundError:
        from lichain.entrypoints.cli_lists import fail_unknown_lot

        fail_unknown_lot(db, lot)
    if json_:
        emit(r)
        return
    out.print(f"due diligence of {r.lot} ({r.material})", highlight=False, markup=False, soft_wrap=True)
    rows = [[e.element, f"{e.element_kg:,.1f}", f"{100 * e.at_risk_share:.1f} %",
             ", ".join(f"{m.name} {100 * m.share:.0f} %" for m in e.sources[:3]),
             ", ".join(f"{c.name} {100 * c.share:.0f} %" for c in e.countries[:4])] for e in r.elements]
    print_table(out, [Col("element"), Col("kg", "num"), Col("through a site at risk", "num"),
                      Col("sources"), Col("countries")], rows)
    for f in r.flags:
        shares = ", ".join(f"{e} {100 * x:.1f} %" for e, x in f.share.items() if x > 0)
        what = f.category_label or f.status
        out.print(f"  {f.kind} {f.id} at {f.site} ({what}) from {f.start} to {f.end or 'now'}: {shares} "
                  f"[{f.source}]", highlight=False, markup=False, soft_wrap=True)
    if not r.flags:
        out.print("  no risk in force at an upstream site while this lot's material was there", markup=False)
    if r.sites_not_assessed:
        out.print(f"  not assessed (no statement on record): {', '.join(r.sites_not_assessed)}", highlight=False,
                  markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``diligence`` to ``app``."""
    app.command("diligence")(diligence)

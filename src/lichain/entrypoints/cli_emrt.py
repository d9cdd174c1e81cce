"""``lichain export emrt`` and ``lichain report diligence``: the customer declaration and the due-diligence report.

Kept in its own module so the main CLI wires both in with one line (``cli_emrt.register(app, export_app)``); the
use cases are :func:`lichain.services.emrt.emrt_declaration` and
:func:`lichain.services.diligence_report.diligence_report`, this module only presents them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lichain.entrypoints.console import Db, Json

__all__ = ["export_emrt", "register", "report_diligence"]

Period = Annotated[str, typer.Option("--period", help="2026, 2026-Q1, 2026-03 or 2026-01-01..2026-06-30.")]
Organisation = Annotated[str | None, typer.Option(
    "--organisation", help="The declaring organisation (default: the ledger owner declared in master data).")]


def export_emrt(
    customer: Annotated[str, typer.Option("--customer", help="The organisation the lots were shipped to.")],
    period: Period,
    out_path: Annotated[Path | None, typer.Option(
        "--out", help="Write the declaration: FILE.xlsx (workbook in the EMRT layout) or FILE.json.")] = None,
    organisation: Organisation = None,
    sign: Annotated[Path | None, typer.Option("--sign", metavar="KEY", help=(
        "Also write the declaration signed (JWS envelope, docs/signing.md) with this private key, which the "
        "ledger must record: FILE.jws beside --out (or declaration.jws).") )] = None,
    db: Db = None, json_: Json = False,
) -> None:
    """Customer declaration in the layout of RMI's EMRT 2.x: the smelters, refiners, processors and mines behind
    every lot shipped to a customer in a period, per metal, with shares, audit status and the fields not on record.

    Example: lichain export emrt --customer 'Demo Cell Korea Co., Ltd.' --period 2026 --out emrt.xlsx
    """
    from lichain.core.errors import LichainError, PeriodError
    from lichain.entrypoints.console import EXIT_REFUSED, emit, fail, out, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.emrt import emrt_declaration

    check_out(out_path)
    if out_path is not None and out_path.suffix.lower() not in (".xlsx", ".json"):
        fail(f"--out {out_path}: give a .xlsx or .json file name")
    try:
        d = emrt_declaration(store_for(db), customer, period, organisation=organisation)
    except PeriodError as exc:
        fail(str(exc))
    except LichainError as exc:
        fail(str(exc), EXIT_REFUSED)
    if out_path is not None:
        try:
            if out_path.suffix.lower() == ".xlsx":
                from lichain.io.emrt_xlsx import write_emrt_xlsx

                write_emrt_xlsx(d, out_path)
            else:
                from lichain.core.plain import dumps
                from lichain.entrypoints.present import jsonable

                out_path.write_text(dumps(jsonable(d)) + "\n", encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {out_path}: {exc}")
    if sign is not None:
        from lichain.entrypoints.present import jsonable
        from lichain.services.signed_docs import sign_declaration

        signed = (out_path.with_suffix(".jws") if out_path is not None else Path("declaration.jws"))
        try:
            signed.write_text(sign_declaration(store_for(db), jsonable(d), sign) + "\n", encoding="utf-8")
        except LichainError as exc:
            fail(str(exc), EXIT_REFUSED)
        except OSError as exc:
            fail(f"cannot write {signed}: {exc}")
    if json_:
        emit(d)
        return
    out.print(f"EMRT-layout declaration of {d.company or '(no ledger owner declared)'} to {d.customer}, "
              f"{d.period}: {sum(p.lots for p in d.products)} lots of {len(d.products)} products",
              highlight=False, markup=False, soft_wrap=True)
    print_table(out, [Col("metal"), Col("kg", "num"), Col("recycled", "num"), Col("at risk", "num"),
                      Col("CAHRA", "num")],
                [[m.metal, f"{m.element_kg:,.1f}", f"{100 * m.recycled_share:.1f} %", f"{100 * m.at_risk_share:.1f} %",
                  f"{100 * m.cahra_share:.1f} %"] for m in d.metals])
    rows = [[s.metal, "processor", s.smelter_identification, s.smelter_country, f"{100 * s.share:.1f} %",
             "; ".join(s.audit_status) or "-", ", ".join(r.id for r in s.risks) or "-"] for s in d.smelters]
    rows += [[m.metal, "mine", m.mine_identification, m.mine_country, f"{100 * m.share:.1f} %",
              "; ".join(m.audit_status) or "-", ", ".join(r.id for r in m.risks) or "-"] for m in d.mines]
    print_table(out, [Col("metal"), Col("list"), Col("site", "id"), Col("country"), Col("share", "num"), Col("audit"),
                      Col("risks met")], sorted(rows, key=lambda r: (r[0], r[1] != "processor")))
    out.print(f"  {len(d.missing)} fields not on record (listed in the Missing sheet / 'missing' in JSON)",
              highlight=False, markup=False)
    if out_path is not None:
        out.print(f"  wrote {out_path}", highlight=False, markup=False)


def report_diligence(
    period: Period,
    out_path: Annotated[Path | None, typer.Option("--out", help="Write the self-contained HTML report here.")]
    = None,
    organisation: Organisation = None,
    db: Db = None, json_: Json = False,
) -> None:
    """Due-diligence management-system report for a period (OECD steps 1-5; Regulation (EU) 2023/1542 Art.
    48-52): policy, risk assessment from the ledger, mitigation measures, third-party verification status.

    Example: lichain report diligence --period 2026 --out diligence.html
    """
    from lichain.core.errors import LichainError, PeriodError
    from lichain.entrypoints.console import EXIT_REFUSED, emit, fail, out, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.services.diligence_report import diligence_report

    check_out(out_path)
    try:
        r = diligence_report(store_for(db), period, organisation=organisation)
    except PeriodError as exc:
        fail(str(exc))
    except LichainError as exc:
        fail(str(exc), EXIT_REFUSED)
    if out_path is not None:
        from lichain.entrypoints.present import jsonable
        from lichain.io.diligence_html import render_diligence_html

        try:
            out_path.write_text(render_diligence_html(jsonable(r)), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {out_path}: {exc}")
    if json_:
        emit(r)
        return
    _print_report(r)
    if out_path is not None:
        out.print(f"  wrote {out_path}", highlight=False, markup=False)


def _print_report(r: object) -> None:
    from lichain.entrypoints.console import out
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.diligence_report import DiligenceManagementReport

    assert isinstance(r, DiligenceManagementReport)

    def say(text: str) -> None:
        out.print(text, highlight=False, markup=False, soft_wrap=True)

    say(f"due-diligence report of {r.organisation or '(no ledger owner declared)'}, {r.period}: "
        f"{r.shipped_lots} shipments to {len(r.customers)} customers")
    print_table(out, [Col("step", "num"), Col("OECD step"), Col("status"), Col("detail")],
                [[str(s.step), s.title, s.status, s.detail] for s in r.steps])
    print_table(out, [Col("metal"), Col("shipped kg", "num"), Col("at risk", "num"), Col("CAHRA", "num"),
                      Col("recycled", "num")],
                [[m.metal, f"{m.element_kg:,.1f}", f"{100 * m.at_risk_share:.1f} %", f"{100 * m.cahra_share:.1f} %",
                  f"{100 * m.recycled_share:.1f} %"] for m in r.metals])
    print_table(out, [Col("site", "id"), Col("risk"), Col("status"), Col("from"), Col("to"), Col("shipped share"),
                      Col("measures")],
                [[f.site, f"{f.kind} {f.id}", f.category_label or f.status, f.start[:10], (f.end or "now")[:10],
                  ", ".join(f"{e} {100 * x:.1f} %" for e, x in f.shipped_share.items()) or "-",
                  ", ".join(f.measures) or "-"] for f in r.findings])
    for m in r.measures:
        say(f"  measure {m.id} at {m.site}{f' for {m.risk}' if m.risk else ''}: {m.action} ({m.status}, "
            f"{m.owner}{', overdue' if m.overdue else ''})")
    for x in r.missing:
        say(f"  missing: {x.field} ({x.reason})")


def register(app: typer.Typer, export_app: typer.Typer) -> None:
    """Add ``export emrt`` to ``export_app`` and ``report diligence`` to the ``report`` group."""
    from lichain.entrypoints.cli_report import report_app

    export_app.command("emrt")(export_emrt)
    report_app.command("diligence")(report_diligence)

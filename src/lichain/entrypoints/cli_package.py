"""Signed customer documents on the command line: ``verify-doc``, ``export package`` and ``import package``.

Kept in its own module so the main CLI wires it in with one line. The use cases are in
:mod:`lichain.services.documents` (envelope, verification, recomputation) and :mod:`lichain.services.package`
(the supplier data package of a shipment, and its import at the customer's ledger); docs/signing.md and
docs/package.md explain them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lichain.entrypoints.console import Db, Json

__all__ = ["export_package", "import_package", "register", "verify_doc"]

_Jwks = Annotated[Path | None, typer.Option("--jwks", help="The issuer's published JWKS (`lichain keys jwks`); "
                                                           "default: the keys recorded in --db.")]


def _open(db: str | None, *, required: bool) -> object:
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import fail
    from lichain.storage.sql import open_store

    try:
        return open_store(db)
    except LichainError as exc:
        if required:
            fail(str(exc))
        return None


def verify_doc(
    file: Annotated[Path, typer.Argument(help="A signed document (JWS file) or a package folder.")],
    jwks: _Jwks = None, db: Db = None, json_: Json = False,
) -> None:
    """Check a signed document: signature, the key's status when it signed, and (on the issuer's ledger) every figure.

    Exit 0 when all hold, 1 when any does not (the reasons and each mismatching figure are listed).
    """
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import emit, err, fail, out
    from lichain.services.documents import verify_document
    from lichain.storage.sql import SqlStore

    store = _open(db, required=jwks is None or db is not None)
    try:
        c = verify_document(file, jwks=jwks, store=store if isinstance(store, SqlStore) else None)
    except LichainError as exc:
        fail(str(exc))
    if json_:
        emit(c)
    else:
        head = "ok" if c.ok else "FAILED"
        out.print(f"{file}: {head}: {c.doc_type or 'document'} of {c.subject or '-'} signed by {c.issuer or '?'} "
                  f"(kid {c.kid or '?'}, key {c.key_status or '?'}) at {c.signed_at or '?'}", highlight=False,
                  markup=False)
        for f in c.files:
            if not f["ok"]:
                err.print(f"  {f['path']}: {f['reason']}", highlight=False, markup=False)
        if c.recomputed:
            out.print(f"  figures: {c.figures_checked - len(c.mismatches)} of {c.figures_checked} equal their "
                      "recomputation from the ledger", highlight=False)
        elif c.recompute_note:
            out.print(f"  {c.recompute_note}", highlight=False, markup=False)
        for m in c.mismatches[:20]:
            err.print(f"  {m.path}: document {m.stated!r}, ledger {m.recomputed!r}", highlight=False, markup=False)
        if c.reason:
            err.print(f"  {c.reason}", highlight=False, markup=False)
    if not c.ok:
        raise typer.Exit(1)


def export_package(
    shipment: Annotated[str, typer.Argument(help="Shipment id (to a customer).")],
    out_: Annotated[Path, typer.Option("--out", help="Folder to write the package into (new or empty).")],
    sign: Annotated[Path, typer.Option("--sign", help="Private key (PEM) recorded in the ledger.")],
    bpnl: Annotated[str | None, typer.Option("--bpnl", help="Your Catena-X legal entity BPN (BPNL…).")] = None,
    bpns: Annotated[str | None, typer.Option("--bpns", help="The producing site's Catena-X BPN (BPNS…).")] = None,
    db: Db = None, json_: Json = False,
) -> None:
    """Write the signed supplier data package of a shipment: PCF, recycled content, due diligence, one-hop events."""
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import EXIT_REFUSED, emit, fail, out, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.services.package import export_package as run

    check_out(out_, folder=True)
    try:
        r = run(store_for(db), shipment, out_, sign, bpnl=bpnl, bpns=bpns)
    except LichainError as exc:
        fail(str(exc), EXIT_REFUSED)
    if json_:
        emit(r)
    else:
        out.print(f"package of shipment {r.shipment} ({r.lot}, {r.mass_kg:,.3f} kg) written to {r.folder}: "
                  f"{len(r.files)} files, manifest signed by {r.issuer} (kid {r.kid})", highlight=False)


def import_package(
    folder: Annotated[Path, typer.Argument(help="A supplier data package folder (with manifest.jws).")],
    jwks: Annotated[Path, typer.Option("--jwks", help="The supplier's published JWKS (`lichain keys jwks`).")],
    site: Annotated[str | None, typer.Option("--site", help="Your receiving site (default: the shipment's "
                                                            "destination site id).")] = None,
    db: Db = None, json_: Json = False, dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only.")]
    = False,
) -> None:
    """Receive a supplier data package: verify it, then record the lots with the supplier's signed PCF (all or nothing)."""
    from lichain.entrypoints.console import emit, err, out, store_for
    from lichain.services.package_import import import_package as run

    r = run(store_for(db), folder, jwks, site=site, dry_run=dry_run)
    if json_:
        emit(r)
    elif r.ok:
        out.print(f"{folder}: {r.lots} lot(s) received from {r.supplier}; {r.events_written} events written"
                  f"{' (dry run)' if dry_run else ''}", highlight=False)
    else:
        for p in r.problems:
            err.print(f"{p.location}: {p.message}", highlight=False, markup=False)
    if not r.ok:
        raise typer.Exit(1)


def register(app: typer.Typer, export_app: typer.Typer, import_app: typer.Typer | None = None) -> None:
    """Add ``verify-doc``, ``export package`` and ``import package``."""
    app.command("verify-doc")(verify_doc)
    export_app.command("package")(export_package)
    if import_app is None:
        import_app = typer.Typer(no_args_is_help=True, help="Receive standard documents from other ledgers.")
        app.add_typer(import_app, name="import")
    import_app.command("package")(import_package)

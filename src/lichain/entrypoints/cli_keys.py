"""The ``lichain keys`` commands: generate, rotate, revoke, list an organisation's signing keys, publish the JWKS.

Kept in its own module so the main CLI wires it in with one line; the use cases are in
:mod:`lichain.services.keys` (key lifecycle recorded in the ledger, private keys in PEM files) and docs/signing.md
explains the scheme.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lichain.entrypoints.console import Db, Json

__all__ = ["keys_generate", "keys_jwks", "keys_list", "keys_revoke", "keys_rotate", "register"]

_Org = Annotated[str | None, typer.Option("--organisation", help="Organisation the key signs for (default: the "
                                                                  "ledger owner declared in master data).")]


def _show(change: object, json_: bool) -> None:
    from lichain.entrypoints.console import emit, out
    from lichain.services.keys import KeyChange

    assert isinstance(change, KeyChange)
    if json_:
        emit(change)
        return
    if change.private_key:
        out.print(f"private key {change.private_key} (keep it secret), public key {change.public_key}, kid "
                  f"{change.kid}", highlight=False)
    if change.retired:
        out.print(f"key {change.retired} retired (superseded by {change.kid})", highlight=False)
    if change.action == "revoke":
        out.print(f"key {change.kid} of {change.organisation} revoked", highlight=False)
    if change.recorded:
        out.print(f"recorded in the ledger for {change.organisation} ({change.events_written} events)",
                  highlight=False)


def keys_generate(
    out_: Annotated[Path, typer.Option("--out", help="Folder for NAME.key.pem (mode 0600) and NAME.pub.pem.")],
    name: Annotated[str, typer.Option("--name", help="Key file name stem.")] = "lichain",
    organisation: _Org = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Only write the key pair; do not record it in the "
                                                                "ledger as the organisation's key.")] = False,
    db: Db = None, json_: Json = False,
) -> None:
    """Generate an Ed25519 signing key pair and record it in the ledger as the organisation's active key.

    Without --db and with no ledger at the default place, only the key pair is written (not recorded).
    """
    import os

    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import EXIT_REFUSED, err, fail, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.services.keys import generate
    from lichain.storage.sql import DEFAULT_URL

    check_out(out_, folder=True)
    default_missing = db is None and not os.environ.get("LICHAIN_DB") and not Path(
        DEFAULT_URL.removeprefix("sqlite:///")).exists()
    store = None if no_record or default_missing else store_for(db)
    try:
        change = generate(store, out_, name, organisation=organisation)
    except (LichainError, OSError) as exc:
        fail(str(exc), EXIT_REFUSED)
    _show(change, json_)
    if default_missing and not no_record and not json_:
        err.print("note: no ledger here, so the key is not recorded; give --db to record it", highlight=False)


def keys_rotate(
    key: Annotated[Path, typer.Option("--key", help="The active private key (PEM) to retire.")],
    out_: Annotated[Path, typer.Option("--out", help="Folder for the new key pair.")],
    name: Annotated[str | None, typer.Option("--name", help="New key file stem (default: old stem + date).")] = None,
    db: Db = None, json_: Json = False,
) -> None:
    """Replace a key: a new active key, the old one retired at the same instant (documents it signed before stay valid)."""
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import EXIT_REFUSED, fail, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.services.keys import rotate

    check_out(out_, folder=True)
    try:
        change = rotate(store_for(db), key, out_, name)
    except (LichainError, OSError) as exc:
        fail(str(exc), EXIT_REFUSED)
    _show(change, json_)


def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key: its kid, or its private or public PEM file.")],
    reason: Annotated[str, typer.Option("--reason", help="compromised, superseded, cessation_of_operation or "
                                                         "unspecified.")] = "compromised",
    at: Annotated[str | None, typer.Option("--at", help="When the revocation takes effect (ISO 8601; default now; "
                                                        "earlier when a compromise is found late).")] = None,
    db: Db = None, json_: Json = False,
) -> None:
    """Revoke a key: documents it signed from --at on no longer verify; earlier ones still do. Final."""
    from lichain.core.codec import parse_time
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import EXIT_REFUSED, fail, store_for
    from lichain.services.keys import revoke

    try:
        change = revoke(store_for(db), key, reason, at=parse_time(at) if at else None)
    except (LichainError, ValueError) as exc:
        fail(str(exc), EXIT_REFUSED)
    _show(change, json_)


def keys_list(db: Db = None, json_: Json = False) -> None:
    """The signing keys recorded in the ledger, with their status and lifecycle times."""
    from lichain.entrypoints.console import emit, out, store_for
    from lichain.entrypoints.tables import Col, print_table
    from lichain.services.keys import list_keys

    result = list_keys(store_for(db))
    if json_:
        emit(result)
        return
    def when(t: str | None) -> str:
        return (t or "").replace("T", " ").removesuffix(":00Z").removesuffix("Z")

    rows = [[k.kid, k.organisation, k.status, when(k.active_from), when(k.retired_at), when(k.revoked_at),
             k.reason or ""] for k in result.keys]
    print_table(out, [Col("kid", "id"), Col("organisation"), Col("status"), Col("active from"), Col("retired"),
                      Col("revoked"), Col("reason")], rows)


def keys_jwks(
    out_: Annotated[Path | None, typer.Option("--out", help="File (default: stdout).")] = None,
    organisation: Annotated[str | None, typer.Option("--organisation", help="Only this organisation's keys.")]
    = None,
    db: Db = None,
) -> None:
    """Publish the public keys as a JWKS (RFC 7517), retired keys with exp and revoked ones with revoked_at."""
    from lichain.entrypoints.console import out, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.services.keys import ledger_jwks

    check_out(out_)
    text = json.dumps(ledger_jwks(store_for(db), organisation), indent=2) + "\n"
    if out_ is None:
        typer.echo(text, nl=False)
        return
    out_.write_text(text, encoding="utf-8")
    out.print(f"JWKS written to {out_}")


def register(app: typer.Typer) -> None:
    """Add the ``keys`` group to the CLI."""
    keys = typer.Typer(no_args_is_help=True, help="Signing keys of checkpoints and documents (docs/signing.md).")
    for name, fn in (("generate", keys_generate), ("rotate", keys_rotate), ("revoke", keys_revoke),
                     ("list", keys_list), ("jwks", keys_jwks)):
        keys.command(name)(fn)
    app.add_typer(keys, name="keys")

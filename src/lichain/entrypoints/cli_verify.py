"""The integrity commands: ``lichain verify`` (chains, ``--deep`` projections, ``--against`` a checkpoint),
and ``lichain checkpoint`` (keys: :mod:`lichain.entrypoints.cli_keys`).

Kept in its own module so the main CLI wires it in with one line; the shared helpers of
:mod:`lichain.entrypoints.cli` are imported when a command runs. The use cases are in
:mod:`lichain.services.verify` and :mod:`lichain.services.checkpoint`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["checkpoint", "register", "verify"]

_Db = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite path (default: LICHAIN_DB or "
                                                      "./lichain.db).")]
_Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def verify(
    db: _Db = None, json_: _Json = False,
    deep: Annotated[bool, typer.Option("--deep", help="Also rebuild every projection table from the events and "
                                                      "compare it row by row.")] = False,
    against: Annotated[Path | None, typer.Option("--against", help="A signed checkpoint file: check that the "
                                                                   "ledger still extends it.")] = None,
    public_key: Annotated[Path | None, typer.Option("--public-key", help="PEM public key or JWKS that signed the "
                                                                         "checkpoint (with --against).")] = None,
) -> None:
    """Recompute the hash chains (and with --deep every projection); report the first break."""
    from lichain.entrypoints.console import emit, err, fail, out, store_for
    from lichain.services.checkpoint import verify_against
    from lichain.services.verify import verify_chain, verify_deep

    store = store_for(db)
    if against is not None:
        if public_key is None:
            fail("--against needs --public-key (the PEM public key or JWKS of the checkpoint's signer)")
        try:
            token = against.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"cannot read checkpoint {against}: {exc.strerror}")
        c = verify_against(store, token, public_key)
        if json_:
            emit(c)
        elif c.ok:
            seq = (c.checkpoint or {}).get("seq")
            out.print(f"ledger extends checkpoint {against} (seq {seq}, signed by {c.kid}); "
                      f"{c.events_since} events since")
        else:
            err.print(f"checkpoint {against}: {c.reason}", highlight=False, markup=False)
        if not c.ok:
            raise typer.Exit(1)
        return
    v = verify_deep(store) if deep else verify_chain(store)
    from lichain.services.process import with_process_check

    v = with_process_check(store, v)
    if json_:
        emit(v)
    elif v.ok:
        extra = f"; {sum(v.rows_compared.values())} projection rows equal their rebuild" if deep else ""
        out.print(f"chain ok: {v.events} events, head {v.head}{extra}")
    else:
        if v.first_bad_event:
            err.print(f"chain broken at event {v.first_bad_event}: {v.reason}", highlight=False, markup=False)
        for m in v.mismatches:
            cols = f" columns {', '.join(m.columns)}" if m.columns else ""
            err.print(f"{m.table} [{m.key}]: {m.problem}{cols}; stored {m.stored or '-'}, "
                      f"rebuilt {m.expected or '-'}", highlight=False, markup=False)
        if v.mismatch_count > len(v.mismatches):
            err.print(f"... {v.mismatch_count} differences in all")
        for p in v.process_problems:
            err.print(p, highlight=False, markup=False)
    if not v.ok:
        raise typer.Exit(1)


def checkpoint(
    key: Annotated[Path, typer.Option("--key", help="Ed25519 private key (PEM), e.g. from `lichain keys generate`.")],
    out_: Annotated[Path, typer.Option("--out", help="File to write the signed checkpoint (JWS) to.")],
    db: _Db = None, json_: _Json = False,
) -> None:
    """Sign the ledger's chain head (an anchor an auditor keeps to detect truncation or rewrites)."""
    from lichain.core.errors import LichainError
    from lichain.entrypoints.console import emit, fail, out, store_for
    from lichain.entrypoints.outpath import check_out
    from lichain.services.checkpoint import SavedCheckpoint, make_checkpoint

    check_out(out_)
    try:
        cp = make_checkpoint(store_for(db), key)
    except LichainError as exc:
        fail(str(exc), 1)
    out_.write_text(cp.token + "\n", encoding="utf-8")
    if json_:
        emit(SavedCheckpoint(True, str(out_), cp.payload))
    else:
        out.print(f"checkpoint of seq {cp.payload.seq} (head {cp.payload.chain_hash}) written to {out_}")


def register(app: typer.Typer) -> None:
    """Add the integrity commands to the CLI."""
    app.command("verify")(verify)
    app.command("checkpoint")(checkpoint)

"""``lichain access``: users of the REST API, their roles and API keys (configuration, not ledger facts).

Why a module of its own: the main CLI wires it in with one line; access control lives in tables outside the
hash chain (:mod:`lichain.storage.access_sql`), so nothing here changes the chain head. A key's secret is
printed once, when it is created, and stored only as its SHA-256.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lichain.entrypoints.console import EXIT_REFUSED, Db, Json, emit, fail, out, store_for

__all__ = ["register"]

access_app = typer.Typer(no_args_is_help=True, help="Users, roles and API keys of the REST API (lichain serve).")
users_app = typer.Typer(no_args_is_help=True, help="Users: an id, an organisation and a role.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys of users (the secret is shown once).")
access_app.add_typer(users_app, name="users")
access_app.add_typer(keys_app, name="keys")


@users_app.command("add")
def users_add(
    user: Annotated[str, typer.Argument(help="User id, e.g. an e-mail address.")],
    organisation: Annotated[str, typer.Option("--organisation", help="The organisation the user acts for (as "
                                                                      "named on the ledger's sites or shipments).")],
    role: Annotated[str, typer.Option("--role", help="owner, operator, auditor or customer.")],
    grant: Annotated[list[str] | None, typer.Option("--grant", help="Auditor only: an organisation it may read "
                                                                     "(repeat; '*' for the whole ledger; default "
                                                                     "its own).")] = None,
    key: Annotated[bool, typer.Option("--key/--no-key", help="Also create an API key (printed once).")] = True,
    db: Db = None, json_: Json = False,
) -> None:
    """Add a user of the REST API (and, by default, its first API key)."""
    from lichain.core.errors import LichainError
    from lichain.storage import access_sql as acc

    s = store_for(db, create=True)
    try:
        u = acc.add_user(s, user, organisation, role, tuple(grant or ()))
        token = acc.new_key(s, user)[1] if key else None
    except (LichainError, ValueError) as exc:
        fail(str(exc), EXIT_REFUSED)
    known = {o.name for o in _organisations(s)}
    if json_:
        emit({"user": u, "api_key": token, "organisation_on_record": organisation in known})
        return
    out.print(f"user {u.id}: {u.role} of {u.organisation}", highlight=False, markup=False)
    if organisation not in known:
        out.print(f"note: no site or shipment names {organisation!r} yet", highlight=False, markup=False)
    if token:
        out.print(f"API key (shown once, keep it secret): {token}", highlight=False, markup=False, soft_wrap=True)


def _organisations(s: object) -> tuple:  # type: ignore[type-arg]
    from lichain.services.lists import list_organisations

    return list_organisations(s).organisations  # type: ignore[arg-type]


@users_app.command("revoke")
def users_revoke(user: str, db: Db = None, json_: Json = False) -> None:
    """Revoke a user and every key of it (kept on record with the time)."""
    from lichain.core.errors import LichainError
    from lichain.storage import access_sql as acc

    try:
        u = acc.revoke_user(store_for(db), user)
    except LichainError as exc:
        fail(str(exc), EXIT_REFUSED)
    emit(u) if json_ else out.print(f"user {u.id} revoked at {u.revoked_at}", highlight=False, markup=False)


@users_app.command("list")
def users_list(db: Db = None, json_: Json = False) -> None:
    """List the users with their organisation, role, grants and live keys."""
    from lichain.entrypoints.tables import Col, print_table
    from lichain.storage import access_sql as acc

    rows = acc.list_users(store_for(db))
    if json_:
        emit(rows)
        return
    print_table(out, [Col("user"), Col("organisation"), Col("role"), Col("reads"), Col("keys", "num"),
                      Col("revoked")],
                [(u.id, u.organisation, u.role, ", ".join(u.scope), str(u.keys), u.revoked_at or "")
                 for u in rows], title=f"{len(rows)} users")


@keys_app.command("create")
def keys_create(user: str, db: Db = None, json_: Json = False) -> None:
    """Create an API key for a user; the key is printed once and stored only as its SHA-256."""
    from lichain.core.errors import LichainError
    from lichain.storage import access_sql as acc

    try:
        row, token = acc.new_key(store_for(db), user)
    except (LichainError, ValueError) as exc:
        fail(str(exc), EXIT_REFUSED)
    if json_:
        emit({"key": row, "api_key": token})
    else:
        out.print(f"API key {row.key_id} of {user} (shown once, keep it secret): {token}", highlight=False,
                  markup=False, soft_wrap=True)


@keys_app.command("revoke")
def keys_revoke(key_id: str, db: Db = None, json_: Json = False) -> None:
    """Revoke one API key by its id (the part after ``lck_``)."""
    from lichain.core.errors import LichainError
    from lichain.storage import access_sql as acc

    try:
        row = acc.revoke_key(store_for(db), key_id)
    except LichainError as exc:
        fail(str(exc), EXIT_REFUSED)
    emit(row) if json_ else out.print(f"key {row.key_id} revoked at {row.revoked_at}", highlight=False)


@keys_app.command("list")
def keys_list(user: Annotated[str | None, typer.Option("--user", help="Only this user's keys.")] = None,
              db: Db = None, json_: Json = False) -> None:
    """List API keys (ids and dates, never secrets)."""
    from lichain.entrypoints.tables import Col, print_table
    from lichain.storage import access_sql as acc

    rows = acc.list_keys(store_for(db), user)
    if json_:
        emit(rows)
        return
    print_table(out, [Col("key"), Col("user"), Col("created"), Col("revoked")],
                [(k.key_id, k.user_id, k.created_at, k.revoked_at or "") for k in rows], title=f"{len(rows)} keys")


def register(app: typer.Typer) -> None:
    """Add the ``access`` command group to ``app``."""
    app.add_typer(access_app, name="access")

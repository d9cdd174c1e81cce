"""Access control and capture jobs of the service, in tables outside the hash chain.

Why this exists: who may reach the ledger through the REST API (organisations' users, their roles and API keys)
is configuration of the service, not a fact of the materials chain, so it is not an event: granting or revoking
a key never moves the chain head and ``verify`` does not cover it. Tables are created by migration 0008 and
kept in their own SQLAlchemy metadata, apart from the ledger's (:mod:`lichain.storage.schema`).

An API key is ``lck_<key id>_<secret>``: the secret is 256 random bits (``secrets.token_urlsafe(32)``), shown
once and stored only as its SHA-256 (a slow password hash buys nothing for a 256-bit random secret); the key
id finds the row, the digest is compared in constant time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, Text, and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from lichain.core.codec import format_time
from lichain.core.errors import ConflictError, NotFoundError
from lichain.storage.sql import SqlStore

__all__ = [
    "ALL",
    "ROLES",
    "JobRow",
    "KeyRow",
    "LotParties",
    "UserRow",
    "accepted_job",
    "add_user",
    "authenticate",
    "create_job",
    "finish_job",
    "get_job",
    "list_keys",
    "list_users",
    "lot_parties",
    "new_key",
    "revoke_key",
    "revoke_user",
    "site_organisations",
]

#: Roles a user can hold (``public`` needs no key: it is whoever calls without one).
ROLES = ("owner", "operator", "auditor", "customer")
#: The scope of an auditor granted the whole ledger.
ALL = "*"

metadata = MetaData()

users = Table(
    "access_users", metadata,
    Column("id", String(100), primary_key=True),
    Column("organisation", String(300), nullable=False),
    Column("role", String(20), nullable=False),
    Column("scope", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
)
keys = Table(
    "access_keys", metadata,
    Column("key_id", String(40), primary_key=True),
    Column("user_id", String(100), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
)
jobs = Table(
    "capture_jobs", metadata,
    Column("id", String(40), primary_key=True),
    Column("user_id", String(100), nullable=False),
    Column("organisation", String(300), nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=True),
    Column("result", Text, nullable=True),
)


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user of the service: organisation, role, the organisations an auditor may read (``*``: all), state."""

    id: str
    organisation: str
    role: str
    scope: tuple[str, ...]
    created_at: str
    revoked_at: str | None
    keys: int


@dataclass(frozen=True, slots=True)
class KeyRow:
    """An API key (never its secret): id, user, times."""

    key_id: str
    user_id: str
    created_at: str
    revoked_at: str | None


@dataclass(frozen=True, slots=True)
class JobRow:
    """An EPCIS capture job: who sent which document (its SHA-256), its status and result (JSON text)."""

    id: str
    user_id: str
    organisation: str
    document_sha256: str
    status: str
    created_at: str
    finished_at: str | None
    result: str | None


def _now() -> str:
    return format_time(datetime.now(UTC))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_user(store: SqlStore, user_id: str, organisation: str, role: str, scope: tuple[str, ...] = ()) -> UserRow:
    """Create a user; :class:`ConflictError` when the id is taken, :class:`ValueError` for an unknown role."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    if not user_id.strip() or not organisation.strip():
        raise ValueError("a user needs an id and an organisation")
    if scope and role != "auditor":
        raise ValueError("only an auditor is granted organisations to read (--grant)")
    scope = scope or ((organisation,) if role == "auditor" else ())
    row = {"id": user_id, "organisation": organisation, "role": role, "scope": json.dumps(list(scope)),
           "created_at": _now(), "revoked_at": None}
    try:
        with store.transaction() as c:
            c.execute(insert(users).values(**row))
    except IntegrityError:
        raise ConflictError(f"user {user_id!r} exists already") from None
    return _user(store, user_id)


def _user(store: SqlStore, user_id: str) -> UserRow:
    got = [u for u in list_users(store) if u.id == user_id]
    if not got:
        raise NotFoundError(f"unknown user {user_id!r}")
    return got[0]


def list_users(store: SqlStore) -> list[UserRow]:
    """Every user, by id, with the number of live keys."""
    live = (select(keys.c.user_id, func.count().label("n")).where(keys.c.revoked_at.is_(None))
            .group_by(keys.c.user_id).subquery())
    q = (select(users, func.coalesce(live.c.n, 0).label("n")).outerjoin(live, live.c.user_id == users.c.id)
         .order_by(users.c.id))
    with store.engine.connect() as c:
        return [UserRow(r.id, r.organisation, r.role, tuple(json.loads(r.scope)), r.created_at, r.revoked_at,
                        int(r.n)) for r in c.execute(q)]


def revoke_user(store: SqlStore, user_id: str) -> UserRow:
    """Revoke a user and every key of it (kept on record with the time)."""
    _user(store, user_id)
    t = _now()
    with store.transaction() as c:
        c.execute(update(users).where(users.c.id == user_id, users.c.revoked_at.is_(None)).values(revoked_at=t))
        c.execute(update(keys).where(keys.c.user_id == user_id, keys.c.revoked_at.is_(None)).values(revoked_at=t))
    return _user(store, user_id)


def new_key(store: SqlStore, user_id: str) -> tuple[KeyRow, str]:
    """A new API key of a live user: its row and the token (``lck_<id>_<secret>``), which is never stored."""
    u = _user(store, user_id)
    if u.revoked_at is not None:
        raise ValueError(f"user {user_id!r} is revoked")
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    row = KeyRow(key_id, user_id, _now(), None)
    with store.transaction() as c:
        c.execute(insert(keys).values(key_id=key_id, user_id=user_id, secret_sha256=_digest(secret),
                                      created_at=row.created_at, revoked_at=None))
    return row, f"lck_{key_id}_{secret}"


def list_keys(store: SqlStore, user_id: str | None = None) -> list[KeyRow]:
    """API keys (never their secrets), of one user or all, oldest first."""
    q = select(keys).order_by(keys.c.created_at, keys.c.key_id)
    if user_id is not None:
        q = q.where(keys.c.user_id == user_id)
    with store.engine.connect() as c:
        return [KeyRow(r.key_id, r.user_id, r.created_at, r.revoked_at) for r in c.execute(q)]


def revoke_key(store: SqlStore, key_id: str) -> KeyRow:
    """Revoke one key; :class:`NotFoundError` when there is no such key."""
    with store.transaction() as c:
        n = c.execute(update(keys).where(keys.c.key_id == key_id, keys.c.revoked_at.is_(None))
                      .values(revoked_at=_now())).rowcount
        if not n and c.execute(select(keys.c.key_id).where(keys.c.key_id == key_id)).first() is None:
            raise NotFoundError(f"unknown key {key_id!r}")
    return next(k for k in list_keys(store) if k.key_id == key_id)


#: The live user of a live key (built once: building it cost more than running it on every request).
_KEY_USER = (select(keys.c.secret_sha256, users).join(users, users.c.id == keys.c.user_id)
             .where(keys.c.key_id == bindparam("key"), keys.c.revoked_at.is_(None), users.c.revoked_at.is_(None)))


def authenticate(store: SqlStore, token: str) -> UserRow | None:
    """The live user a token belongs to, or None (malformed, unknown, revoked or wrong secret)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "lck" or len(parts[1]) != 16:
        return None
    with store.engine.connect() as c:
        r = c.execute(_KEY_USER, {"key": parts[1]}).first()  # one indexed read per request
    if r is None or not hmac.compare_digest(r.secret_sha256, _digest(parts[2])):
        return None
    return UserRow(r.id, r.organisation, r.role, tuple(json.loads(r.scope)), r.created_at, r.revoked_at, 0)


# --- capture jobs ---------------------------------------------------------------------------------------------
def create_job(store: SqlStore, user: UserRow, document_sha256: str) -> str:
    """A new running capture job; its id."""
    job_id = secrets.token_hex(12)
    with store.transaction() as c:
        c.execute(insert(jobs).values(id=job_id, user_id=user.id, organisation=user.organisation,
                                      document_sha256=document_sha256, status="running", created_at=_now(),
                                      finished_at=None, result=None))
    return job_id


def finish_job(store: SqlStore, job_id: str, status: str, result: object) -> None:
    """Record a job's end: ``status`` (``succeeded`` or ``failed``) and its result (JSON-ready data)."""
    with store.transaction() as c:
        c.execute(update(jobs).where(jobs.c.id == job_id).values(status=status, finished_at=_now(),
                                                                 result=json.dumps(result, ensure_ascii=False)))


def get_job(store: SqlStore, job_id: str) -> JobRow | None:
    """One capture job, or None."""
    with store.engine.connect() as c:
        r = c.execute(select(jobs).where(jobs.c.id == job_id)).first()
    return None if r is None else JobRow(r.id, r.user_id, r.organisation, r.document_sha256, r.status,
                                         r.created_at, r.finished_at, r.result)


def accepted_job(store: SqlStore, organisation: str, document_sha256: str) -> JobRow | None:
    """The first job of ``organisation`` that accepted this very document (for idempotent ingest), or None."""
    q = (select(jobs.c.id).where(jobs.c.organisation == organisation, jobs.c.document_sha256 == document_sha256,
                                 jobs.c.status == "succeeded").order_by(jobs.c.created_at, jobs.c.id).limit(1))
    with store.engine.connect() as c:
        job_id = c.execute(q).scalar()
    return None if job_id is None else get_job(store, job_id)


# --- who a ledger record belongs to (read from the ledger's projections) --------------------------------------
@dataclass(frozen=True, slots=True)
class LotParties:
    """A lot as stored (its ledger id), the organisation operating its site, and the organisations it was
    shipped to by a live shipment (to the organisation named on it, else the receiving site's operator)."""

    id: str
    organisation: str
    receivers: frozenset[str]


@functools.cache
def _parties_statement() -> Any:
    """The read of :func:`lot_parties`, built once (building it cost more than running it): the lot with its
    site's operator and one row per live shipment's receiver (none: one row with a NULL receiver), in one round
    trip."""
    from lichain.storage import schema as s

    sh, dst = s.shipments, s.sites.alias("dst")
    live = ~sh.c.event_seq.in_(select(s.retractions.c.target_seq))
    # flat outer joins: SQLite materialised a parenthesised (shipments JOIN sites) whole, 0.4 s a lot at 1 M lots
    joined = (s.lots.join(s.sites, s.sites.c.id == s.lots.c.site)
              .outerjoin(sh, and_(sh.c.lot_idx == s.lots.c.idx, live))
              .outerjoin(dst, dst.c.id == sh.c.to_site))
    to_org = func.coalesce(sh.c.to_organisation, dst.c.organisation)
    return (select(s.lots.c.id, s.sites.c.organisation, to_org.label("receiver")).select_from(joined)
            .where(s.lots.c.id == bindparam("lot")))


def lot_parties(store: SqlStore, lot_ids: tuple[str, ...]) -> LotParties | None:
    """The parties of the first of ``lot_ids`` (spellings of one lot) on record, or None."""
    q = _parties_statement()
    with store.read() as c:
        for lot_id in dict.fromkeys(lot_ids):
            rows = c.execute(q, {"lot": lot_id}).all()
            if rows:
                return LotParties(rows[0].id, rows[0].organisation,
                                  frozenset(str(r.receiver) for r in rows if r.receiver is not None))
    return None


def site_organisations(store: SqlStore) -> dict[str, str]:
    """Every declared site's operating organisation."""
    from lichain.storage import schema as s

    with store.read() as c:
        return {str(a): str(b) for a, b in c.execute(select(s.sites.c.id, s.sites.c.organisation))}

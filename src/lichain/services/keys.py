"""Use cases of key management: generate, rotate and revoke an organisation's signing keys; list them; its JWKS.

Why this exists: signed documents (checkpoints, PCFs, packages, passports) are only verifiable if everyone can
tell which key an organisation used when. Private keys stay in PEM files (mode 0600, :mod:`lichain.io.signing`);
the public half and every change of a key's status are recorded in the ledger as ``signing_key`` events
(:mod:`lichain.core.keys`), so any verifier of the ledger, or of its EPCIS export, sees rotations and revocations.
Each change is checked against the recorded history in the same locked unit of work that writes it (a revoked
key is never reactivated, only an active key is rotated, a kid belongs to one organisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lichain.core.codec import format_time
from lichain.core.errors import LichainError, NotFoundError
from lichain.core.keys import REASONS, KeyState, key_states, unusable_reason
from lichain.core.limits import ledger_now
from lichain.core.model import Event, EventKind, KeyStatement
from lichain.core.ports import LedgerStore
from lichain.core.validate import LocatedEvent
from lichain.io.signing import (
    KeySet,
    SignatureError,
    SigningKey,
    generate_key,
    jwk_of_state,
    load_private_key,
    public_x,
)
from lichain.services.boundary import reporting_boundary
from lichain.services.ingest import ingest_events
from lichain.services.record import assign_ids
from lichain.storage.keys_sql import key_statements
from lichain.storage.sql import SqlStore

__all__ = ["KeyChange", "KeyInfo", "KeyList", "generate", "key_registry", "ledger_jwks", "ledger_keyset",
           "list_keys", "revoke", "rotate", "signer"]


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """One key as the ledger knows it (times ISO 8601 UTC; None when it did not happen)."""

    kid: str
    organisation: str
    status: str
    active_from: str | None
    retired_at: str | None
    revoked_at: str | None
    reason: str | None
    successor: str | None

    @staticmethod
    def of(s: KeyState) -> KeyInfo:
        """The view of a folded key state."""
        t = [format_time(x) if x else None for x in (s.active_from, s.retired_at, s.revoked_at)]
        return KeyInfo(s.kid, s.organisation, s.status, t[0], t[1], t[2], s.reason, s.successor)


@dataclass(frozen=True, slots=True)
class KeyList:
    """Outcome of ``lichain keys list``: every key recorded in the ledger, in the order first recorded."""

    keys: tuple[KeyInfo, ...]


@dataclass(frozen=True, slots=True)
class KeyChange:
    """Outcome of ``keys generate|rotate|revoke``: the key concerned and what was written.

    ``private_key``/``public_key`` are the PEM files written (generate, rotate); ``retired`` the kid a rotation
    retired; ``recorded`` whether the change is in the ledger (``events_written`` events).
    """

    ok: bool
    action: str
    kid: str
    organisation: str
    status: str
    recorded: bool
    events_written: int
    private_key: str | None = None
    public_key: str | None = None
    retired: str | None = None
    jwk: dict[str, Any] | None = None


def key_registry(store: LedgerStore) -> dict[str, KeyState]:
    """Every key the ledger records, folded into its current state (any store: others are scanned)."""
    if isinstance(store, SqlStore):
        return key_states(key_statements(store))
    from lichain.core.codec import event_from_payload

    stored = (e for e in store.iter_events() if e.kind == EventKind.SIGNING_KEY.value)
    bodies = (event_from_payload(e.event_id, e.kind, e.time, e.payload).body for e in stored)
    return key_states(b for b in bodies if isinstance(b, KeyStatement))


def ledger_jwks(store: SqlStore, organisation: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The JWKS of the ledger's keys (of one organisation if named), each with its lifecycle members."""
    reg = key_registry(store)
    return {"keys": [jwk_of_state(s) for s in reg.values() if organisation in (None, s.organisation)]}


def ledger_keyset(store: SqlStore) -> KeySet:
    """The ledger's keys as a verifier's key set."""
    from lichain.io.signing import public_key_from_jwk

    reg = key_registry(store)
    return KeySet(tuple(public_key_from_jwk(jwk_of_state(s)) for s in reg.values()), reg)


def list_keys(store: SqlStore) -> KeyList:
    """Every key the ledger records."""
    return KeyList(tuple(KeyInfo.of(s) for s in key_registry(store).values()))


def _record(store: SqlStore, statements: list[KeyStatement], check: Any) -> int:
    """Check ``statements`` against the recorded keys and write them, in one locked unit of work."""
    with store.writing() as uow:
        problem = check(key_registry(uow))
        if problem:
            uow.discard()
            raise LichainError(problem)
        events = assign_ids(Event("", EventKind.SIGNING_KEY, k.at, k) for k in statements)
        located = [LocatedEvent(f"keys#/{i}", e) for i, e in enumerate(events)]
        result = ingest_events(located, uow, source="lichain keys")
    if not result.ok:
        raise LichainError("; ".join(f"{p.location}: {p.message}" for p in result.problems))
    return result.events_written


def _organisation(store: SqlStore, organisation: str | None) -> str:
    b = reporting_boundary(store, organisation)
    if not b.name:
        raise NotFoundError("no organisation to sign for: declare sites (with a ledger owner) or pass --organisation")
    return b.name


def generate(store: SqlStore | None, directory: Path, name: str = "lichain", *, organisation: str | None = None,
             now: datetime | None = None) -> KeyChange:
    """A new key pair in ``directory``; recorded in the ledger as the organisation's active key (unless no store)."""
    org = _organisation(store, organisation) if store is not None else (organisation or "")
    priv, pub = generate_key(directory, name)
    key = load_private_key(priv)
    st = KeyStatement(key.kid, org, public_x(key.public), "active", now or ledger_now())
    written = 0
    if store is not None:
        try:
            written = _record(store, [st], lambda reg: f"key {key.kid} is already recorded" if key.kid in reg else None)
        except LichainError:
            priv.unlink(missing_ok=True)
            pub.unlink(missing_ok=True)
            raise
    return KeyChange(True, "generate", key.kid, org, "active", store is not None, written, str(priv), str(pub),
                     jwk=jwk_of_state(KeyState(key.kid, org, st.x, st.at)))


def rotate(store: SqlStore, old_key: Path, directory: Path, name: str | None = None, *,
           now: datetime | None = None) -> KeyChange:
    """A new key for the organisation of ``old_key``, which is retired (reason superseded) at the same instant."""
    old = load_private_key(old_key)
    reg = key_registry(store)
    if old.kid not in reg:
        raise NotFoundError(f"key {old.kid} ({old_key}) is not recorded in this ledger: `lichain keys generate` "
                            "records a new key; rotation retires a recorded one")
    org, t = reg[old.kid].organisation, now or ledger_now()
    stem = name or f"{old_key.name.removesuffix('.key.pem')}-{format_time(t)[:10]}"
    priv, pub = generate_key(directory, stem)
    new = load_private_key(priv)
    statements = [KeyStatement(new.kid, org, public_x(new.public), "active", t),
                  KeyStatement(old.kid, org, public_x(old.public), "retired", t, "superseded", new.kid)]

    def check(r: dict[str, KeyState]) -> str | None:
        s = r.get(old.kid)
        return None if s is not None and s.status == "active" else f"key {old.kid} is {s.status if s else 'unknown'}: only an active key is rotated"

    try:
        written = _record(store, statements, check)
    except LichainError:
        priv.unlink(missing_ok=True)
        pub.unlink(missing_ok=True)
        raise
    return KeyChange(True, "rotate", new.kid, org, "active", True, written, str(priv), str(pub), old.kid,
                     jwk_of_state(KeyState(new.kid, org, statements[0].x, t)))


def _kid_of(key: str) -> str:
    """A kid given as itself or as a PEM file (private or public) of the key."""
    p = Path(key)
    if not p.exists():
        return key
    from lichain.io.signing import kid, load_public_key

    try:
        return load_private_key(p).kid
    except SignatureError:
        return kid(load_public_key(p)[0])


def revoke(store: SqlStore, key: str, reason: str = "compromised", *, at: datetime | None = None) -> KeyChange:
    """Revoke a recorded key from ``at`` (default now; earlier when a compromise is found late). Final."""
    if reason not in REASONS:
        raise LichainError(f"reason must be one of {list(REASONS)}, got {reason!r}")
    kid = _kid_of(key)
    t = at or ledger_now()
    if t > ledger_now():
        raise LichainError(f"a revocation takes effect now or in the past, not at {format_time(t)}")
    reg = key_registry(store)
    s = reg.get(kid)
    if s is None:
        raise NotFoundError(f"key {kid} is not recorded in this ledger (known: {', '.join(reg) or 'none'})")

    def check(r: dict[str, KeyState]) -> str | None:
        cur = r.get(kid)
        return f"key {kid} was already revoked ({format_time(cur.revoked_at)})" if cur and cur.revoked_at else None

    written = _record(store, [KeyStatement(kid, s.organisation, s.x, "revoked", t, reason)], check)
    return KeyChange(True, "revoke", kid, s.organisation, "revoked", True, written)



def signer(store: SqlStore, key_path: Path, *, now: datetime | None = None) -> tuple[SigningKey, str]:
    """The private key at ``key_path`` and the organisation it signs for; refused unless the ledger records it as
    able to sign at ``now`` (not retired, not revoked)."""
    key = load_private_key(key_path)
    state = key_registry(store).get(key.kid)
    if state is None:
        raise NotFoundError(f"key {key.kid} ({key_path}) is not recorded in this ledger: record it with `lichain keys "
                            "generate --db ...` so that verifiers can find it in the organisation's JWKS")
    why = unusable_reason(state, now or ledger_now())
    if why:
        raise SignatureError(f"key {key.kid} cannot sign: {why}; sign with the organisation's active key")
    return key, state.organisation

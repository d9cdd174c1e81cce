"""Signed checkpoints: an anchor of the ledger's chain head outside the database.

Why this exists: a hash chain proves that events were not changed *relative to its head*; whoever can write the
database can truncate it or rewrite it from any point and recompute every later hash. A checkpoint is the head
(seq, content hash, record hash, event count) signed with the operator's Ed25519 key as a JWS; an auditor who
kept last month's checkpoint checks that today's ledger still *extends* it: the event at that seq carries the
same hashes and both chains verify through it and beyond. Any truncation below the checkpoint, or any rewrite at
or before it, is then detected.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lichain.core.codec import format_time
from lichain.core.keys import KeyState, unusable_reason
from lichain.core.limits import ledger_now
from lichain.core.ports import LedgerStore
from lichain.io.signing import SignatureError, load_keyset, load_private_key, sign_jws, verify_jws
from lichain.services.verify import Verification, verify_chain
from lichain.storage.urls import redact_url

__all__ = ["CHECKPOINT_TYPE", "Checkpoint", "CheckpointCheck", "CheckpointPayload", "SavedCheckpoint",
           "make_checkpoint", "verify_against"]

CHECKPOINT_TYPE = "lichain-checkpoint+jwt"


@dataclass(frozen=True, slots=True)
class CheckpointPayload:
    """What a checkpoint signs: the ledger (URL without password), both chain heads at ``seq``, when."""

    typ: str
    ledger: str
    seq: int
    events: int
    chain_hash: str
    record_hash: str
    iat: int  # seconds since the Unix epoch (JWT "issued at")
    issued_at: str  # the same instant, ISO 8601 UTC


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed checkpoint: the JWS compact token (what is written to the file) and its payload."""

    token: str
    payload: CheckpointPayload


@dataclass(frozen=True, slots=True)
class SavedCheckpoint:
    """Outcome of ``lichain checkpoint`` (the ``checkpoint --json`` shape): the file written and what it signs."""

    ok: bool
    file: str
    checkpoint: CheckpointPayload


@dataclass(frozen=True, slots=True)
class CheckpointCheck:
    """Outcome of ``verify --against`` (the ``verify --against --json`` shape).

    ``checkpoint`` is the signed payload as received (shown only once its signature verified); ``chain`` is the
    verification of the ledger's chains through the checkpoint's seq; ``events_since`` counts later events.
    """

    ok: bool
    signature_ok: bool
    extends_checkpoint: bool
    reason: str | None
    kid: str | None = None
    checkpoint: dict[str, Any] | None = None
    chain: Verification | None = None
    events_since: int | None = None


def make_checkpoint(store: LedgerStore, key_path: Path, *, now: datetime | None = None) -> Checkpoint:
    """Sign the current head. The chain must verify first."""
    key = load_private_key(key_path)
    from lichain.services.keys import key_registry

    t = now or ledger_now()
    state = key_registry(store).get(key.kid)
    why = unusable_reason(state, t) if state is not None else None
    if why:
        raise SignatureError(f"key {key.kid} cannot sign: {why}; sign with the organisation's active key")
    v = verify_chain(store)
    if not v.ok:
        raise SignatureError(f"the chain does not verify (first bad event {v.first_bad_event}: {v.reason});"
                             " a checkpoint of a broken chain would anchor the damage")
    seq, _ = store.head()
    payload = CheckpointPayload("lichain ledger checkpoint", redact_url(store.url), seq, v.events, v.head,
                                v.record_head, int(t.timestamp()), format_time(t))
    return Checkpoint(sign_jws(asdict(payload), key, typ=CHECKPOINT_TYPE), payload)


def _lifecycle_reason(states: list[KeyState | None], iat: object) -> str | None:
    """Why a signature issued at ``iat`` does not count for a key retired or revoked in a JWKS or the ledger."""
    if not isinstance(iat, int) or isinstance(iat, bool):
        return "it has no iat (issued-at time)" if any(states) else None
    t = datetime.fromtimestamp(iat, UTC)
    return next((why for s in states if s is not None and (why := unusable_reason(s, t))), None)


def verify_against(store: LedgerStore, token: str, public_key: Path) -> CheckpointCheck:
    """Check a checkpoint's signature and that the ledger still extends it."""
    try:
        keyset = load_keyset(public_key)
        header, payload = verify_jws(token, list(keyset.keys))
    except SignatureError as exc:
        return CheckpointCheck(False, False, False, str(exc))
    kid = header.get("kid")
    from lichain.services.keys import key_registry

    why = _lifecycle_reason([keyset.states.get(str(kid)), key_registry(store).get(str(kid))], payload.get("iat"))
    if why:
        return CheckpointCheck(False, False, False, f"the checkpoint's key does not count: {why}", kid, payload)

    def refused(reason: str, chain: Verification | None = None) -> CheckpointCheck:
        return CheckpointCheck(False, True, False, reason, kid, payload, chain)

    seq = payload.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        return refused("checkpoint has no seq")
    v = verify_chain(store, upto=seq)
    head, rec = (v.at.head, v.at.record_head) if v.at is not None else (None, None)
    if seq == 0:
        head, rec = payload.get("chain_hash"), payload.get("record_hash")
    elif v.at is None:
        return refused(f"the ledger holds {v.events} events, fewer than the checkpoint's {seq}: it was truncated", v)
    if head != payload.get("chain_hash"):
        return refused(f"event {seq} no longer has the checkpoint's chain hash: the ledger was rewritten at or "
                       "before the checkpoint", v)
    if rec != payload.get("record_hash"):
        return refused(f"event {seq} no longer has the checkpoint's record hash: when or from where events were "
                       "recorded was rewritten", v)
    if not v.ok:
        return refused(f"the chain breaks at event {v.first_bad_event}: {v.reason}", v)
    return CheckpointCheck(True, True, True, None, kid, payload, v, v.events - seq)

"""Signed checkpoints: an anchor of the ledger's chain head outside the database.

Why this exists: a hash chain proves that events were not changed *relative to its head*; whoever can write the
database can truncate it or rewrite it from any point and recompute every later hash. A checkpoint is the head
(seq, content hash, record hash, event count) signed with the operator's Ed25519 key as a JWS; an auditor who
kept last month's checkpoint checks that today's ledger still *extends* it: the event at that seq carries the
same hashes and both chains verify through it and beyond. Any truncation below the checkpoint, or any rewrite at
or before it, is then detected.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lichain.core.codec import format_time
from lichain.io.signing import SignatureError, load_private_key, load_public_key, sign_jws, verify_jws
from lichain.services.verify import verify_chain
from lichain.storage.sql import SqlStore
from lichain.storage.urls import redact_url

__all__ = ["CHECKPOINT_TYPE", "make_checkpoint", "verify_against"]

CHECKPOINT_TYPE = "lichain-checkpoint+jwt"


def make_checkpoint(store: SqlStore, key_path: Path, *, now: datetime | None = None) -> tuple[str, dict[str, Any]]:
    """Sign the current head; return (JWS compact token, its payload). The chain must verify first."""
    key = load_private_key(key_path)
    v = verify_chain(store)
    if not v["ok"]:
        raise SignatureError(f"the chain does not verify (first bad event {v['first_bad_event']}: {v['reason']});"
                             " a checkpoint of a broken chain would anchor the damage")
    seq, _ = store.head()
    payload = {
        "typ": "lichain ledger checkpoint", "ledger": redact_url(store.url), "seq": seq, "events": v["events"],
        "chain_hash": v["head"], "record_hash": v["record_head"], "iat": int((now or datetime.now(UTC)).timestamp()),
        "issued_at": format_time(now or datetime.now(UTC)),
    }
    return sign_jws(payload, key, typ=CHECKPOINT_TYPE), payload


def verify_against(store: SqlStore, token: str, public_key: Path) -> dict[str, Any]:
    """Check a checkpoint's signature and that the ledger still extends it (``verify --against --json``)."""
    out: dict[str, Any] = {"ok": False, "signature_ok": False, "extends_checkpoint": False}
    try:
        header, payload = verify_jws(token, load_public_key(public_key))
    except SignatureError as exc:
        return {**out, "reason": str(exc)}
    out.update({"signature_ok": True, "kid": header.get("kid"), "checkpoint": payload})
    seq = payload.get("seq")
    if not isinstance(seq, int) or seq < 0:
        return {**out, "reason": "checkpoint has no seq"}
    v = verify_chain(store, upto=seq)
    out["chain"] = {k: v[k] for k in ("ok", "events", "head", "record_head", "first_bad_event", "reason")}
    at = v.get("at") or {}
    if seq == 0:
        at = {"seq": 0, "head": payload.get("chain_hash"), "record_head": payload.get("record_hash")}
    if not at:
        return {**out, "reason": f"the ledger holds {v['events']} events, fewer than the checkpoint's {seq}: "
                                 "it was truncated"}
    if at.get("head") != payload.get("chain_hash"):
        return {**out, "reason": f"event {seq} no longer has the checkpoint's chain hash: the ledger was rewritten "
                                 "at or before the checkpoint"}
    if at.get("record_head") != payload.get("record_hash"):
        return {**out, "reason": f"event {seq} no longer has the checkpoint's record hash: when or from where events "
                                 "were recorded was rewritten"}
    if not v["ok"]:
        return {**out, "reason": f"the chain breaks at event {v['first_bad_event']}: {v['reason']}"}
    out.update({"ok": True, "extends_checkpoint": True, "events_since": v["events"] - seq, "reason": None})
    return out

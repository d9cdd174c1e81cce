"""Lifecycle of document-signing keys as ledger facts: the rules a key statement must meet, and a key's state.

Why this exists: a signature is only worth the key behind it. Which keys an organisation used, from when, which one
replaced which and which were revoked are facts every verifier of the ledger must see, so they are recorded as
hash-chained ``signing_key`` events (:class:`lichain.core.model.KeyStatement`), exported with the ledger, and
published as a JWKS in which a retired key carries ``exp`` (the time it stopped signing) and a revoked key
``revoked`` (``revoked_at``, ``reason``), the members OpenID Federation 1.0 gives historical keys. A document
signed before its key was retired or revoked still verifies as what it was; one dated at or after fails.

Rules of a statement (each a located problem):

* ``x`` is a base64url Ed25519 public key (32 bytes) and ``kid`` its RFC 7638 thumbprint;
* ``status`` is active, retired or revoked; ``organisation`` is named;
* ``reason`` (retired or revoked only) is one of :data:`REASONS`; ``successor`` (retired only) is another kid.

State (:func:`key_states`): the first ``active`` statement starts a key; the earliest ``retired`` and ``revoked``
times hold (a revocation is final: no later statement reactivates the key). Only the private key's holder can
sign, and lichain never stores private keys: they stay in PEM files (mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from lichain.core.model import KeyStatement

__all__ = ["REASONS", "STATUSES", "KeyState", "key_problems", "key_states", "thumbprint", "unusable_reason"]

STATUSES: tuple[str, ...] = ("active", "retired", "revoked")
#: Why a key stops signing (labels after RFC 5280 CRL reasons, as OpenID Federation historical keys use them).
REASONS: tuple[str, ...] = ("unspecified", "compromised", "superseded", "cessation_of_operation")


def _raw(x: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
    except (ValueError, binascii.Error):
        return None
    return raw if len(raw) == 32 and base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == x else None


def thumbprint(x: str) -> str:
    """RFC 7638 thumbprint of an Ed25519 JWK with public key ``x`` (base64url), base64url without padding."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def key_problems(k: KeyStatement) -> list[tuple[str, str]]:
    """Every rule ``k`` breaks, as (JSON-pointer suffix, message); empty when it may be recorded."""
    what = f"signing key {k.kid}"
    out: list[tuple[str, str]] = []
    if _raw(k.x) is None:
        out.append(("/x", f"{what}: x must be a base64url Ed25519 public key (32 bytes, RFC 8037)"))
    elif thumbprint(k.x) != k.kid:
        out.append(("/kid", f"{what}: kid must be the RFC 7638 thumbprint of x ({thumbprint(k.x)})"))
    if k.status not in STATUSES:
        out.append(("/status", f"{what}: status must be one of {list(STATUSES)}, got {k.status!r}"))
    if not k.organisation.strip():
        out.append(("/organisation", f"{what}: the organisation is missing"))
    if k.reason is not None and (k.status == "active" or k.reason not in REASONS):
        out.append(("/reason", f"{what}: a reason goes with retired or revoked, one of {list(REASONS)}"))
    if k.successor is not None and (k.status != "retired" or k.successor == k.kid):
        out.append(("/successor", f"{what}: a successor (another kid) goes with a retired key"))
    return out


@dataclass(frozen=True, slots=True)
class KeyState:
    """What the ledger says of one key: whose, from when it signs, and when it stopped (retired or revoked)."""

    kid: str
    organisation: str
    x: str
    active_from: datetime | None = None
    retired_at: datetime | None = None
    revoked_at: datetime | None = None
    reason: str | None = None
    successor: str | None = None

    @property
    def status(self) -> str:
        """revoked, retired or active (as of now)."""
        return "revoked" if self.revoked_at else "retired" if self.retired_at else "active"


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a


def key_states(statements: Iterable[KeyStatement]) -> dict[str, KeyState]:
    """Fold statements (in recorded order) into each key's state; see the module's rules."""
    out: dict[str, KeyState] = {}
    for k in statements:
        s = out.get(k.kid) or KeyState(k.kid, k.organisation, k.x)
        if k.status == "active" and s.active_from is None:
            s = replace(s, active_from=k.at)
        elif k.status == "retired":
            s = replace(s, retired_at=_earliest(s.retired_at, k.at), successor=k.successor or s.successor,
                        reason=s.reason if s.revoked_at else (k.reason or s.reason))
        elif k.status == "revoked" and (s.revoked_at is None or k.at < s.revoked_at):  # the earliest holds
            s = replace(s, revoked_at=k.at, reason=k.reason or "unspecified")
        out[k.kid] = s
    return out


def unusable_reason(s: KeyState, signed_at: datetime) -> str | None:
    """Why a signature dated ``signed_at`` by key ``s`` does not count (None: the key could sign then)."""
    if s.active_from is not None and signed_at < s.active_from:
        return f"signed {signed_at.isoformat()}, before key {s.kid} was activated ({s.active_from.isoformat()})"
    if s.revoked_at is not None and signed_at >= s.revoked_at:
        return (f"signed {signed_at.isoformat()}, at or after key {s.kid} was revoked ({s.revoked_at.isoformat()}, "
                f"{s.reason})")
    if s.retired_at is not None and signed_at >= s.retired_at:
        return f"signed {signed_at.isoformat()}, at or after key {s.kid} was retired ({s.retired_at.isoformat()})"
    return None

"""Ed25519 signatures as JWS (RFC 7515, compact serialisation, alg ``EdDSA`` per RFC 8037), with JWK public keys.

Why this exists: lichain's documents must be verifiable by a third party with ordinary tools and without lichain:
a checkpoint of the ledger's chain head today, passports, PCFs and declarations later. JWS compact with EdDSA is
what JOSE libraries (jwcrypto, python-jose, jose for Node, nimbus for Java) verify out of the box, and the public
key travels as a JWK (RFC 8037 ``OKP``/``Ed25519``) identified by its RFC 7638 thumbprint (``kid``), published
in a JWKS. Keys are PEM files (PKCS #8 private, SubjectPublicKeyInfo public); private keys are written with file
mode 0600.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lichain.core.errors import LichainError
from lichain.core.keys import KeyState, thumbprint

__all__ = [
    "KeySet",
    "SignatureError",
    "SigningKey",
    "generate_key",
    "jwk",
    "jwk_of_state",
    "jwks",
    "kid",
    "load_keyset",
    "load_private_key",
    "load_public_key",
    "public_key_from_jwk",
    "public_x",
    "sign_jws",
    "verify_jws",
]


class SignatureError(LichainError, ValueError):
    """A signature or key that does not verify or cannot be read."""


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url`; raises SignatureError on bad input."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"not base64url: {exc}") from None


def _raw(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def jwk(pub: Ed25519PublicKey) -> dict[str, str]:
    """The public key as a JWK (RFC 8037) with its ``kid`` (RFC 7638 thumbprint)."""
    d = {"crv": "Ed25519", "kty": "OKP", "x": b64url(_raw(pub))}
    return {**d, "kid": kid(pub), "alg": "EdDSA", "use": "sig"}


def kid(pub: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256 of the required members in lexical order), base64url."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": b64url(_raw(pub))}, separators=(",", ":"),
                           sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def public_x(pub: Ed25519PublicKey) -> str:
    """The raw public key, base64url (the JWK's ``x``)."""
    return b64url(_raw(pub))


def _seconds(t: datetime) -> int:
    return int(t.timestamp())


def jwk_of_state(s: KeyState) -> dict[str, Any]:
    """A key as published in a JWKS with its lifecycle (OpenID Federation 1.0 historical-key members).

    ``iat``: when it started signing; ``exp``: when it was retired (rotated out); ``revoked``: ``revoked_at`` and
    ``reason``. Times are NumericDate (seconds since the epoch). Ordinary JOSE tools ignore the extra members.
    """
    d: dict[str, Any] = {"crv": "Ed25519", "kty": "OKP", "x": s.x, "kid": s.kid, "alg": "EdDSA", "use": "sig"}
    if s.active_from is not None:
        d["iat"] = _seconds(s.active_from)
    if s.retired_at is not None:
        d["exp"] = _seconds(s.retired_at)
    if s.revoked_at is not None:
        d["revoked"] = {"revoked_at": _seconds(s.revoked_at), "reason": s.reason or "unspecified"}
    return d


def _time(v: Any, what: str) -> datetime | None:
    if v is None:
        return None
    if not isinstance(v, int | float) or isinstance(v, bool):
        raise SignatureError(f"JWK {what} must be a NumericDate (seconds since the epoch), got {v!r}")
    return datetime.fromtimestamp(v, UTC)


def _state_of_jwk(d: dict[str, Any]) -> KeyState:
    x = d.get("x")
    public_key_from_jwk(d)  # refuses anything but an Ed25519 JWK
    assert isinstance(x, str)
    revoked = d.get("revoked")
    if revoked is not None and not isinstance(revoked, dict):
        raise SignatureError("JWK revoked must be an object with revoked_at and reason")
    rev = revoked or {}
    if revoked is not None and "revoked_at" not in rev:
        raise SignatureError("JWK revoked needs revoked_at")
    return KeyState(thumbprint(x), "", x, _time(d.get("iat"), "iat"), _time(d.get("exp"), "exp"),
                    _time(rev.get("revoked_at"), "revoked_at"), rev.get("reason"))


@dataclass(frozen=True, slots=True)
class KeySet:
    """Public keys a verifier trusts, and what is known of their lifecycle (from a JWKS or the ledger)."""

    keys: tuple[Ed25519PublicKey, ...]
    states: dict[str, KeyState]


def load_keyset(path: Path) -> KeySet:
    """Public keys from a PEM file or a JWKS, with the lifecycle members a lichain JWKS carries."""
    data = path.read_bytes() if path.exists() else b""
    if data.lstrip().startswith(b"{"):
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise SignatureError(f"{path}: not JSON: {exc}") from None
        items = doc.get("keys") if isinstance(doc, dict) else None
        items = items if isinstance(items, list) else [doc]
        if not all(isinstance(k, dict) for k in items):
            raise SignatureError(f"{path}: every member of keys must be a JWK object")
        states = {st.kid: st for st in (_state_of_jwk(k) for k in items)}
        return KeySet(tuple(public_key_from_jwk(k) for k in items), states)
    return KeySet(tuple(load_public_key(path)), {})


def jwks(keys: list[Ed25519PublicKey]) -> dict[str, list[dict[str, str]]]:
    """A JWK Set (RFC 7517 §5) of public keys."""
    return {"keys": [jwk(k) for k in keys]}


def public_key_from_jwk(d: dict[str, Any]) -> Ed25519PublicKey:
    """An Ed25519 public key from its JWK."""
    if d.get("kty") != "OKP" or d.get("crv") != "Ed25519" or not isinstance(d.get("x"), str):
        raise SignatureError("not an Ed25519 JWK (kty OKP, crv Ed25519, x)")
    try:
        return Ed25519PublicKey.from_public_bytes(b64url_decode(d["x"]))
    except ValueError as exc:
        raise SignatureError(f"bad Ed25519 public key: {exc}") from None


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key and its ``kid``."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        """The matching public key."""
        return self.private.public_key()

    @property
    def kid(self) -> str:
        """RFC 7638 thumbprint of the public key."""
        return kid(self.public)


def generate_key(directory: Path, name: str = "lichain") -> tuple[Path, Path]:
    """Write a new Ed25519 key pair as ``<name>.key.pem`` (mode 0600) and ``<name>.pub.pem``; return both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    priv, pub = directory / f"{name}.key.pem", directory / f"{name}.pub.pem"
    if priv.exists():
        raise SignatureError(f"{priv} exists: a key is never overwritten (rotate by generating another name)")
    fd = os.open(priv, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fp:
        fp.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


def load_private_key(path: Path) -> SigningKey:
    """Read a PEM Ed25519 private key."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SignatureError(f"cannot read private key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{path} is not an Ed25519 private key")
    return SigningKey(key)


def load_public_key(path: Path) -> list[Ed25519PublicKey]:
    """Public keys from a PEM file or a JWKS (JSON) file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SignatureError(f"cannot read public key {path}: {exc}") from None
    if data.lstrip().startswith(b"{"):
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise SignatureError(f"{path}: not JSON: {exc}") from None
        keys = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(keys, list):
            return [public_key_from_jwk(doc)]
        return [public_key_from_jwk(k) for k in keys]
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise SignatureError(f"cannot read public key {path}: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"{path} is not an Ed25519 public key")
    return [key]


def sign_jws(payload: dict[str, Any], key: SigningKey, typ: str = "JWT") -> str:
    """JWS compact serialisation of ``payload`` (canonical JSON) signed with EdDSA/Ed25519."""
    header = {"alg": "EdDSA", "kid": key.kid, "typ": typ}
    h = b64url(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())
    p = b64url(json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode())
    sig = key.private.sign(f"{h}.{p}".encode("ascii"))
    return f"{h}.{p}.{b64url(sig)}"


def verify_jws(token: str, keys: list[Ed25519PublicKey]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check a JWS compact token against ``keys`` (the one whose ``kid`` matches); return (header, payload).

    Raises
    ------
    SignatureError
        Malformed token, an algorithm other than EdDSA, no key with its kid, or a signature that does not verify.
    """
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise SignatureError("not a JWS compact serialisation (three base64url parts separated by '.')")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except ValueError as exc:
        raise SignatureError(f"JWS header or payload is not JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("alg") != "EdDSA":
        raise SignatureError(f"JWS alg must be EdDSA, got {header.get('alg') if isinstance(header, dict) else None!r}")
    if not isinstance(payload, dict):
        raise SignatureError("JWS payload must be a JSON object")
    candidates = [k for k in keys if kid(k) == header.get("kid")] or keys
    sig = b64url_decode(parts[2])
    for k in candidates:
        try:
            k.verify(sig, f"{parts[0]}.{parts[1]}".encode("ascii"))
            return header, payload
        except InvalidSignature:
            continue
    raise SignatureError(f"signature does not verify with the given key(s) (kid {header.get('kid')!r})")

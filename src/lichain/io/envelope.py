"""The signed envelope of every customer document (PCF, declaration, passport, package manifest): a JWS.

Why this exists: a customer must be able to check, without lichain, who issued a document, that it was not changed,
and when it was signed (to judge it against the issuer's key history). One envelope serves every document type:
a JWS compact serialisation (RFC 7515, ``alg`` EdDSA, RFC 8037) whose payload is a JWT claims set (RFC 7519)
holding the document itself. Any JOSE library verifies it with the issuer's JWKS; docs/signing.md shows it done
with nothing but the ``cryptography`` package.

Payload members: ``iss`` the issuing organisation, ``iat`` when it was signed (NumericDate; ``signed_at`` the same
instant in ISO 8601), ``doc_type`` what the document is (the recomputers of ``lichain verify-doc`` are keyed by
it), ``sub`` what it is about (a lot or shipment id), ``ledger`` the issuer's ledger head when it was signed
(``seq``, ``chain_hash``: which state of the record the figures come from), and ``doc`` the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lichain.core.codec import format_time
from lichain.core.keys import KeyState, unusable_reason
from lichain.core.limits import ledger_now
from lichain.io.signing import KeySet, SignatureError, SigningKey, sign_jws, verify_jws

__all__ = ["DOCUMENT_TYPE", "Envelope", "key_verdict", "open_document", "sign_document"]

#: The JWS ``typ`` of a lichain document envelope.
DOCUMENT_TYPE = "lichain-doc+jwt"


@dataclass(frozen=True, slots=True)
class Envelope:
    """A verified envelope: its header and claims, and the document it carries."""

    kid: str
    issuer: str
    doc_type: str
    subject: str | None
    signed_at: datetime
    ledger: dict[str, Any] | None
    doc: dict[str, Any]


def sign_document(doc: dict[str, Any], key: SigningKey, doc_type: str, *, issuer: str, subject: str | None = None,
                  ledger: dict[str, Any] | None = None, now: datetime | None = None) -> str:
    """Sign ``doc`` as a document of ``doc_type`` issued by ``issuer``; return the JWS compact token."""
    t = (now or ledger_now()).astimezone(UTC).replace(microsecond=0)
    claims: dict[str, Any] = {"iss": issuer, "iat": int(t.timestamp()), "signed_at": format_time(t),
                              "doc_type": doc_type, "doc": doc}
    if subject is not None:
        claims["sub"] = subject
    if ledger is not None:
        claims["ledger"] = ledger
    return sign_jws(claims, key, typ=DOCUMENT_TYPE)


def open_document(token: str, keys: KeySet) -> Envelope:
    """Verify the signature of an envelope and return it (the key's lifecycle is judged by :func:`key_verdict`).

    Raises
    ------
    SignatureError
        Not a JWS, not EdDSA, no trusted key with its kid, a signature that does not verify, or claims missing.
    """
    header, claims = verify_jws(token, list(keys.keys))
    if header.get("typ") != DOCUMENT_TYPE:
        raise SignatureError(f"not a lichain document envelope (JWS typ {header.get('typ')!r}, expected "
                             f"{DOCUMENT_TYPE!r})")
    iat, doc, doc_type = claims.get("iat"), claims.get("doc"), claims.get("doc_type")
    if not isinstance(iat, int) or isinstance(iat, bool) or not isinstance(doc, dict) or not isinstance(doc_type, str):
        raise SignatureError("the envelope's claims need iat (NumericDate), doc_type and doc (an object)")
    ledger = claims.get("ledger")
    return Envelope(str(header.get("kid")), str(claims.get("iss", "")), doc_type,
                    str(claims["sub"]) if claims.get("sub") is not None else None,
                    datetime.fromtimestamp(iat, UTC), ledger if isinstance(ledger, dict) else None, doc)


def key_verdict(states: list[KeyState | None], kid: str, signed_at: datetime) -> tuple[str, str | None]:
    """The key's status as the verifier knows it, and why the signature does not count (None: it counts).

    ``states`` are what each source (a JWKS, the issuer's ledger) says of the key; a retirement or revocation in
    any of them applies.
    """
    known = [s for s in states if s is not None]
    if not known:
        return "unknown", None
    status = ("revoked" if any(s.revoked_at for s in known) else "retired" if any(s.retired_at for s in known)
              else "active")
    why = next((w for s in known if (w := unusable_reason(s, signed_at))), None)
    return status, why if why is None else f"key {kid}: {why}"

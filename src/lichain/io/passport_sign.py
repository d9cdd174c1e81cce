"""Reading back issued passports (JSON, or signed in the document envelope) for versioning and verification.

Why a module of its own: a passport is signed like every customer document, in the envelope of
:mod:`lichain.io.envelope` (JWS, EdDSA; ``doc_type`` ``lichain-battery-passport``, signed by
:func:`lichain.services.signed_docs.sign_passport_doc` with a key the ledger records). A signed passport is still
what it was after its source data change: its signature covers it, and its stated digest is recomputed from its
own content (:func:`lichain.core.passport_version.digest_matches`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lichain.io.signing import SignatureError, b64url_decode, load_public_key, verify_jws

__all__ = ["read_passport"]


def _unwrap(payload: Any) -> Any:
    """The passport inside a document envelope's claims (``doc``), or the payload itself."""
    return payload["doc"] if isinstance(payload, dict) and isinstance(payload.get("doc"), dict) else payload


def read_passport(path: Path, public_key: Path | None = None) -> dict[str, Any]:
    """A passport document from a file: JSON, or a signed JWS (verified when ``public_key`` is given).

    Raises SignatureError when the file is neither, or the signature does not verify.
    """
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SignatureError(f"cannot read {path}: {exc}") from None
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise SignatureError(f"{path}: not JSON: {exc}") from None
    elif public_key is not None:
        doc = _unwrap(verify_jws(text, load_public_key(public_key))[1])
    else:
        parts = text.split(".")
        if len(parts) != 3:
            raise SignatureError(f"{path}: neither a JSON passport nor a JWS compact token")
        try:
            doc = _unwrap(json.loads(b64url_decode(parts[1])))
        except ValueError as exc:
            raise SignatureError(f"{path}: JWS payload is not JSON: {exc}") from None
    if not isinstance(doc, dict) or "passport_id" not in doc:
        raise SignatureError(f"{path}: not a lichain passport (no passport_id)")
    return doc

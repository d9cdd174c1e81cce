"""Signing and reading back issued passports: the one place the passport's signed envelope is chosen.

Why a module of its own: passports are signed as JWS compact with EdDSA/Ed25519 (:func:`lichain.io.signing.sign_jws`,
the envelope a third party verifies with any JOSE library). The project may move every signed document to one
generic envelope; only :func:`sign_passport` and :func:`read_passport` then change. A signed passport is still
what it was after its source data change: its signature covers it, and its stated digest is recomputed from its own
content (:func:`lichain.core.passport_version.digest_matches`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lichain.io.signing import (
    SignatureError,
    b64url_decode,
    load_private_key,
    load_public_key,
    sign_jws,
    verify_jws,
)

__all__ = ["PASSPORT_TYP", "read_passport", "sign_passport"]

#: JOSE ``typ`` of a signed passport.
PASSPORT_TYP = "lichain-passport+jws"


def sign_passport(doc: dict[str, Any], key_path: Path) -> str:
    """The passport document signed with the Ed25519 private key at ``key_path`` (JWS compact)."""
    return sign_jws(doc, load_private_key(key_path), typ=PASSPORT_TYP)


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
        doc = verify_jws(text, load_public_key(public_key))[1]
    else:
        parts = text.split(".")
        if len(parts) != 3:
            raise SignatureError(f"{path}: neither a JSON passport nor a JWS compact token")
        try:
            doc = json.loads(b64url_decode(parts[1]))
        except ValueError as exc:
            raise SignatureError(f"{path}: JWS payload is not JSON: {exc}") from None
    if not isinstance(doc, dict) or "passport_id" not in doc:
        raise SignatureError(f"{path}: not a lichain passport (no passport_id)")
    return doc

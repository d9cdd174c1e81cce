"""Use cases of signed customer documents: sign one from the ledger, and verify one (``lichain verify-doc``).

Why this exists: every customer document (PCF, declaration, passport, package manifest) travels in one signed
envelope (:mod:`lichain.io.envelope`). Verifying it means three things, reported separately: the signature holds
with a trusted key (a JWKS, or the issuer's ledger); the key could sign at the document's signing time (not
retired, not revoked then); and, given the issuer's ledger, every figure still follows from the record: the
document is rebuilt by the recomputer registered for its type and compared leaf by leaf (numbers within a relative
1e-9, texts exactly), each mismatch named by its JSON path. Other modules register recomputers for their types
with :func:`register_recomputer`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lichain.core.codec import format_time
from lichain.core.errors import LichainError
from lichain.io.envelope import Envelope, key_verdict, open_document, sign_document
from lichain.io.signing import KeySet, SignatureError, load_keyset
from lichain.services.keys import key_registry, ledger_keyset, signer
from lichain.storage.sql import SqlStore

__all__ = ["DocumentCheck", "FigureCheck", "Recomputer", "check_envelope", "compare_documents",
           "register_recomputer", "sign_from_ledger", "verify_document"]

#: Rebuilds a document of one type from the issuer's ledger: (store, envelope) -> the document as it should be.
Recomputer = Callable[[SqlStore, Envelope], dict[str, Any]]
_RECOMPUTERS: dict[str, Recomputer] = {}


def register_recomputer(doc_type: str, fn: Recomputer) -> None:
    """Make ``verify-doc`` recompute documents of ``doc_type`` with ``fn``."""
    _RECOMPUTERS[doc_type] = fn


@dataclass(frozen=True, slots=True)
class FigureCheck:
    """A figure of the document that differs from its recomputation (``path``: JSON pointer in the document)."""

    path: str
    stated: Any
    recomputed: Any


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    """Outcome of ``lichain verify-doc`` (the ``verify-doc --json`` shape).

    ``signature_ok``: the JWS verifies with a trusted key; ``key_ok``: that key could sign at ``signed_at``
    (``key_status`` as the verifier knows it: active, retired, revoked or unknown); ``recomputed``: the figures
    were rebuilt from the issuer's ledger (``figures_checked`` leaves compared, ``mismatches`` those that differ),
    else ``recompute_note`` says why not. ``files`` lists a package's files (path, SHA-256 matches the manifest).
    """

    ok: bool
    file: str
    signature_ok: bool
    key_ok: bool
    reason: str | None
    kid: str | None = None
    issuer: str | None = None
    doc_type: str | None = None
    subject: str | None = None
    signed_at: str | None = None
    key_status: str | None = None
    recomputed: bool = False
    recompute_note: str | None = None
    figures_checked: int = 0
    mismatches: tuple[FigureCheck, ...] = ()
    files: tuple[dict[str, Any], ...] = ()


def sign_from_ledger(store: SqlStore, doc: dict[str, Any], key_path: Path, doc_type: str,
                     subject: str | None = None) -> str:
    """Sign ``doc`` with a key the ledger records as able to sign now, naming the ledger head it comes from."""
    key, organisation = signer(store, key_path)
    seq, head = store.head()
    return sign_document(doc, key, doc_type, issuer=organisation, subject=subject,
                         ledger={"seq": seq, "chain_hash": head})


def _leaves(d: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(d, dict):
        for k in sorted(d):
            yield from _leaves(d[k], f"{path}/{str(k).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from _leaves(v, f"{path}/{i}")
    else:
        yield path, d


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) | isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def compare_documents(stated: dict[str, Any], recomputed: dict[str, Any]) -> tuple[int, list[FigureCheck]]:
    """Leaves compared, and every leaf that differs, is missing or is extra (JSON pointers)."""
    a, b = dict(_leaves(stated)), dict(_leaves(recomputed))
    out = [FigureCheck(p, a.get(p), b.get(p)) for p in sorted(set(a) | set(b))
           if p not in a or p not in b or not _same(a[p], b[p])]
    return len(set(a) | set(b)), out


def _keys(jwks: Path | None, store: SqlStore | None) -> KeySet:
    if jwks is not None:
        return load_keyset(jwks)
    if store is None:
        raise LichainError("no key to verify with: give --jwks (the issuer's published JWKS) or --db (its ledger)")
    return ledger_keyset(store)


def check_envelope(token: str, name: str, keys: KeySet, store: SqlStore | None) -> tuple[DocumentCheck, Envelope | None]:
    """Signature and key lifecycle of one envelope; the envelope when the signature verified."""
    try:
        env = open_document(token, keys)
    except SignatureError as exc:
        return DocumentCheck(False, name, False, False, str(exc)), None
    reg = key_registry(store) if store is not None else {}
    status, why = key_verdict([keys.states.get(env.kid), reg.get(env.kid)], env.kid, env.signed_at)
    check = DocumentCheck(why is None, name, True, why is None, why, env.kid, env.issuer, env.doc_type, env.subject,
                          format_time(env.signed_at), status)
    return check, env


def recompute(check: DocumentCheck, env: Envelope, store: SqlStore | None) -> DocumentCheck:
    """``check`` with the document's figures recomputed from ``store`` when it is the issuer's ledger."""
    from dataclasses import replace

    import lichain.services.pcf_doc
    import lichain.services.signed_docs  # noqa: F401

    fn = _RECOMPUTERS.get(env.doc_type)
    note = (None if fn is not None and store is not None and env.kid in key_registry(store) else
            "no ledger given (--db)" if store is None else
            f"no recomputer for document type {env.doc_type!r}" if fn is None else
            f"this ledger did not record the signing key {env.kid}: it is not the issuer's ledger")
    if note is not None or fn is None or store is None:
        return replace(check, recompute_note=f"figures not recomputed: {note}")
    try:
        rebuilt = fn(store, env)
    except (LichainError, ValueError) as exc:
        return replace(check, ok=False, recomputed=False, recompute_note=f"cannot recompute: {exc}")
    n, bad = compare_documents(env.doc, rebuilt)
    reason = check.reason or (f"{len(bad)} figure(s) differ from the ledger, first {bad[0].path}" if bad else None)
    return replace(check, ok=check.ok and not bad, reason=reason, recomputed=True, figures_checked=n,
                   mismatches=tuple(bad))


def verify_document(path: Path, *, jwks: Path | None = None, store: SqlStore | None = None) -> DocumentCheck:
    """Verify a signed document (a JWS file) or a supplier data package (a folder with ``manifest.jws``)."""
    keys = _keys(jwks, store)
    if path.is_dir():
        from lichain.services.package_verify import verify_package

        return verify_package(path, keys, store)
    try:
        token = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LichainError(f"cannot read {path}: {exc}") from None
    check, env = check_envelope(token, str(path), keys, store)
    return check if env is None else recompute(check, env, store)

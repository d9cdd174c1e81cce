"""Use case: verify a supplier data package (``lichain verify-doc DIR``, and the first step of importing one).

Why this exists: a package is trusted as a whole or not at all. Its manifest is a signed envelope listing every
file with its SHA-256; the package verifies when the manifest's signature holds with a trusted key that could sign
then, every listed file is present with its hash, and no other file sits beside them. On the issuer's ledger every
file is also rebuilt (:func:`lichain.services.package.package_files`) and compared figure by figure.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from lichain.io.signing import KeySet
from lichain.services.documents import DocumentCheck, FigureCheck, check_envelope, compare_documents
from lichain.services.keys import key_registry
from lichain.storage.sql import SqlStore

__all__ = ["MANIFEST", "verify_package"]

#: The signed manifest's file name in a package folder.
MANIFEST = "manifest.jws"


def _files(folder: Path, listed: Any) -> list[dict[str, Any]]:
    """Each listed file with ``ok`` and the reason it fails; files beside them that the manifest does not list."""
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, entry in enumerate(listed if isinstance(listed, list) else []):
        name = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
            out.append({"path": f"{MANIFEST}#/doc/files/{i}", "ok": False, "reason": "not a plain file name"})
            continue
        names.add(name)
        try:
            data = (folder / name).read_bytes()
        except OSError:
            out.append({"path": name, "ok": False, "reason": "listed in the signed manifest but missing"})
            continue
        digest = hashlib.sha256(data).hexdigest()
        ok = digest == entry.get("sha256")
        out.append({"path": name, "ok": ok, "doc_type": entry.get("doc_type"),
                    "reason": None if ok else f"SHA-256 {digest} differs from the signed manifest's "
                                              f"{entry.get('sha256')}: the file was changed"})
    if not isinstance(listed, list) or not listed:
        out.append({"path": f"{MANIFEST}#/doc/files", "ok": False, "reason": "the manifest lists no files"})
    for p in sorted(folder.iterdir()):
        if p.name != MANIFEST and p.name not in names:
            out.append({"path": p.name, "ok": False, "reason": "not listed in the signed manifest"})
    return out


def _recompute(check: DocumentCheck, folder: Path, subject: str, store: SqlStore) -> DocumentCheck:
    from lichain.core.errors import LichainError
    from lichain.services.package import package_files

    try:
        pcf = json.loads((folder / "pcf.json").read_text(encoding="utf-8"))
        _, docs = package_files(store, subject, bpnl=pcf.get("legalidentifier"), bpns=pcf.get("siteIdentifier"))
    except (LichainError, ValueError, OSError) as exc:
        return replace(check, ok=False, recompute_note=f"cannot recompute: {exc}")
    n, bad = 0, []
    for f in check.files:
        rebuilt = docs.get(f["path"])
        if rebuilt is None:
            continue
        k, diff = compare_documents(json.loads((folder / f["path"]).read_text(encoding="utf-8")), rebuilt[1])
        n += k
        bad += [FigureCheck(f"{f['path']}#{m.path}", m.stated, m.recomputed) for m in diff]
    reason = check.reason or (f"{len(bad)} figure(s) differ from the ledger, first {bad[0].path}" if bad else None)
    return replace(check, ok=check.ok and not bad, reason=reason, recomputed=True, figures_checked=n,
                   mismatches=tuple(bad))


def verify_package(folder: Path, keys: KeySet, store: SqlStore | None) -> DocumentCheck:
    """Signature and key of the manifest, every file's hash, and (on the issuer's ledger) every figure."""
    from lichain.services.package import MANIFEST_DOC

    try:
        token = (folder / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return DocumentCheck(False, str(folder), False, False, f"{folder}/{MANIFEST}: no signed manifest")
    check, env = check_envelope(token, str(folder), keys, store)
    if env is None:
        return replace(check, reason=f"{MANIFEST}: {check.reason}")
    if env.doc_type != MANIFEST_DOC:
        return replace(check, ok=False, reason=f"{MANIFEST}: a {env.doc_type}, not a package manifest")
    files = _files(folder, env.doc.get("files"))
    bad = [f for f in files if not f["ok"]]
    check = replace(check, files=tuple(files), ok=check.ok and not bad,
                    reason=check.reason or (f"{bad[0]['path']}: {bad[0]['reason']}" if bad else None))
    if store is None or env.kid not in key_registry(store) or bad or not env.subject:
        note = ("no ledger given (--db)" if store is None else "files do not match the manifest" if bad else
                f"this ledger did not record the signing key {env.kid}: it is not the issuer's ledger")
        return replace(check, recompute_note=f"figures not recomputed: {note}")
    return _recompute(check, folder, env.subject, store)

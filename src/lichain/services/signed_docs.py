"""Passports and customer declarations as signed documents that ``lichain verify-doc`` recomputes.

Why this exists: every customer document is signed in one envelope (:mod:`lichain.io.envelope`, JWS with EdDSA)
by a key the issuer's ledger records, and a verifier holding that ledger rebuilds every figure and names each one
that differs (:mod:`lichain.services.documents`). The PCF does this in :mod:`lichain.services.pcf_doc`; this module
does it for the battery passport and the EMRT-layout declaration. A rebuild takes what the sender chose from the
document itself (which battery, level and format; which customer, period and reporting organisation, and the
declaration's effective date), and keeps the version chain as stated (version number, the previous version and
the ledger head it was computed at are history, not figures), so only figures can differ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lichain.core.plain import jsonable
from lichain.storage.sql import SqlStore

__all__ = ["EMRT_DOC", "PASSPORT_DOC", "sign_declaration", "sign_passport_doc"]

#: Document types of the envelope (``doc_type``), keys of the recomputers.
PASSPORT_DOC = "lichain-battery-passport"
EMRT_DOC = "rmi-emrt-2.1-declaration"
_HISTORY = ("version", "previous", "computed_at_head", "digest")


def sign_passport_doc(store: SqlStore, doc: dict[str, Any], key_path: Path) -> str:
    """A passport document signed by a key the ledger records, about its passport id."""
    from lichain.services.documents import sign_from_ledger

    return sign_from_ledger(store, doc, key_path, PASSPORT_DOC, subject=str(doc.get("passport_id")))


def sign_declaration(store: SqlStore, doc: dict[str, Any], key_path: Path) -> str:
    """An EMRT-layout declaration signed by a key the ledger records, about its customer."""
    from lichain.services.documents import sign_from_ledger

    return sign_from_ledger(store, doc, key_path, EMRT_DOC, subject=str(doc.get("customer")))


def _passport(store: SqlStore, env: Any) -> dict[str, Any]:
    from lichain.services.passport import passport

    d = env.doc
    rebuilt: dict[str, Any] = jsonable(passport(store, str(d.get("battery_id") or d.get("lot")),
                                                level=str(d.get("level")), fmt=str(d.get("format"))))
    if all(rebuilt.get(k) == d.get(k) for k in ("aspects", "missing_inputs", "withheld")):
        rebuilt.update({k: d.get(k) for k in _HISTORY})  # same content: the stated version chain stands
    else:
        rebuilt.update({k: d.get(k) for k in _HISTORY if k != "digest"})
    return rebuilt


def _declaration(store: SqlStore, env: Any) -> dict[str, Any]:
    from lichain.services.emrt import emrt_declaration

    d = env.doc
    when = datetime.fromisoformat(str(d.get("effective_date"))).replace(tzinfo=UTC)
    out: dict[str, Any] = jsonable(emrt_declaration(store, str(d.get("customer")), str(d.get("period")),
                                                    organisation=d.get("company"), now=when))
    return out


def _register() -> None:
    from lichain.services.documents import register_recomputer

    register_recomputer(PASSPORT_DOC, _passport)
    register_recomputer(EMRT_DOC, _declaration)


_register()

"""Use case: the Catena-X PCF document of one lot, as ``export pcf`` writes it and ``verify-doc`` recomputes it.

Why this exists: a signed PCF is checked by rebuilding it from the issuer's ledger with the same parameters and
comparing every figure; both sides must call one function. The parameters a sender chose (BPNs, part ids, study
link) are read back from the document itself (:func:`pcf_parameters`), so the rebuild differs only where the
ledger's figures differ. The customer view (``customer=True``, used in supplier data packages) leaves out the
lines naming our own suppliers' PCF documents and lots (docs/package.md, confidentiality).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lichain.io.pcf import PLACEHOLDER_BPNL, PLACEHOLDER_BPNS, pcf_payload, validate_pcf
from lichain.services.footprint import footprint_of
from lichain.services.lot_origin import lot_origins
from lichain.storage.sql import SqlStore

__all__ = ["PCF_CUSTOMER_DOC", "PCF_DOC", "PcfParameters", "pcf_document", "pcf_parameters"]

#: Document types of the signed envelope: the PCF as ``export pcf`` writes it, and its customer view.
PCF_DOC = "catenax-pcf-battery-component-supplier-1.0.0"
PCF_CUSTOMER_DOC = PCF_DOC + "+customer-view"


@dataclass(frozen=True, slots=True)
class PcfParameters:
    """What the sender chooses; everything else in the payload comes from the ledger."""

    bpnl: str = PLACEHOLDER_BPNL
    bpns: str = PLACEHOLDER_BPNS
    customer_part_id: str | None = None
    study_url: str | None = None
    allow_incomplete: bool = False


def pcf_document(store: SqlStore, lot: str, params: PcfParameters = PcfParameters(), *,
                 customer: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """The PCF payload of ``lot`` and the footprint it comes from (payload checked against the Catena-X schema).

    Raises
    ------
    NotFoundError
        Unknown or retracted lot.
    IncompleteFootprintError
        The footprint is incomplete and ``params.allow_incomplete`` is not set.
    ValueError
        The payload does not match the schema (a bug or a bad parameter, named).
    """
    d = footprint_of(store, lot)
    origin = lot_origins(store, [d["lot"]]).get(d["lot"])  # the lot's own class and recycled content
    d = {**d, **(origin.to_json() if origin else {})}
    if customer:
        d = {**d, "source_lots": []}
    payload = pcf_payload(d, legal_identifier=params.bpnl, site_identifier=params.bpns,
                          customer_part_id=params.customer_part_id, study_url=params.study_url,
                          allow_incomplete=params.allow_incomplete)
    problems = validate_pcf(payload)
    if problems:
        raise ValueError("payload does not match the Catena-X schema: " + "; ".join(problems[:5]))
    return payload, d


def pcf_parameters(doc: dict[str, Any]) -> PcfParameters:
    """The sender's parameters as written in a PCF payload (to rebuild it)."""
    quality = doc.get("productQualityParameter") or []
    incomplete = bool(quality) and str(quality[0]).startswith("INCOMPLETE")
    return PcfParameters(str(doc.get("legalidentifier", PLACEHOLDER_BPNL)),
                         str(doc.get("siteIdentifier", PLACEHOLDER_BPNS)), doc.get("customerPartId"),
                         (doc.get("pcfValues") or {}).get("webLinkToCarbonFootPrintStudy"), incomplete)


def _recompute(store: SqlStore, env: Any) -> dict[str, Any]:
    """The recomputer of signed PCFs (:mod:`lichain.services.documents`): rebuild from the issuer's ledger."""
    if not env.subject:
        raise ValueError("the envelope names no lot (sub)")
    return pcf_document(store, env.subject, pcf_parameters(env.doc), customer=env.doc_type == PCF_CUSTOMER_DOC)[0]


def _register() -> None:
    from lichain.services.documents import register_recomputer

    register_recomputer(PCF_DOC, _recompute)
    register_recomputer(PCF_CUSTOMER_DOC, _recompute)


_register()

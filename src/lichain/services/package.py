"""Use case: the supplier data package of a customer shipment, one signed bundle (``lichain export package``).

Why this exists: a cell maker must pass on its suppliers' figures (carbon footprint, recycled content, due
diligence) and needs the traceability events of what it received; we must not hand it our own suppliers' identities.
The package is a folder of standard documents and a manifest listing each file with its SHA-256, signed in the
document envelope (:mod:`lichain.io.envelope`, ``manifest.jws``):

* ``pcf.json``: the shipped lot's Catena-X PCF (customer view: no lines naming our suppliers' PCF documents);
* ``secondary-material.json``: recycled content per element, Catena-X ``secondary_material_content_calculated``;
* ``due-diligence.json``: per element the share through sites at risk, origin by country, and each risk met by
  kind, category and share, with upstream sites counted, never named;
* ``quality.json``: the shipped lot's certificates of analysis against its material specification, its quality
  status and deviations (docs/manufacturing.md);
* ``events.jsonld``: EPCIS 2.0, the one-hop view: the shipment, and the producing run reduced to the shipped lot's
  output facts (no inputs, no activity data, no losses), with the master data of the sites named in them.

The confidentiality rule (:func:`confidential_identities`, :func:`leaks`): no upstream lot id, no upstream site id
or name, no upstream organisation (other than ours and the customer's), no supplier PCF supplier or document
appears anywhere in the package; an export that would leak one is refused, naming the file and the identity.
Every file is rebuilt identically from the ledger (fixed creation dates), so ``verify-doc`` can recompute it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lichain.core.codec import format_time
from lichain.core.errors import LichainError, NotFoundError
from lichain.core.model import Activity, Event, Lot, Run, Shipment, Site
from lichain.core.quantities import mg_to_kg
from lichain.storage.package_sql import events_at, lot_event_seq, master_event_seqs, shipment_event_seq
from lichain.storage.sql import SqlStore

__all__ = ["DILIGENCE_DOC", "EVENTS_DOC", "MANIFEST_DOC", "SECONDARY_DOC", "PackageFile", "PackageResult",
           "ShipmentFacts", "confidential_identities", "export_package", "leaks", "package_files", "shipment_facts"]

MANIFEST_DOC = "lichain-package-manifest-1"
SECONDARY_DOC = "catenax-secondary-material-content-calculated-1.0.0"
DILIGENCE_DOC = "lichain-due-diligence-summary-1"
EVENTS_DOC = "epcis-2.0-one-hop-view"
QUALITY_DOC = "lichain-lot-quality-1"


@dataclass(frozen=True, slots=True)
class ShipmentFacts:
    """The shipment, the event that made its lot, and the master data the package may name."""

    shipment: Shipment
    shipment_event: Event
    lot: Lot
    made_by: Event
    sites: dict[str, Site]
    master: list[Event]


@dataclass(frozen=True, slots=True)
class PackageFile:
    """A file of the package: its path in the folder, SHA-256 (hex), size [bytes] and document type."""

    path: str
    sha256: str
    bytes: int
    doc_type: str


@dataclass(frozen=True, slots=True)
class PackageResult:
    """Outcome of ``lichain export package`` (the ``export package --json`` shape)."""

    ok: bool
    folder: str
    shipment: str
    lot: str
    mass_kg: float
    customer: str | None
    issuer: str
    kid: str
    files: tuple[PackageFile, ...]


def shipment_facts(store: SqlStore, shipment_id: str) -> ShipmentFacts:
    """What the package is built from; refused when the shipment is not on record (or retracted)."""
    seq = shipment_event_seq(store, shipment_id)
    if seq is None:
        raise NotFoundError(f"unknown shipment {shipment_id!r} (or retracted): see `lichain shipments`")
    (sev,) = events_at(store, [seq])
    ship = sev.body
    assert isinstance(ship, Shipment)
    lseq = lot_event_seq(store, ship.lot)
    if lseq is None:
        raise NotFoundError(f"shipment {shipment_id}: unknown lot {ship.lot}")
    (made,) = events_at(store, [lseq])
    body = made.body
    lot = next(o for o in body.outputs if o.id == ship.lot) if isinstance(body, Run) else body
    assert isinstance(lot, Lot)
    site_ids = {ship.from_site, ship.to_site, body.site if isinstance(body, Run) else lot.site}
    master = events_at(store, master_event_seqs(store, site_ids, [lot.material]))
    sites = {e.body.id: e.body for e in master if isinstance(e.body, Site)}
    return ShipmentFacts(ship, sev, lot, made, sites, master)


def _one_hop(f: ShipmentFacts) -> dict[str, Any]:
    """The EPCIS document of the one-hop view (creation date: the shipment's time, so it rebuilds identically)."""
    from lichain.io.epcis import write_epcis

    body = f.made_by.body
    events: list[Event] = []
    if isinstance(body, Run):  # the producing run, reduced to the shipped lot's output facts
        run = Run(body.id, body.site, body.kind, body.started_at, body.ended_at, (), (f.lot,), {}, Activity())
        events.append(Event("", f.made_by.kind, f.made_by.time, run))
    elif f.lot.site in (f.shipment.from_site, f.shipment.to_site):  # a source lot commissioned at our own site
        lot = Lot(f.lot.id, f.lot.material, f.lot.site, f.lot.produced_at, f.lot.mass_mg, f.lot.assay, f.lot.origin,
                  f.lot.quality, f.lot.assay_method, f.lot.assay_lab)
        events.append(Event("", f.made_by.kind, f.made_by.time, lot))
    events.append(f.shipment_event)
    return write_epcis([*f.master, *events], created=f.shipment.shipped_at)


def _diligence(store: SqlStore, lot: str) -> dict[str, Any]:
    """The due-diligence summary of the lot without upstream identities (counts, countries, risk categories)."""
    from lichain.services.diligence import diligence

    r = diligence(store, lot)
    return {
        "lot": r.lot, "material": r.material, "method": r.method,
        "elements": [{"element": e.element, "element_kg": e.element_kg, "at_risk_share": e.at_risk_share,
                      "source_sites": len(e.sources), "processors": len(e.processors),
                      "countries": [{"country": c.name, "share": c.share} for c in e.countries]}
                     for e in r.elements],
        "risks": [{"kind": h.kind, "status": h.status, "category": h.category, "category_label": h.category_label,
                   "start": h.start, "end": h.end, "share": h.share} for h in r.flags],
        "upstream_sites_not_assessed": len(r.sites_not_assessed),
        "confidentiality": "upstream sites, operators and lots are counted, not named; their identities are "
                           "available to the customer's auditors under a non-disclosure agreement",
    }


def package_files(store: SqlStore, shipment_id: str, *, bpnl: str | None = None,
                  bpns: str | None = None) -> tuple[ShipmentFacts, dict[str, tuple[str, dict[str, Any]]]]:
    """The package's documents: path -> (document type, document). Deterministic for a given ledger state."""
    from lichain.io.pcf import PLACEHOLDER_BPNL, PLACEHOLDER_BPNS
    from lichain.services.circularity import secondary_material
    from lichain.services.pcf_doc import PCF_CUSTOMER_DOC, PcfParameters, pcf_document

    f = shipment_facts(store, shipment_id)
    params = PcfParameters(bpnl or PLACEHOLDER_BPNL, bpns or PLACEHOLDER_BPNS)
    pcf, _ = pcf_document(store, f.lot.id, params, customer=True)
    return f, {
        "pcf.json": (PCF_CUSTOMER_DOC, pcf),
        "secondary-material.json": (SECONDARY_DOC, secondary_material(store, f.lot.id, order_number=shipment_id)),
        "due-diligence.json": (DILIGENCE_DOC, _diligence(store, f.lot.id)),
        "events.jsonld": (EVENTS_DOC, _one_hop(f)),
        "quality.json": (QUALITY_DOC, _quality(store, f.lot.id)),
    }


def _quality(store: SqlStore, lot: str) -> dict[str, Any]:
    """The shipped lot's certificates of analysis against its specification, its status and deviations (the
    consuming run a deviation names is ours, not the customer's: left out)."""
    from lichain.core.plain import jsonable
    from lichain.services.quality import lot_quality

    doc: dict[str, Any] = jsonable(lot_quality(store, lot))
    for d in doc["deviations"]:
        d.pop("run", None)
    return doc


def file_bytes(doc: Mapping[str, Any]) -> bytes:
    """How a package document is written (UTF-8 JSON, keys in order, two-space indent, final newline)."""
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def confidential_identities(store: SqlStore, f: ShipmentFacts, issuer: str) -> set[str]:
    """Identities the package must not carry: upstream lots, sites (ids, names), organisations, supplier PCFs."""
    from lichain.analysis.trace import trace_up
    from lichain.services.footprint import footprint_of
    from lichain.services.snapshot import load_snapshot
    from lichain.storage.esg_sql import site_rows

    snap = load_snapshot(store).snapshot
    t = trace_up(snap, f.lot.id)
    lots = [int(i) for i in t.lots.tolist() if int(i) != t.root]
    out = {str(snap.lot_ids[i]) for i in lots}
    allowed = set(f.sites)
    upstream_sites = {snap.site_ids[int(snap.lot_site[i])] for i in lots} - allowed
    own = {issuer, f.shipment.to_organisation or "", *(s.organisation for s in f.sites.values())}
    for r in site_rows(store):
        if r.id in upstream_sites:
            out.update(x for x in (r.id, r.name, r.organisation) if x not in own)
    for s in footprint_of(store, f.lot.id).get("source_lots", ()):
        p = s.get("supplier_pcf") or {}
        out.update(str(p[k]) for k in ("supplier", "document") if p.get(k) and p[k] not in own)
    return {x for x in out if x}


def leaks(texts: Mapping[str, str], forbidden: Iterable[str]) -> list[tuple[str, str]]:
    """Every (file, identity) where a forbidden identity appears in a file's text (the confidentiality rule)."""
    ids = sorted(set(forbidden))
    return [(name, x) for name, text in sorted(texts.items()) for x in ids if x in text]


def export_package(store: SqlStore, shipment_id: str, out: Path, key_path: Path, *, bpnl: str | None = None,
                   bpns: str | None = None, now: datetime | None = None) -> PackageResult:
    """Build, check (schemas, confidentiality) and write the signed package of a shipment into ``out``."""
    from lichain.services.documents import sign_from_ledger
    from lichain.services.keys import signer

    key, issuer = signer(store, key_path, now=now)
    if out.exists() and any(out.iterdir()):
        raise LichainError(f"--out {out} is not empty: a package is written into a new or empty folder")
    f, docs = package_files(store, shipment_id, bpnl=bpnl, bpns=bpns)
    data = {name: file_bytes(doc) for name, (_, doc) in docs.items()}
    found = leaks({n: b.decode("utf-8") for n, b in data.items()}, confidential_identities(store, f, issuer))
    if found:
        named = "; ".join(f"{n}: {x}" for n, x in found[:5])
        raise LichainError(f"the package would disclose confidential upstream identities ({named}); nothing written")
    files = tuple(PackageFile(n, hashlib.sha256(b).hexdigest(), len(b), docs[n][0]) for n, b in data.items())
    manifest = {"shipment": shipment_id, "lot": f.lot.id, "mass_kg": str(mg_to_kg(f.shipment.mass_mg)),
                "shipped_at": format_time(f.shipment.shipped_at),
                "from_site": f.shipment.from_site, "to_site": f.shipment.to_site,
                "to_organisation": f.shipment.to_organisation,
                "files": [{"path": p.path, "sha256": p.sha256, "bytes": p.bytes, "doc_type": p.doc_type}
                          for p in files]}
    token = sign_from_ledger(store, manifest, key_path, MANIFEST_DOC, shipment_id)
    out.mkdir(parents=True, exist_ok=True)
    for n, b in data.items():
        (out / n).write_bytes(b)
    (out / "manifest.jws").write_text(token + "\n", encoding="utf-8")
    return PackageResult(True, str(out), shipment_id, f.lot.id, float(mg_to_kg(f.shipment.mass_mg)),
                         f.shipment.to_organisation, issuer, key.kid, files)

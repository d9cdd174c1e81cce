"""Use case: receive a supplier data package at the customer's ledger (``lichain import package DIR``).

Why this exists: federation between companies through standard, signed documents. The customer's ledger records
the received lot as a source lot at its receiving site (the lot id, material, assay and origin class from the
package's EPCIS events; the mass shipped; received at the shipment's time) and the supplier's signed PCF as the
lot's supplier PCF (:class:`lichain.core.model.SupplierPcf`), whose document reference names the package's
shipment and the SHA-256 of its ``pcf.json``, so the customer's own footprint of a product made from the lot uses
the supplier's signed figure. Nothing is written unless the package verifies (signature, key lifecycle, every
file's hash), its documents match their schemas, and the ledger rules accept every event: all or nothing, each
problem located in the package (``pcf.json#/...``, ``manifest.jws``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from lichain.core.errors import LichainError, Problem
from lichain.core.model import Event, EventKind, Lot, Material, Run, Shipment, SupplierPcf
from lichain.core.validate import LocatedEvent
from lichain.services.ingest import ingest_events
from lichain.services.record import assign_ids
from lichain.storage.sql import SqlStore

__all__ = ["PackageImport", "import_package"]


@dataclass(frozen=True, slots=True)
class PackageImport:
    """Outcome of ``lichain import package`` (the ``import package --json`` shape)."""

    ok: bool
    folder: str
    supplier: str | None
    kid: str | None
    shipment: str | None
    lots: int
    events_written: int
    events_skipped: int
    problems: tuple[Problem, ...]
    dry_run: bool = False


def _refused(folder: Path, problems: list[Problem], env: Any = None) -> PackageImport:
    return PackageImport(False, str(folder), getattr(env, "issuer", None), getattr(env, "kid", None),
                         getattr(env, "subject", None), 0, 0, 0, tuple(problems))


def _read(folder: Path, name: str, problems: list[Problem]) -> dict[str, Any]:
    try:
        d = json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(Problem(name, f"cannot read: {exc}"))
        return {}
    if not isinstance(d, dict):
        problems.append(Problem(name, "not a JSON object"))
        return {}
    return d


def _received(folder: Path, problems: list[Problem]) -> tuple[Shipment | None, Lot | None, list[Material]]:
    """The shipment, the shipped lot's facts and the material declarations of ``events.jsonld``."""
    from lichain.io.epcis import read_epcis

    name = "events.jsonld"
    located, parse = read_epcis((folder / name).read_bytes(), name)
    problems.extend(parse)
    bodies = [le.event.body for le in located]
    ships = [b for b in bodies if isinstance(b, Shipment)]
    if len(ships) != 1:
        problems.append(Problem(name, f"a package carries exactly one shipment event, found {len(ships)}"))
        return None, None, []
    ship = ships[0]
    lots = [o for b in bodies if isinstance(b, Run) for o in b.outputs if o.id == ship.lot]
    lots += [b for b in bodies if isinstance(b, Lot) and b.id == ship.lot]
    if not lots:
        problems.append(Problem(name, f"no event states the facts (material, assay) of the shipped lot {ship.lot}"))
        return ship, None, []
    return ship, lots[0], [b for b in bodies if isinstance(b, Material)]


def _pcf(doc: dict[str, Any], lot: str, supplier: str, reference: str) -> SupplierPcf:
    values = doc["pcfValues"]["sharesPerStage"]
    if values.get("declaredUnit") != "CO2KG/KG":
        raise ValueError(f"declaredUnit must be CO2KG/KG, got {values.get('declaredUnit')!r}")
    dqr, pds = doc.get("dataQualityRating"), doc.get("primaryDataShare")
    return SupplierPcf(lot, Decimal(repr(float(values["absPcfValue"]["stageValue"]))), supplier, reference,
                       "kg CO2e/kg", "cradle-to-gate", "Catena-X PCF Rulebook",
                       Decimal(repr(float(dqr))) if dqr is not None else None,
                       Decimal(repr(float(pds))) if pds is not None else None)


def import_package(store: SqlStore, folder: Path, jwks: Path, *, site: str | None = None,
                   dry_run: bool = False) -> PackageImport:
    """Verify the package and record its lot with the supplier's signed PCF (all or nothing)."""
    from lichain.io.pcf import validate_pcf
    from lichain.io.secondary_material import validate_secondary_material
    from lichain.io.signing import load_keyset
    from lichain.services.package_verify import verify_package

    try:
        keys = load_keyset(jwks)
    except LichainError as exc:
        return _refused(folder, [Problem(str(jwks), str(exc))])
    check = verify_package(folder, keys, None)
    if not check.ok:
        located = [Problem(f["path"], f["reason"]) for f in check.files if not f["ok"]]
        return _refused(folder, located or [Problem("manifest.jws", check.reason or "does not verify")], check)
    problems: list[Problem] = []
    pcf, sec = _read(folder, "pcf.json", problems), _read(folder, "secondary-material.json", problems)
    problems += [Problem(f"pcf.json#{p.split(':', 1)[0]}", p) for p in validate_pcf(pcf)] if pcf else []
    problems += ([Problem(f"secondary-material.json#{p.split(':', 1)[0]}", p) for p in validate_secondary_material(sec)]
                 if sec else [])
    ship, lot, materials = _received(folder, problems)
    if problems or ship is None or lot is None:
        return _refused(folder, problems, check)
    supplier = check.issuer or "?"
    digest = hashlib.sha256((folder / "pcf.json").read_bytes()).hexdigest()
    ref = f"package {check.subject} pcf.json sha256:{digest}"
    try:
        pcf_body = _pcf(pcf, lot.id, supplier, ref)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        return _refused(folder, [Problem("pcf.json#/pcfValues", f"no usable PCF value: {exc}")], check)
    here = site or ship.to_site
    received = Lot(lot.id, lot.material, here, ship.shipped_at, ship.mass_mg, lot.assay, lot.origin, lot.quality,
                   lot.assay_method, lot.assay_lab)
    events = [*(Event("", EventKind.MATERIAL, ship.shipped_at, m) for m in materials if m.code == lot.material),
              Event("", EventKind.LOT, ship.shipped_at, received),
              Event("", EventKind.SUPPLIER_PCF, ship.shipped_at, pcf_body)]
    where = {EventKind.MATERIAL: "events.jsonld#/epcisHeader", EventKind.LOT: "events.jsonld#/epcisBody",
             EventKind.SUPPLIER_PCF: "pcf.json#/pcfValues"}
    document = [LocatedEvent(where[e.kind], e) for e in assign_ids(events)]
    r = ingest_events(document, store, source=f"package {folder.name}", dry_run=dry_run)
    return PackageImport(r.ok, str(folder), supplier, check.kid, check.subject, 1 if r.ok else 0, r.events_written,
                         r.events_skipped, r.problems, dry_run)

"""Supplier data package: a producer ledger exports the signed package of a CAM shipment, a cell maker's ledger
imports it and its figures for the lot equal the producer's signed ones; the package names no upstream identity;
a tampered package is refused, located, with nothing written."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from lichain.core.model import Consumption, Event, EventKind, Lot, Material, Run, Site
from lichain.core.validate import LocatedEvent
from lichain.io.pcf import validate_pcf
from lichain.io.secondary_material import validate_secondary_material
from lichain.services.demo import run_demo
from lichain.services.documents import verify_document
from lichain.services.footprint import footprint_of
from lichain.services.ingest import ingest_events
from lichain.services.keys import generate, ledger_jwks
from lichain.services.package import export_package, leaks
from lichain.services.package_import import import_package
from lichain.services.record import assign_ids
from lichain.storage import schema as s
from lichain.storage.sql import SqlStore, open_store

PRODUCER = "Demo Integrated Battery Materials Group"
CUSTOMER = "Demo Cell Korea Co., Ltd."
CELLS = "KR-OCHANG-CELLS"
NOW = datetime(2027, 12, 31, tzinfo=UTC)


@pytest.fixture(scope="module")
def producer(tmp_path_factory: pytest.TempPathFactory) -> tuple[SqlStore, Path, str]:
    d = tmp_path_factory.mktemp("producer")
    store = open_store(f"sqlite:///{d / 'producer.db'}", create=True)
    assert run_demo(store, lots=300, seed=7).ok
    generate(store, d / "keys", organisation=PRODUCER, now=NOW - timedelta(days=30))
    (d / "jwks.json").write_text(json.dumps(ledger_jwks(store)))
    with store.read() as conn:  # the first CAM shipment to the Korean cell maker
        q = (sa.select(s.shipments.c.id).join(s.lots, s.lots.c.idx == s.shipments.c.lot_idx)
             .where(s.shipments.c.to_site == CELLS).where(s.lots.c.material.like("CAM-%"))
             .order_by(s.shipments.c.idx).limit(1))
        shipment = conn.execute(q).scalar_one()
    out = d / "package"
    r = export_package(store, shipment, out, d / "keys" / "lichain.key.pem")
    assert r.ok and [f.path for f in r.files] == ["pcf.json", "secondary-material.json", "due-diligence.json",
                                                  "events.jsonld", "quality.json"]
    return store, d, shipment


def _signed_pcf_value(pkg: Path) -> float:
    return float(json.loads((pkg / "pcf.json").read_text())["pcfValues"]["sharesPerStage"]["absPcfValue"]["stageValue"])


def test_package_documents_validate_and_verify_on_the_issuer_ledger(producer: tuple[SqlStore, Path, str]) -> None:
    store, d, shipment = producer
    pkg = d / "package"
    assert validate_pcf(json.loads((pkg / "pcf.json").read_text())) == []
    assert validate_secondary_material(json.loads((pkg / "secondary-material.json").read_text())) == []
    c = verify_document(pkg, store=store)
    assert c.ok and c.recomputed and c.mismatches == () and c.subject == shipment and c.figures_checked > 100
    assert all(f["ok"] for f in c.files) and len(c.files) == 5
    quality = json.loads((pkg / "quality.json").read_text())  # the shipped lot's certificates travel with it
    from lichain.core.plain import jsonable
    from lichain.services.quality import lot_quality

    mine = jsonable(lot_quality(store, quality["lot"]))
    assert (quality["status"], len(quality["certificates"])) == (mine["status"], len(mine["certificates"]))
    assert all("run" not in dv for dv in quality["deviations"])
    customer_view = verify_document(pkg, jwks=d / "jwks.json")
    assert customer_view.ok and not customer_view.recomputed


def test_the_package_names_no_upstream_identity(producer: tuple[SqlStore, Path, str]) -> None:
    store, d, shipment = producer
    texts = {p.name: p.read_text(encoding="utf-8") for p in (d / "package").iterdir() if p.suffix != ".jws"}
    with store.read() as conn:
        ship = conn.execute(sa.select(s.shipments).where(s.shipments.c.id == shipment)).one()
        lot = conn.execute(sa.select(s.lots).where(s.lots.c.idx == ship.lot_idx)).one()
        lot_ids = set(conn.execute(sa.select(s.lots.c.id)).scalars())
        sites = conn.execute(sa.select(s.sites)).all()
    allowed_sites = {ship.from_site, ship.to_site, lot.site}
    forbidden = (lot_ids - {lot.id}) | {x for r in sites if r.id not in allowed_sites for x in (r.id, r.name)} \
        | {r.organisation for r in sites} - {PRODUCER, CUSTOMER}
    assert len(forbidden) > 100  # every other lot, site and organisation of the producer's ledger
    assert leaks(texts, forbidden) == []
    assert lot.id in texts["events.jsonld"] and lot.id in texts["pcf.json"]
    # the rule itself finds an identity wherever it is
    assert leaks({"x.json": f'{{"note": "from {sorted(lot_ids - {lot.id})[0]}"}}'}, forbidden) != []


def _customer(store: SqlStore) -> None:
    site = Site(CELLS, "Ochang cell plant", "cell_plant", "KR", CUSTOMER, ledger_owner=True)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert ingest_events([LocatedEvent("cust", e) for e in assign_ids([Event("", EventKind.SITE, t, site)])],
                         store).ok


def test_federation_two_ledgers(producer: tuple[SqlStore, Path, str], store: SqlStore) -> None:
    """The cell maker's footprint of the received lot is the producer's signed PCF, exactly."""
    prod, d, shipment = producer
    pkg = d / "package"
    _customer(store)
    r = import_package(store, pkg, d / "jwks.json")
    assert r.ok and r.events_written == 3 and r.supplier == PRODUCER and r.shipment == shipment, r.problems
    again = import_package(store, pkg, d / "jwks.json")
    assert again.ok and again.events_written == 0  # importing the same package twice writes nothing new
    claims = (pkg / "manifest.jws").read_text().split(".")[1]
    lot = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["doc"]["lot"]
    signed = _signed_pcf_value(pkg)
    theirs = footprint_of(store, lot)
    assert theirs["kg_co2e_per_kg"] == signed == footprint_of(prod, lot)["kg_co2e_per_kg"]
    # a cell made from it carries the supplier's signed figure as supplier PCF data
    cam = theirs["mass_kg"]
    t = datetime.fromisoformat(theirs["produced_at"].replace("Z", "+00:00")) + timedelta(days=2)
    with store.read() as conn:
        assay = dict(conn.execute(sa.select(s.assays.c.element, s.assays.c.ppb)
                                  .join(s.lots, s.lots.c.idx == s.assays.c.lot_idx).where(s.lots.c.id == lot)).all())
    cell = Lot("CELL-1", "CELL-NCM811", CELLS, t, 1_000_000_000, assay)
    run = Run("CELL-RUN-1", CELLS, "cell_manufacturing", t - timedelta(hours=8), t,
              (Consumption(lot, 1_000_000_000),), (cell,))
    evs = assign_ids([Event("", EventKind.MATERIAL, t, Material("CELL-NCM811", "NCM811 cell", "cell")),
                      Event("", EventKind.RUN, t, run)])
    assert ingest_events([LocatedEvent("cells", e) for e in evs], store).ok
    fc = footprint_of(store, "CELL-1")
    assert fc["kg_co2e_per_kg"] == pytest.approx(signed, rel=1e-12) and cam > 1000
    (src,) = [x for x in fc["source_lots"] if x["lot"] == lot]
    assert src["supplier_pcf"]["supplier"] == PRODUCER and shipment in src["supplier_pcf"]["document"]


def test_a_tampered_package_is_refused_and_nothing_is_written(producer: tuple[SqlStore, Path, str],
                                                               store: SqlStore, tmp_path: Path) -> None:
    _, d, _ = producer
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in (d / "package").iterdir():
        (bad / p.name).write_bytes(p.read_bytes())
    doc = json.loads((bad / "pcf.json").read_text())
    doc["pcfValues"]["sharesPerStage"]["absPcfValue"]["stageValue"] *= 0.5  # a lower footprint than signed
    (bad / "pcf.json").write_text(json.dumps(doc, indent=2))
    _customer(store)
    head = store.head()
    r = import_package(store, bad, d / "jwks.json")
    assert not r.ok and r.events_written == 0 and store.head() == head
    assert r.problems[0].location == "pcf.json" and "differs from the signed manifest" in r.problems[0].message
    c = verify_document(bad, jwks=d / "jwks.json")
    assert not c.ok and c.signature_ok and "pcf.json" in (c.reason or "")


def test_results_match_their_published_schemas(producer: tuple[SqlStore, Path, str], tmp_path: Path) -> None:
    import jsonschema

    from lichain.entrypoints.present import jsonable

    store, d, shipment = producer
    root = Path(__file__).resolve().parents[2] / "docs" / "schemas"
    out = export_package(store, shipment, tmp_path / "again", d / "keys" / "lichain.key.pem")
    check = verify_document(d / "package", store=store)
    for name, result in (("package", out), ("document-check", check)):
        schema = json.loads((root / f"{name}.schema.json").read_text())
        jsonschema.validate(json.loads(json.dumps(jsonable(result))), schema)
    import hashlib

    # the same shipment on the same ledger state gives byte-identical files (what makes recomputation possible)
    assert [f.sha256 for f in out.files] == [hashlib.sha256((d / "package" / f.path).read_bytes()).hexdigest()
                                             for f in out.files]

"""Every customer-facing document, generated on the demo ledger, cites only registry publications.

The documents a customer receives: the Catena-X PCF (``export pcf``), the Catena-X secondary-material payload
(``export secondary-material``), the Art. 8 and recovery comparisons (``art8``/``recovery --json``) and the ESG
report's data (``report esg --json``, which its HTML page renders). Each is walked string by string: no evidence
grade, "verify", mirror repository, news site or repository path may appear (:func:`internal_markers`), and every
source entry must be a citation of :data:`lichain.core.citations.CITATIONS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lichain.core.citations import CITATIONS, internal_markers
from lichain.demo import generate
from lichain.entrypoints.present import jsonable
from lichain.io.pcf import pcf_payload, validate_pcf
from lichain.services import circularity as circ
from lichain.services.esg import esg_report
from lichain.services.footprint import footprint_of, ledger_footprint
from lichain.services.record import ingest_batches
from lichain.storage.sql import SqlStore

CITED_TEXT = {str(c) for c in CITATIONS.values()}
CITED_JSON = [c.to_json() for c in CITATIONS.values()]


def _strings(o: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(o, dict):
        for k, v in o.items():
            yield from _strings(k, f"{path}.<key>")
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(o, list | tuple):
        for i, v in enumerate(o):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(o, str):
        yield path, o


def _clean(doc: Any) -> list[tuple[str, list[str]]]:
    return [(p, m) for p, s in _strings(doc) if (m := internal_markers(s))]


def _sources_lists(o: Any) -> Iterator[list[Any]]:
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("sources", "citations") and isinstance(v, list):
                yield v
            else:
                yield from _sources_lists(v)
    elif isinstance(o, list):
        for v in o:
            yield from _sources_lists(v)


def test_customer_documents_on_the_demo_ledger_cite_only_registry_publications(sqlite_store: SqlStore) -> None:
    store = sqlite_store
    chain = generate(lots=3000, seed=0)
    assert ingest_batches(store, [chain.master_events, *chain.batches(include_master=False)]).ok
    snap = ledger_footprint(store).snapshot
    ids = [snap.lot_ids[i] for i in range(snap.n_lots)]
    cams = [i for i in ids if "CAM" in footprint_of(store, i)["material"]][-3:]  # the last CAM/pCAM lots
    assert cams

    docs: dict[str, Any] = {}
    for lot in cams:
        p = pcf_payload(footprint_of(store, lot))
        assert validate_pcf(p) == []
        docs[f"pcf {lot}"] = p
        docs[f"secondary-material {lot}"] = circ.secondary_material(store, lot)
        docs[f"footprint {lot}"] = footprint_of(store, lot)
    docs["art8"] = jsonable(circ.art8(store, period="2026"))
    docs["recovery"] = jsonable(circ.recovery(store, period="2026"))
    docs["esg"] = jsonable(esg_report(store, "2026"))

    for name, doc in docs.items():
        assert _clean(doc) == [], name

    # PCF: the library version line, then registry citations only (no override or placeholder in the demo)
    for name, doc in docs.items():
        if name.startswith("pcf"):
            head, *cited = doc["secondaryEmissionFactorSources"]
            assert head.startswith("lichain emission-factor library ")
            assert cited and set(cited) <= CITED_TEXT, set(cited) - CITED_TEXT
            assert any("Greenhouse gas reporting: conversion factors" in c for c in cited)
    # comparisons and the ESG report: every source entry is a registry citation
    n = 0
    for name in ("art8", "recovery", "esg"):
        for lst in _sources_lists(docs[name]):
            for entry in lst:
                assert entry in CITED_JSON, (name, entry)
                n += 1
    assert n > 0
    assert any(t["sources"] for e in docs["recovery"]["recyclers"][0]["elements"].values() for t in e["targets"])
    for f in docs["esg"]["factors_used"]:
        assert f["citations"], f["key"]
        assert set(f["source"].split("; ")) <= CITED_TEXT, f["key"]

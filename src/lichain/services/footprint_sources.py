"""What one lot's footprint rests on: the source of each contribution, and its gaps, over the lot's own upstream.

Why a module of its own: a footprint a customer can trust says where every kg CO2e comes from (our runs'
activity data, a supplier's PCF with its document reference, or a secondary factor with its key and citation)
and what is missing, for the lot asked about — not for the whole ledger. The whole-ledger pass
(:mod:`lichain.services.footprint`) keeps, for every problem, the runs and lots it affects; here they are
restricted to the lot's upstream closure (:func:`lichain.analysis.trace.trace_up`), and the closure's burden is
split by source with the same propagation kernel as the footprint itself, so the contributions sum to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lichain.analysis import footprint as fp
from lichain.analysis.trace import trace_up
from lichain.services.footprint_results import (
    Contribution,
    FootprintProblem,
    MissingInput,
    SourceLot,
    SupplierPcfRef,
)
from lichain.storage.emissions_reader import (
    SOURCE_ACTIVITY,
    SOURCE_CUTOFF,
    SOURCE_MISSING,
    SOURCE_PCF,
    EmissionArrays,
)
from lichain.storage.supplier_pcf_sql import run_ids

if TYPE_CHECKING:
    from lichain.services.footprint import LedgerFootprint
    from lichain.storage.sql import SqlStore

__all__ = ["OWN_RUNS", "ClosureQuality", "closure_quality", "lot_inputs"]

#: Source label of the burden of our own runs (their activity data and the inbound transport they carry).
OWN_RUNS = "activity data of the ledger's runs (incl. inbound transport)"
_MISSING = "missing: neither activity data nor a supplier PCF"
_CUTOFF = "cut-off: recycled feedstock enters burden-free"
_LIST_LIMIT = 1000


def _secondary(keys: list[str]) -> bool:
    return any(k.casefold().startswith("material:") for k in keys)


def lot_inputs(em: EmissionArrays) -> dict[int, dict[str, Any]]:
    """What each commissioned or purchased lot's own burden rests on, by lot position (JSON-ready)."""
    out: dict[int, dict[str, Any]] = {}
    for q, p in em.lot_pcf.items():
        out[q] = {"source": f"supplier PCF {p.document}", "supplier_pcf": {
            "document": p.document, "supplier": p.supplier, "value": str(p.value), "unit": p.unit,
            "boundary": p.boundary, "standard": p.standard,
            "data_quality_rating": None if p.data_quality_rating is None else str(p.data_quality_rating),
            "primary_data_share": None if p.primary_data_share is None else str(p.primary_data_share),
            "valid_from": p.valid_from.isoformat() if p.valid_from else None,
            "valid_until": p.valid_until.isoformat() if p.valid_until else None}}
    src = em.lot_source if em.lot_source is not None else np.zeros(0, np.int8)
    for q in np.flatnonzero(src == SOURCE_ACTIVITY).tolist():
        factors = em.lot_factors.get(q, ())
        keys = [f.key for f in factors]
        if _secondary(keys):
            used = [f for f in factors if f.key.casefold().startswith("material:")]
            label = "secondary factor " + ", ".join(f.key for f in used)
        else:
            used = list(factors)
            label = "activity data (" + (", ".join(keys) or "no factor") + ")"
        out[q] = {"source": label, "factors": keys,
                  "citations": list(dict.fromkeys(f.public_source() for f in used))}
    return out


def _label(lf: LedgerFootprint, q: int) -> str:
    if lf.snapshot.lot_run[q] >= 0:
        return OWN_RUNS
    src = lf.lot_source
    if src is not None and q < len(src) and src[q] == SOURCE_MISSING:
        return _MISSING
    if src is not None and q < len(src) and src[q] == SOURCE_CUTOFF:
        return _CUTOFF
    info = (lf.lot_inputs or {}).get(q)
    return str(info["source"]) if info else _MISSING


_BY_OWNER: dict[int, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}  # id(pairs) -> (pairs, sorted)


def _pairs_of(pairs: np.ndarray[Any, Any], members: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The (owner, problem) rows of ``pairs`` whose owner is among ``members``, found by binary search in the
    pairs sorted by owner (sorted once per footprint): a read costs its closure's size, not the ledger's count of
    problem owners (every source lot without data owns one)."""
    got = _BY_OWNER.get(id(pairs))
    if got is None or got[0] is not pairs:
        srt = pairs[np.argsort(pairs[:, 0], kind="stable")]
        if len(_BY_OWNER) > 8:
            _BY_OWNER.clear()
        _BY_OWNER[id(pairs)] = got = (pairs, srt)
    srt = got[1]
    lo = np.searchsorted(srt[:, 0], members, "left")
    n = np.searchsorted(srt[:, 0], members, "right") - lo
    if not n.sum():
        return srt[:0]
    start = np.repeat(lo - np.concatenate([[0], np.cumsum(n)[:-1]]), n)
    return srt[start + np.arange(int(n.sum()))]


def _problems(store: SqlStore, lf: LedgerFootprint, lots: np.ndarray[Any, Any],
              runs: np.ndarray[Any, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The problems whose affected runs or lots lie in the closure, each located at one of them, and the gaps."""
    snap = lf.snapshot
    per: dict[int, list[tuple[str, np.ndarray[Any, Any]]]] = {}
    if lf.lot_source is not None:  # a supplier PCF replaces its lot's commissioning, and that data's problems
        lots = lots[lf.lot_source[lots] != SOURCE_PCF]
    for table, pairs, members in (("runs", lf.issue_runs, runs), ("lots", lf.issue_lots, lots)):
        if pairs is None or not len(pairs):
            continue
        hit = _pairs_of(pairs, members)
        for k in np.unique(hit[:, 1]).tolist():
            per.setdefault(int(k), []).append((table, np.unique(hit[hit[:, 1] == k, 0])))
    want = sorted({int(r) for groups in per.values() for t, o in groups if t == "runs" for r in o.tolist()})
    names = run_ids(store, [int(lf.store_run_idx[r]) for r in want])
    out: list[dict[str, Any]] = []
    gaps: list[dict[str, Any]] = []
    for k, groups in sorted(per.items()):
        base = lf.problems[k]
        table, owners = groups[0]
        first = (f"run {names.get(int(lf.store_run_idx[owners[0]]), owners[0])}" if table == "runs"
                 else f"lot {snap.lot_id(int(owners[0]))}")
        count = sum(len(o) for _, o in groups)
        out.append({"kind": base["kind"], "location": first, "message": base["message"], "count": count})
        if base["kind"] != "missing":
            continue
        for t, o in groups:
            for q in o.tolist():
                if len(gaps) < _LIST_LIMIT:
                    rec = (f"run {names.get(int(lf.store_run_idx[q]), q)}" if t == "runs"
                           else f"lot {snap.lot_id(int(q))}")
                    gaps.append({"record": rec, "missing": base["message"]})
    out += [dict(p) for p in lf.problems if str(p.get("location", "")).startswith("override ")]
    return out, gaps


@dataclass(frozen=True, slots=True)
class ClosureQuality:
    """What one lot's footprint rests on and lacks (see :func:`closure_quality`)."""

    complete: bool
    problems: tuple[FootprintProblem, ...]
    missing_inputs: tuple[MissingInput, ...]
    contributions: tuple[Contribution, ...]
    source_lots: tuple[SourceLot, ...]
    source_lots_total: int


def closure_quality(store: SqlStore, lf: LedgerFootprint, i: int,
                    lots: np.ndarray[Any, Any] | None = None) -> ClosureQuality:
    """``complete``, ``problems``, ``missing_inputs``, ``contributions`` and ``source_lots`` of lot ``i``'s footprint.

    ``contributions`` split the lot's footprint [kg CO2e per kg of the lot] by source (our runs' activity data;
    each supplier PCF by document; each secondary factor by key and citation; missing), summing to its
    ``kg_co2e_per_kg``, each with the public citations of the factors behind it; ``source_lots`` lists every source lot of the closure with its source (first
    1 000), ``missing_inputs`` every record of the closure that lacks data (first 1 000).
    """
    snap = lf.snapshot
    lots = trace_up(snap, i).lots if lots is None else lots  # the upstream closure, ascending
    runs = np.unique(snap.lot_run[lots])
    runs = runs[runs >= 0]
    problems, gaps = _problems(store, lf, lots, runs)
    labels = [_label(lf, int(q)) for q in lots.tolist()]
    cites: dict[str, list[str]] = {}
    for q in lots.tolist():
        info = (lf.lot_inputs or {}).get(int(q))
        if info and snap.lot_run[q] < 0:
            cites.setdefault(str(info["source"]), list(info.get("citations", [])))
    names = sorted(set(labels))
    index = {label: k for k, label in enumerate(names)}
    split = fp.upstream_breakdown(snap, lf.own[:, 0], i, np.array([index[label] for label in labels], np.int64),
                                  lots=lots)
    contributions = tuple(Contribution(names[c], v, tuple(cites.get(names[c], [])))
                          for c, v in sorted(split.items(), key=lambda kv: -kv[1]) if c >= 0)
    src_lots = [int(q) for q in lots.tolist() if snap.lot_run[q] < 0]
    source_lots = []
    for q in src_lots[:_LIST_LIMIT]:
        pcf = ((lf.lot_inputs or {})[q]["supplier_pcf"]
               if lf.lot_source is not None and lf.lot_source[q] == SOURCE_PCF else None)
        source_lots.append(SourceLot(snap.lot_id(q), snap.material_codes[int(snap.lot_material[q])],
                                     float(lf.own[q, 0]), _label(lf, q), tuple(cites.get(_label(lf, q), [])),
                                     None if pcf is None else SupplierPcfRef(**pcf)))
    complete = bool(lf.x[i, -1] == 0)
    return ClosureQuality(complete, tuple(FootprintProblem(p["kind"], p["location"], p["message"], p["count"])
                                          for p in problems),
                          tuple(MissingInput(g["record"], g["missing"]) for g in gaps), contributions,
                          tuple(source_lots), len(src_lots))

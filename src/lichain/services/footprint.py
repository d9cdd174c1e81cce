"""Use case: the cradle-to-gate carbon footprint of every lot, and of one lot with its breakdown (issue 5).

Why here: the numbers come from three places — the snapshot (graph and masses), the bulk emission reader (own
emissions per run, per commissioned lot, per shipment) and a few master-data columns (run kinds, site kinds,
declared values for economic allocation) — and one pass of the propagation kernel turns them into every lot's
footprint (:mod:`lichain.analysis.footprint`). The whole-ledger result is cached per chain head: in memory, and
on disk beside the snapshot cache (:mod:`lichain.services.footprint_cache`: the per-kg own burdens, re-propagated
on load, a fraction of a second even at a million lots). Any appended event, including a factor override, changes
the head and so the cache key; a head reached by appended lots and runs only is reached by extending the cached
rows (:mod:`lichain.services.footprint_extend`), in memory or from the disk cache.

Headline numbers are location-based (grid mix; the basis the draft EV carbon-footprint delegated act would
accept); the market-based total is reported beside them. That delegated act is **not adopted**: nothing here
claims compliance with it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from lichain.analysis import footprint as fp
from lichain.analysis.snapshot import F64, I64, Snapshot
from lichain.analysis.trace import trace_up
from lichain.core.errors import NotFoundError
from lichain.core.factors import FactorLibrary
from lichain.services.footprint_cache import load_footprint, save_footprint
from lichain.services.footprint_results import (
    Delivery,
    FootprintTotals,
    InputLot,
    LotFootprint,
    MarketTotals,
    OwnStep,
    PerKwh,
    RunAllocation,
    factor_from_json,
)
from lichain.services.footprint_sources import closure_quality, lot_inputs
from lichain.services.query import canonical_lot_id
from lichain.services.snapshot import BackgroundRefresh, ahead_of, load_snapshot
from lichain.storage import footprint_sql as fsql
from lichain.storage.emissions_reader import EmissionArrays, read_emissions, shipment_emissions
from lichain.storage.queries import find_lot
from lichain.storage.sql import SqlStore

__all__ = ["LedgerFootprint", "footprint_of", "ledger_footprint", "lot_footprint", "make_room", "stale_for_lot"]

_memo: dict[str, LedgerFootprint] = {}
_results: dict[tuple[str, int, float | None, float | None], tuple[LedgerFootprint, LotFootprint]] = {}
_LOCK = threading.Lock()

NOTES = (
    "Breakdowns (by_stage, by_site, by_cause) are location-based, in kg CO2e per kg of this lot; each sums to "
    "kg_co2e_per_kg.",
    "Stages are the producer's view of its own steps. In a cell maker's Art. 7 declaration a pCAM or CAM lot "
    "would most likely enter whole as 'raw material acquisition and pre-processing' (Regulation (EU) 2023/1542 "
    "Annex II; the life-cycle stages are fixed by the delegated act, not adopted).",
    "The EV carbon-footprint delegated act (draft Ares(2024)3131389) is not adopted: no compliance is claimed.",
)


@dataclass(frozen=True, eq=False)
class LedgerFootprint:
    """Footprint of every lot of a ledger at one chain head.

    ``own`` and ``x`` are float64[N, K] in :data:`lichain.analysis.footprint.COLUMNS` order [kg CO2e kg⁻¹]: the
    lot's own allocated burden and its cradle-to-gate footprint. ``snapshot`` carries the allocation used.
    ``problems`` are factor and allocation problems (dicts: kind, location, message, count), ``issue_runs`` /
    ``issue_lots`` (position, problem number) pairs naming every run and lot each problem affects, ``lot_source``
    how each lot's own burden is known (codes of :mod:`lichain.storage.emissions_reader`) and ``lot_inputs``
    what a commissioned or purchased lot's burden rests on (by lot position: supplier PCF or factors).
    """

    head: str
    how: str
    snapshot: Snapshot
    store_lot_idx: I64
    store_run_idx: I64
    own: F64
    x: F64
    alloc: F64
    economic: np.ndarray[Any, np.dtype[np.bool_]]
    problems: tuple[dict[str, Any], ...]
    factors: tuple[dict[str, Any], ...]
    library_version: str
    issue_runs: I64 | None = None
    issue_lots: I64 | None = None
    lot_source: np.ndarray[Any, np.dtype[np.int8]] | None = None
    lot_inputs: dict[int, dict[str, Any]] | None = None
    seq: int = -1  # the event the head is of (-1: unknown; then it is never extended)
    #: Shared by a footprint and its extensions by appended lots and runs (carried by ``replace``), new for each
    #: computation or load: within one lineage the figures of a lot already on record do not change.
    lineage: object = field(default_factory=object)


def _aligned(store_idx: I64, rows: list[Any], default: Any, dtype: Any) -> np.ndarray[Any, Any]:
    """Values of (idx, value) rows placed at the positions of ``store_idx`` (``default`` elsewhere)."""
    out = np.full(store_idx.shape[0], default, dtype=dtype)
    if not rows or not store_idx.shape[0]:
        return out
    idx = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    pos = np.minimum(np.searchsorted(store_idx, idx), store_idx.shape[0] - 1)
    ok = store_idx[pos] == idx
    vals = np.array([r[1] for r in rows], dtype=dtype)
    out[pos[ok]] = vals[ok]
    return out


def _value(text: str | None) -> float:
    try:
        return float(Decimal(text)) if text is not None else np.nan
    except InvalidOperation:
        return np.nan


def _stage_codes(kind: I64, kind_names: list[str], mat: I64, site: I64, snap: Snapshot,
                 site_kind: dict[str, str], default: int) -> np.ndarray[Any, np.dtype[np.int8]]:
    """:func:`lichain.analysis.footprint.stage_code` of every (run kind, material stage, site) triple, vectorised
    over the distinct triples (code -1: none)."""
    n_mat, n_site = len(snap.stage_names) + 1, len(snap.site_ids) + 1
    key = ((kind + 1) * n_mat + (mat + 1)) * n_site + (site + 1)
    uniq, inv = np.unique(key, return_inverse=True)
    vals = np.empty(uniq.shape[0], np.int8)
    for j, u in enumerate(uniq.tolist()):
        k, rest = divmod(u, n_mat * n_site)
        m, s = divmod(rest, n_site)
        vals[j] = fp.stage_code(kind_names[k - 1] if k > 0 else None,
                                snap.stage_names[m - 1] if m > 0 else None,
                                site_kind.get(snap.site_ids[s - 1]) if s > 0 else None, default=default)
    out: np.ndarray[Any, np.dtype[np.int8]] = vals[inv.reshape(-1)]
    return out


def _own(store: SqlStore, snap: Snapshot, lot_idx: I64, run_idx: I64, em: EmissionArrays,
         run_from: int | None = 0) -> fp.OwnEmissions:
    """Own emissions with the life-cycle stage of every run and commissioned lot (run kinds read from store index
    ``run_from`` on; None: there are no runs)."""
    site_kind = fsql.site_kinds(store)
    names: dict[str, int] = {}
    rows = fsql.run_kinds(store, run_from) if run_from is not None else []
    kind = _aligned(run_idx, [(i, names.setdefault(k, len(names))) for i, k in rows], -1, np.int64)
    # material stage of each run's heaviest output
    has = snap.lot_run >= 0
    order = np.lexsort((-snap.lot_mass_kg[has], snap.lot_run[has]))
    runs_sorted = snap.lot_run[has][order]
    first = np.flatnonzero(np.r_[True, runs_sorted[1:] != runs_sorted[:-1]]) if runs_sorted.size else runs_sorted
    out_stage = np.full(snap.n_runs, -1, np.int64)
    out_stage[runs_sorted[first]] = snap.lot_stage[has][order][first]
    run_stage = _stage_codes(kind, list(names), out_stage, snap.run_site.astype(np.int64), snap, site_kind, fp.MAIN)
    lot_stage = np.zeros(snap.n_lots, np.int8)
    supplier = em.lot_supplier_kg_co2e if em.lot_supplier_kg_co2e is not None else np.zeros(snap.n_lots)
    src = np.flatnonzero((em.lot_location_kg_co2e != 0) | (supplier != 0))
    lot_stage[src] = _stage_codes(np.full(src.shape[0], -1, np.int64), [], snap.lot_stage[src].astype(np.int64),
                                  snap.lot_site[src].astype(np.int64), snap, site_kind, fp.RAW)
    return fp.OwnEmissions(
        run_location_by_cause=em.run_location_by_cause_kg_co2e, run_market=em.run_market_kg_co2e,
        run_stage=run_stage, run_complete=em.run_complete,
        lot_location_by_cause=em.lot_location_by_cause_kg_co2e, lot_market=em.lot_market_kg_co2e,
        lot_transport=np.zeros(snap.n_lots), lot_stage=lot_stage, lot_complete=em.lot_complete,
        run_transport=em.run_transport_kg_co2e, lot_supplier=supplier)


def _alloc_problems(store: SqlStore, run_idx: I64, fallback: np.ndarray[Any, Any]) -> list[dict[str, Any]]:
    bad = np.flatnonzero(fallback)
    if not bad.size:
        return []
    names = fsql.run_ids(store, (int(run_idx[i]) for i in bad[:50]))
    first = names.get(int(run_idx[bad[0]]), str(int(run_idx[bad[0]])))
    return [{"kind": "allocation", "location": f"run {first}", "count": int(bad.size),
             "message": "economic allocation needs a declared value for every output and a positive total; "
                        "mass allocation used"}]


def _compute(store: SqlStore, library: FactorLibrary | None, use_cache: bool = True,
             seq: int = -1) -> LedgerFootprint:
    ls = load_snapshot(store, use_cache=use_cache)
    snap = ls.snapshot
    em = read_emissions(store, ls.store_run_idx, ls.store_lot_idx, library=library)
    values = _aligned(ls.store_lot_idx, [(i, _value(v)) for i, v in fsql.alloc_values(store)], np.nan, np.float64)
    alloc = fp.allocation(snap.lot_run, snap.lot_mass_kg, snap.n_runs, values)
    own = _own(store, snap, ls.store_lot_idx, ls.store_run_idx, em)
    snap_a = fp.reallocated(snap, alloc)
    o, x = fp.footprint(snap_a, own, alloc.factor)
    problems = [{"kind": p.kind, "location": p.location, "message": p.message, "count": p.count}
                for p in em.problems] + _alloc_problems(store, ls.store_run_idx, alloc.fallback)
    issue_runs = em.issue_runs if em.issue_runs is not None else np.zeros((0, 2), np.int64)
    bad = np.flatnonzero(alloc.fallback)
    if bad.size:  # the allocation problem is owned by every run that fell back to mass allocation
        issue_runs = np.concatenate([issue_runs, np.column_stack([bad, np.full(bad.size, len(em.problems))])])
    return LedgerFootprint(ls.head, "built", snap_a, ls.store_lot_idx, ls.store_run_idx, o, x, alloc.factor,
                           alloc.economic, tuple(problems), tuple(f.public_json() for f in em.factors_used),
                           em.library_version, issue_runs.astype(np.int64), em.issue_lots, em.lot_source,
                           lot_inputs(em), seq if ls.seq == seq else -1)


def ledger_footprint(store: SqlStore, *, library: FactorLibrary | None = None,
                     use_cache: bool = True) -> LedgerFootprint:
    """Footprint of every lot (whole-ledger arrays), cached per chain head when the default library is used.

    When the head moved by appended lots and runs only, the cached footprint is extended by the new rows
    (:mod:`lichain.services.footprint_extend`); else it is recomputed.

    Parameters
    ----------
    store : SqlStore
        The ledger.
    library : FactorLibrary, optional
        Factor library (default: the shipped one; only then is the result cached). Factor overrides recorded in
        the ledger always apply.
    use_cache : bool
        Use and refresh the caches (this footprint cache, in memory and on disk, and the snapshot cache); False
        computes everything from the store.
    """
    seq, head = store.head()
    key = store.url
    cacheable = use_cache and library is None
    if not cacheable:
        return _compute(store, library, use_cache, seq)
    hit = _memo.get(key)
    if hit is not None and (hit.head == head or ahead_of(hit.seq, seq)):
        return hit
    # one extension or computation at a time per process, the others then find it done; the connection is taken
    # before the lock (:meth:`SqlStore.reading`)
    with store.reading(), _LOCK:
        seq, head = store.head()
        hit = _memo.get(key)
        if hit is not None and (hit.head == head or ahead_of(hit.seq, seq)):
            return hit
        lf = None
        if hit is not None and hit.seq >= 0:
            from lichain.services.footprint_extend import extend_footprint

            lf = extend_footprint(store, hit, load_snapshot(store), seq)
        if lf is None:
            lf = load_footprint(store, head, seq)
        if lf is None:
            lf = _compute(store, library, use_cache, seq)
            if lf.head == head:
                save_footprint(store, lf)
        if lf.head == head:
            _memo.clear()
            _memo[key] = lf
    return lf


_REFRESH = BackgroundRefresh(ledger_footprint)  # one background bring-up to the head at a time


def make_room(store: SqlStore) -> None:
    """Copy this process's whole-ledger footprint rows into buffers with room to grow (a service worker, once
    loaded), so that extensions append in place instead of the first one copying the memory-held rows."""
    from dataclasses import replace

    from lichain.analysis.grow import append_rows

    with _LOCK:
        hit = _memo.get(store.url)
        if hit is not None:
            _memo[store.url] = replace(
                hit, own=append_rows(hit.own, hit.own[:0]), x=append_rows(hit.x, hit.x[:0]),
                alloc=append_rows(hit.alloc, hit.alloc[:0]), economic=append_rows(hit.economic, hit.economic[:0]),
                lot_source=None if hit.lot_source is None else append_rows(hit.lot_source, hit.lot_source[:0]))


def stale_for_lot(store: SqlStore, lot_idx: int) -> LedgerFootprint | None:
    """The cached footprint if it holds lot ``lot_idx`` (store index) and nothing recorded since changes the
    figures of lots already on record: that lot's figures are then the current head's too (appended lots change
    no earlier lot), and its ``head`` says where they were computed. A background thread brings the cache to the
    head meanwhile. None when there is no such cache."""
    hit = _memo.get(store.url)
    if hit is None or hit.seq < 0 or not hit.store_lot_idx.size or lot_idx > int(hit.store_lot_idx[-1]):
        return None
    from lichain.services.footprint_extend import appended_only

    seq, head = store.head()
    if hit.head == head or ahead_of(hit.seq, seq):  # at this head, or brought further by another thread
        return hit
    if not appended_only(store, hit.seq, hit.head, seq, head):
        return None
    _REFRESH.start(store)  # bring the cache to the head in the background
    return hit


def _iso(us: int) -> str:
    from datetime import UTC, datetime, timedelta

    from lichain.core.codec import format_time

    return format_time(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us))


def _energy(formula: str | None, stage: str, capacity: float | None, voltage: float | None) -> fp.CamEnergy | None:
    """Capacity and voltage for the per-kWh figure: given values, else the formula's defaults (CAM lots only)."""
    default = fp.cam_energy(formula)
    if capacity is None and voltage is None:
        return default if stage == "cam" else None
    given = [n for n, v in (("capacity", capacity), ("voltage", voltage)) if v is not None]
    source = "given: " + ", ".join(given)
    if capacity is None or voltage is None:
        if default is None:
            raise ValueError(f"no default capacity and voltage for formula {formula!r}: give both")
        capacity = default.capacity_mah_per_g if capacity is None else capacity
        voltage = default.voltage_v if voltage is None else voltage
        source += f"; default for {formula}: {default.source}"
    return fp.CamEnergy(float(capacity), float(voltage), source)


def _per_kwh(e: fp.CamEnergy, x: F64) -> PerKwh:
    k = e.kwh_per_kg
    return PerKwh(
        fp.per_kwh(float(x[0]), e.capacity_mah_per_g, e.voltage_v),
        fp.per_kwh(float(x[1]), e.capacity_mah_per_g, e.voltage_v),
        {s: v / k for s, v in fp.named(x, "stage:").items()},
        e.capacity_mah_per_g, e.voltage_v, k, e.source,
        ("given" if e.source.startswith("given") and "default" not in e.source
         else "default" if not e.source.startswith("given") else "given and default"),
        "per kWh of the CAM's nominal energy (capacity × average voltage); the Art. 7 functional unit is the "
        "energy delivered over the battery's service life, which the cell maker derives further",
    )


def _run_and_inputs(store: SqlStore, lf: LedgerFootprint, i: int) -> tuple[RunAllocation | None,
                                                                         tuple[InputLot, ...]]:
    snap = lf.snapshot
    r = int(snap.lot_run[i])
    if r < 0:
        return None, ()
    ident = fsql.run_identity(store, int(lf.store_run_idx[r]))
    assert ident is not None  # the snapshot's runs are the store's
    run = RunAllocation(ident[0], ident[1], ident[2], "economic" if lf.economic[r] else "mass", float(lf.alloc[i]))
    a = float(lf.alloc[i])
    inputs = []
    for j in range(int(snap.up_indptr[i]), int(snap.up_indptr[i + 1])):
        s = int(snap.up_src[j])
        kg = float(snap.up_kg[j])
        inputs.append(InputLot(snap.lot_id(s), kg / a if a > 0 else None, kg, float(lf.x[s, 0])))
    return run, tuple(inputs)


def footprint_of(store: SqlStore, lot_id: str, capacity_mah_per_g: float | None = None,
                 voltage_v: float | None = None, *, library: FactorLibrary | None = None) -> dict[str, Any]:
    """:func:`lot_footprint` as JSON-ready data (the ``footprint --json`` shape)."""
    from lichain.core.plain import jsonable

    out: dict[str, Any] = jsonable(lot_footprint(store, lot_id, capacity_mah_per_g, voltage_v, library=library))
    return out


def lot_footprint(store: SqlStore, lot_id: str, capacity_mah_per_g: float | None = None,
                  voltage_v: float | None = None, *, library: FactorLibrary | None = None) -> LotFootprint:
    """Cradle-to-gate footprint of one lot with its breakdowns (the ``footprint --json`` shape).

    Parameters
    ----------
    store : SqlStore
        The ledger.
    lot_id : str
        Lot id (an EPC URN and its GS1 Digital Link URI name the same lot).
    capacity_mah_per_g, voltage_v : float, optional
        Specific capacity [mAh g⁻¹] and average voltage [V] for the per-kWh figure. CAM lots whose formula has
        defaults (:data:`lichain.analysis.footprint.CAM_DEFAULTS`, e.g. NCM811 200 mAh g⁻¹ × 3.7 V) get it
        without them.
    library : FactorLibrary, optional
        Factor library (default: the shipped one).

    Returns
    -------
    LotFootprint
        ``lot``, ``kg_co2e_per_kg`` [kg CO2e kg⁻¹] and ``kg_co2e`` (location-based), ``own_kg_co2e`` (this
        lot's allocated share of its run's emissions, including the inbound transport of what the run consumed, plus
        its commissioning) [kg CO2e],
        ``location_based`` / ``market_based`` totals, ``by_stage`` / ``by_site`` / ``by_cause`` [kg CO2e per kg of
        this lot], ``own`` (the lot's own step by stage and cause), ``run`` with its allocation and ``inputs``
        (so that ``kg_co2e = own_kg_co2e + Σ allocated_kg × input kg_co2e_per_kg`` can be re-checked),
        ``complete``, ``problems``, ``factors``, ``deliveries`` (each live shipment of the lot: its transport
        emissions and the delivered footprint per kg shipped, ``kg_co2e_per_kg`` + earlier legs + this leg's
        emissions / mass) and ``per_kwh`` where capacity and voltage are known.

    Raises
    ------
    NotFoundError
        Unknown or retracted lot.
    ValueError
        A capacity or voltage is given and the formula has no default for the other.
    """
    row = find_lot(store, lot_id) or find_lot(store, canonical_lot_id(lot_id))
    if row is None:
        raise NotFoundError(f"unknown lot {lot_id}")
    lf = (stale_for_lot(store, row.idx) if library is None else None) or ledger_footprint(store, library=library)
    key = (store.url, row.idx, capacity_mah_per_g, voltage_v)
    got = _results.get(key) if library is None else None
    if got is not None and got[0].lineage is lf.lineage:  # the same footprint or one extended from it by appended
        return got[1]  # lots and runs: the same answer, at the head it names (all else it reads changes only with
        #                kinds that start a new lineage: see :func:`stale_for_lot`)
    out = _lot_footprint(store, lf, row, capacity_mah_per_g, voltage_v, library)
    if library is None:
        if len(_results) > 4096:
            _results.clear()
        _results[key] = (lf, out)
    return out


def _lot_footprint(store: SqlStore, lf: LedgerFootprint, row: Any, capacity_mah_per_g: float | None,
                   voltage_v: float | None, library: FactorLibrary | None) -> LotFootprint:
    snap = lf.snapshot
    i = int(np.searchsorted(lf.store_lot_idx, row.idx))
    if i >= lf.store_lot_idx.shape[0] or lf.store_lot_idx[i] != row.idx:
        raise NotFoundError(f"lot {row.id} is retracted: it has no footprint")
    formula = fsql.material_formula(store, row.material)
    energy = _energy(formula, row.stage, capacity_mah_per_g, voltage_v)
    m = float(snap.lot_mass_kg[i])
    x, own = lf.x[i], lf.own[i]
    closure = trace_up(snap, i).lots  # read once for both breakdowns
    sites = fp.upstream_breakdown(snap, lf.own[:, 0], i, snap.lot_site[closure], lots=closure)
    run, inputs = _run_and_inputs(store, lf, i)

    def totals(c: int) -> tuple[float, float, float]:
        return float(x[c]), float(x[c]) * m, float(own[c]) * m

    q = closure_quality(store, lf, i, closure)
    return LotFootprint(
        row.id, row.material, formula, row.stage, row.site, _iso(row.produced_us), m,
        {e: v / 1e9 for e, v in sorted(row.assay.items())}, row.origin, "location_based",
        float(x[0]), float(x[0]) * m, float(own[0]) * m, float(x[0] - own[0]) * m,
        FootprintTotals(*totals(0)),
        MarketTotals(*totals(1), electricity_kg_co2e_per_kg=float(x[fp.column("cause:electricity")] + x[1] - x[0])),
        dict(fp.named(x, "stage:")),
        {snap.site_ids[s] if 0 <= s < len(snap.site_ids) else str(s): v
         for s, v in sorted(sites.items(), key=lambda kv: -kv[1])},
        dict(fp.named(x, "cause:")),
        OwnStep(float(own[0]) * m, {k: v * m for k, v in fp.named(own, "stage:").items()},
                {k: v * m for k, v in fp.named(own, "cause:").items()}),
        run, inputs, q.complete, q.problems, q.missing_inputs, q.contributions, q.source_lots,
        q.source_lots_total, lf.library_version, tuple(factor_from_json(f) for f in lf.factors), lf.head, NOTES,
        _deliveries(store, row.idx, float(x[0]), library),
        None if energy is None else _per_kwh(energy, x),
    )


def _deliveries(store: SqlStore, lot_idx: int, x0: float, library: FactorLibrary | None) -> tuple[Delivery, ...]:
    """Each live shipment of the lot with its delivered footprint per kg shipped (gate + earlier legs + this leg)."""
    names = fsql.shipment_ends(store, lot_idx)
    if not names:
        return ()
    em = shipment_emissions(store, lot_idx, library=library)
    out = []
    for k, i in enumerate(em.ship_idx.tolist()):
        sid, to, org = names[i]
        e, m, tau = float(em.kg_co2e[k]), float(em.mass_kg[k]), float(em.origin_kg_co2e_per_kg[k])
        out.append(Delivery(sid, to, org, m, e, tau, x0 + tau + (e / m if m > 0 else 0.0)))
    return tuple(out)

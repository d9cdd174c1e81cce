"""Bulk read of activity data, shipments and factor overrides into per-run and per-lot emission arrays.

Footprint propagation (DESIGN §3) needs the own emissions of every run and of every commissioned source lot,
and the transport emissions of every shipment charged to the mass that travelled, as float64 arrays aligned with the lot graph that
:func:`lichain.storage.arrays.read_arrays` compiles. Calling :func:`lichain.core.emissions.own_emissions` once
per run would cost seconds per 100 k runs, so this reader fetches each table once, resolves every distinct
datum context — (site, kind, name, factor key, instrument, override period) — once with the same pure
:func:`~lichain.core.emissions.line_factor`, and sums amount × factor with numpy ``bincount``. Both paths give
the same numbers. Retracted runs, lots, shipments and overrides are left out. A datum without a factor counts
zero, marks its run or lot incomplete and is reported, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from lichain.core.emissions import CAUSES, LineFactor, element_problem, line_factor, transport_factor
from lichain.core.factors import Factor, FactorLibrary, FactorProblem, FactorResolver
from lichain.core.model import FactorOverride, Site, SupplierPcf
from lichain.core.supplier_pcf import pcf_per_kg
from lichain.storage.custody_sql import transport_charges
from lichain.storage.inlist import driver_rows
from lichain.storage.sql import SqlStore, chunks
from lichain.storage.supplier_pcf_sql import PcfRow, lot_assays, source_lots_without_data, supplier_pcfs

__all__ = ["SOURCE_ACTIVITY", "SOURCE_CUTOFF", "SOURCE_MISSING", "SOURCE_NONE", "SOURCE_PCF", "EmissionArrays", "EmissionProblem",
           "ShipmentEmissions", "read_emissions", "shipment_emissions"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

_LIVE = "NOT IN (SELECT target_seq FROM retractions)"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_C = len(CAUSES)
_CTX_CHUNK = 500  # datum contexts per query (bound parameters stay well under driver limits)


@dataclass(frozen=True, slots=True)
class EmissionProblem:
    """A factor problem, aggregated over the records it affects; ``location`` names one of them."""

    kind: str  # missing | fallback | unit
    location: str  # an affected record, e.g. "run R-1", "lot L1", "shipment S1", "override grid:CN"
    message: str
    count: int  # activity rows or shipments affected


@dataclass(frozen=True, eq=False)
class EmissionArrays:
    """Own and transport emissions [kg CO2e] aligned with ``store_run_idx`` (R) and ``store_lot_idx`` (N).

    ``*_by_cause_kg_co2e`` columns follow :data:`causes` (electricity, fuels, reagents, process); the totals are
    their row sums. Location-based and market-based differ only in electricity
    (see :mod:`lichain.core.emissions`). ``lot_*`` own emissions are those of commissioning activity (e.g.
    mining energy of a source lot). Shipments' emissions go with the mass that travelled
    (:mod:`lichain.analysis.transport`): ``run_transport_kg_co2e`` is the inbound transport of what each run
    consumed; ``lot_transport_kg_co2e`` what a lot's unconsumed stock away from home still carries (e.g. a
    delivery to a customer); ``lot_transport_tkm`` the lot's t·km. Per live shipment (``ship_idx``, store
    numbers): its emissions ``ship_kg_co2e``, mass ``ship_mass_kg`` and the lot's transport intensity at its
    origin ``ship_origin_kg_co2e_per_kg`` (earlier legs). ``*_complete`` is False where some datum had no factor
    (``ship_complete``: the shipment's transport factor).

    Source lots: ``lot_supplier_kg_co2e`` is the burden a supplier PCF gives a purchased lot [kg CO2e] (it replaces
    the lot's commissioning emissions, which are then zero); ``lot_source`` codes how each lot's own burden is
    known (:data:`SOURCE_NONE` for lots made by a run, :data:`SOURCE_ACTIVITY`, :data:`SOURCE_PCF`,
    :data:`SOURCE_MISSING` for a virgin source lot with neither, which is incomplete; :data:`SOURCE_CUTOFF` for
    recycled feedstock without data, burden-free by the cut-off rule); ``lot_pcf`` the PCF in force by
    lot position; ``lot_factors`` the factors of each commissioned lot's lines. ``issue_runs`` / ``issue_lots``
    are (position, problem number) pairs naming every run and lot a problem of ``problems`` affects.
    """

    causes: tuple[str, ...]
    run_location_kg_co2e: F64
    run_market_kg_co2e: F64
    run_location_by_cause_kg_co2e: F64
    run_market_by_cause_kg_co2e: F64
    run_complete: B
    run_transport_kg_co2e: F64
    lot_location_kg_co2e: F64
    lot_market_kg_co2e: F64
    lot_location_by_cause_kg_co2e: F64
    lot_market_by_cause_kg_co2e: F64
    lot_complete: B
    lot_transport_kg_co2e: F64
    lot_transport_tkm: F64
    ship_idx: I64
    ship_kg_co2e: F64
    ship_mass_kg: F64
    ship_origin_kg_co2e_per_kg: F64
    ship_complete: B
    factors_used: tuple[Factor, ...]
    problems: tuple[EmissionProblem, ...]
    library_version: str
    lot_supplier_kg_co2e: F64 | None = None
    lot_source: npt.NDArray[np.int8] | None = None
    lot_pcf: dict[int, PcfRow] = field(default_factory=dict)
    lot_factors: dict[int, tuple[Factor, ...]] = field(default_factory=dict)
    issue_runs: I64 | None = None
    issue_lots: I64 | None = None


def _time(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _positions(store_idx: I64, idx: I64) -> tuple[I64, B]:
    """Positions of ``idx`` in the sorted ``store_idx`` and a mask of those present."""
    n = len(store_idx)
    if n and int(store_idx[-1]) - int(store_idx[0]) == n - 1:  # contiguous numbering: plain offset
        pos = idx - store_idx[0]
        ok = (pos >= 0) & (pos < n)
        return np.where(ok, pos, 0), ok
    pos = np.searchsorted(store_idx, idx)
    ok = (idx >= 0) & (pos < n)
    ok[ok] &= store_idx[pos[ok]] == idx[ok]
    return pos, ok


def _groups(key: I64) -> tuple[I64, I64]:
    """A representative row of each distinct non-negative ``key`` and the group of every row."""
    m = len(key)
    k = int(key.max()) + 1 if m else 0
    if k > max(1 << 22, 2 * m):  # sparse keys: sort
        _, first, inv = np.unique(key, return_index=True, return_inverse=True)
        return first.astype(np.int64), inv.reshape(-1).astype(np.int64)
    present = np.flatnonzero(np.bincount(key, minlength=k))  # dense keys: a lookup table, no sort
    lut = np.zeros(k, np.int64)
    lut[present] = np.arange(len(present))
    inv = lut[key]
    rep = np.zeros(len(present), np.int64)
    rep[inv] = np.arange(m)  # any member represents its group
    return rep, inv


class _Problems:
    """Collects problems per (kind, message), counting rows and keeping one affected record as the example.

    ``owners`` keeps, per problem, the positions of every affected run (table ``runs``) or lot (``lots``; a
    shipment's problem is owned by its lot), so a footprint can list the problems of one lot's upstream only.
    """

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], list[Any]] = {}
        self.owners: dict[tuple[str, str], list[tuple[str, I64]]] = {}

    def add(self, p: FactorProblem, table: str, idx: int, count: int, owners: I64 | None = None) -> None:
        item = self.items.setdefault((p.kind, p.message), [table, idx, 0])
        item[2] += count
        if owners is not None:
            self.owners.setdefault((p.kind, p.message), []).append(
                ("runs" if table == "runs" else "lots", np.unique(owners)))


def _ctx_query(n: int, col: str) -> str:
    """Activity rows (owner idx, context code, amount) of ``n`` datum contexts given as bound VALUES.

    Matching the contexts in SQL returns numbers only: fetching the four strings of every row costs more.
    """
    values = ", ".join(f"({i}, CAST(:k{i} AS VARCHAR), CAST(:n{i} AS VARCHAR), "
                       f"CAST(:f{i} AS VARCHAR), CAST(:i{i} AS VARCHAR))" for i in range(n))
    return (f"WITH c(code, kind, name, fk, inst) AS (VALUES {values}) "
            f"SELECT a.{col}, c.code, CAST(a.amount AS DOUBLE PRECISION) "
            "FROM activities a JOIN c ON c.kind = a.kind AND c.name = a.name "
            "AND c.fk = COALESCE(a.factor_key, '') AND c.inst = COALESCE(a.instrument, '') "
            f"WHERE a.{col} BETWEEN :lo AND :hi")


_ROW = np.dtype([("idx", np.int64), ("code", np.int64), ("amount", np.float64)])


def _activity_rows(conn: Any, col: str, lo: int, hi: int, ctx: Sequence[Any]) -> npt.NDArray[np.void]:
    """(owner idx, context code, amount) of every activity row whose ``col`` is in ``[lo, hi]``."""
    out: list[Any] = []
    if hi < lo:
        return np.zeros(0, _ROW)
    for c0 in range(0, len(ctx), _CTX_CHUNK):
        part = ctx[c0 : c0 + _CTX_CHUNK]
        params: dict[str, Any] = {"lo": lo, "hi": hi}
        for i, (kind, name, fk, inst) in enumerate(part):
            params.update({f"k{i}": kind, f"n{i}": name, f"f{i}": fk, f"i{i}": inst})
        rows = driver_rows(conn, _ctx_query(len(part), col), params)
        out.extend(rows if c0 == 0 else [(o, code + c0, amt) for o, code, amt in rows])
    return np.fromiter(out, _ROW, len(out))


@dataclass
class _Context:
    """What every owner (run or lot) resolution needs: sites, datum contexts, override bounds, the resolver."""

    sites: list[Site]
    site_pos: dict[str, int]
    ctx: Sequence[Any]
    bounds: I64
    resolver: FactorResolver
    problems: _Problems
    used: dict[Factor, None]


def _own(data: npt.NDArray[np.void], owners: Sequence[Any], store_idx: I64, table: str, c: _Context,
         assays: dict[int, dict[str, int]] | None = None) -> tuple[F64, F64, B, dict[int, set[Factor]]]:
    """Own emissions by cause [kg CO2e] (location, market), completeness and factors used, per position of ``store_idx``.

    A reagent line whose factor is per kg of a contained element counts amount × the owner lot's mass fraction
    of that element (``assays``: store idx → element → ppb); a run's line, or a lot without that assay, counts
    zero with a located ``missing`` problem.
    """
    n = len(store_idx)
    o_site, o_t, o_live = _owner(owners, store_idx, c.site_pos)
    pos, ok = _positions(store_idx, data["idx"])
    ok[ok] &= o_live[pos[ok]]
    keep = np.flatnonzero(ok)
    pos, code, amt = pos[keep], data["code"][keep], data["amount"][keep]
    site, t_us = o_site[pos], o_t[pos]
    bucket = np.searchsorted(c.bounds, t_us, side="right")
    first, inv = _groups((code * (len(c.sites) + 1) + site + 1) * (len(c.bounds) + 1) + bucket)
    g = len(first)
    f_loc, f_mkt = np.zeros(g), np.zeros(g)
    f_cause = np.zeros(g, np.int64)
    f_counted = np.ones(g, np.bool_)
    rows_per_group = np.bincount(inv, minlength=g)
    scale = np.ones(len(amt))
    used_by: dict[int, set[Factor]] = {}
    for j, i in enumerate(first.tolist()):
        kind, name, fk, inst = c.ctx[int(code[i])]
        s = int(site[i])
        where = c.sites[s] if s >= 0 else Site("?", "?", "", "", "")
        lf = line_factor(kind, name, fk or None, inst or None, where, _time(int(t_us[i])), c.resolver)
        f_loc[j], f_mkt[j] = float(lf.location), float(lf.market)
        f_cause[j] = CAUSES.index(lf.cause)
        f_counted[j] = lf.counted
        c.used.update(dict.fromkeys(lf.factors))
        members = np.flatnonzero(inv == j) if (lf.problems or lf.element or table == "lots") else None
        for prob in lf.problems:
            c.problems.add(prob, table, int(store_idx[pos[i]]), int(rows_per_group[j]), pos[members])
        if members is not None and table == "lots":
            for q in np.unique(pos[members]).tolist():
                used_by.setdefault(q, set()).update(lf.factors)
        if lf.element is not None and members is not None:
            _per_element(lf, name, table, members, pos, store_idx, assays or {}, scale, c)
    flat = pos * _C + f_cause[inv]
    refused = np.isnan(scale)
    w = amt * np.where(refused, 0.0, scale)
    loc = np.asarray(np.bincount(flat, weights=w * f_loc[inv], minlength=n * _C), np.float64)
    mkt = np.asarray(np.bincount(flat, weights=w * f_mkt[inv], minlength=n * _C), np.float64)
    complete = np.ones(n, np.bool_)
    complete[pos[~f_counted[inv]]] = False
    complete[pos[refused]] = False
    return loc.reshape(n, _C), mkt.reshape(n, _C), complete, used_by


def _per_element(lf: LineFactor, name: str, table: str, members: I64, pos: I64, store_idx: I64,
                 assays: dict[int, dict[str, int]], scale: F64, c: _Context) -> None:
    """Scale the rows of a per-kg-of-element line by their owner lot's mass fraction; refuse where there is none.

    Rows that cannot be converted get scale NaN (their owner is incomplete) and count zero.
    """
    el = lf.element
    assert el is not None
    owner_idx = store_idx[pos[members]]
    frac = np.array([assays.get(int(k), {}).get(el, 0) / 1e9 for k in owner_idx.tolist()]) if table == "lots" \
        else np.zeros(len(members))
    scale[members] = frac
    bad = frac <= 0
    if bad.any():
        scale[members[bad]] = np.nan
        noun = "lot" if table == "lots" else "run"
        p = element_problem(lf, name, f"the {noun}", table == "lots")
        c.problems.add(p, table, int(owner_idx[bad][0]), int(bad.sum()), pos[members[bad]])


def _setting_rows(conn: Any) -> tuple[list[Any], list[Any]]:
    """Every site, and every live factor override in recording order."""
    return (driver_rows(conn, "SELECT id, name, kind, country, organisation, grid_region FROM sites"),
            driver_rows(conn, "SELECT key, value, unit, source, site, valid_from_us, valid_to_us FROM overrides "
                        f"WHERE event_seq {_LIVE} ORDER BY event_seq"))


def _ship_rows(conn: Any, l0: int, l1: int, extra: Sequence[int] = ()) -> list[Any]:
    """Live shipments of lots numbered ``l0``..``l1`` and of ``extra``: (mode, from_site, idx, lot_idx, mass_mg,
    distance_km, shipped_us, to_site)."""
    return driver_rows(conn, "SELECT mode, from_site, idx, lot_idx, mass_mg, CAST(distance_km AS DOUBLE PRECISION), "
                       "shipped_us, to_site FROM shipments WHERE (lot_idx BETWEEN :l0 AND :l1"
                       f"{' OR lot_idx IN (' + ','.join(map(str, extra)) + ')' if extra else ''}) "
                       f"AND event_seq {_LIVE}", {"l0": l0, "l1": l1})


def _context(site_rows: Sequence[Any], ov_rows: Sequence[Any], ctx: Sequence[Any], library: FactorLibrary | None,
             extra_overrides: Sequence[FactorOverride]) -> _Context:
    overrides = [FactorOverride(r[0], Decimal(r[1]), r[2], r[3], r[4],
                                None if r[5] is None else _time(r[5]), None if r[6] is None else _time(r[6]))
                 for r in ov_rows] + list(extra_overrides)
    return _Context(
        sites=[Site(r[0], r[1], r[2], r[3], r[4], r[5]) for r in site_rows],
        site_pos={r[0]: i for i, r in enumerate(site_rows)}, ctx=ctx,
        bounds=np.unique(np.array([t for r in ov_rows for t in (r[5], r[6]) if t is not None], dtype=np.int64)),
        resolver=FactorResolver(library, overrides), problems=_Problems(), used={},
    )


@dataclass(frozen=True)
class ShipmentEmissions:
    """One lot's live shipments (store numbers ``ship_idx``): their transport emissions [kg CO2e], mass [kg] and
    the lot's transport intensity at each one's origin [kg CO2e kg⁻¹] (earlier legs), as in
    :class:`EmissionArrays`."""

    ship_idx: I64
    kg_co2e: F64
    mass_kg: F64
    origin_kg_co2e_per_kg: F64


def shipment_emissions(store: SqlStore, lot_idx: int, *, library: FactorLibrary | None = None) -> ShipmentEmissions:
    """The transport of one lot's live shipments: the shipment arrays of :func:`read_emissions` for that lot,
    read without its activity data (five statements instead of about eleven)."""
    lot = np.array([lot_idx], np.int64)
    with store.read() as conn:
        site_rows, ov_rows = _setting_rows(conn)
        ships = _ship_rows(conn, lot_idx, lot_idx)
        if not ships:
            empty = np.zeros(0)
            return ShipmentEmissions(np.zeros(0, np.int64), empty, empty, empty)
        _, ship_kg, ship_ok = _transport(ships, lot, _context(site_rows, ov_rows, (), library, ()))
        tr = transport_charges(conn, ships, ship_kg, ship_ok, np.zeros(0, np.int64), lot)
    return ShipmentEmissions(np.fromiter((r[2] for r in ships), np.int64, len(ships)), ship_kg,
                             np.fromiter((r[4] / 1e6 for r in ships), np.float64, len(ships)), tr.origin_per_kg)


def read_emissions(
    store: SqlStore,
    store_run_idx: I64,
    store_lot_idx: I64,
    *,
    library: FactorLibrary | None = None,
    extra_overrides: Sequence[FactorOverride] = (),
    ship_lots: Sequence[int] = (),
) -> EmissionArrays:
    """Own emissions per run and per source lot, and transport emissions per lot [kg CO2e].

    Parameters
    ----------
    store : SqlStore
        The ledger.
    store_run_idx, store_lot_idx : int64 arrays
        Sorted store numbering of the snapshot's runs and lots (``StoreArrays.store_run_idx`` /
        ``store_lot_idx`` of :func:`lichain.storage.arrays.read_arrays`); outputs are aligned with them. Only
        rows in their ``[min, max]`` range are read, so a snapshot extension can pass just its new rows (the
        transport of an old lot shipped later needs that lot in ``store_lot_idx``).
    library : FactorLibrary, optional
        Factor library (default: the shipped one). The ledger's live factor overrides always apply.
    extra_overrides : sequence of FactorOverride, optional
        Overrides applied after the ledger's, as if recorded last (what-if scenarios; undated only).
    ship_lots : sequence of int, optional
        Store numbers of further lots (outside ``store_lot_idx``) whose live shipments are read too: their
        emissions and factors count, and they charge the runs of ``store_run_idx`` that consume those lots (a
        footprint extension's new runs consuming earlier lots that travelled, or earlier lots shipped anew).

    Returns
    -------
    EmissionArrays
        See :class:`EmissionArrays`. Runs are dated by their end, commissioned lots by production, shipments
        by departure; site overrides of transport factors match the origin site.
    """
    run_idx = np.asarray(store_run_idx, dtype=np.int64)
    lot_idx = np.asarray(store_lot_idx, dtype=np.int64)
    R, N = len(run_idx), len(lot_idx)
    r0, r1 = (int(run_idx[0]), int(run_idx[-1])) if R else (1, 0)
    l0, l1 = (int(lot_idx[0]), int(lot_idx[-1])) if N else (1, 0)
    p = {"r0": r0, "r1": r1, "l0": l0, "l1": l1}
    with store.read() as conn:
        site_rows, ov_rows = _setting_rows(conn)
        timed = any(r[5] is not None or r[6] is not None for r in ov_rows)  # else time cannot matter
        ctx = driver_rows(conn, "SELECT DISTINCT kind, name, COALESCE(factor_key, ''), COALESCE(instrument, '') "
                          "FROM activities WHERE run_idx BETWEEN :r0 AND :r1 OR lot_idx BETWEEN :l0 AND :l1", p)
        run_data = _activity_rows(conn, "run_idx", r0, r1, ctx)
        lot_data = _activity_rows(conn, "lot_idx", l0, l1, ctx)
        runs = driver_rows(conn, f"SELECT idx, site, {'ended_us' if timed else '0'} FROM runs "
                           f"WHERE idx BETWEEN :r0 AND :r1 AND event_seq {_LIVE}", p) if len(run_data) else []
        lots = driver_rows(conn, f"SELECT idx, site, {'produced_us' if timed else '0'} FROM lots "
                           "WHERE idx BETWEEN :l0 AND :l1 AND idx IN (SELECT lot_idx FROM activities "
                           f"WHERE lot_idx IS NOT NULL) AND event_seq {_LIVE}", p) if len(lot_data) else []
        extra = sorted({int(i) for i in ship_lots})
        ships = _ship_rows(conn, l0, l1, extra)
        assays = lot_assays(conn, np.unique(lot_data["idx"]).tolist()) if len(lot_data) else {}
        pcfs = supplier_pcfs(conn, l0, l1) if N else []
        bare = source_lots_without_data(conn, l0, l1) if N else []

    c = _context(site_rows, ov_rows, ctx, library, extra_overrides)
    run_loc, run_mkt, run_complete, _ = _own(run_data, runs, run_idx, "runs", c)
    lot_loc, lot_mkt, lot_complete, lot_factors = _own(lot_data, lots, lot_idx, "lots", c, assays)
    src = _sources(lot_idx, lot_data, lots, pcfs, bare, lot_loc, lot_mkt, lot_complete, c)
    lot_tkm, ship_kg, ship_ok = _transport(ships, lot_idx, c, extra)
    with store.read() as conn:
        tr = transport_charges(conn, ships, ship_kg, ship_ok, run_idx, lot_idx)
    tr_complete = np.ones(N, np.bool_)
    pos, ok = _positions(lot_idx, np.fromiter((r[3] for r in ships), np.int64, len(ships)))
    tr_complete[pos[ok & ~ship_ok]] = False

    return EmissionArrays(
        causes=CAUSES,
        run_location_kg_co2e=run_loc.sum(axis=1), run_market_kg_co2e=run_mkt.sum(axis=1),
        run_location_by_cause_kg_co2e=run_loc, run_market_by_cause_kg_co2e=run_mkt,
        run_complete=run_complete & tr.run_complete, run_transport_kg_co2e=tr.run,
        lot_location_kg_co2e=lot_loc.sum(axis=1), lot_market_kg_co2e=lot_mkt.sum(axis=1),
        lot_location_by_cause_kg_co2e=lot_loc, lot_market_by_cause_kg_co2e=lot_mkt,
        lot_complete=lot_complete & tr_complete,
        lot_transport_kg_co2e=tr.held, lot_transport_tkm=lot_tkm,
        ship_idx=np.fromiter((r[2] for r in ships), np.int64, len(ships)), ship_kg_co2e=ship_kg,
        ship_mass_kg=np.fromiter((r[4] / 1e6 for r in ships), np.float64, len(ships)),
        ship_origin_kg_co2e_per_kg=tr.origin_per_kg, ship_complete=ship_ok,
        factors_used=tuple(sorted(c.used, key=lambda f: (f.key.casefold(), f.source))),
        problems=_located(store, c.problems, c.resolver.problems),
        library_version=c.resolver.library.version,
        lot_supplier_kg_co2e=src[0], lot_source=src[1], lot_pcf=src[2],
        lot_factors={q: tuple(sorted(fs, key=lambda f: f.key)) for q, fs in lot_factors.items()},
        issue_runs=_issues(c.problems, len(c.resolver.problems), "runs"),
        issue_lots=_issues(c.problems, len(c.resolver.problems), "lots"),
    )


#: Codes of :attr:`EmissionArrays.lot_source`: how a lot's own (commissioning) burden is known.
SOURCE_NONE, SOURCE_ACTIVITY, SOURCE_PCF, SOURCE_MISSING, SOURCE_CUTOFF = 0, 1, 2, 3, 4


def _sources(lot_idx: I64, lot_data: npt.NDArray[np.void], lots: Sequence[Any], pcfs: Sequence[PcfRow],
             bare: Sequence[tuple[int, str, str, str]], lot_loc: F64, lot_mkt: F64, lot_complete: B,
             c: _Context) -> tuple[F64, npt.NDArray[np.int8], dict[int, PcfRow]]:
    """Supplier PCFs replace a source lot's commissioning burden; source lots with no data are incomplete.

    Changes ``lot_loc``, ``lot_mkt`` and ``lot_complete`` in place; returns the supplier burden [kg CO2e] per lot,
    the :data:`SOURCE_NONE` … :data:`SOURCE_MISSING` code of each lot and the PCF in force by lot position.
    """
    n = len(lot_idx)
    supplier = np.zeros(n)
    source = np.zeros(n, np.int8)
    live = np.fromiter((r[0] for r in lots), np.int64, len(lots))
    pos, ok = _positions(lot_idx, live)
    source[pos[ok]] = SOURCE_ACTIVITY
    by_pos: dict[int, PcfRow] = {}
    for p in pcfs:
        (q,), (hit,) = _positions(lot_idx, np.array([p.lot_idx], np.int64))
        if not hit:
            continue
        per_kg = pcf_per_kg(SupplierPcf(p.lot_id, p.value, p.supplier, p.document, p.unit), p.assay)
        if isinstance(per_kg, str):  # refused at write time; kept as a located problem should an old row not convert
            c.problems.add(FactorProblem("missing", (), f"supplier PCF {p.document}: {per_kg}"), "lots", p.lot_idx,
                           1, np.array([q], np.int64))
            lot_complete[q] = False
            continue
        supplier[q] = float(per_kg) * p.mass_kg
        lot_loc[q] = 0.0
        lot_mkt[q] = 0.0
        lot_complete[q] = True
        source[q] = SOURCE_PCF
        by_pos[int(q)] = p
    groups: dict[str, list[int]] = {}
    cut = [idx for idx, _lot, _material, origin in bare if origin != "virgin"]
    if cut:  # recycled feedstock (end-of-life batteries, scrap) enters burden-free: the cut-off rule
        q, hit = _positions(lot_idx, np.array(cut, np.int64))
        source[q[hit]] = SOURCE_CUTOFF
    for idx, _lot, material, origin in bare:
        if origin == "virgin":
            groups.setdefault(material, []).append(idx)
    for material, idxs in groups.items():
        q, hit = _positions(lot_idx, np.array(idxs, np.int64))
        q = q[hit]
        lot_complete[q] = False
        source[q] = SOURCE_MISSING
        msg = (f"source lot of material {material} has neither activity data nor a supplier PCF: its footprint is "
               "unknown (record the supplier's PCF, or commissioning activity with a secondary factor)")
        c.problems.add(FactorProblem("missing", (), msg), "lots", idxs[0], len(q), q)
    return supplier, source, by_pos


def _issues(problems: _Problems, offset: int, table: str) -> I64:
    """(owner position, problem number) pairs of ``table``'s owners, problem numbers as in ``problems`` order."""
    parts = [np.column_stack([o, np.full(len(o), offset + k, np.int64)])
             for k, key in enumerate(problems.items) for t, o in problems.owners.get(key, ()) if t == table]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros((0, 2), np.int64)


def _transport(ships: Sequence[Any], lot_idx: I64, c: _Context, extra: Sequence[int] = ()) -> tuple[F64, F64, B]:
    """t·km per lot; per shipment: emissions [kg CO2e] = mass [t] × distance [km] × factor, factor found.
    Shipments of lots in ``lot_idx`` and in ``extra`` (store numbers) count; problems name owners in ``lot_idx``."""
    n, k = len(lot_idx), len(ships)
    sctx: dict[tuple[Any, ...], int] = {}
    codes = np.fromiter((sctx.setdefault((r[0], r[1]), len(sctx)) for r in ships), np.int64, k)
    s_idx = np.fromiter((r[2] for r in ships), np.int64, k)
    s_lot = np.fromiter((r[3] for r in ships), np.int64, k)
    tkm = np.fromiter((r[4] for r in ships), np.float64, k) / 1e9 * np.fromiter((r[5] for r in ships), np.float64, k)
    s_t = np.fromiter((r[6] for r in ships), np.int64, k)
    pos, ok = _positions(lot_idx, s_lot)
    keep = np.flatnonzero(ok | np.isin(s_lot, np.asarray(extra, np.int64)))
    first, inv = _groups(codes[keep] * (len(c.bounds) + 1) + np.searchsorted(c.bounds, s_t[keep], side="right"))
    f = np.zeros(len(first))
    missing = np.zeros(len(first), np.bool_)
    rows = np.bincount(inv, minlength=len(first))
    sctx_list = list(sctx)
    for j, i in enumerate(first.tolist()):
        row = int(keep[i])
        mode, from_site = sctx_list[int(codes[row])]
        tf = transport_factor(mode, from_site, _time(int(s_t[row])), c.resolver)
        if isinstance(tf, Factor):
            f[j] = float(tf.value)
            c.used[tf] = None
        else:
            c.problems.add(tf, "shipments", int(s_idx[row]), int(rows[j]), pos[keep][(inv == j) & ok[keep]])
            missing[j] = True
    ship_kg = np.zeros(k)
    ship_kg[keep] = tkm[keep] * f[inv]
    ship_ok = np.ones(k, np.bool_)
    ship_ok[keep[missing[inv]]] = False
    mine = keep[ok[keep]]
    lot_tkm = np.asarray(np.bincount(pos[mine], weights=tkm[mine], minlength=n), np.float64)
    return lot_tkm, ship_kg, ship_ok


def _owner(rows: Sequence[Any], store_idx: I64, site_pos: dict[str, int]) -> tuple[I64, I64, B]:
    """Site code, time [µs] and liveness of each position of ``store_idx``, from (idx, site, time) rows."""
    n = len(store_idx)
    site = np.full(n, -1, np.int64)
    t = np.zeros(n, np.int64)
    live = np.zeros(n, np.bool_)
    k = len(rows)
    idx = np.fromiter((r[0] for r in rows), np.int64, k)
    pos, ok = _positions(store_idx, idx)
    site[pos[ok]] = np.fromiter((site_pos.get(r[1], -1) for r in rows), np.int64, k)[ok]
    t[pos[ok]] = np.fromiter((r[2] for r in rows), np.int64, k)[ok]
    live[pos[ok]] = True
    return site, t, live


def _located(store: SqlStore, problems: _Problems, resolver_problems: Sequence[FactorProblem]) -> tuple[
        EmissionProblem, ...]:
    """Problems with their example record named by its id (one small query per table involved)."""
    from sqlalchemy import bindparam, text

    want: dict[str, set[int]] = {}
    for table, idx, _ in problems.items.values():
        want.setdefault(table, set()).add(idx)
    names: dict[tuple[str, int], str] = {}
    if want:
        with store.read() as conn:
            for table, idxs in want.items():
                q = text(f"SELECT idx, id FROM {table} WHERE idx IN :ids").bindparams(bindparam("ids", expanding=True))
                for part in chunks(sorted(idxs)):
                    for i, ident in conn.execute(q, {"ids": list(part)}).all():
                        names[(table, i)] = ident
    noun = {"runs": "run", "lots": "lot", "shipments": "shipment"}
    out = [EmissionProblem("unit", f"override {p.keys[0]}", p.message, 1) for p in resolver_problems]
    for (kind, message), (table, idx, count) in problems.items.items():
        out.append(EmissionProblem(kind, f"{noun[table]} {names.get((table, idx), idx)}", message, count))
    return tuple(out)

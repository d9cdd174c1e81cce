"""The whole-ledger footprint carried from one chain head to the next by the lots appended meanwhile.

Why this exists: a service whose writers append a document at a time moves the chain head with every one, and the
footprint cache is per head; recomputing the whole ledger's footprint for every head (seconds at a million lots)
made every footprint read under writers wait for it. Lots are numbered in creation order and an appended lot's
upstream lies among earlier lots, so when only lots and runs were appended, the rows of the lots already there do
not change and the new rows follow from the cached rows of their inputs plus their own burden: one pass of the
same kernel over the new rows only (:func:`lichain.analysis.propagate.intensity` with ``start``).

Which appended events would change an earlier lot's figures, and so force a full recomputation
(:data:`CHANGES_EARLIER`; shipments only in the cases below):

* ``retraction`` removes lots, runs, shipments, overrides or supplier PCFs from the middle of the ledger;
* ``factor_override`` changes the factors of earlier runs and lots;
* ``supplier_pcf`` replaces an earlier purchased lot's burden (taken by the extension when that burden was
  missing or a supplier's PCF already, the lot owning no other problem: the lot's own row is read again alone and
  every footprint from its position on solved again, :func:`_reowned`; a purchased lot with activity data is
  recomputed, since its factors and their problems would have to be taken back);
* ``site`` and ``material`` are master data the figures read (grid region, site kind, formula); a new one could
  also redeclare one on record.

``lot`` (a commissioned source lot) and ``run`` (a new run with new outputs, consuming earlier lots) append rows;
every other kind (due diligence, quality, keys, passports, events kept verbatim, custody claims) is not read by
the footprint at all. A new run that consumes lots that travelled is charged their legs' transport: the delta read
fetches every live leg of those lots (``read_emissions(..., ship_lots=...)``).

``shipment`` charges its transport to the runs that consume the shipped lot at the sites it reaches. A new leg
leaves every earlier run's charge as it was when no earlier run consumed the lot away from its own site, and none
consumed it at all if some leg returns to its own site (the own site's transport intensity is zero otherwise):
then the extension takes it (:func:`lichain.storage.footprint_sql.shipping_changes_earlier`); else, and when a
leg has no transport factor (its problem is counted by a full pass), the footprint is recomputed. A new leg adds
a delivery to its lot's answer, so an extension with legs starts a new lineage: answers kept for lots are not
reused across it.

The extended result equals a full recomputation: the own burden of a new lot is computed row by row from the
same emission arrays, and the new rows of the footprint by the same compiled kernel in the same order of
additions. The one difference is in the emission sums themselves: the database returns a run's activity rows in
an order of its choosing, so a run's total may differ in the last bit; hence the tests compare to 1e-12
relative (tests/integration/test_footprint_extend.py).
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from lichain.analysis import footprint as fp
from lichain.analysis.grow import append_rows
from lichain.analysis.propagate import intensity
from lichain.analysis.snapshot import I64, Snapshot
from lichain.services.footprint_sources import lot_inputs
from lichain.storage import footprint_sql as fsql
from lichain.storage.emissions_reader import read_emissions

if TYPE_CHECKING:
    from lichain.services.footprint import LedgerFootprint
    from lichain.services.snapshot import LoadedSnapshot
    from lichain.storage.sql import SqlStore

__all__ = ["CHANGES_EARLIER", "CHANGES_GRAPH", "CHANGES_UNLESS_SHIPPED", "CHANGES_UNLESS_SHIPPED_OR_PCF", "appended_only",
           "extend_footprint"]

#: Event kinds after which the figures of lots already on record may differ: a full recomputation follows.
CHANGES_EARLIER = frozenset({"retraction", "factor_override", "supplier_pcf", "shipment", "site", "material"})

#: :data:`CHANGES_EARLIER` but shipments, which an extension takes when no earlier run's transport charge changes
#: (:func:`lichain.storage.footprint_sql.shipping_changes_earlier`).
CHANGES_UNLESS_SHIPPED = CHANGES_EARLIER - {"shipment"}

#: :data:`CHANGES_UNLESS_SHIPPED` but supplier PCFs, which an extension takes for a purchased lot whose burden was
#: missing or a supplier's PCF already (:func:`_reowned`).
CHANGES_UNLESS_SHIPPED_OR_PCF = CHANGES_UNLESS_SHIPPED - {"supplier_pcf"}

#: The problems a lot with no activity data can own, each counted once per lot: no data at all, a PCF that does
#: not convert (:func:`lichain.storage.emissions_reader._sources`).
_PURCHASE_PROBLEMS = ("source lot of material ", "supplier PCF ")

#: Event kinds after which the lot graph of lots already on record (what an upstream trace reads) may differ.
CHANGES_GRAPH = frozenset({"retraction", "site", "material"})

_KINDS: dict[tuple[str, int, str, int, str, frozenset[str]], bool] = {}  # (url, seq, head, seq, head) -> appended only
_LOCK = threading.Lock()


def appended_only(store: SqlStore, seq_from: int, head_from: str, seq_to: int, head_to: str,
                  changing: frozenset[str] = CHANGES_EARLIER) -> bool:
    """True when no event after ``seq_from`` (chain hash ``head_from``) up to ``seq_to`` (``head_to``) is of a
    kind that changes earlier lots' figures (``changing``: :data:`CHANGES_EARLIER`, or :data:`CHANGES_GRAPH` for
    the lot graph alone).

    The answer is remembered per ledger and pair of heads (recorded events never change), so asking again for
    the same heads reads nothing. Kinds recorded after ``seq_to`` by the time of the query count too (a
    changing kind just past ``seq_to`` costs a recomputation, never a wrong figure).
    """
    if seq_to <= seq_from:
        return seq_to == seq_from and head_to == head_from
    key = (store.url, seq_from, head_from, seq_to, head_to, changing)
    with _LOCK:
        known = _KINDS.get(key)
    if known is not None:
        return known
    ok = not fsql.event_kinds_since(store, seq_from, changing)
    with _LOCK:
        if len(_KINDS) > 256:
            _KINDS.clear()
        _KINDS[key] = ok
    return ok


def _part(snap: Snapshot, n0: int, r0: int, n1: int | None = None) -> Snapshot:
    """The lots from ``n0`` (to ``n1``) and runs from ``r0`` on as a snapshot of their own (runs renumbered from 0,
    no edges): what :func:`lichain.analysis.footprint.own_per_kg` and the stage codes read."""
    n1 = snap.n_lots if n1 is None else n1
    lots = slice(n0, n1)
    lot_run = np.where(snap.lot_run[lots] >= 0, snap.lot_run[lots] - r0, -1).astype(np.int32)
    n = n1 - n0
    empty_i, empty_f = np.zeros(0, np.int32), np.zeros(0)
    return Snapshot(snap.elements, snap.lot_ids[lots], snap.lot_mass_kg[lots], snap.lot_assay[lots], lot_run,
                    snap.lot_site[lots], snap.lot_material[lots], snap.lot_stage[lots], snap.lot_origin[lots],
                    snap.lot_time[lots], snap.run_time[r0:], snap.run_site[r0:], snap.run_loss_kg[r0:],
                    snap.site_ids, snap.site_country, snap.site_org, snap.material_codes, snap.stage_names,
                    np.zeros(n + 1, np.int64), empty_i, empty_f)


def _merge_problems(base: LedgerFootprint, delta: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[int]]:
    """Cached problems with the delta's added: same kind and message adds its count; ledger-wide override
    problems (the same in both) are kept once. Returns the list and each delta problem's number in it."""
    out = [dict(p) for p in base.problems]
    where = {(p["kind"], p["message"]): i for i, p in enumerate(out)
             if not str(p.get("location", "")).startswith("override ")}
    ledger_wide = {(p["kind"], p["location"], p["message"]): i for i, p in enumerate(out)
                   if str(p.get("location", "")).startswith("override ")}
    numbers = []
    for p in delta:
        if str(p.get("location", "")).startswith("override "):
            k = (p["kind"], p["location"], p["message"])
            if k not in ledger_wide:
                ledger_wide[k] = len(out)
                out.append(dict(p))
            numbers.append(ledger_wide[k])
            continue
        i = where.get((p["kind"], p["message"]))
        if i is None:
            where[(p["kind"], p["message"])] = i = len(out)
            out.append(dict(p))
        else:
            out[i]["count"] += p["count"]
        numbers.append(i)
    return out, numbers


def _pairs(old: I64 | None, new: I64 | None, offset: int, numbers: list[int]) -> I64:
    parts = [old if old is not None else np.zeros((0, 2), np.int64)]
    if new is not None and len(new):
        nums = np.asarray(numbers, np.int64)
        parts.append(np.column_stack([new[:, 0] + offset, nums[new[:, 1]]]))
    return np.concatenate(parts).astype(np.int64)


def _factors(old: tuple[dict[str, Any], ...], new: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    seen = {json.dumps(f, sort_keys=True): f for f in old}
    for f in new:
        seen.setdefault(json.dumps(f, sort_keys=True), f)
    return tuple(sorted(seen.values(), key=lambda f: (str(f.get("key", "")).casefold(), str(f.get("source", "")))))


def extend_footprint(store: SqlStore, base: LedgerFootprint, ls: LoadedSnapshot, seq: int) -> LedgerFootprint | None:
    """``base`` carried to the snapshot ``ls`` by its appended lots and runs; None when a full recomputation is
    needed (see the module docstring). ``seq`` is the event ``ls.head`` is of when ``ls`` does not say."""
    from dataclasses import replace

    from lichain.services.footprint import _aligned, _alloc_problems, _own, _value

    old = base.snapshot
    n0, r0, snap = old.n_lots, old.n_runs, ls.snapshot
    seq = ls.seq if ls.seq >= 0 else seq
    if (base.lot_source is None or snap.n_lots < n0 or snap.n_runs < r0 or seq < base.seq
            or not np.array_equal(ls.store_lot_idx[:n0], base.store_lot_idx)
            or not np.array_equal(ls.store_run_idx[:r0], base.store_run_idx)
            or not appended_only(store, base.seq, base.head, seq, ls.head, CHANGES_UNLESS_SHIPPED_OR_PCF)):
        return None
    last_old = int(base.store_lot_idx[-1]) if base.store_lot_idx.size else -1
    repriced = [q for q in fsql.pcf_lots_since(store, base.seq) if q <= last_old]  # new lots' PCFs: read below
    if repriced and not _purchases(base, repriced):
        return None
    new_lots, new_runs = ls.store_lot_idx[n0:], ls.store_run_idx[r0:]
    shipped = fsql.shipments_since(store, base.seq)  # the changing kinds left: shipments, taken when safe
    if shipped:
        last_old_run = int(base.store_run_idx[-1]) if base.store_run_idx.size else -1
        first_new_run = int(new_runs[0]) if new_runs.size else last_old_run + 1
        if fsql.shipping_changes_earlier(store, shipped, first_new_run):
            return None
    ship_lots = sorted(set(shipped) | set(fsql.shipped_inputs(store, int(new_runs[0])) if new_runs.size else ()))
    if not new_lots.size and not new_runs.size and not ship_lots:
        if repriced:
            return _checked(store, _reowned(store, base, repriced), ls.head, seq)
        return replace(base, head=ls.head, seq=seq, how="extended")
    part = _part(snap, n0, r0)
    em = read_emissions(store, new_runs, new_lots, ship_lots=ship_lots)
    if not em.ship_complete.all():
        return None  # a leg without a factor: its problem is counted and located by a full pass
    values = _aligned(new_lots, [(i, _value(v)) for i, v in fsql.alloc_values(store, int(new_lots[0]))]
                      if new_lots.size else [], np.nan, np.float64)
    alloc = fp.allocation(part.lot_run, part.lot_mass_kg, part.n_runs, values)
    own_new = fp.own_per_kg(part, _own(store, part, new_lots, new_runs, em, run_from=int(new_runs[0])
                                       if new_runs.size else None), alloc.factor)
    economic = append_rows(base.economic, alloc.economic.astype(base.economic.dtype, copy=False))
    snap_a = snap
    if economic.any():  # scale the new rows' edges from mass to the declared-value allocation
        mass = fp.allocation(part.lot_run, part.lot_mass_kg, part.n_runs)
        scale = np.divide(alloc.factor, mass.factor, out=np.ones(part.n_lots), where=mass.factor > 0)
        e0 = int(snap.up_indptr[n0])
        up_kg = np.concatenate([old.up_kg, snap.up_kg[e0:] * np.repeat(scale, np.diff(snap.up_indptr[n0:]))])
        up_kg.flags.writeable = False
        snap_a = replace(snap, up_kg=up_kg)
    own = append_rows(base.own, own_new)
    x = append_rows(base.x, own_new)  # placeholder rows, solved in place below
    intensity(snap_a, own, out=x, start=n0)
    dp = [{"kind": p.kind, "location": p.location, "message": p.message, "count": p.count} for p in em.problems]
    dp += _alloc_problems(store, new_runs, alloc.fallback)
    problems, numbers = _merge_problems(base, dp)
    issue_runs = em.issue_runs if em.issue_runs is not None else np.zeros((0, 2), np.int64)
    bad = np.flatnonzero(alloc.fallback)
    if bad.size:
        issue_runs = np.concatenate([issue_runs, np.column_stack([bad, np.full(bad.size, len(em.problems))])])
    src = em.lot_source if em.lot_source is not None else np.zeros(part.n_lots, np.int8)
    inputs = dict(base.lot_inputs or {})
    inputs.update({n0 + q: v for q, v in lot_inputs(em).items()})
    out = replace(
        base, head=ls.head, seq=seq, how="extended", snapshot=snap_a, store_lot_idx=ls.store_lot_idx,
        store_run_idx=ls.store_run_idx, own=own, x=x,
        alloc=append_rows(base.alloc, alloc.factor.astype(base.alloc.dtype, copy=False)),
        economic=economic, problems=tuple(problems),
        factors=_factors(base.factors, [f.public_json() for f in em.factors_used]),
        issue_runs=_pairs(base.issue_runs, issue_runs.astype(np.int64), r0, numbers),
        issue_lots=_pairs(base.issue_lots, em.issue_lots, n0, numbers),
        lot_source=append_rows(base.lot_source, src.astype(base.lot_source.dtype, copy=False)), lot_inputs=inputs,
        # a new leg adds a delivery to its lot's answer: answers kept for the old lineage are not reused
        lineage=object() if shipped else base.lineage)
    if repriced:
        out = _reowned(store, out, repriced)
    return _checked(store, out, ls.head, seq)


def _checked(store: SqlStore, out: LedgerFootprint, head: str, seq: int) -> LedgerFootprint | None:
    """``out``, unless something was recorded after ``head`` that the reads behind it may have seen."""
    from dataclasses import replace

    if not appended_only(store, seq, head, *store.head()):  # recorded meanwhile, seen by the reads above
        return None
    return out if out.head == head else replace(out, head=head, seq=seq, how="extended")


def _owned_pairs(base: LedgerFootprint, positions: I64) -> np.ndarray[Any, np.dtype[np.bool_]]:
    pairs = base.issue_lots if base.issue_lots is not None else np.zeros((0, 2), np.int64)
    return np.isin(pairs[:, 0], positions)


def _purchases(base: LedgerFootprint, lots: list[int]) -> bool:
    """True when every lot of ``lots`` (store numbers, on record in ``base``) is a purchased lot whose burden
    ``base`` has as missing or from a supplier's PCF, owning no problem but those: a new PCF then changes its own
    row, its source and those problems only, and no factor it used (it used none)."""
    from lichain.storage.emissions_reader import SOURCE_MISSING, SOURCE_PCF

    pos = np.searchsorted(base.store_lot_idx, np.asarray(lots, np.int64))
    if base.lot_source is None or (pos >= base.store_lot_idx.size).any() or \
            not np.array_equal(base.store_lot_idx[np.minimum(pos, base.store_lot_idx.size - 1)], lots):
        return False
    if not np.isin(base.lot_source[pos], (SOURCE_MISSING, SOURCE_PCF)).all():
        return False
    pairs = base.issue_lots if base.issue_lots is not None else np.zeros((0, 2), np.int64)
    return all(str(base.problems[int(b)]["message"]).startswith(_PURCHASE_PROBLEMS)
               for b in pairs[_owned_pairs(base, pos), 1])


def _reowned(store: SqlStore, base: LedgerFootprint, lots: list[int]) -> LedgerFootprint:
    """``base`` with the own burden of purchased ``lots`` (store numbers, :func:`_purchases`) read again and every
    footprint from the first of them on solved again: a supplier PCF recorded for a lot already on record.

    The lots' rows are read alone (the same reader, so the same figures as a full pass), their problems replace
    the ones they owned, and the arrays are new (answers of the old lineage keep theirs)."""
    from dataclasses import replace

    from lichain.services.footprint import _own

    snap = base.snapshot
    pos = np.searchsorted(base.store_lot_idx, np.asarray(lots, np.int64))
    own, x = base.own.copy(), base.x.copy()
    src = base.lot_source.copy() if base.lot_source is not None else np.zeros(snap.n_lots, np.int8)
    inputs = dict(base.lot_inputs or {})
    # the problems the lots owned: one count each, taken off; a problem no lot owns any more goes
    pairs = base.issue_lots if base.issue_lots is not None else np.zeros((0, 2), np.int64)
    gone = _owned_pairs(base, pos)
    counts = [int(p["count"]) for p in base.problems]
    for b in pairs[gone, 1].tolist():
        counts[int(b)] -= 1
    keep = [i for i, p in enumerate(base.problems) if counts[i] > 0 or not str(p["message"]).startswith(
        _PURCHASE_PROBLEMS)]
    renumber = np.full(len(base.problems) + 1, -1, np.int64)
    renumber[keep] = np.arange(len(keep))
    problems = tuple({**base.problems[i], "count": counts[i]} for i in keep)
    issue_lots = pairs[~gone]
    issue_lots = np.column_stack([issue_lots[:, 0], renumber[issue_lots[:, 1]]]).astype(np.int64)
    issue_runs = base.issue_runs if base.issue_runs is not None else np.zeros((0, 2), np.int64)
    if issue_runs.size:
        issue_runs = np.column_stack([issue_runs[:, 0], renumber[issue_runs[:, 1]]]).astype(np.int64)
    out = replace(base, problems=problems, issue_lots=issue_lots, issue_runs=issue_runs)
    factors = list(base.factors)
    for q, p in zip(lots, pos.tolist(), strict=True):
        part = _part(snap, p, snap.n_runs, p + 1)
        one = np.asarray([q], np.int64)
        em = read_emissions(store, np.zeros(0, np.int64), one)
        own[p] = fp.own_per_kg(part, _own(store, part, one, np.zeros(0, np.int64), em, run_from=None),
                               base.alloc[p:p + 1])[0]
        src[p] = em.lot_source[0] if em.lot_source is not None else 0
        inputs.pop(p, None)
        inputs.update({p + k: v for k, v in lot_inputs(em).items()})
        dp = [{"kind": e.kind, "location": e.location, "message": e.message, "count": e.count} for e in em.problems]
        merged, numbers = _merge_problems(out, dp)
        out = replace(out, problems=tuple(merged), issue_lots=_pairs(out.issue_lots, em.issue_lots, p, numbers))
        factors = list(_factors(tuple(factors), [f.public_json() for f in em.factors_used]))
    x[int(pos.min()):] = own[int(pos.min()):]  # placeholder rows, solved in place below
    intensity(snap, own, out=x, start=int(pos.min()))
    return replace(out, own=own, x=x, lot_source=src, lot_inputs=inputs, factors=tuple(factors), how="extended",
                   lineage=object())

"""Use cases of circularity: recycled content per lot (physical and claimed), Art. 8 comparisons, recovery
efficiency of recyclers, custody claims, and the Catena-X secondary-material export.

Why: the ESG and compliance questions of Regulation (EU) 2023/1542 — how much of this lot's Ni, Co, Li is
recycled (Art. 8), how well a recycler recovers each element (Annex XII Part C) — need the physical shares of the
propagation engine (:func:`lichain.analysis.propagate.origin_shares`, element-mass weighted over the lot graph)
beside the shares claimed under a chain-of-custody model (ISO 22095; claims are ledger events checked on write,
:mod:`lichain.core.claims`). Every regulatory comparison is indicative (:data:`lichain.core.targets.INDICATIVE`).
Results are the frozen types of :mod:`lichain.services.circularity_results` (fractions 0..1, masses in kg), in the
shapes the CLI's ``--json`` prints; the Catena-X secondary-material payload is the standard's JSON.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any

import numpy as np

from lichain.analysis.shares import ORIGINS, Shares, origin_shares
from lichain.analysis.snapshot import Snapshot
from lichain.core.claims import BATCH_MODELS, Flows, Split, boundary_flows, load_lots
from lichain.core.codec import canonical_payload, content_event_id, format_time
from lichain.core.errors import NotFoundError, Problem
from lichain.core.model import Allocation, CustodyClaim, CustodyModel, Event, EventKind
from lichain.core.period import parse_period as core_parse_period
from lichain.core.quantities import FRACTION_SCALE as S
from lichain.core.targets import INDICATIVE, compare
from lichain.core.validate import LocatedEvent
from lichain.services.circularity_results import (
    AllocatedKg,
    Art8Plant,
    Art8Report,
    Art8Scope,
    Art8Shares,
    ClaimPart,
    ClaimProposal,
    ElementShares,
    OrganisationRef,
    PeriodSpan,
    RecoveryElement,
    RecoveryReport,
    RecycledContent,
    RecycledShares,
    RecyclerRecovery,
)
from lichain.services.ingest import IngestResult, ingest_events
from lichain.services.snapshot import load_snapshot, lot_position
from lichain.storage import claims_sql
from lichain.storage.sql import SqlStore

__all__ = ["ART8_ELEMENTS", "art8", "claim", "parse_period", "propose_claim", "record_claim", "recovery", "recycled",
           "secondary_material"]

#: Elements with Art. 8 minimums in active materials.
ART8_ELEMENTS = ("Co", "Li", "Ni")
_PRE, _POST = ORIGINS.index("pre_consumer"), ORIGINS.index("post_consumer")


def parse_period(text: str) -> tuple[datetime, datetime]:
    """The period's ``[start, end)`` in UTC, by the one rule of :func:`lichain.core.period.parse_period`."""
    p = core_parse_period(text)
    return p.start, p.end


def _span(start: datetime, end: datetime) -> PeriodSpan:
    return PeriodSpan(format_time(start), format_time(end))


def _org(bd: Any) -> OrganisationRef:
    return OrganisationRef(bd.name, bd.chosen_by)


def _find(snap: Snapshot, lot_id: str) -> int:
    try:
        return snap.index_of(lot_id)
    except KeyError:
        return -1


def _opt(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


class _Book:
    """Physical shares per element of a snapshot (computed once per element) and claimed allocations per lot."""

    def __init__(self, store: SqlStore, snap: Snapshot | None = None) -> None:
        self.store = store
        self.snap = load_snapshot(store).snapshot if snap is None else snap
        self._shares: dict[str, Shares] = {}

    def shares(self, e: str) -> Shares:
        if e not in self._shares:
            self._shares[e] = origin_shares(self.snap, e)
        return self._shares[e]

    def allocated_mg(self, lot_ids: Sequence[str]) -> dict[str, dict[str, tuple[int, int]]]:
        with self.store.read() as conn:
            rows = claims_sql.lot_claims(conn, lot_ids)
        out: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
        for lot, items in rows.items():
            for a in items:
                pre, post = out[lot].get(a["element"], (0, 0))
                out[lot][a["element"]] = (pre + a["pre_mg"], post + a["post_mg"])
        return out

    def element_rows(self, idx: np.ndarray, weights_kg: np.ndarray, e: str,
                     alloc: dict[str, dict[str, tuple[int, int]]]) -> ElementShares:
        """Element-mass-weighted physical and allocated shares of lots ``idx`` taken in ``weights_kg`` [kg]."""
        snap, k = self.snap, self.snap.element_index(e)
        sh = self.shares(e)
        f = snap.lot_assay[idx, k]
        w = weights_kg * f  # element kg taken from each lot
        ok = sh.defined[idx] & (w > 0)
        tot = float(w[ok].sum())
        pre = float((w[ok] * sh.values[idx[ok], _PRE]).sum())
        post = float((w[ok] * sh.values[idx[ok], _POST]).sum())
        apre = apost = 0.0
        for j, i in enumerate(idx):
            a = alloc.get(snap.lot_id(int(i)), {}).get(e)
            if a and snap.element_kg[i, k] > 0:
                r = w[j] / snap.element_kg[i, k]  # part of the lot taken
                apre += a[0] / 1e6 * r
                apost += a[1] / 1e6 * r
        d = tot if tot > 0 else float("nan")
        return ElementShares(tot, _opt(pre / d), _opt(post / d), _opt((pre + post) / d), _opt(apre / d),
                             _opt(apost / d), _opt((apre + apost) / d))


def recycled(store: SqlStore, lot: str, *, snap: Snapshot | None = None) -> RecycledContent:
    """Physical recycled shares per element of one lot (pre/post-consumer, element-mass weighted, EU 2023/1542
    Art. 8) beside the shares allocated to it by custody claims (the ``recycled --json`` shape); ``snap``: a
    snapshot holding the lot's upstream as the head has it (e.g. its closure alone), default the ledger's."""
    b = _Book(store, snap)
    snap = b.snap
    i = lot_position(snap, lot)
    lot_id = snap.lot_id(i)
    alloc = b.allocated_mg([lot_id])
    with store.read() as conn:
        claims = claims_sql.lot_claims(conn, [lot_id]).get(lot_id, [])
    elements: dict[str, RecycledShares] = {}
    for e in snap.elements:
        row = b.element_rows(np.array([i]), snap.lot_mass_kg[[i]], e, alloc)
        elements[e] = RecycledShares(**_fields(row), virgin=None if row.recycled is None else 1.0 - row.recycled)
    return RecycledContent(
        lot_id,
        snap.material_codes[snap.lot_material[i]] if snap.material_codes else None,
        snap.stage_names[snap.lot_stage[i]] if snap.stage_names else None,
        snap.site_ids[snap.lot_site[i]] if snap.site_ids else None,
        float(snap.lot_mass_kg[i]),
        elements,
        tuple(ClaimPart(a["claim"], a["site"], a["model"], a["element"], format_time(a["period_start"]),
                        format_time(a["period_end"]), a["pre_mg"] / 1e6, a["post_mg"] / 1e6) for a in claims),
        "physical: element-mass-weighted propagation over the lot graph from recycled reset lots; "
        "allocated: live custody claims (ISO 22095) divided by the lot's element mass",
    )


def _fields(row: ElementShares) -> dict[str, Any]:
    return {f.name: getattr(row, f.name) for f in dataclass_fields(ElementShares)}


def _art8_rows(b: _Book, idx: np.ndarray, weights: np.ndarray) -> dict[str, Art8Shares]:
    alloc = b.allocated_mg([b.snap.lot_id(int(i)) for i in idx])
    out: dict[str, Art8Shares] = {}
    for e in ART8_ELEMENTS:
        if e not in b.snap.elements:
            continue
        row = b.element_rows(idx, weights, e, alloc)
        out[e] = Art8Shares(**_fields(row), vs_physical=compare(row.recycled, "recycled_content", e),
                            vs_allocated=compare(row.allocated_recycled, "recycled_content", e))
    return out


_ART8 = (INDICATIVE, "Regulation (EU) 2023/1542 Art. 8(2)-(3)")


def art8(store: SqlStore, *, lot: str | None = None, customer: str | None = None, period: str | None = None,
         stage: str = "cam", organisation: str | None = None) -> Art8Report:
    """Recycled shares of Co, Li, Ni against the Art. 8(2)-(3) minimums (indicative: methodology not adopted).

    Exactly one scope: ``lot``; ``customer`` (an organisation receiving shipments; its deliveries of ``stage``
    lots, within ``period`` when given, weighted by shipped element mass); or ``period`` (lots of ``stage``
    produced in it, per site and material — Art. 8 documents per model, year and plant). A ``period`` scope
    counts the plants of ``organisation`` (default the ledger owner declared in master data; every plant when
    none is declared among several organisations, :func:`lichain.services.boundary.reporting_boundary`).
    """
    if (lot is not None) + (customer is not None) + (period is not None and customer is None) != 1:
        raise ValueError("give exactly one of lot, customer or period (period may narrow a customer)")
    b = _Book(store)
    snap = b.snap
    if lot is not None:
        i = lot_position(snap, lot)
        return Art8Report(*_ART8, Art8Scope(lot=snap.lot_id(i)),
                          _art8_rows(b, np.array([i]), snap.lot_mass_kg[[i]]))
    start, end = parse_period(period) if period else (None, None)
    if customer is not None:
        with store.read() as conn:
            rows = claims_sql.deliveries(conn, customer, start, end)
        st = snap.stage_names.index(stage) if stage in snap.stage_names else -1
        picked = [(i, mg / 1e6) for i, mg in ((_find(snap, lid), mg) for lid, mg, _ in rows)
                  if i >= 0 and snap.lot_stage[i] == st]
        idx = np.array([i for i, _ in picked], np.int64)
        kg = np.array([k for _, k in picked], np.float64)
        scope = Art8Scope(customer=customer, stage=stage, shipments=len(picked), mass_kg=float(kg.sum()),
                          period=None if start is None or end is None else _span(start, end))
        return Art8Report(*_ART8, scope, _art8_rows(b, idx, kg))
    assert start is not None and end is not None
    from lichain.services.boundary import reporting_boundary

    bd = reporting_boundary(store, organisation, required=False)
    st = snap.stage_names.index(stage) if stage in snap.stage_names else -1
    t0, t1 = int(start.timestamp()), int(end.timestamp())
    inside = np.array([bd.holds(x) for x in snap.site_ids] + [False], np.bool_)  # index -1: no site
    sel = np.flatnonzero((snap.lot_stage == st) & (snap.lot_time >= t0) & (snap.lot_time < t1)
                         & inside[snap.lot_site])
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i in sel.tolist():
        groups[(int(snap.lot_site[i]), int(snap.lot_material[i]))].append(i)
    plants = tuple(Art8Plant(snap.site_ids[s], snap.material_codes[m], len(v), float(snap.lot_mass_kg[v].sum()),
                             _art8_rows(b, np.array(v, np.int64), snap.lot_mass_kg[v]))
                   for (s, m), v in sorted(groups.items()))
    return Art8Report(*_ART8, Art8Scope(period=_span(start, end), stage=stage, lots=len(sel), organisation=_org(bd)),
                      _art8_rows(b, sel.astype(np.int64), snap.lot_mass_kg[sel]), plants)


def recovery(store: SqlStore, *, recycler: str | None = None, period: str = "2026",
             organisation: str | None = None, all_organisations: bool = False) -> RecoveryReport:
    """Recovery efficiency per element and recycler: element out in recovered products ÷ element in with the
    black mass, for runs started in the period, against Annex XII Part C of Regulation (EU) 2023/1542 and the
    MIIT 2024 规范条件 minimums (indicative). ``overall`` divides by the element in the waste shredded into black
    mass in the period instead (periods with stock carried over make it approximate). Recyclers of
    ``organisation`` only (default the ledger owner declared in master data; every recycler when none is
    declared among several organisations, :func:`lichain.services.boundary.reporting_boundary`);
    ``all_organisations`` keeps every recycler (the ESG report's Scope 3 context)."""
    from lichain.services.boundary import Boundary, reporting_boundary

    bd = (Boundary(None, "every organisation's sites", None) if all_organisations
          else reporting_boundary(store, organisation, required=False))
    start, end = parse_period(period)
    with store.read() as conn:
        flows = claims_sql.recovery_flows(conn, start, end, recycler)
    if recycler and not flows:
        raise NotFoundError(f"unknown recycler {recycler}")
    out = []
    for f in flows:
        if not bd.holds(f.site) and recycler is None:  # a recycler asked for by id is reported whoever runs it
            continue
        els: dict[str, RecoveryElement] = {}
        for e in sorted(set(f.black_mass_in) | set(f.recovered_out)):
            i, o, w = f.black_mass_in.get(e, 0), f.recovered_out.get(e, 0), f.waste_in.get(e, 0)
            r = o / i if i else None
            els[e] = RecoveryElement(i / (S * 1e6), o / (S * 1e6), r, w / (S * 1e6), o / w if w else None,
                                     compare(r, "material_recovery", e))
        out.append(RecyclerRecovery(f.site, f.runs, els))
    return RecoveryReport(_span(start, end), _org(bd), "indicative comparison",
                          "element in recovered_salt outputs / element in black_mass consumed, runs started in "
                          "period", tuple(out))


def secondary_material(store: SqlStore, lot: str, *, order_number: str | None = None,
                       basis: str = "auto", automotive: bool = False) -> dict[str, Any]:
    """Catena-X ``secondary_material_content_calculated`` payload of a lot, validated against the model.

    ``basis``: "physical" shares, "allocated" (claimed) shares, or "auto" (allocated where a claim covers the
    element, physical otherwise). Raises ``ValueError`` if the payload does not validate.
    """
    from lichain.io.secondary_material import (
        ElementContent,
        secondary_material_payload,
        validate_secondary_material,
    )

    if basis not in ("auto", "physical", "allocated"):
        raise ValueError(f"basis must be auto, physical or allocated, not {basis!r}")
    r = recycled(store, lot)
    b_snap = load_snapshot(store).snapshot
    i = b_snap.index_of(r.lot)
    lo, hi = b_snap.up_indptr[i], b_snap.up_indptr[i + 1]
    mb_models = {c.element: c.model.startswith("mass_balance") for c in r.claims}
    contents = []
    for e, v in r.elements.items():
        if v.recycled is None or v.element_kg <= 0:
            continue
        k = b_snap.element_index(e)
        gross = float((b_snap.up_kg[lo:hi] * b_snap.lot_assay[b_snap.up_src[lo:hi], k]).sum()) if hi > lo \
            else v.element_kg
        use_alloc = basis == "allocated" or (basis == "auto" and e in mb_models)
        pre = v.allocated_pre_consumer if use_alloc else v.pre_consumer
        post = v.allocated_post_consumer if use_alloc else v.post_consumer
        assert pre is not None and post is not None  # defined whenever recycled is
        contents.append(ElementContent(e, v.element_kg, gross, 1.0 - pre - post, pre, post,
                                       use_alloc and mb_models.get(e, False), f"lot {r.lot}."))
    if order_number is None:
        with store.read() as conn:
            ships = claims_sql.shipments_of(conn, r.lot)
        order_number = ships[0] if ships else r.lot
    payload = secondary_material_payload(contents, order_number, automotive=automotive)
    problems = validate_secondary_material(payload)
    if problems:
        raise ValueError("secondary-material payload does not validate: " + "; ".join(problems[:5]))
    return payload


# --- custody claims -------------------------------------------------------------------------------------------
def record_claim(store: SqlStore, claim: CustodyClaim, time: datetime | None = None) -> IngestResult:
    """Write one custody claim through the ledger rules (all or nothing); ``time`` defaults to now."""
    t = time or datetime.now(UTC)
    ev = Event(content_event_id(EventKind.CUSTODY_CLAIM, canonical_payload(claim)), EventKind.CUSTODY_CLAIM, t,
               claim)
    return ingest_events([LocatedEvent(f"claim:{claim.id}", ev)], store, source="claim")


def propose_claim(store: SqlStore, claim_id: str, site: str, start: datetime, end: datetime, model: str, *,
                  lots: Iterable[str] | None = None, elements: Sequence[str] = ("Ni", "Co", "Mn", "Li")
                  ) -> CustodyClaim:
    """The largest claim the ledger's rule allows for ``site`` and [start, end) under ``model``.

    Allocates, to the boundary's output lots (or ``lots`` among them), what :mod:`lichain.core.claims` permits
    after the site's live claims for the same period: batch models their run's known proportion, rolling
    average the period's input fraction (floored to 1 ppb), credit the remaining budget lot by lot.
    """
    runs = store.boundary_runs(site, start, end)
    ids = {x.lot for r in runs for x in r.inputs} | {o for r in runs for o in r.outputs}
    info = load_lots(store.claim_lots, ids)
    memo: dict[tuple[str, str], Split] = {}
    flows = boundary_flows(runs, info, site, memo=memo)
    per_run: dict[tuple[str, bool], Flows] = {}
    same = [c.totals for c in store.site_claims(site) if (c.period_start, c.period_end) == (start, end)]
    left = {(e, j): flows.recycled(e, c) - S * sum(t.get(e, (0, 0))[j] for t in same)
            for e in elements for j, c in enumerate(("pre_consumer", "post_consumer"))}
    want = set(lots) if lots is not None else None
    outs = [(o, r) for r in runs for o in r.outputs if want is None or o in want]
    frac: dict[str, tuple[int, int]] = {}
    if model == CustodyModel.MASS_BALANCE_ROLLING_AVERAGE.value:
        for e in elements:
            tot, need = flows.total.get(e, 0), sum(info[o].mass_mg * info[o].assay.get(e, 0) for o, _ in outs)
            if tot and need:
                frac[e] = tuple(max(0, min(left[(e, j)] * S // tot, left[(e, j)] * S // need)) for j in (0, 1))  # type: ignore[assignment]
        frac = {e: p for e, p in frac.items() if p[0] or p[1]}
    allocs: list[Allocation] = []
    for o, r in outs:
        lot = info[o]
        for e in elements:
            elem = lot.mass_mg * lot.assay.get(e, 0)
            free = elem // S - sum(a.pre_consumer_mg + a.post_consumer_mg for a in lot.allocations if a.element == e)
            if free <= 0:
                continue
            if model == CustodyModel.MASS_BALANCE_ROLLING_AVERAGE.value:
                p = frac.get(e, (0, 0))
                v = [elem * p[0] // (S * S), elem * p[1] // (S * S)]
            elif model in BATCH_MODELS:
                seg = model == CustodyModel.SEGREGATED.value
                if seg and any(info[x.lot].assay.get(e, 0) and info[x.lot].origin == "virgin" for x in r.inputs):
                    continue
                if (r.id, seg) not in per_run:
                    per_run[(r.id, seg)] = boundary_flows([r], info, site, frozenset() if seg else BATCH_MODELS,
                                                          memo=memo)
                f = per_run[(r.id, seg)]
                t = f.total.get(e, 0)
                v = [f.recycled(e, c) * elem // (t * S) if t else 0 for c in ("pre_consumer", "post_consumer")]
                # the run's proportion bounds all claims on the lot: only what earlier claims left
                earlier = [a for a in lot.allocations if a.element == e]
                v = [max(0, v[0] - sum(a.pre_consumer_mg for a in earlier)),
                     max(0, v[1] - sum(a.post_consumer_mg for a in earlier))]
            else:
                v = [0, 0]
                for j in (0, 1):
                    v[j] = max(0, min(left[(e, j)] // S, free - sum(v)))
            v = [min(x, max(0, left[(e, j)] // S)) for j, x in enumerate(v)]
            if sum(v) > free:
                continue
            if v[0] or v[1]:
                allocs.append(Allocation(o, e, v[0], v[1]))
                for j in (0, 1):
                    left[(e, j)] -= v[j] * S
    return CustodyClaim(claim_id, site, start, end, model, tuple(allocs), frac)


def claim(store: SqlStore, site: str, period: str, model: str, *, claim_id: str | None = None,
          record: bool = False) -> ClaimProposal:
    """Propose the largest claim for ``site``, ``period`` and ``model`` (:func:`propose_claim`; id default
    ``SITE/PERIOD/MODEL``) and, with ``record``, write it through the ledger rules (all or nothing)."""
    start, end = parse_period(period)
    c = propose_claim(store, claim_id or f"{site}/{period}/{model}", site, start, end, model)
    kg = {e: AllocatedKg(sum(a.pre_consumer_mg for a in c.allocations if a.element == e) / 1e6,
                         sum(a.post_consumer_mg for a in c.allocations if a.element == e) / 1e6)
          for e in sorted({a.element for a in c.allocations})}
    recorded, problems = False, tuple[Problem, ...]()
    if record and not c.allocations:
        problems = (Problem(c.id, "nothing left to claim for this site and period"),)
    elif record:
        r = record_claim(store, c)
        recorded, problems = r.ok, tuple(r.problems)
    return ClaimProposal(c.id, c.site, c.model, _span(start, end), len(c.allocations), kg, recorded, problems)

"""Write-time rules of custody claims: no claim allocates more recycled element than entered its boundary.

Why: a recycled-content claim (Regulation (EU) 2023/1542 Art. 8; chain of custody per ISO 22095:2020 §3.3 and
ISO 22095-2 mass balance) is only worth something if the ledger refuses over-claiming on every write, exactly and
on every backend. The physical recycled share of a lot comes from whole-graph propagation (analysis engine),
which the pure validator cannot run; so the ledger checks a rule it can evaluate exactly from recorded facts:

*Recycled input* of boundary B (a site) and period P = [start, end), per element e and class k ∈ {pre, post}, is
summed over the live runs at B that started in P (stored, or earlier in the same document), over their inputs
(lot x, consumed q mg), in mg·ppb (mg × parts per 10⁹, exact integers; 10⁹ mg·ppb = 1 mg of element):

* x declared pre- or post-consumer (scrap, modules, black mass, recovered salt): ⌊q × f_e(x) × s_k(x)⌋, where
  s_k(x) is the share its declared-recycled ancestry proves (:func:`recycled_split`: the engine's reset rule,
  with virgin-declared inputs counted as 0), an exact rational;
* x declared virgin: its *transferred* share ⌊q × A_k,e(x) × 10⁹ / m(x)⌋, where A_k,e(x) [mg] is the element
  mass allocated to x by live claims of *other* sites (a claim passed down the chain with the material; a site's
  own allocations never come back as its input).

Without transfers this never exceeds the physical recycled input the propagation engine computes, per class
(virgin-declared inputs carry 0 here and ≥ 0 there); where every declared-recycled lot descends only from
declared-recycled lots or virgin reset inputs, the two are equal.

Checks (all exact integer comparisons; every problem located at ``…/allocations/k``):

1. claim id unused; site known; model one of :data:`~lichain.core.model.CUSTODY_MODELS`; start < end; the
   periods of one site's live claims are identical or disjoint;
2. each allocated lot is a live output of a boundary run, holds the element, appears once per element, and the
   allocations of all live claims to it stay ≤ its element mass;
3. budget: Σ allocations of live claims of B with the same period, per element and class, ≤ recycled input;
4. per model: *segregated*: the producing run's inputs holding e are all declared recycled and the lot gets at
   most its run's declared recycled proportion; *controlled blending*: at most the run's proportion, counting
   declared inputs and transfers from segregated or controlled-blending claims; *rolling average*: the stated
   fraction p_k,e ≤ recycled input ÷ total input of B in P, and each allocation = ⌊p × lot element mass⌋ mg;
   *credit*: checks 1–3 only.

Retraction: a run that a live claim counts, or a claim whose allocations another site's live claim counts,
cannot be retracted until that claim is retracted (:meth:`ClaimChecker.check_retraction`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

from lichain.core.model import (
    CUSTODY_MODELS,
    CustodyClaim,
    CustodyModel,
    LocatedEvent,
    Lot,
    Origin,
    Run,
)
from lichain.core.ports import BoundaryRun, ClaimLot, ClaimRecord, CustodyView, LotAllocation
from lichain.core.quantities import FRACTION_SCALE

__all__ = ["BATCH_MODELS", "ClaimChecker", "Flows", "Split", "boundary_flows", "input_recycled", "load_lots",
           "recycled_split"]

S = FRACTION_SCALE
_ELEMENT = re.compile(r"^[A-Z][a-z]?$")
_CLASSES = (Origin.PRE_CONSUMER.value, Origin.POST_CONSUMER.value)
#: Models whose allocations are physical (batch level), so they may back a controlled-blending claim downstream.
BATCH_MODELS = frozenset({CustodyModel.SEGREGATED.value, CustodyModel.CONTROLLED_BLENDING.value})
Add = Callable[[str, str], None]


def _kg(mg_ppb: int) -> str:
    return f"{mg_ppb / (S * 1e6):.6f} kg"


Split = tuple[Fraction, Fraction]
_ZERO: Split = (Fraction(0), Fraction(0))


def recycled_split(lots: Mapping[str, ClaimLot], lot_id: str, element: str,
                   memo: dict[tuple[str, str], Split] | None = None) -> Split:
    """Share (pre, post) of ``element`` in a lot that its declared-recycled ancestry proves, exactly.

    The propagation engine's reset rule (:func:`lichain.analysis.propagate.reset_points`) on the sub-chain of
    lots declared pre- or post-consumer: such a lot whose inputs are all declared virgin (or that has none) is
    wholly its class; otherwise its share is the element-mass-weighted mix of its inputs' shares, a virgin-declared
    input counting 0 (its propagated share is not known at write time: conservative). A virgin lot: (0, 0); so is
    a lot missing from ``lots`` or a produced lot whose inputs are not all in ``lots`` (nothing is proven).
    """
    memo = {} if memo is None else memo
    stack = [lot_id]
    while stack:
        x = stack[-1]
        lot = lots.get(x)
        if (x, element) in memo or lot is None or lot.origin not in _CLASSES:
            memo.setdefault((x, element), _ZERO)
            stack.pop()
            continue
        if lot.run_site is not None and (not lot.inputs or any(c.lot not in lots for c in lot.inputs)):
            memo[(x, element)] = _ZERO  # a produced lot whose inputs are not known proves nothing
            stack.pop()
            continue
        ins = [(lots[c.lot], c.mass_mg) for c in lot.inputs]
        rec = [i.id for i, _ in ins if i.origin in _CLASSES]
        if not rec:
            memo[(x, element)] = (Fraction(1), Fraction(0)) if lot.origin == _CLASSES[0] else (Fraction(0), Fraction(1))
            stack.pop()
            continue
        pending = [i for i in rec if (i, element) not in memo]
        if pending:
            stack.extend(pending)
            continue
        den = sum(q * i.assay.get(element, 0) for i, q in ins)
        num = [sum(q * i.assay.get(element, 0) * memo[(i.id, element)][k] for i, q in ins if i.origin in _CLASSES)
               for k in (0, 1)]
        memo[(x, element)] = (Fraction(num[0]) / den, Fraction(num[1]) / den) if den else _ZERO
        stack.pop()
    return memo[(lot_id, element)]


def input_recycled(lots: Mapping[str, ClaimLot], lot_id: str, consumed_mg: int, element: str, boundary: str,
                   models: frozenset[str] | None = None, skip: frozenset[str] = frozenset(),
                   memo: dict[tuple[str, str], Split] | None = None) -> tuple[int, int]:
    """Recycled element mass (pre, post) [mg·ppb, floored] that consuming ``consumed_mg`` [mg] of a lot brings into
    the boundary at site ``boundary`` (the rule of the module docstring).

    ``lots`` holds the lot and its declared-recycled ancestry with live allocations; transfers are counted from
    claims of other sites, of ``models`` only (None: all), leaving out claim events in ``skip`` (being
    retracted); ``memo`` caches :func:`recycled_split`.
    """
    lot = lots[lot_id]
    f = lot.assay.get(element, 0)
    if lot.origin in _CLASSES:
        pre, post = recycled_split(lots, lot_id, element, memo)
        m = consumed_mg * f
        return m * pre.numerator // pre.denominator, m * post.numerator // post.denominator
    a_pre = a_post = 0
    for a in lot.allocations:
        if (a.element == element and a.site != boundary and a.claim_event_id not in skip
                and (models is None or a.model in models)):
            a_pre += a.pre_consumer_mg
            a_post += a.post_consumer_mg
    if not (a_pre or a_post):
        return 0, 0
    return consumed_mg * a_pre * S // lot.mass_mg, consumed_mg * a_post * S // lot.mass_mg


@dataclass(slots=True)
class Flows:
    """Element mass consumed by a set of runs [mg·ppb]: ``total[e]`` and recycled ``rec[(e, class)]``."""

    total: dict[str, int] = field(default_factory=dict)
    rec: dict[tuple[str, str], int] = field(default_factory=dict)

    def recycled(self, element: str, cls: str) -> int:
        """Recycled input of one element and class [mg·ppb]."""
        return self.rec.get((element, cls), 0)


def boundary_flows(runs: Iterable[BoundaryRun], lots: Mapping[str, ClaimLot], boundary: str,
                   models: frozenset[str] | None = None, skip: frozenset[str] = frozenset(),
                   memo: dict[tuple[str, str], Split] | None = None) -> Flows:
    """Total and recycled element input of ``runs`` (the rule of :func:`input_recycled`, summed)."""
    out = Flows()
    memo = {} if memo is None else memo
    for r in runs:
        for c in r.inputs:
            for e, f in lots[c.lot].assay.items():
                if not f:
                    continue
                out.total[e] = out.total.get(e, 0) + c.mass_mg * f
                pre, post = input_recycled(lots, c.lot, c.mass_mg, e, boundary, models, skip, memo)
                for cls, v in zip(_CLASSES, (pre, post), strict=True):
                    if v:
                        out.rec[(e, cls)] = out.rec.get((e, cls), 0) + v
    return out


def load_lots(fetch: Callable[[list[str]], Mapping[str, ClaimLot]], ids: Iterable[str],
              known: Callable[[str], ClaimLot | None] = lambda _i: None) -> dict[str, ClaimLot]:
    """Lots ``ids`` and the declared-recycled ancestry :func:`recycled_split` needs, fetched level by level."""
    out: dict[str, ClaimLot] = {}
    want = set(ids)
    while want:
        fetched = dict(fetch([i for i in want if known(i) is None]))
        nxt: set[str] = set()
        for i in want:
            lot = known(i) or fetched.get(i)
            if lot is None:
                continue
            out[i] = lot
            if lot.origin in _CLASSES:
                nxt.update(c.lot for c in lot.inputs)
        want = nxt - out.keys()
    return out


class ClaimChecker:
    """Checks the custody claims of one document against a :class:`~lichain.core.ports.CustodyView`."""

    def __init__(self, view: object, events: Sequence[LocatedEvent]) -> None:
        self.view = view if isinstance(view, CustodyView) else None
        self.order: dict[int, int] = {}
        self.doc_runs: list[tuple[int, Run, str]] = []
        self.doc_lots: dict[str, tuple[int, ClaimLot]] = {}
        self.doc_claims: list[tuple[str, CustodyClaim]] = []  # (event id, claim), in order
        self.doc_allocs: dict[str, list[LotAllocation]] = {}  # lot id -> allocations of this document's claims
        self.lot_cache: dict[str, ClaimLot] = {}
        self.counted: dict[str, str] = {}  # event id (run or claim) -> id of a claim in this document counting it
        claims: list[CustodyClaim] = []
        self.stored_ids: set[str] = set()
        self.site_records: list[ClaimRecord] = []
        if not any(isinstance(le.event.body, CustodyClaim) for le in events):
            return  # the usual document: nothing to prepare
        for i, le in enumerate(events):
            b = le.event.body
            self.order[id(b)] = i
            if isinstance(b, Run):
                self.doc_runs.append((i, b, le.event.event_id))
                for o in b.outputs:
                    self.doc_lots[o.id] = (i, _doc_lot(o, b))
            elif isinstance(b, Lot):
                self.doc_lots[b.id] = (i, _doc_lot(b, None))
            elif isinstance(b, CustodyClaim):
                claims.append(b)
        if self.view is not None:
            self.stored_ids = self.view.claim_ids(c.id for c in claims)

    # --- look-ups ---------------------------------------------------------------------------------------------
    def _lots(self, ids: Iterable[str], before: int) -> dict[str, ClaimLot]:
        """Lots by id (from the document if defined before position ``before``, else the store) with their
        declared-recycled ancestry and the allocations of this document's earlier claims."""

        def fetch(missing: list[str]) -> Mapping[str, ClaimLot]:
            new = [i for i in missing if i not in self.lot_cache]
            if new and self.view is not None:
                self.lot_cache.update(self.view.claim_lots(new))
            return {i: self.lot_cache[i] for i in missing if i in self.lot_cache}

        def known(i: str) -> ClaimLot | None:
            d = self.doc_lots.get(i)
            return d[1] if d is not None and d[0] < before else None

        out = load_lots(fetch, ids, known)
        for i, lot in out.items():
            extra = tuple(self._doc_allocs(i))
            if extra:
                out[i] = _with(lot, extra)
        return out

    def _remember(self, event_id: str, c: CustodyClaim) -> None:
        self.doc_claims.append((event_id, c))
        for a in c.allocations:
            self.doc_allocs.setdefault(a.lot, []).append(
                LotAllocation(event_id, c.site, c.model, a.element, a.pre_consumer_mg, a.post_consumer_mg))

    def _doc_allocs(self, lot_id: str) -> Iterable[LotAllocation]:
        return self.doc_allocs.get(lot_id, ())

    # --- the rules --------------------------------------------------------------------------------------------
    def check(self, loc: str, c: CustodyClaim, event_id: str, add: Add, site_known: Callable[[str], bool],
              retracting: set[str]) -> None:
        """Check one claim; report problems through ``add(location, message)``."""
        pos = self.order.get(id(c), len(self.order))
        skip = frozenset(retracting)
        if not self._check_header(loc, c, add, site_known, skip) or self.view is None:
            self._remember(event_id, c)
            return
        stored = [r for r in self.view.boundary_runs(c.site, c.period_start, c.period_end) if r.event_id not in skip]
        doc = [BoundaryRun(r.id, eid, r.started_at, r.inputs, tuple(o.id for o in r.outputs))
               for i, r, eid in self.doc_runs
               if i < pos and r.site == c.site and c.period_start <= r.started_at < c.period_end
               and eid not in skip]
        runs = stored + doc
        lots = self._lots({x.lot for r in runs for x in r.inputs} | {a.lot for a in c.allocations}, pos)
        runs = [r for r in runs if all(x.lot in lots for x in r.inputs)]
        self.memo: dict[tuple[str, str], Split] = {}
        self.run_flows: dict[tuple[str, bool], Flows] = {}
        flows = boundary_flows(runs, lots, c.site, skip=skip, memo=self.memo)
        self._check_allocations(loc, c, add, lots, {o: r for r in runs for o in r.outputs}, skip)
        self._check_budget(loc, c, add, flows)
        self._remember(event_id, c)
        for r in runs:
            self.counted.setdefault(r.event_id, c.id)
            for x in r.inputs:
                for a in lots[x.lot].allocations:
                    if a.site != c.site and a.claim_event_id:
                        self.counted.setdefault(a.claim_event_id, c.id)

    def _check_header(self, loc: str, c: CustodyClaim, add: Add, site_known: Callable[[str], bool],
                      skip: frozenset[str]) -> bool:
        is_ra = c.model == CustodyModel.MASS_BALANCE_ROLLING_AVERAGE.value
        bad = [m for ok, m in (
            (bool(c.id), "claim id is empty"),
            (c.id not in self.stored_ids and all(d.id != c.id for _, d in self.doc_claims),
             f"claim {c.id} already recorded"),
            (site_known(c.site), f"claim {c.id}: unknown site {c.site!r}"),
            (c.model in CUSTODY_MODELS, f"claim {c.id}: model must be one of {list(CUSTODY_MODELS)}, got {c.model!r}"),
            (c.period_end > c.period_start, f"claim {c.id}: period_end must be after period_start"),
            (not is_ra or bool(c.rolling_average),
             f"claim {c.id}: a rolling-average claim states its fraction per element (rolling_average)"),
            (is_ra or not c.rolling_average,
             f"claim {c.id}: rolling_average fractions belong to model mass_balance_rolling_average only"),
            (all(_ELEMENT.match(e) and min(p, q) >= 0 and p + q <= S for e, (p, q) in c.rolling_average.items()),
             f"claim {c.id}: rolling_average fractions must be ≥ 0 with pre + post ≤ 1 per element"),
            (self.view is not None, "this ledger view cannot check custody claims"),
        ) if not ok]
        if not bad and self.view is not None:
            self.site_records = [r for r in self.view.site_claims(c.site) if r.event_id not in skip]
            others = [(r.id, r.period_start, r.period_end) for r in self.site_records]
            others += [(d.id, d.period_start, d.period_end) for _, d in self.doc_claims if d.site == c.site]
            bad += [f"claim {c.id}: its period overlaps claim {oid} of site {c.site} ({s0.isoformat()} .. "
                    f"{s1.isoformat()}); the claim periods of one site must be identical or disjoint"
                    for oid, s0, s1 in others
                    if s0 < c.period_end and c.period_start < s1 and (s0, s1) != (c.period_start, c.period_end)]
        for m in bad:
            add(loc, m)
        return not bad

    def _check_allocations(self, loc: str, c: CustodyClaim, add: Add, lots: dict[str, ClaimLot],
                           made_by: dict[str, BoundaryRun], skip: frozenset[str]) -> None:
        seen: set[tuple[str, str]] = set()
        model = c.model
        for k, a in enumerate(c.allocations):
            al = f"{loc}/allocations/{k}"
            e = a.element
            if not _ELEMENT.match(e):
                add(al, f"{e!r} is not an element symbol")
                continue
            if a.pre_consumer_mg < 0 or a.post_consumer_mg < 0:
                add(al, f"allocated {e} mass must be ≥ 0 kg")
                continue
            if (a.lot, e) in seen:
                add(al, f"lot {a.lot} is allocated {e} twice in claim {c.id}")
            seen.add((a.lot, e))
            lot = lots.get(a.lot)
            if lot is None:
                add(al, f"unknown lot {a.lot}")
                continue
            run = made_by.get(a.lot)
            if lot.retracted or run is None:
                add(al, f"lot {a.lot} is not a live output of a run at {c.site} started in the claim period")
                continue
            elem = lot.mass_mg * lot.assay.get(e, 0)  # [mg·ppb]
            mine = a.pre_consumer_mg + a.post_consumer_mg
            prior = sum(x.pre_consumer_mg + x.post_consumer_mg for x in lot.allocations
                        if x.element == e and x.claim_event_id not in skip)
            if (prior + mine) * S > elem:
                add(al, f"lot {a.lot}: {_kg((prior + mine) * S)} of {e} allocated in all exceeds its {e} "
                        f"mass {_kg(elem)}")
                continue
            if model == CustodyModel.MASS_BALANCE_ROLLING_AVERAGE.value:
                p, q = c.rolling_average.get(e, (0, 0))
                want = (elem * p // (S * S), elem * q // (S * S))
                if (a.pre_consumer_mg, a.post_consumer_mg) != want:
                    add(al, f"lot {a.lot}: a rolling-average allocation of {e} must be the stated fraction of its "
                            f"{e} mass: pre {want[0] / 1e6:.6f} kg, post {want[1] / 1e6:.6f} kg")
            elif model in BATCH_MODELS:
                # the run's known proportion bounds everything claimed on the lot, this claim and earlier ones
                earlier = [x for x in lot.allocations if x.element == e and x.claim_event_id not in skip]
                total_alloc = (a.pre_consumer_mg + sum(x.pre_consumer_mg for x in earlier),
                               a.post_consumer_mg + sum(x.post_consumer_mg for x in earlier))
                self._check_batch(al, c, a.lot, e, total_alloc, elem, run, lots, add, skip)

    def _check_batch(self, al: str, c: CustodyClaim, lot_id: str, e: str, alloc: tuple[int, int], elem: int,
                     run: BoundaryRun, lots: dict[str, ClaimLot], add: Add, skip: frozenset[str]) -> None:
        segregated = c.model == CustodyModel.SEGREGATED.value
        if segregated:
            mixed = [x.lot for x in run.inputs if lots[x.lot].assay.get(e, 0) and lots[x.lot].origin not in _CLASSES]
            if mixed:
                add(al, f"segregated claim on {e}: run {run.id} mixes inputs not declared recycled ({mixed[0]})")
                return
        key = (run.id, segregated)
        if key not in self.run_flows:
            self.run_flows[key] = boundary_flows([run], lots, c.site, models=frozenset() if segregated else BATCH_MODELS,
                                                 skip=skip, memo=self.memo)
        flows = self.run_flows[key]
        total = flows.total.get(e, 0)
        for cls, v in zip(_CLASSES, alloc, strict=True):
            rec = flows.recycled(e, cls)
            if v * S * total > rec * elem:
                share = rec / total if total else 0.0
                add(al, f"lot {lot_id}: {v / 1e6:.6f} kg {cls} {e} exceeds the known proportion of run {run.id} "
                        f"({share:.6f} of {_kg(elem)})")

    def _check_budget(self, loc: str, c: CustodyClaim, add: Add, flows: Flows) -> None:
        claimed: dict[tuple[str, str], int] = {}
        same = [r.totals for r in self.site_records if (r.period_start, r.period_end) == (c.period_start, c.period_end)]
        for d in [*(d for _, d in self.doc_claims), c]:
            if d.site == c.site and (d.period_start, d.period_end) == (c.period_start, c.period_end):
                same.append(_totals(d))
        for t in same:
            for e, (pre, post) in t.items():
                for cls, v in zip(_CLASSES, (pre, post), strict=True):
                    claimed[(e, cls)] = claimed.get((e, cls), 0) + v
        for (e, cls), v in sorted(claimed.items()):
            rec = flows.recycled(e, cls)
            if v * S > rec:
                add(loc, f"claim {c.id} over-claims {cls} {e}: {v / 1e6:.6f} kg allocated by the claims of "
                         f"{c.site} for this period > {_kg(rec)} recycled {e} that entered the boundary")
        for e, (p, q) in sorted(c.rolling_average.items()):
            total = flows.total.get(e, 0)
            for cls, frac in zip(_CLASSES, (p, q), strict=True):
                rec = flows.recycled(e, cls)
                if frac * total > rec * S:
                    add(loc, f"claim {c.id}: rolling average {frac / S:.6f} {cls} {e} exceeds the period's "
                             f"recycled input share {rec / total if total else 0.0:.6f}")

    def check_retraction(self, loc: str, target: str, add: Add) -> None:
        """Refuse retracting an event that a live claim (stored or in this document) relies on."""
        if target in self.counted:
            add(loc, f"cannot retract event {target}: claim {self.counted[target]} in this document counts it")
        if self.view is None:
            return
        for why in self.view.claim_dependents(target):
            add(loc, f"cannot retract event {target}: {why}; retract that claim first")


def _totals(c: CustodyClaim) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for a in c.allocations:
        pre, post = out.get(a.element, (0, 0))
        out[a.element] = (pre + max(a.pre_consumer_mg, 0), post + max(a.post_consumer_mg, 0))
    return out


def _doc_lot(lot: Lot, run: Run | None) -> ClaimLot:
    return ClaimLot(lot.id, lot.mass_mg, lot.assay, lot.origin, lot.site, lot.produced_at,
                    None if run is None else run.site, False, (), () if run is None else run.inputs)


def _with(lot: ClaimLot, extra: tuple[LotAllocation, ...]) -> ClaimLot:
    return replace(lot, allocations=lot.allocations + extra)


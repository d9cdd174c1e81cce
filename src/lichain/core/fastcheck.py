"""The ledger rules for runs, shipments and lots with less work per event, answer for answer the reference's.

Why this exists: in bulk ingest the rules of a run (custody of each input at the run's site, over-consumption, the
element balance, the output lots' fields) cost more than any other part of the check. :class:`FastChecker`
overrides only those methods of the reference checker (:class:`lichain.core.validate._Checker`), keeping its
order of rules and its messages: the state of each input is read in place (no tuple per input), a location
text is built only for a problem, the over-consumption limit is computed once per lot mass, the element balance
is summed for the policy's elements in one pass with the integer test of :func:`lichain.core.balance.balances`
inlined (a run at the margin is still decided by :class:`~lichain.core.balance.ElementBalance`), and custody
movements are made without the frozen dataclass's per-field ``__setattr__``. The reference stays the oracle:
``check_document(..., reference=True)`` runs it, and ``tests/unit/test_fastcheck.py`` proves both give the same
problems (message and location, in order), the same accepted events and the same payloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from lichain.core.balance import _ratio, element_balance
from lichain.core.custody import CustodyBook, Movement
from lichain.core.fastcodec import plain_decimal_context
from lichain.core.limits import CLOCK_SKEW, MIN_TIME
from lichain.core.model import Event, LocatedEvent, Lot, Run, Shipment
from lichain.core.quantities import FRACTION_SCALE
from lichain.core.validate import _ORIGINS, CheckResult, _Checker, _DocLot

__all__ = ["FastChecker", "FastCustodyBook", "PythonFastChecker", "clearly_inside", "movement"]

try:
    from lichain.core import _hotpath

    _hotpath.setup_rules(Movement, _DocLot, tuple(Movement.__dict__[f] for f in ("lot", "site", "at", "mass_mg", "ref")),
                         tuple(_DocLot.__dict__[f] for f in ("mass_mg", "assay", "produced_at", "site", "event_id",
                                                             "consumed_mg")), Event)
    _hotpath.setup_types((_DocLot, Movement))
    _accept_plain: Any = _hotpath.accept_plain
    _accept_from: Any = _hotpath.accept_from
    _book_load: Any = _hotpath.book_load
    _scan: Any = _hotpath.scan
except ImportError:  # installed without a C compiler: the Python rules alone
    _accept_plain = _accept_from = _scan = _book_load = None

_new = object.__new__
_set_lot, _set_site, _set_at, _set_mass, _set_ref = (
    Movement.__dict__[f].__set__ for f in ("lot", "site", "at", "mass_mg", "ref"))


def movement(lot: str, site: str, at: datetime, mass_mg: int, ref: str) -> Movement:
    """``Movement(lot, site, at, mass_mg, ref)``, equal to it, without the frozen dataclass's checked setters."""
    m = _new(Movement)
    _set_lot(m, lot)
    _set_site(m, site)
    _set_at(m, at)
    _set_mass(m, mass_mg)
    _set_ref(m, ref)
    return m


def clearly_inside(i: int, o: int, loss: int, p: int, q: int, slack: int) -> bool:
    """The integer test of :func:`lichain.core.balance.balances` with the tolerance as ``p/q`` and ``slack`` =
    (1 + outputs) × FRACTION_SCALE × q: True only when the element certainly balances."""
    allowed = p * i + slack
    return i > 0 and p >= 0 and abs(i - o - loss) * q <= allowed - allowed // 10**20 - 1


class FastCustodyBook(CustodyBook):
    """:class:`CustodyBook` recording movements with fewer lookups; its usual take (nothing later at the site)
    records the movement in place."""

    def __init__(self, stored: Mapping[str, Iterable[Movement]], tolerance: Decimal,
                 mass_mg: Mapping[str, int] | None = None) -> None:
        super().__init__({}, tolerance, mass_mg)
        if _book_load is not None and type(stored) is dict and _book_load(stored, self.moves, self.total, self.last):
            return  # loaded in compiled code
        self.moves.clear()
        self.total.clear()
        self.last.clear()
        for v in stored.values():
            for m in v:
                self.add(m)

    def add(self, m: Movement) -> None:
        lot = m.lot
        moves = self.moves.get(lot)
        if moves is None:
            self.moves[lot] = [m]
        else:
            moves.append(m)
        key = (lot, m.site)
        total = self.total
        total[key] = total.get(key, 0) + m.mass_mg
        last = self.last.get(key)
        if last is None or m.at > last:
            self.last[key] = m.at

    def take(self, lot: str, site: str, at: datetime, mass_mg: int, ref: str) -> str | None:
        key = (lot, site)
        last = self.last.get(key)
        if last is not None and at >= last:
            total = self.total
            have = total[key]
            if mass_mg <= have:  # the usual case: nothing later at the site, enough there
                self.moves[lot].append(movement(lot, site, at, -mass_mg, ref))
                total[key] = have - mass_mg
                if at > last:
                    self.last[key] = at
                return None
        return super().take(lot, site, at, mass_mg, ref)


class PythonFastChecker(_Checker):
    """The reference checker with faster run, shipment and lot rules (same problems, same order)."""

    custody_book = FastCustodyBook

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.limits: dict[int, int] = {}  # lot mass [mg] → largest total consumption accepted [mg]

    def moved_lots(self, lot_refs: set[str]) -> Iterable[str]:
        """Only stored lots have stored movements (:meth:`LedgerView.movements`): the lots found by the prefetch."""
        return self.stored_lots.keys()

    def limit(self, mass: int) -> int:
        """``mass + int(Decimal(mass) × consumption tolerance)``, once per mass."""
        if type(mass) is not int:
            return mass + int(Decimal(mass) * self.policy.consumption_tolerance)
        v = self.limits.get(mass)
        if v is None:
            v = self.limits[mass] = mass + int(Decimal(mass) * self.policy.consumption_tolerance)
        return v

    def check_lot_fields(self, loc: str, lot: Lot) -> None:
        add, lid = self.add, lot.id
        if not lid:
            add(loc, "lot id is empty")
        if lid in self.doc_lots or lid in self.stored_lots:
            add(loc, f"lot {lid} already exists; a lot is created once (send a correction event instead)")
        if not (lot.material in self.doc_materials or lot.material in self.stored_materials):
            add(loc, f"unknown material {lot.material!r} for lot {lid}")
        if not (lot.site in self.doc_sites or lot.site in self.stored_sites):
            add(loc, f"unknown site {lot.site!r} for lot {lid}")
        if lot.mass_mg <= 0:
            add(loc, f"lot {lid}: mass must be > 0 kg")
        if lot.origin not in _ORIGINS:
            add(loc, f"lot {lid}: origin must be one of {sorted(_ORIGINS)}, got {lot.origin!r}")
        total = 0
        for e, v in lot.assay.items():
            if v < 0 or v > FRACTION_SCALE:
                add(loc, f"lot {lid}: mass fraction of {e} must be within 0..1")
            total += v
        if total > FRACTION_SCALE:
            add(loc, f"lot {lid}: mass fractions sum to {total / FRACTION_SCALE:.9f} > 1")

    def register_lot(self, lot: Lot, event_id: str) -> None:
        self.doc_lots[lot.id] = _DocLot(lot.mass_mg, lot.assay, lot.produced_at, lot.site, event_id)
        self.custody.mass[lot.id] = lot.mass_mg
        self.custody.add(movement(lot.id, lot.site, lot.produced_at, lot.mass_mg, event_id))

    def check_run(self, loc: str, run: Run, event_id: str) -> None:
        add, rid, site, start = self.add, run.id, run.site, run.started_at
        if rid in self.doc_records["run"] or rid in self.stored_runs:
            add(loc, f"run {rid} already recorded")
        self.quality.check_run(loc, run, add)  # out-of-specification inputs need a deviation
        if not (site in self.doc_sites or site in self.stored_sites):
            add(loc, f"run {rid}: unknown site {site!r}")
        if run.ended_at < start:
            add(loc, f"run {rid}: ended_at is before started_at")
        if not run.inputs:
            add(loc, f"run {rid}: a run needs at least one input lot (source lots enter as commissioning)")
        if not run.outputs:
            add(loc, f"run {rid}: a run needs at least one output lot")
        own = {o.id for o in run.outputs}
        doc_lots, stored_lots, custody = self.doc_lots, self.stored_lots, self.custody
        retracting, stored_retracted = self.retracting, self.stored_retracted
        seen: set[str] = set()
        inputs_ok = True
        assays: list[Any] = []
        for k, c in enumerate(run.inputs):
            lot, mg = c.lot, c.mass_mg
            if lot in seen:
                add(f"{loc}/inputs/{k}", f"lot {lot} is listed twice as an input of run {rid}")
            seen.add(lot)
            if mg <= 0:
                add(f"{loc}/inputs/{k}", f"consumed mass of lot {lot} must be > 0 kg")
            if lot in own:
                add(f"{loc}/inputs/{k}", f"run {rid} consumes its own output {lot}: the lot graph would have a cycle")
                inputs_ok = False
                assays.append({})
                continue
            d = doc_lots.get(lot)
            assay: Any
            produced_at: Any
            if d is not None:
                mass, assay, produced_at = d.mass_mg, d.assay, d.produced_at
                retracted = d.event_id in retracting or d.event_id in stored_retracted
            else:
                s = stored_lots.get(lot)
                if s is None:
                    if lot in self.later_lots:
                        add(f"{loc}/inputs/{k}", f"input lot {lot} is made later in this document (by "
                                                 f"run {self.later_lots[lot]}): a run cannot consume its own descendants (cycle)")
                    else:
                        add(f"{loc}/inputs/{k}", f"unknown lot {lot}")
                    inputs_ok = False
                    assays.append({})
                    continue
                mass, assay, produced_at = s.mass_mg, s.assay, s.produced_at
                retracted = s.event_id in stored_retracted or s.event_id in retracting
            assays.append(assay)
            if retracted:
                add(f"{loc}/inputs/{k}", f"lot {lot} was retracted by an error declaration")
            if produced_at > start:
                add(f"{loc}/inputs/{k}", f"lot {lot} is produced after run {rid} starts")
            elif not retracted and mg > 0:
                why = custody.take(lot, site, start, mg, event_id)
                if why:
                    add(f"{loc}/inputs/{k}", f"run {rid} consumes more than is at its site: {why}")
            if d is None:
                s = stored_lots[lot]
                d = doc_lots[lot] = _DocLot(s.mass_mg, dict(s.assay), s.produced_at, s.site, s.event_id,
                                            s.consumed_mg)
            d.consumed_mg += mg
            total = d.consumed_mg
            if total > self.limit(mass):
                add(f"{loc}/inputs/{k}", f"over-consumption of lot {lot}: {total / 1e6:.6f} kg consumed in all "
                                         f"> {mass / 1e6:.6f} kg lot mass")
        for k, o in enumerate(run.outputs):
            self.check_lot_fields(f"{loc}/outputs/{k}", o)
            if o.produced_at < start:
                add(f"{loc}/outputs/{k}", f"output lot {o.id} is produced before run {rid} starts")
        for e, v in run.losses_mg.items():
            if v < 0:
                add(f"{loc}/losses/{e}", f"declared loss of {e} must be ≥ 0 kg")
        if inputs_ok:
            self.check_balance(loc, run, assays)
        for o in run.outputs:
            self.register_lot(o, event_id)
        self.doc_records["run"].add(rid)

    def check_balance(self, loc: str, run: Run, assays: list[Any]) -> None:
        """The reference's element balance, summed in one pass and decided by the inlined integer test (whose
        margin covers 28-digit Decimal rounding: under a narrower context, the reference decides)."""
        if not plain_decimal_context():
            super().check_balance(loc, run, assays)
            return
        elements = self.policy.elements
        ins = dict.fromkeys(elements, 0)
        outs = dict.fromkeys(elements, 0)
        for c, a in zip(run.inputs, assays, strict=True):
            m = c.mass_mg
            for e, v in a.items():
                if e in ins:
                    ins[e] += m * v
        for lot in run.outputs:
            m = lot.mass_mg
            for e, v in lot.assay.items():
                if e in outs:
                    outs[e] += m * v
        tol = self.policy.tolerance(run.kind)
        p, q = _ratio(tol)
        n = len(run.outputs)
        slack = (1 + n) * FRACTION_SCALE * q
        losses = run.losses_mg
        for e in elements:
            i, o, loss = ins[e], outs[e], losses.get(e, 0) * FRACTION_SCALE
            if clearly_inside(i, o, loss, p, q, slack):
                continue
            b = element_balance(e, i, o, loss, tol, n)
            if not b.ok:
                self.add(f"{loc}/balance/{e}", b.message(run.id))

    def check_shipment(self, loc: str, s: Shipment, event_id: str) -> None:
        add, sid, lot = self.add, s.id, s.lot
        if sid in self.doc_records["shipment"] or sid in self.stored_ships:
            add(loc, f"shipment {sid} already recorded")
        for site in (s.from_site, s.to_site):
            if not (site in self.doc_sites or site in self.stored_sites):
                add(loc, f"shipment {sid}: unknown site {site!r}")
        if s.distance_km < 0:
            add(loc, f"shipment {sid}: distance must be ≥ 0 km")
        d = self.doc_lots.get(lot)
        produced_at: Any
        if d is not None:
            produced_at = d.produced_at
            retracted = d.event_id in self.retracting or d.event_id in self.stored_retracted
        else:
            st = self.stored_lots.get(lot)
            if st is None:
                add(loc, f"shipment {sid}: unknown lot {lot}")
                return
            produced_at = st.produced_at
            retracted = st.event_id in self.stored_retracted or st.event_id in self.retracting
        if retracted:
            add(loc, f"shipment {sid}: lot {lot} was retracted")
        if produced_at > s.shipped_at:
            add(loc, f"shipment {sid}: lot {lot} is shipped before it is produced")
        elif s.mass_mg <= 0:
            add(loc, f"shipment {sid}: shipped mass must be > 0 kg")
        elif not retracted:
            why = self.custody.take(lot, s.from_site, s.shipped_at, s.mass_mg, event_id)
            if why:
                add(loc, f"shipment {sid} exceeds what is at its origin: {why}")
            self.custody.add(movement(lot, s.to_site, s.shipped_at, s.mass_mg, event_id))
        self.doc_records["shipment"].add(sid)


def _exact_ratio(d: Decimal) -> tuple[int, int] | None:
    """``d`` as (p, q) when ``int(Decimal(mass) × d)`` is exactly ``mass × p // q`` for every mass below 2^63: d ≥ 0
    with at most 9 significant digits, so the 28-digit Decimal product is never rounded."""
    if not d.is_finite() or d < 0 or len(d.as_tuple().digits) > 9:
        return None
    return d.as_integer_ratio()


class FastChecker(PythonFastChecker):
    """:class:`PythonFastChecker` with the usual path of lots, runs and shipments in compiled code
    (``lichain/core/_hotpath.c``, ``accept_plain``): an event that meets every rule in the plain way is checked and
    recorded there; any other goes through the Python rules with nothing changed, so problems are always found and
    worded by them."""

    def collect(self, events: Sequence[LocatedEvent], ids: list[str], lots: set[str], sites: set[str],
                materials: set[str], runs: set[str], ships: set[str]) -> Sequence[LocatedEvent]:
        """The references of the document's lots, runs and shipments read in compiled code (``scan``), with the
        lots its runs make (``later_lots``); the events of other kinds are returned for the Python loop."""
        if _scan is None:
            return events
        others: list[LocatedEvent] = _scan(events, ids, lots, sites, materials, runs, ships, self.later_lots)
        return others

    def find_later_lots(self, events: Sequence[LocatedEvent]) -> None:
        """Found by :meth:`collect`, unless a run it left to the Python loop could come first."""
        if _scan is None or any(isinstance(le.event.body, Run) for le in self.unscanned):
            self.later_lots.clear()
            super().find_later_lots(events)

    def rules_state(self) -> tuple[Any, ...] | None:
        """The live containers the compiled rules read and update (made once, after the prefetch)."""
        pol = self.policy
        cons = _exact_ratio(pol.consumption_tolerance)
        if cons is None or not plain_decimal_context():
            return None
        ratios = {k: _ratio(v) for k, v in pol.per_kind.items()}
        c = self.custody
        return (self.doc_records["run"], self.stored_runs, self.doc_sites, self.stored_sites, self.doc_materials,
                self.stored_materials, self.doc_lots, self.stored_lots, self.retracting, self.stored_retracted,
                c.moves, c.total, c.last, c.mass, self.quality.coas, self.quality.status,
                tuple(pol.elements), ratios, _ratio(pol.balance_tolerance), cons, _ORIGINS,
                self.doc_records["shipment"], self.stored_ships, self.doc_events, self.doc_kinds, self.stored_events,
                self.later_lots, self.doc_uses, MIN_TIME, self.now + CLOCK_SKEW)

    def check(self, events: Sequence[LocatedEvent]) -> CheckResult:
        """The reference's document check, each lot, run and shipment event first offered to the compiled path
        (``accept_plain``: payload, field screen and rules in one call), the rest and every decline to
        :meth:`check_event`."""
        self.start(events)
        state = (self.rules_state() or ()) if _accept_plain is not None else ()
        if not state:
            for le in events:
                self.check_event(le)
            return self.result()
        new_events, payloads = self.new_events, self.payloads
        if type(events) in (list, tuple) and type(new_events) is list and type(payloads) is list:
            k, n = 0, len(events)
            while k < n:  # the compiled path takes every event up to one it declines, which the Python checker takes
                k = _accept_from(state, events, k, new_events, payloads)
                if k < n:
                    self.check_event(events[k])
                    k += 1
            return self.result()
        for le in events:
            p = _accept_plain(state, le)
            if p is None:
                self.check_event(le)
            else:
                new_events.append(le.event)
                payloads.append(p)
        return self.result()

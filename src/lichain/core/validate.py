"""The ledger's invariants (DESIGN §2), checked for a whole document before anything is written.

``check_document`` walks the document's events in order against the stored state (a :class:`LedgerView`) plus
the document's own earlier events, and returns every problem with its location. An empty list means the
document may be written as a whole; any problem means nothing is written. Events already on record with the
same content are skipped, which makes re-ingesting a document a no-op.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from lichain.core.balance import balances, element_balance
from lichain.core.claims import ClaimChecker
from lichain.core.codec import body_from_json, body_to_json, canonical_json
from lichain.core.custody import CustodyBook, shipment_lots
from lichain.core.diligence import site_risk_problems
from lichain.core.diligence_records import record_problems
from lichain.core.errors import Problem
from lichain.core.fastcodec import fast_payload
from lichain.core.fieldscreen import screened_field_problems
from lichain.core.keys import key_problems
from lichain.core.limits import ledger_now
from lichain.core.model import (
    DEFAULT_ELEMENTS,
    BatteryRegistration,
    CellSpec,
    CustodyClaim,
    DiligencePolicy,
    Event,
    EventKind,
    FactorOverride,
    KeyStatement,
    LocatedEvent,
    Lot,
    Material,
    Origin,
    Retraction,
    RiskMeasure,
    Run,
    Shipment,
    Site,
    SiteKind,
    SiteRisk,
    Stage,
    SupplierPcf,
    VerbatimEvent,
)
from lichain.core.ports import LedgerView, LotState, Movement, Settled
from lichain.core.quality_check import check_quality_event, quality_book
from lichain.core.quantities import FRACTION_SCALE
from lichain.core.supplier_pcf import LotFacts, pcf_problems

__all__ = ["BalancePolicy", "CheckResult", "LocatedEvent", "check_document", "run_balance"]

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_STAGES = {s.value for s in Stage}
_SITE_KINDS = {s.value for s in SiteKind}
_ORIGINS = {o.value for o in Origin}


@dataclass(frozen=True, slots=True)
class BalancePolicy:
    """Tolerances of the ledger: element balance per process kind and over-consumption, as fractions."""

    elements: tuple[str, ...] = DEFAULT_ELEMENTS
    balance_tolerance: Decimal = Decimal("0.005")  # of input element mass (DESIGN §2 invariant 3)
    per_kind: dict[str, Decimal] = field(default_factory=dict)
    consumption_tolerance: Decimal = Decimal("0.001")  # of lot mass: weighbridge and scale differences
    now: datetime | None = None  # the ledger's clock for the future-time bound (None: the system clock)

    def tolerance(self, kind: str) -> Decimal:
        """Element balance tolerance for a process kind."""
        return self.per_kind.get(kind, self.balance_tolerance)


@dataclass(slots=True)
class CheckResult:
    """Problems found, and the events that are new (to be written if there are no problems)."""

    problems: list[Problem]
    new_events: list[Event]
    payloads: list[str]
    skipped: int = 0
    verbatim: list[LocatedEvent] = field(default_factory=list)  # new events kept verbatim, where they stand
    settled: Settled | None = None  # the lots it names as they stand once it is written (when known)


@dataclass(slots=True)
class _DocLot:
    mass_mg: int
    assay: dict[str, int]
    produced_at: datetime
    site: str
    event_id: str
    consumed_mg: int = 0


def run_balance(
    run: Run, input_assays: Sequence[dict[str, int] | object], elements: Sequence[str]
) -> dict[str, tuple[int, int, int]]:
    """Per element: (input, output, declared loss) element mass in mg·ppb units (exact integers).

    ``input_assays`` gives the assay (element → ppb) of each input in order.
    """
    ins = dict.fromkeys(elements, 0)
    outs = dict.fromkeys(elements, 0)
    for c, a in zip(run.inputs, input_assays, strict=True):
        for e, v in a.items():  # type: ignore[attr-defined]
            if e in ins:
                ins[e] += c.mass_mg * v
    for lot in run.outputs:
        for e, v in lot.assay.items():
            if e in outs:
                outs[e] += lot.mass_mg * v
    return {e: (ins[e], outs[e], run.losses_mg.get(e, 0) * FRACTION_SCALE) for e in elements}


class _Checker:
    """The reference checker: every rule in order, one event at a time (the oracle of :mod:`.fastcheck`)."""

    custody_book = CustodyBook

    def __init__(self, view: LedgerView, policy: BalancePolicy) -> None:
        self.view = view
        self.policy = policy
        self.problems: list[Problem] = []
        self.doc_lots: dict[str, _DocLot] = {}
        self.doc_sites: set[str] = set()
        self.doc_materials: set[str] = set()
        self.doc_declared: dict[tuple[str, str], str] = {}  # (site | material, id) → canonical payload
        self.doc_records: dict[str, set[str]] = {"run": set(), "shipment": set()}
        self.doc_events: dict[str, str] = {}  # event id -> location
        self.retracting: set[str] = set()
        self.doc_kinds: dict[str, EventKind] = {}
        self.doc_uses: dict[str, Run | Shipment] = {}  # accepted runs and shipments of this document
        self.verbatim: list[LocatedEvent] = []
        self.prefetched = False  # the ledger state is read (the custody book among it)

    def add(self, loc: str, msg: str) -> None:
        self.problems.append(Problem(loc, msg))

    # --- prefetch -------------------------------------------------------------------------------------------
    def collect(self, events: Sequence[LocatedEvent], ids: list[str], lots: set[str], sites: set[str],
                materials: set[str], runs: set[str], ships: set[str]) -> Sequence[LocatedEvent]:
        """Read the references of the events it can into the sets (and ``later_lots``); return the rest, which
        :meth:`prefetch` reads one by one. The reference reads none here."""
        return events

    def prefetch(self, events: Sequence[LocatedEvent]) -> None:
        lot_refs: set[str] = set()
        sites: set[str] = set()
        materials: set[str] = set()
        runs: set[str] = set()
        ships: set[str] = set()
        ids: list[str] = []
        self.later_lots: dict[str, str] = {}  # lot id -> id of the first run of the document making it
        others = self.collect(events, ids, lot_refs, sites, materials, runs, ships)
        refs = {"lot": lot_refs, "site": sites, "material": materials}
        alternatives = []
        for le in others:
            v = le.event.body
            if isinstance(v, VerbatimEvent) and v.names:
                for kind, name in v.names:
                    refs[kind].add(name)
                if v.modelled is not None:
                    alternatives.append(LocatedEvent(le.location, v.modelled))
        self.unscanned = rest = [*others, *alternatives]
        everything = [*events, *alternatives]
        for le in rest:
            b = le.event.body
            if isinstance(b, Run):
                sites.add(b.site)
                runs.add(b.id)
                lot_refs.update(c.lot for c in b.inputs)
                for o in b.outputs:
                    lot_refs.add(o.id)
                    sites.add(o.site)
                    materials.add(o.material)
            elif isinstance(b, Lot):
                lot_refs.add(b.id)
                sites.add(b.site)
                materials.add(b.material)
            elif isinstance(b, Shipment):
                ships.add(b.id)
                lot_refs.add(b.lot)
                sites.update((b.from_site, b.to_site))
            elif isinstance(b, FactorOverride | CustodyClaim | SiteRisk | RiskMeasure):
                if b.site:
                    sites.add(b.site)
            elif isinstance(b, SupplierPcf | CellSpec | BatteryRegistration):
                lot_refs.add(b.lot)
            elif isinstance(b, Site):  # a re-declaration is checked against the record, not left to the database
                sites.add(b.id)
            elif isinstance(b, Material):
                materials.add(b.code)
        ids += [le.event.event_id for le in rest]
        targets = [le.event.body.target_event_id for le in rest if isinstance(le.event.body, Retraction)]
        self.stored_events = self.view.event_payloads(ids + targets)
        lot_refs |= shipment_lots(self.stored_events, targets)  # a retracted shipment leaves its destination
        self.stored_lots: dict[str, LotState] = self.view.lots(lot_refs)
        self.custody = self.custody_book(self.view.movements(self.moved_lots(lot_refs)),
                                         self.policy.consumption_tolerance,
                                         {k: v.mass_mg for k, v in self.stored_lots.items()})
        self.stored_sites = self.view.sites(sites)
        self.stored_materials = self.view.materials(materials)
        self.stored_runs = self.view.record_ids("run", runs)
        self.stored_ships = self.view.record_ids("shipment", ships)
        retracted_ids = {s.event_id for s in self.stored_lots.values()} | set(targets)
        self.stored_retracted = self.view.retracted(retracted_ids)
        # claims and quality records are among the events read one by one: a document without any skips them
        self.claims = ClaimChecker(self.view, everything if any(isinstance(le.event.body, CustodyClaim)
                                                                for le in rest) else ())
        self.quality = quality_book(self.view, everything, lot_refs, rest)
        self.prefetched = True

    def moved_lots(self, lot_refs: set[str]) -> Iterable[str]:
        """The lots whose stored movements the custody book needs (every lot the document names)."""
        return lot_refs

    # --- lookups --------------------------------------------------------------------------------------------
    def site_known(self, s: str) -> bool:
        return s in self.doc_sites or s in self.stored_sites

    def material_known(self, m: str) -> bool:
        return m in self.doc_materials or m in self.stored_materials

    def lot_known(self, lot_id: str) -> bool:
        return lot_id in self.doc_lots or lot_id in self.stored_lots

    # --- rules ----------------------------------------------------------------------------------------------
    def check_lot_fields(self, loc: str, lot: Lot) -> None:
        if not lot.id:
            self.add(loc, "lot id is empty")
        if self.lot_known(lot.id):
            self.add(loc, f"lot {lot.id} already exists; a lot is created once (send a correction event instead)")
        if not self.material_known(lot.material):
            self.add(loc, f"unknown material {lot.material!r} for lot {lot.id}")
        if not self.site_known(lot.site):
            self.add(loc, f"unknown site {lot.site!r} for lot {lot.id}")
        if lot.mass_mg <= 0:
            self.add(loc, f"lot {lot.id}: mass must be > 0 kg")
        if lot.origin not in _ORIGINS:
            self.add(loc, f"lot {lot.id}: origin must be one of {sorted(_ORIGINS)}, got {lot.origin!r}")
        total = 0
        for e, v in lot.assay.items():
            if v < 0 or v > FRACTION_SCALE:
                self.add(loc, f"lot {lot.id}: mass fraction of {e} must be within 0..1")
            total += v
        if total > FRACTION_SCALE:
            self.add(loc, f"lot {lot.id}: mass fractions sum to {total / FRACTION_SCALE:.9f} > 1")

    def register_lot(self, lot: Lot, event_id: str) -> None:
        self.doc_lots[lot.id] = _DocLot(lot.mass_mg, lot.assay, lot.produced_at, lot.site, event_id)
        self.custody.set_mass(lot.id, lot.mass_mg)
        self.custody.add(Movement(lot.id, lot.site, lot.produced_at, lot.mass_mg, event_id))

    def input_state(self, lot_id: str) -> tuple[int, int, dict[str, int] | object, object, bool] | None:
        d = self.doc_lots.get(lot_id)
        if d is not None:
            return d.mass_mg, d.consumed_mg, d.assay, d.produced_at, (
                d.event_id in self.retracting or d.event_id in self.stored_retracted)
        s = self.stored_lots.get(lot_id)
        if s is not None:
            return s.mass_mg, s.consumed_mg, s.assay, s.produced_at, (
                s.event_id in self.stored_retracted or s.event_id in self.retracting)
        return None

    def add_consumed(self, lot_id: str, mg: int) -> int:
        d = self.doc_lots.get(lot_id)
        if d is None:
            s = self.stored_lots[lot_id]
            d = _DocLot(s.mass_mg, dict(s.assay), s.produced_at, s.site, s.event_id, s.consumed_mg)
            self.doc_lots[lot_id] = d
        d.consumed_mg += mg
        return d.consumed_mg

    def check_run(self, loc: str, run: Run, event_id: str) -> None:
        if run.id in self.doc_records["run"] or run.id in self.stored_runs:
            self.add(loc, f"run {run.id} already recorded")
        self.quality.check_run(loc, run, self.add)  # out-of-specification inputs need a deviation
        if not self.site_known(run.site):
            self.add(loc, f"run {run.id}: unknown site {run.site!r}")
        if run.ended_at < run.started_at:
            self.add(loc, f"run {run.id}: ended_at is before started_at")
        if not run.inputs:
            self.add(loc, f"run {run.id}: a run needs at least one input lot (source lots enter as commissioning)")
        if not run.outputs:
            self.add(loc, f"run {run.id}: a run needs at least one output lot")
        own = {o.id for o in run.outputs}
        later = self.later_lots
        seen: set[str] = set()
        inputs_ok = True
        assays: list[dict[str, int] | object] = []
        for k, c in enumerate(run.inputs):
            cl = f"{loc}/inputs/{k}"
            if c.lot in seen:
                self.add(cl, f"lot {c.lot} is listed twice as an input of run {run.id}")
            seen.add(c.lot)
            if c.mass_mg <= 0:
                self.add(cl, f"consumed mass of lot {c.lot} must be > 0 kg")
            if c.lot in own:
                self.add(cl, f"run {run.id} consumes its own output {c.lot}: the lot graph would have a cycle")
                inputs_ok = False
                assays.append({})
                continue
            st = self.input_state(c.lot)
            if st is None:
                if c.lot in later:
                    self.add(cl, f"input lot {c.lot} is made later in this document (by run {later[c.lot]}): "
                                 "a run cannot consume its own descendants (cycle)")
                else:
                    self.add(cl, f"unknown lot {c.lot}")
                inputs_ok = False
                assays.append({})
                continue
            mass, _consumed, assay, produced_at, retracted = st
            assays.append(assay)
            if retracted:
                self.add(cl, f"lot {c.lot} was retracted by an error declaration")
            if produced_at > run.started_at:  # type: ignore[operator]
                self.add(cl, f"lot {c.lot} is produced after run {run.id} starts")
            elif not retracted and c.mass_mg > 0:
                why = self.custody.take(c.lot, run.site, run.started_at, c.mass_mg, event_id)
                if why:
                    self.add(cl, f"run {run.id} consumes more than is at its site: {why}")
            total = self.add_consumed(c.lot, c.mass_mg)
            limit = mass + int(Decimal(mass) * self.policy.consumption_tolerance)
            if total > limit:
                self.add(cl, f"over-consumption of lot {c.lot}: {total / 1e6:.6f} kg consumed in all "
                             f"> {mass / 1e6:.6f} kg lot mass")
        for k, o in enumerate(run.outputs):
            self.check_lot_fields(f"{loc}/outputs/{k}", o)
            if o.produced_at < run.started_at:
                self.add(f"{loc}/outputs/{k}", f"output lot {o.id} is produced before run {run.id} starts")
        for e, v in run.losses_mg.items():
            if v < 0:
                self.add(f"{loc}/losses/{e}", f"declared loss of {e} must be ≥ 0 kg")
        if inputs_ok:
            self.check_balance(loc, run, assays)
        for o in run.outputs:
            self.register_lot(o, event_id)
        self.doc_records["run"].add(run.id)

    def check_balance(self, loc: str, run: Run, assays: list[dict[str, int] | object]) -> None:
        tol = self.policy.tolerance(run.kind)
        n = len(run.outputs)
        for e, (i, o, loss) in run_balance(run, assays, self.policy.elements).items():
            if not balances(i, o, loss, tol, n):  # exact integers; the message only for a refusal
                self.add(f"{loc}/balance/{e}", element_balance(e, i, o, loss, tol, n).message(run.id))

    def check_shipment(self, loc: str, s: Shipment, event_id: str) -> None:
        if s.id in self.doc_records["shipment"] or s.id in self.stored_ships:
            self.add(loc, f"shipment {s.id} already recorded")
        for site in (s.from_site, s.to_site):
            if not self.site_known(site):
                self.add(loc, f"shipment {s.id}: unknown site {site!r}")
        if s.distance_km < 0:
            self.add(loc, f"shipment {s.id}: distance must be ≥ 0 km")
        st = self.input_state(s.lot)
        if st is None:
            self.add(loc, f"shipment {s.id}: unknown lot {s.lot}")
            return
        _, _, _, produced_at, retracted = st
        if retracted:
            self.add(loc, f"shipment {s.id}: lot {s.lot} was retracted")
        if produced_at > s.shipped_at:  # type: ignore[operator]
            self.add(loc, f"shipment {s.id}: lot {s.lot} is shipped before it is produced")
        elif s.mass_mg <= 0:
            self.add(loc, f"shipment {s.id}: shipped mass must be > 0 kg")
        elif not retracted:
            why = self.custody.take(s.lot, s.from_site, s.shipped_at, s.mass_mg, event_id)
            if why:
                self.add(loc, f"shipment {s.id} exceeds what is at its origin: {why}")
            self.custody.add(Movement(s.lot, s.to_site, s.shipped_at, s.mass_mg, event_id))
        self.doc_records["shipment"].add(s.id)

    def check_retraction(self, loc: str, r: Retraction) -> None:
        t = r.target_event_id
        n = len(self.problems)  # what a refused retraction used stays used
        self.claims.check_retraction(loc, t, self.add)
        if t in self.doc_events:  # an earlier event of this document (e.g. a whole exported ledger)
            kind = self.doc_kinds.get(t)
            if kind not in (EventKind.LOT, EventKind.RUN, EventKind.SHIPMENT):
                self.add(loc, f"event {t} cannot be retracted ({kind.value if kind else 'refused'} event)")
            elif t in self.retracting:
                self.add(loc, f"event {t} is already retracted")
            for lot_id, d in self.doc_lots.items():
                if d.event_id == t and d.consumed_mg > 0:
                    self.add(loc, f"cannot retract event {t}: its lot {lot_id} has been consumed; "
                                  "retract the runs that consumed it first")
            self.problems += [Problem(loc, w) for w in self.custody.retract(t, kind.value if kind else "")]
            self.retracting.add(t)
            if len(self.problems) == n:
                self.free_uses(self.doc_uses.get(t))
            return
        stored = self.stored_events.get(t)
        if stored is None:
            self.add(loc, f"error declaration names unknown event {t}")
            return
        if stored[0] not in (EventKind.LOT.value, EventKind.RUN.value, EventKind.SHIPMENT.value,
                             EventKind.CUSTODY_CLAIM.value):
            self.add(loc, f"event {t} is a {stored[0]} declaration and cannot be retracted")
        if t in self.stored_retracted or t in self.retracting:
            self.add(loc, f"event {t} is already retracted")
        for lot in self.view.lots_of_event(t):
            used = self.doc_lots[lot.id].consumed_mg if lot.id in self.doc_lots else lot.consumed_mg
            if used > 0:
                self.add(loc, f"cannot retract event {t}: its lot {lot.id} has been consumed; "
                              "retract the runs that consumed it first")
        self.problems += [Problem(loc, w) for w in self.custody.retract(t, stored[0])]
        self.retracting.add(t)
        if stored[0] in (EventKind.RUN.value, EventKind.SHIPMENT.value) and len(self.problems) == n:
            body = body_from_json(stored[0], json.loads(stored[1]))
            self.free_uses(body if isinstance(body, Run | Shipment) else None)

    def free_uses(self, body: Run | Shipment | None) -> None:
        """A retracted run no longer uses its lots: later events of the document may (corrections).

        A shipment uses no mass (it moves it between sites): its movements leave the custody book on retraction.
        """
        if not isinstance(body, Run):
            return
        uses = [(c.lot, c.mass_mg) for c in body.inputs]
        missing = [lot for lot, _ in uses if lot not in self.doc_lots and lot not in self.stored_lots]
        if missing:
            self.stored_lots.update(self.view.lots(missing))
        for lot_id, consumed in uses:
            if lot_id in self.doc_lots or lot_id in self.stored_lots:
                self.add_consumed(lot_id, -consumed)

    def check(self, events: Sequence[LocatedEvent]) -> CheckResult:
        self.start(events)
        for le in events:
            self.check_event(le)
        return self.result()

    def start(self, events: Sequence[LocatedEvent]) -> None:
        """Read what the document needs of the ledger and prepare the per-event checks."""
        self.prefetch(events)
        self.find_later_lots(events)
        self.new_events: list[Event] = []
        self.payloads: list[str] = []
        self.skipped = 0
        self.now = self.policy.now or ledger_now()  # the ledger's clock, read once per document

    def find_later_lots(self, events: Sequence[LocatedEvent]) -> None:
        """``later_lots``: each lot a run of the document makes, with the first such run."""
        for le in events:
            if isinstance(le.event.body, Run):
                for o in le.event.body.outputs:
                    self.later_lots.setdefault(o.id, le.event.body.id)

    def result(self) -> CheckResult:
        return CheckResult(self.problems, self.new_events, self.payloads, self.skipped, self.verbatim, self.settled())

    def settled(self) -> Settled | None:
        """The lots the document names as they stand once it is written; None when it has problems or retracts
        (a retraction changes use in the past)."""
        if not self.prefetched or self.problems or self.retracting:
            return None
        return Settled(self.doc_lots, self.stored_lots, self.custody.moves)

    def check_event(self, le: LocatedEvent) -> None:
        """Every rule for one event of the document, in order; accepted, it joins the new events."""
        ev, loc, b = le.event, le.location, le.event.body
        if isinstance(b, VerbatimEvent) and b.names and self.names_ledger(b):  # docs/ledger.md: modelled
            if b.modelled is None:
                self.problems += b.modelled_problems
                return
            ev, b = b.modelled, b.modelled.body
        payload = fast_payload(b)
        if ev.event_id in self.doc_events:
            self.add(loc, f"duplicate event {ev.event_id} (already at {self.doc_events[ev.event_id]})")
            return
        self.doc_events[ev.event_id] = loc
        self.doc_kinds[ev.event_id] = ev.kind
        stored = self.stored_events.get(ev.event_id)
        if stored is not None:
            # an event kept verbatim is identified by its CBV 2.0 hash, which leaves out eventID, recordTime
            # and comments: the same hash is the same event, already on record
            if stored == (ev.kind.value, payload) or stored[0] == ev.kind.value == EventKind.EPCIS_VERBATIM:
                self.skipped += 1
                return
            self.add(loc, f"event id {ev.event_id} is already recorded with different content")
            return
        if isinstance(b, Run):
            for o in b.outputs:
                self.later_lots.pop(o.id, None)
        n = len(self.problems)
        for suffix, message in screened_field_problems(ev, payload, self.now):
            self.add(f"{loc}{suffix}", message)
        if isinstance(b, Site):
            self.check_site(loc, b)
        elif isinstance(b, Material):
            self.check_material(loc, b)
        elif isinstance(b, Lot):
            self.check_lot_fields(loc, b)
            self.register_lot(b, ev.event_id)
        elif isinstance(b, Run):
            self.check_run(loc, b, ev.event_id)
        elif isinstance(b, Shipment):
            self.check_shipment(loc, b, ev.event_id)
        elif isinstance(b, Retraction):
            self.check_retraction(loc, b)
        elif isinstance(b, FactorOverride):
            self.check_override(loc, b)
        elif isinstance(b, CustodyClaim):
            self.claims.check(loc, b, ev.event_id, self.add, self.site_known, self.retracting)
        elif isinstance(b, SupplierPcf):
            for suffix, message in pcf_problems(b, self.lot_facts(b.lot)):
                self.add(f"{loc}{suffix}", message)
        elif isinstance(b, SiteRisk):
            if not self.site_known(b.site):
                self.add(f"{loc}/site", f"unknown site {b.site!r}: declare it before stating its risks")
            for suffix, message in site_risk_problems(b):
                self.add(f"{loc}{suffix}", message)
        elif isinstance(b, DiligencePolicy | RiskMeasure):
            if isinstance(b, RiskMeasure) and not self.site_known(b.site):
                self.add(f"{loc}/site", f"unknown site {b.site!r}: declare it before recording measures there")
            for suffix, message in record_problems(b):
                self.add(f"{loc}{suffix}", message)
        elif isinstance(b, KeyStatement):
            for suffix, message in key_problems(b):
                self.add(f"{loc}{suffix}", message)
        elif isinstance(b, CellSpec | BatteryRegistration):
            self.check_passport_source(loc, b)
        else:  # specifications, certificates, deviations, SPC alarms, process batches
            check_quality_event(self.quality, loc, b, self.add, ok=len(self.problems) == n)
        if len(self.problems) == n:
            self.new_events.append(ev)
            self.payloads.append(payload)
            if isinstance(b, VerbatimEvent):
                self.verbatim.append(LocatedEvent(loc, ev))
            if isinstance(b, Run | Shipment):
                self.doc_uses[ev.event_id] = b

    def names_ledger(self, v: VerbatimEvent) -> bool:
        """True when an event shaped like a lot, run or shipment names a site, lot or material of the ledger."""
        known = {"site": self.site_known, "lot": self.lot_known, "material": self.material_known}
        return any(known[kind](name) for kind, name in v.names)

    def lot_facts(self, lot_id: str) -> LotFacts | None:
        """What the supplier-PCF rules need of a lot: assay, production time, the run that made it, if any."""
        st = self.input_state(lot_id)
        if st is None:
            return None
        _, _, assay, produced_at, retracted = st
        stored = self.stored_lots.get(lot_id)
        eid = stored.event_id if stored is not None else self.doc_lots[lot_id].event_id
        if stored is None:
            kind = self.doc_kinds.get(eid)
            use = self.doc_uses.get(eid)
            made_by = f"run {use.id}" if isinstance(use, Run) else "a run" if kind is EventKind.RUN else None
        else:
            kind_payload = self.view.event_payloads([eid]).get(eid)
            made_by = None
            if kind_payload is not None and kind_payload[0] == EventKind.RUN.value:
                made_by = f"run {json.loads(kind_payload[1]).get('id', eid)}"
        return LotFacts(assay, produced_at, made_by, retracted)  # type: ignore[arg-type]

    def check_passport_source(self, loc: str, b: CellSpec | BatteryRegistration) -> None:
        """A cell maker's statement or a battery registration (rules in :mod:`lichain.core.passport`)."""
        from lichain.core.passport import registration_problems, spec_problems

        facts = self.lot_facts(b.lot)
        if facts is None or facts.retracted:
            self.add(f"{loc}/lot", f"unknown lot {b.lot!r}: record the lot before its cell data or batteries")
        if isinstance(b, CellSpec):
            found = spec_problems(b)
        else:
            if not hasattr(self, "batteries"):
                self.batteries: dict[str, str] = {}
            ids = [i for i in (*b.battery_ids, b.predecessor) if i and i not in self.batteries]
            lookup = getattr(self.view, "battery_lots", None)  # optional: a view without it checks the document
            if lookup is not None and ids:
                self.batteries.update(lookup(ids))
            found = registration_problems(b, self.batteries)
            if not found:
                self.batteries.update(dict.fromkeys(b.battery_ids, b.lot))
        for suffix, message in found:
            self.add(f"{loc}{suffix}", message)

    def redeclared(self, body: Site | Material, kind: str, key: str) -> str:
        """Refusal naming the attributes that differ from the declaration on record (or earlier in the document)."""
        from lichain.core.declared import refusal

        recorded = self.doc_declared.get((kind, key))
        lookup = getattr(self.view, "declared_payloads", None)  # optional: a view without it gives no detail
        if recorded is None and lookup is not None:
            recorded = lookup(kind, [key]).get(key)
        return refusal(body, recorded)

    def check_site(self, loc: str, s: Site) -> None:
        if not s.id:
            self.add(loc, "site id is empty")
        if self.site_known(s.id):
            self.add(loc, self.redeclared(s, "site", s.id))
        if s.kind not in _SITE_KINDS:
            self.add(loc, f"site {s.id}: kind must be one of {sorted(_SITE_KINDS)}, got {s.kind!r}")
        if not _COUNTRY.match(s.country):
            self.add(loc, f"site {s.id}: country must be an ISO 3166-1 alpha-2 code, got {s.country!r}")
        if s.ledger_owner:
            self.check_owner(loc, s)
        self.doc_sites.add(s.id)
        self.doc_declared.setdefault(("site", s.id), canonical_json(body_to_json(s)))

    def check_owner(self, loc: str, s: Site) -> None:
        """A ledger has one owner organisation: a site flagged owner of another one is refused."""
        if not hasattr(self, "owner_orgs"):
            lookup = getattr(self.view, "owner_organisations", None)  # optional: a view without it checks the document
            self.owner_orgs: set[str] = set(lookup()) if lookup is not None else set()
        others = sorted(o for o in self.owner_orgs if o != s.organisation)
        if others:
            self.add(f"{loc}/ledger_owner", f"site {s.id} declares {s.organisation!r} ledger owner, but the ledger "
                                            f"owner is already {others[0]!r}: a ledger has one owner organisation")
        self.owner_orgs.add(s.organisation)

    def check_material(self, loc: str, m: Material) -> None:
        if self.material_known(m.code):
            self.add(loc, self.redeclared(m, "material", m.code))
        if m.stage not in _STAGES:
            self.add(loc, f"material {m.code}: stage must be one of {sorted(_STAGES)}, got {m.stage!r}")
        if m.formula:
            from lichain.core.chemistry import parse_formula  # local: chemistry is optional for validation
            from lichain.core.errors import FormulaError

            try:
                parse_formula(m.formula)
            except FormulaError as exc:
                self.add(loc, f"material {m.code}: {exc}")
        self.doc_materials.add(m.code)
        self.doc_declared.setdefault(("material", m.code), canonical_json(body_to_json(m)))

    def check_override(self, loc: str, f: FactorOverride) -> None:
        if f.value < 0:
            self.add(loc, f"factor override {f.key}: value must be ≥ 0")
        if f.site and not self.site_known(f.site):
            self.add(loc, f"factor override {f.key}: unknown site {f.site!r}")
        if f.valid_from and f.valid_to and f.valid_to < f.valid_from:
            self.add(loc, f"factor override {f.key}: valid_to is before valid_from")


def check_document(
    events: Sequence[LocatedEvent], view: LedgerView, policy: BalancePolicy | None = None, *, reference: bool = False
) -> CheckResult:
    """Check a whole document against the stored ledger; every problem is reported with its location.

    The rules of runs, shipments and lots run in :class:`lichain.core.fastcheck.FastChecker`; ``reference`` runs
    the reference checker instead (the same answer, one rule at a time: the oracle of the tests).
    """
    if reference:
        return _Checker(view, policy or BalancePolicy()).check(events)
    from lichain.core.fastcheck import FastChecker  # it builds on this module's checker

    return FastChecker(view, policy or BalancePolicy()).check(events)

"""Who may do what through the REST API: principals, the access rule of every route, and per-record checks.

Why this exists: the ledger holds several organisations' data (a producer's sites, its suppliers', what it shipped
to customers); each caller reaches it with an API key of one organisation and one role, and every route states
one rule (its ``x-access`` in the OpenAPI document) that this module enforces:

``public``  no key needed (health, the OpenAPI document; public passport fields when passports land).
``ledger``  reads the whole ledger: an ``owner`` (the organisation running the service), or an ``auditor``
            granted every organisation (``*``).
``read``    any key; the route narrows what it returns to the caller's scope (below).
``write``   an ``owner`` or ``operator``, and only records of its own organisation (:func:`document_problems`).
``owner``   an ``owner`` only (signing a checkpoint with the service's key, listing its organisation's users).

Scope of a read: an owner reads everything; an operator reads its organisation's lots (made at its sites) in
full, and the lots shipped to it one hop deep (the lot's own fields, footprint, recycled content, PCF); an
auditor reads the organisations it was granted in full; a customer reads only what was shipped to it, one hop
deep. A lot outside the caller's scope is answered exactly like a lot that does not exist (404, no hints), so
existence does not leak across organisations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lichain.core.errors import Problem
from lichain.core.model import (
    BatteryRegistration,
    CellSpec,
    CustodyClaim,
    DiligencePolicy,
    Event,
    FactorOverride,
    KeyStatement,
    LocatedEvent,
    Lot,
    Material,
    Retraction,
    RiskMeasure,
    Run,
    Shipment,
    Site,
    SiteRisk,
    SupplierPcf,
)
from lichain.core.quality_model import Certificate, Deviation, ProcessBatch
from lichain.storage.access_sql import ALL, LotParties, UserRow

__all__ = ["ACCESS_KINDS", "AccessKind", "Level", "Principal", "allows", "document_problems", "lot_level",
           "principal_of"]

AccessKind = Literal["public", "ledger", "read", "write", "owner"]
ACCESS_KINDS: tuple[AccessKind, ...] = ("public", "ledger", "read", "write", "owner")
#: How much of one lot a caller may read: everything about it, or its own facts one hop deep (delivered).
Level = Literal["full", "delivered"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: user id (None: anonymous), organisation, role, and the organisations it reads in full."""

    user: str | None
    organisation: str | None
    role: str
    orgs: frozenset[str]

    @property
    def whole_ledger(self) -> bool:
        """Reads every organisation's data."""
        return self.role == "owner" or (self.role == "auditor" and ALL in self.orgs)

    @property
    def writes(self) -> bool:
        """May record its organisation's data."""
        return self.role in ("owner", "operator")

    def reads_org(self, organisation: str) -> bool:
        """Reads this organisation's records in full."""
        return self.whole_ledger or organisation in self.orgs

    @property
    def receiver(self) -> str | None:
        """The organisation whose received lots it reads one hop deep (not an auditor: it receives nothing)."""
        return self.organisation if self.role in ("owner", "operator", "customer") else None


PUBLIC = Principal(None, None, "public", frozenset())


def principal_of(user: UserRow | None) -> Principal:
    """The principal of an authenticated user (None: the anonymous public)."""
    if user is None:
        return PUBLIC
    orgs = {"owner": (user.organisation,), "operator": (user.organisation,), "auditor": user.scope,
            "customer": ()}[user.role]
    return Principal(user.id, user.organisation, user.role, frozenset(orgs))


def allows(kind: AccessKind, p: Principal) -> bool:
    """True when the route rule ``kind`` lets ``p`` call the route at all."""
    if kind == "public":
        return True
    if p.role == "public":
        return False
    return {"ledger": p.whole_ledger, "read": True, "write": p.writes, "owner": p.role == "owner"}[kind]


def lot_level(p: Principal, parties: LotParties | None) -> Level | None:
    """How much of the lot ``p`` may read (None: nothing; then it is answered as not on record)."""
    if parties is None:
        return None
    if p.reads_org(parties.organisation):
        return "full"
    if p.receiver is not None and p.receiver in parties.receivers:
        return "delivered"
    return None


def _owner_of(ev: Event, sites: dict[str, str], lots: dict[str, LotParties | None],
              target: dict[str, Event | None]) -> str | None:
    """The organisation an event belongs to (None: no single organisation, e.g. a ledger-wide factor)."""
    b = ev.body
    if isinstance(b, Site):
        return b.organisation
    if isinstance(b, Lot | Run | CustodyClaim | SiteRisk):
        return sites.get(b.site)
    if isinstance(b, Shipment):
        return sites.get(b.from_site)
    if isinstance(b, FactorOverride):
        return None if b.site is None else sites.get(b.site)
    if isinstance(b, SupplierPcf | CellSpec | BatteryRegistration | Certificate | Deviation):
        lp = lots.get(b.lot)
        return None if lp is None else lp.organisation
    if isinstance(b, RiskMeasure):
        return sites.get(b.site)
    if isinstance(b, DiligencePolicy | KeyStatement):
        return b.organisation
    if isinstance(b, ProcessBatch) and b.site:
        return sites.get(b.site)
    if isinstance(b, Retraction):
        t = target.get(b.target_event_id)
        return None if t is None else _owner_of(t, sites, lots, {})
    return None


def document_problems(p: Principal, located: Sequence[LocatedEvent], sites: dict[str, str],
                      lots: dict[str, LotParties | None], targets: dict[str, Event | None]) -> list[Problem]:
    """Located refusals for every event of a document that is not ``p``'s organisation's to record.

    ``sites`` maps the ledger's sites to their operators (a document's own site declarations are added here);
    ``lots`` and ``targets`` hold the parties of lots named by supplier PCFs and the events retractions name.
    Materials are a shared catalogue anyone who writes may declare. A site already on record under another
    organisation cannot be re-declared by this one.
    """
    org = p.organisation
    known = dict(sites)
    out: list[Problem] = []
    for le in located:
        b = le.event.body
        if isinstance(b, Site):
            if known.get(b.id, b.organisation) != org or b.organisation != org:
                out.append(Problem(le.location, f"site {b.id} is operated by {known.get(b.id, b.organisation)!r}; "
                                                f"a key of {org!r} may not declare it"))
                continue
            known[b.id] = b.organisation
    for le in located:
        b = le.event.body
        if isinstance(b, Site | Material):
            continue
        if isinstance(b, SupplierPcf):
            lp = lots.get(b.lot)
            if lp is not None and (lp.organisation == org or org in lp.receivers):
                continue
        owner = _owner_of(le.event, known, lots, targets)
        if owner is None and p.role == "owner":
            continue  # ledger-wide records (factors, specifications, SPC alarms, events kept verbatim): the owner's
        if owner != org:
            whose = "no single organisation" if owner is None else repr(owner)
            out.append(Problem(le.location, f"this {le.event.kind.value} belongs to {whose}; a key of {org!r} "
                                            "records only its own organisation's data"))
    return out

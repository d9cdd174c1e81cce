"""Supply-chain due diligence: dated risk statements about sites, and when a site carries a risk.

Why this exists: Regulation (EU) 2023/1542 Art. 48–52 asks an economic operator placing batteries on the market to
identify and assess the risks of its raw-material supply chain (OECD Due Diligence Guidance, Annex II) and to
know, for each battery, where its cobalt, lithium, nickel and natural graphite came from. A site's risk changes
over time (a red flag raised, a mine audited or losing its audit, an area listed as conflict-affected), so each
statement is an append-only ledger event with a validity date; a flag taints only material that was at the site
while it was in force (a flag raised after a lot left a mine does not taint that lot).

A statement has an ``id`` (the flag, audit or listing it speaks of); later statements with the same id update
it. From the statements of one id a timeline of statuses follows: each statement sets its status from its
``valid_from`` until the next statement's ``valid_from`` (or its own ``valid_to``). A site carries a risk on
every interval where a timeline's status is a risk status (:data:`RISK_STATUSES`), and, for an audit, also
after the audit's ``valid_to`` passed without a renewal (the audit lapsed).

Sources: OECD (2016) *Due Diligence Guidance for Responsible Supply Chains of Minerals from Conflict-Affected and
High-Risk Areas*, 3rd ed., Annex II (the six risk categories of the model supply-chain policy); Regulation (EU)
2023/1542, Annex X point 2 (social and environmental risk categories).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from lichain.core.model import SiteRisk

__all__ = [
    "ANNEX_X_CATEGORIES",
    "KINDS",
    "OECD_ANNEX_II",
    "RISK_STATUSES",
    "RiskInterval",
    "risk_intervals",
    "site_risk_problems",
]

#: OECD Due Diligence Guidance (2016), Annex II: risks of the model supply-chain policy.
OECD_ANNEX_II = {
    "serious_abuses": "serious abuses associated with extraction, transport or trade (torture, forced labour, "
                      "worst forms of child labour, gross human rights violations, war crimes)",
    "non_state_armed_groups": "direct or indirect support to non-state armed groups",
    "security_forces": "public or private security forces",
    "bribery_misrepresentation": "bribery and fraudulent misrepresentation of the origin of minerals",
    "money_laundering": "money laundering",
    "taxes_fees_royalties": "payment of taxes, fees and royalties due to governments",
}  # fmt: skip
#: Regulation (EU) 2023/1542, Annex X point 2: social and environmental risk categories.
ANNEX_X_CATEGORIES = {
    "air": "air", "water": "water, including marine space", "soil": "soil", "biodiversity": "biodiversity",
    "hazardous_substances": "hazardous substances", "noise_vibration": "noise and vibration",
    "plant_safety": "plant safety", "energy_use": "energy use", "waste": "waste and residues",
    "human_rights": "human rights", "labour_rights": "labour rights", "occupational_health": "occupational health "
    "and safety", "community_life": "community life", "indigenous_peoples": "indigenous peoples",
}  # fmt: skip
#: Kinds of statement and the statuses each may take.
KINDS: dict[str, frozenset[str]] = {
    "red_flag": frozenset({"open", "mitigating", "closed"}),
    "cahra": frozenset({"listed", "delisted"}),
    "asm": frozenset({"present", "absent"}),
    "audit": frozenset({"conformant", "lapsed", "suspended", "non_conformant"}),
    "certification": frozenset({"valid", "lapsed", "withdrawn"}),
}
#: Statuses that make a site carry a risk while they are in force (certifications are information only).
RISK_STATUSES: dict[str, frozenset[str]] = {
    "red_flag": frozenset({"open", "mitigating"}),
    "cahra": frozenset({"listed"}),
    "asm": frozenset({"present"}),
    "audit": frozenset({"lapsed", "suspended", "non_conformant"}),
    "certification": frozenset(),
}


def site_risk_problems(r: SiteRisk) -> list[tuple[str, str]]:
    """Why a statement cannot be recorded: (field, reason) pairs; empty when it can."""
    out: list[tuple[str, str]] = []
    if not r.id.strip():
        out.append(("/id", "a risk statement needs the id of the flag, audit or listing it speaks of"))
    if r.kind not in KINDS:
        out.append(("/kind", f"kind must be one of {', '.join(sorted(KINDS))}, got {r.kind!r}"))
    elif r.status not in KINDS[r.kind]:
        out.append(("/status", f"a {r.kind} status must be one of {', '.join(sorted(KINDS[r.kind]))}, "
                               f"got {r.status!r}"))
    if r.kind == "red_flag" and r.category not in OECD_ANNEX_II and r.category not in ANNEX_X_CATEGORIES:
        out.append(("/category", f"a red flag names its risk category: one of OECD Annex II "
                                 f"({', '.join(OECD_ANNEX_II)}) or Regulation (EU) 2023/1542 Annex X "
                                 f"({', '.join(ANNEX_X_CATEGORIES)}), got {r.category!r}"))
    if r.kind in ("audit", "certification") and not (r.scheme or "").strip():
        out.append(("/scheme", f"an {r.kind} names its scheme (e.g. RMAP, IRMA, ISO 14001)"))
    if r.valid_to is not None and r.valid_to <= r.valid_from:
        out.append(("/valid_to", f"valid_to {r.valid_to.isoformat()} is not after valid_from "
                                 f"{r.valid_from.isoformat()}"))
    if not (r.source or "").strip():
        out.append(("/source", "say where the statement comes from (an audit report, a list, a grievance)"))
    return out


@dataclass(frozen=True, slots=True)
class RiskInterval:
    """A site carries the risk of statement ``id`` on [start, end) (``end`` None: still in force)."""

    site: str
    id: str
    kind: str
    status: str
    category: str | None
    start: datetime
    end: datetime | None
    source: str
    reference: str | None

    def overlaps(self, start: datetime, end: datetime | None) -> bool:
        """True when material at the site during [start, end] (``end`` None: still there) met this risk."""
        return (self.end is None or start < self.end) and (end is None or end >= self.start)


def risk_intervals(statements: Iterable[SiteRisk]) -> list[RiskInterval]:
    """The intervals on which sites carry a risk, from their statements in recorded order (see module doc)."""
    by_id: dict[tuple[str, str], list[SiteRisk]] = {}
    for r in statements:
        by_id.setdefault((r.site, r.id), []).append(r)
    out: list[RiskInterval] = []
    for timeline in by_id.values():
        out += _intervals(sorted(timeline, key=lambda r: r.valid_from))
    return sorted(out, key=lambda i: (i.site, i.start, i.id))


def _intervals(timeline: Sequence[SiteRisk]) -> list[RiskInterval]:
    out: list[RiskInterval] = []
    for k, r in enumerate(timeline):
        nxt = timeline[k + 1].valid_from if k + 1 < len(timeline) else None
        end = min((t for t in (nxt, r.valid_to) if t is not None), default=None)
        if r.status in RISK_STATUSES[r.kind]:
            out.append(RiskInterval(r.site, r.id, r.kind, r.status, r.category, r.valid_from, end, r.source,
                                    r.reference))
        if r.kind == "audit" and r.status == "conformant" and r.valid_to is not None and (
                nxt is None or nxt > r.valid_to):  # the audit ran out before (or without) a renewal
            out.append(RiskInterval(r.site, r.id, r.kind, "lapsed", r.category, r.valid_to, nxt, r.source,
                                    r.reference))
    return out

"""The audit and certification status of a site at a given time, from its dated risk statements.

Why this exists: a customer declaration (RMI EMRT layout) and the due-diligence report state, for every
processor and mine, whether it held a third-party audit (RMAP, IRMA …) at the end of the period and since when a
lapse or suspension holds. :func:`lichain.core.diligence.risk_intervals` answers "when did a site carry a risk";
this module answers "what was the audit's state on that day", by the same timeline rule (a later statement of the
same id updates it; a conformant audit whose ``valid_to`` passed without renewal has lapsed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lichain.core.model import SiteRisk

__all__ = ["AuditStatus", "audit_status_at"]


@dataclass(frozen=True, slots=True)
class AuditStatus:
    """The state of one audit or certification (statement ``id``) of ``site`` at time ``at``.

    ``since`` is when that state began (the statement's ``valid_from``, or an expired audit's ``valid_to``);
    ``until`` the stated end of a conformant audit or valid certification (None: none stated or not in force).
    """

    site: str
    id: str
    kind: str
    scheme: str
    status: str
    since: datetime
    until: datetime | None
    source: str
    reference: str | None

    def label(self) -> str:
        """Short text for a table cell, e.g. ``RMAP lapsed since 2026-01-31``."""
        text = f"{self.scheme} {self.status.replace('_', '-')} since {self.since.date().isoformat()}"
        return text + (f" until {self.until.date().isoformat()}" if self.until is not None else "")


def audit_status_at(statements: Iterable[SiteRisk], at: datetime) -> list[AuditStatus]:
    """Audits and certifications in the statements and their state at ``at`` (those stated by then only).

    Ordered by site, scheme and id.
    """
    timelines: dict[tuple[str, str], list[SiteRisk]] = {}
    for r in statements:
        if r.kind in ("audit", "certification") and r.valid_from <= at:
            timelines.setdefault((r.site, r.id), []).append(r)
    out: list[AuditStatus] = []
    for (site, rid), rows in timelines.items():
        last = sorted(rows, key=lambda r: r.valid_from)[-1]  # stable: the later-recorded of equal times wins
        scheme, live = last.scheme or "", last.status in ("conformant", "valid")
        if live and last.valid_to is not None and last.valid_to <= at:  # ran out without a renewal
            out.append(AuditStatus(site, rid, last.kind, scheme, "lapsed", last.valid_to, None, last.source,
                                   last.reference))
        else:
            out.append(AuditStatus(site, rid, last.kind, scheme, last.status, last.valid_from,
                                   last.valid_to if live else None, last.source, last.reference))
    return sorted(out, key=lambda a: (a.site, a.scheme, a.id))

"""Use case helpers: the due-diligence policy and the mitigation measures in force at a time.

Why this exists: the customer declaration (:mod:`lichain.services.emrt`) answers its policy questions only from
a recorded policy, and names recorded measures as a site's next steps; the due-diligence report
(:mod:`lichain.services.diligence_report`) lists both. One reading of the records and one timeline rule
(:func:`lichain.core.diligence_records.latest`) for both.
"""

from __future__ import annotations

from datetime import datetime

from lichain.core.codec import format_time
from lichain.core.diligence_records import latest
from lichain.core.model import DiligencePolicy, RiskMeasure
from lichain.storage.diligence_sql import measures, policies
from lichain.storage.sql import SqlStore

__all__ = ["measures_at", "next_steps", "policy_in_force"]


def _policy(store: SqlStore, organisation: str | None, at: datetime) -> DiligencePolicy | None:
    found = [p for p in latest(policies(store), at) if organisation is None or p.organisation == organisation]
    return found[-1] if found else None


def policy_in_force(store: SqlStore, organisation: str | None, at: datetime) -> dict[str, str] | None:
    """The organisation's latest policy adopted by ``at`` as text fields (None: none on record)."""
    p = _policy(store, organisation, at)
    if p is None:
        return None
    out = {"id": p.id, "organisation": p.organisation, "title": p.title, "adopted": format_time(p.adopted),
           "reference": p.reference}
    if p.public_url:
        out["public_url"] = p.public_url
    if p.verification:
        out["verification"] = p.verification
    return out


def measures_at(store: SqlStore, at: datetime) -> list[RiskMeasure]:
    """Every measure's state at ``at`` (measures recorded by then), oldest first."""
    return latest(measures(store), at)


def next_steps(store: SqlStore, at: datetime) -> dict[str, str]:
    """Per site: its open measures at ``at`` as one line of text (the EMRT "proposed next steps")."""
    out: dict[str, list[str]] = {}
    for m in measures_at(store, at):
        if m.status in ("planned", "in_progress"):
            due = f", due {m.due.date().isoformat()}" if m.due else ""
            out.setdefault(m.site, []).append(f"{m.action} ({m.status.replace('_', ' ')}, {m.owner}{due}; {m.id})")
    return {site: "; ".join(v) for site, v in out.items()}

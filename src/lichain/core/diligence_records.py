"""The management system behind due diligence: a policy and risk-mitigation measures as dated ledger records.

Why this exists: Regulation (EU) 2023/1542 Art. 49–52 and the OECD Due Diligence Guidance (2016) ask for more
than risk identification: a supply-chain policy (step 1), a risk management plan with measures, their owners and
their progress (step 3), third-party verification (step 4) and an annual report (step 5). The policy and each
measure are append-only events like the site risk statements (:mod:`lichain.core.diligence`): a later record
with the same id supersedes the earlier one (a measure moves from planned to completed), the earlier one stays
on record. This module holds their vocabulary, the refusal rules, and the timeline rule (the state of each id
at a time).

Sources: OECD (2016) *Due Diligence Guidance for Responsible Supply Chains of Minerals from Conflict-Affected and
High-Risk Areas*, 3rd ed., Step 3 (risk management: continue trade with mitigation, suspend temporarily while
mitigating, or disengage) and Annex II; Regulation (EU) 2023/1542 Art. 49-52.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from lichain.core.model import DiligencePolicy, RiskMeasure

__all__ = [
    "MEASURE_STATUSES",
    "STRATEGIES",
    "Record",
    "latest",
    "measure_problems",
    "policy_problems",
    "record_problems",
]

#: A policy or a measure (the timeline rule is the same).
Record = TypeVar("Record", DiligencePolicy, RiskMeasure)
#: States of a risk-mitigation measure.
MEASURE_STATUSES = ("planned", "in_progress", "completed", "abandoned")
#: OECD Due Diligence Guidance (2016) step 3: the responses to an identified risk.
STRATEGIES = {
    "continue_mitigation": "continue trade throughout the course of measurable risk mitigation efforts",
    "suspend_mitigation": "temporarily suspend trade while pursuing ongoing measurable risk mitigation",
    "disengage": "disengage from the supplier after failed mitigation attempts or where mitigation is not "
                 "feasible or the risk is unacceptable",
}  # fmt: skip


def _blank(v: str | None) -> bool:
    return not (v or "").strip()


def policy_problems(p: DiligencePolicy) -> list[tuple[str, str]]:
    """Why a policy statement cannot be recorded: (field, reason) pairs; empty when it can."""
    out = [(f"/{k}", msg) for k, msg in (
        ("id", "a due-diligence policy needs an id (its document number or a name)"),
        ("organisation", "name the organisation whose policy it is"),
        ("title", "give the policy's title"),
        ("reference", "name the policy document (a document id or URL)"),
    ) if _blank(getattr(p, k))]
    for k in ("public_url", "verification"):
        v = getattr(p, k)
        if v is not None and _blank(v):
            out.append((f"/{k}", f"{k} is empty: leave it out when there is none"))
    if p.public_url and not p.public_url.strip().lower().startswith(("https://", "http://")):
        out.append(("/public_url", f"public_url must be an http(s) address, got {p.public_url!r}"))
    return out


def measure_problems(m: RiskMeasure) -> list[tuple[str, str]]:
    """Why a risk-mitigation measure cannot be recorded: (field, reason) pairs; empty when it can."""
    out = [(f"/{k}", msg) for k, msg in (
        ("id", "a measure needs an id (a later record with the same id updates it)"),
        ("action", "say what is done (the measure)"),
        ("owner", "name who carries the measure out"),
    ) if _blank(getattr(m, k))]
    if m.status not in MEASURE_STATUSES:
        out.append(("/status", f"status must be one of {', '.join(MEASURE_STATUSES)}, got {m.status!r}"))
    if m.strategy is not None and m.strategy not in STRATEGIES:
        out.append(("/strategy", f"strategy must be one of {', '.join(STRATEGIES)} (OECD Due Diligence Guidance "
                                 f"step 3), got {m.strategy!r}"))
    if m.risk is not None and _blank(m.risk):
        out.append(("/risk", "risk is empty: name the risk statement id the measure answers, or leave it out"))
    if m.due is not None and m.due <= m.valid_from:
        out.append(("/due", f"due {m.due.isoformat()} is not after valid_from {m.valid_from.isoformat()}"))
    return out


def record_problems(r: DiligencePolicy | RiskMeasure) -> list[tuple[str, str]]:
    """Why a policy or measure cannot be recorded (see :func:`policy_problems`, :func:`measure_problems`)."""
    return policy_problems(r) if isinstance(r, DiligencePolicy) else measure_problems(r)


def latest(records: Iterable[Record], at: datetime) -> list[Record]:
    """Per id, the record in force at ``at`` (the latest dated on or before it; equal dates: the later recorded)."""
    best: dict[str, tuple[datetime, int, Record]] = {}
    for n, r in enumerate(records):
        t = r.adopted if isinstance(r, DiligencePolicy) else r.valid_from
        if t <= at and (r.id not in best or (t, n) >= best[r.id][:2]):
            best[r.id] = (t, n, r)
    return [v[2] for v in sorted(best.values(), key=lambda v: (v[0], v[1]))]

"""Use case: the due-diligence management-system report of an organisation for a period (``report diligence``).

Why this exists: Regulation (EU) 2023/1542 Art. 48–52 asks the operator to keep a due-diligence management
system, manage its supply-chain risks, have it verified by a third party and report on it; a battery passport
links to that report. The OECD Due Diligence Guidance (2016) frames the same in five steps. This report answers
each step from the ledger: the recorded policy (step 1); the risks of the supply chain computed from the site risk
statements and from what the organisation shipped in the period, per metal (step 2, the same shares as the
customer declaration, :mod:`lichain.services.emrt_build`); the mitigation measures recorded and their state at
the end of the period (step 3); the audit status of every upstream site and the recorded verification of the
policy (step 4); and what the ledger does not hold (step 5: this report is the public part). Nothing the ledger
does not hold is filled in: it is listed as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from lichain.core.codec import format_time
from lichain.core.diligence import ANNEX_X_CATEGORIES, OECD_ANNEX_II, risk_intervals
from lichain.core.diligence_emrt import MetalSummary, MissingField
from lichain.core.diligence_records import STRATEGIES
from lichain.core.limits import ledger_now
from lichain.core.period import parse_period
from lichain.storage.sql import SqlStore

__all__ = ["DiligenceManagementReport", "MeasureView", "PolicyView", "RiskFinding", "SiteVerification", "StepStatus",
           "diligence_report"]


@dataclass(frozen=True, slots=True)
class PolicyView:
    """The due-diligence policy in force at the end of the period (OECD step 1)."""

    id: str
    title: str
    adopted: str
    reference: str
    public_url: str | None
    verification: str | None


@dataclass(frozen=True, slots=True)
class RiskFinding:
    """A risk in force at a supply-chain site during the period, the share of each shipped metal that met it
    [kg kg⁻¹] and the measures recorded against it."""

    site: str
    site_name: str
    id: str
    kind: str
    status: str
    category: str | None
    category_label: str | None
    start: str
    end: str | None
    in_force_at_end: bool
    source: str
    reference: str | None
    shipped_share: dict[str, float]
    measures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeasureView:
    """A risk-mitigation measure in its state at the end of the period (OECD step 3)."""

    id: str
    site: str
    risk: str | None
    action: str
    owner: str
    strategy: str | None
    strategy_label: str | None
    status: str
    since: str
    due: str | None
    overdue: bool
    reference: str | None


@dataclass(frozen=True, slots=True)
class SiteVerification:
    """Third-party audits of a supply-chain site at the end of the period (OECD step 4)."""

    site: str
    site_name: str
    roles: tuple[str, ...]
    audits: tuple[str, ...]
    certifications_declared: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StepStatus:
    """One OECD step: what the ledger holds for it (``recorded``, ``computed``, ``partial`` or ``missing``)."""

    step: int
    title: str
    status: str
    detail: str


@dataclass(frozen=True, slots=True)
class DiligenceManagementReport:
    """Outcome of ``lichain report diligence`` (the ``--json`` shape; the HTML report shows the same)."""

    organisation: str | None
    period: str
    period_start: str
    period_end: str
    generated: str
    steps: tuple[StepStatus, ...]
    policy: PolicyView | None
    shipped_lots: int
    customers: tuple[str, ...]
    metals: tuple[MetalSummary, ...]
    findings: tuple[RiskFinding, ...]
    sites_not_assessed: tuple[str, ...]
    measures: tuple[MeasureView, ...]
    verification: tuple[SiteVerification, ...]
    missing: tuple[MissingField, ...]
    method: str
    sources: tuple[str, ...]


_STEPS = ("Establish strong company management systems (policy)", "Identify and assess risks in the supply chain",
          "Design and implement a strategy to respond to identified risks",
          "Carry out independent third-party audits", "Report annually on supply-chain due diligence")
_METHOD = ("Lots shipped by the organisation to other organisations in the period, traced upstream; shares of each "
           "metal are element-mass-weighted (as in lichain export emrt). A risk is a site risk statement in force "
           "during the period; its shipped share is the fraction of the shipped metal that passed through the site "
           "while the risk was in force. Measures and the policy are the records in force at the end of the period.")
_SOURCES = ("OECD (2016) Due Diligence Guidance for Responsible Supply Chains of Minerals from Conflict-Affected and "
            "High-Risk Areas, 3rd ed., five-step framework, Annex II",
            "Regulation (EU) 2023/1542 Art. 48-52 and Annex X")


def _shipped(store: SqlStore, organisation: str | None, start: datetime, end: datetime
             ) -> list[tuple[str, float, str]]:
    """Shipments leaving the organisation (or, with none, crossing organisations) in [start, end)."""
    from lichain.storage.lists_sql import shipment_rows

    t0, t1 = start.timestamp() * 1e6, end.timestamp() * 1e6
    rows, _ = shipment_rows(store, organisation)
    return [(r.lot, r.mass_mg / 1e6, r.to_organisation) for r in rows if t0 <= r.shipped_us < t1
            and r.from_organisation != r.to_organisation
            and (organisation is None or r.from_organisation == organisation)]


def _measure(m: object, at: datetime) -> MeasureView:
    from lichain.core.model import RiskMeasure

    assert isinstance(m, RiskMeasure)
    return MeasureView(m.id, m.site, m.risk, m.action, m.owner, m.strategy, STRATEGIES.get(m.strategy or ""),
                       m.status, format_time(m.valid_from), format_time(m.due) if m.due else None,
                       m.due is not None and m.due <= at and m.status in ("planned", "in_progress"), m.reference)


def diligence_report(store: SqlStore, period: str, *, organisation: str | None = None,
                     now: datetime | None = None) -> DiligenceManagementReport:
    """The management-system report of ``organisation`` (default: the ledger owner) over ``period``."""
    from lichain.services.boundary import reporting_boundary
    from lichain.services.diligence_policy import measures_at, next_steps, policy_in_force
    from lichain.services.emrt_build import build_lists, site_facts
    from lichain.services.emrt_calc import Delivered
    from lichain.services.snapshot import load_snapshot

    p = parse_period(period)
    now = now or ledger_now()
    at = min(p.end, now)
    org = reporting_boundary(store, organisation, required=False).name
    snap = load_snapshot(store).snapshot
    shipped = _shipped(store, org, p.start, p.end)
    dl = Delivered(snap, np.array([snap.index_of(lot) for lot, _, _ in shipped], np.int64),
                   np.array([kg for _, kg, _ in shipped], np.float64))
    lists = build_lists(store, dl, at, now, next_steps(store, at))
    sites = site_facts(store)
    measures = tuple(_measure(m, at) for m in measures_at(store, at))
    shares: dict[tuple[str, str], dict[str, float]] = {}
    for site, element, risks in [(r.smelter_identification, r.element, r.risks) for r in lists.smelters] + [
            (r.mine_identification, r.element, r.risks) for r in lists.mines]:
        for r in risks:
            shares.setdefault((site, r.id), {})[element] = r.share
    statements = store.site_risks(list(sites))
    findings = []
    for iv in risk_intervals(statements):
        if iv.start >= p.end or (iv.end is not None and iv.end <= p.start):
            continue
        label = OECD_ANNEX_II.get(iv.category or "") or ANNEX_X_CATEGORIES.get(iv.category or "")
        findings.append(RiskFinding(
            iv.site, sites[iv.site].name if iv.site in sites else iv.site, iv.id, iv.kind, iv.status, iv.category,
            label, format_time(iv.start), None if iv.end is None else format_time(iv.end),
            iv.start <= at and (iv.end is None or iv.end > at), iv.source, iv.reference,
            shares.get((iv.site, iv.id), {}), tuple(m.id for m in measures if m.risk == iv.id and m.site == iv.site)))
    roles: dict[str, list[str]] = {}
    for s in lists.smelters:
        roles.setdefault(s.smelter_identification, []).append(f"{s.metal.lower()} processor")
    for mr in lists.mines:
        roles.setdefault(mr.mine_identification, []).append(f"{mr.metal.lower()} mine")
    audits = {s.smelter_identification: s.audit_status for s in lists.smelters}
    audits.update({mr.mine_identification: mr.audit_status for mr in lists.mines})
    verification = tuple(SiteVerification(s, sites[s].name, tuple(dict.fromkeys(r)), audits.get(s, ()),
                                          sites[s].certifications) for s, r in sorted(roles.items()))
    assessed = {r.site for r in statements}
    not_assessed = tuple(sorted(s for s in roles if s not in assessed))
    pol = policy_in_force(store, org, at)
    policy = (PolicyView(pol["id"], pol["title"], pol["adopted"], pol["reference"], pol.get("public_url"),
                         pol.get("verification")) if pol else None)
    missing: list[MissingField] = []
    if policy is None:
        missing.append(MissingField("policy", "due-diligence policy", "no policy statement on record"))
    elif policy.verification is None:
        missing.append(MissingField("verification", "third-party verification of the policy",
                                    "no verification recorded with the policy (Regulation (EU) 2023/1542 Art. 52)"))
    missing += [MissingField("verification", f"audit of {s}", "no audit or certification statement on record")
                for s in sorted(roles) if not audits.get(s)]
    open_findings = [f for f in findings if f.in_force_at_end]
    unanswered = [f.id for f in open_findings if not f.measures]
    steps = (
        StepStatus(1, _STEPS[0], "recorded" if policy else "missing",
                   f"{policy.id} adopted {policy.adopted}" if policy else "no policy statement on record"),
        StepStatus(2, _STEPS[1], "computed", f"{len(findings)} risks in force during the period at "
                   f"{len({f.site for f in findings})} sites; {len(not_assessed)} upstream sites not assessed"),
        StepStatus(3, _STEPS[2], "recorded" if measures and not unanswered else "partial" if measures else "missing",
                   f"{len(measures)} measures on record; risks in force at the end without a measure: "
                   f"{', '.join(unanswered) or 'none'}"),
        StepStatus(4, _STEPS[3], "partial" if any(audits.values()) else "missing",
                   f"{sum(1 for v in verification if v.audits)} of {len(verification)} upstream sites with an audit "
                   f"statement; policy verification: {policy.verification if policy and policy.verification else 'not recorded'}"),
        StepStatus(5, _STEPS[4], "computed", "this report"))
    return DiligenceManagementReport(
        org, p.label, format_time(p.start), format_time(p.end), format_time(now), steps, policy, len(shipped),
        tuple(sorted({c for _, _, c in shipped})), lists.metals, tuple(findings), not_assessed, measures,
        verification, tuple(missing), _METHOD, _SOURCES)

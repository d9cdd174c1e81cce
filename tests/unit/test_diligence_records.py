"""Rules of the due-diligence management records and of an audit's status on a day (pure core functions)."""

from __future__ import annotations

from datetime import UTC, datetime

from lichain.core.diligence_records import latest, measure_problems, policy_problems
from lichain.core.diligence_status import audit_status_at
from lichain.core.model import DiligencePolicy, RiskMeasure, SiteRisk


def d(m: int, day: int = 1, y: int = 2026) -> datetime:
    return datetime(y, m, day, tzinfo=UTC)


def test_audit_status_follows_the_timeline_and_lapses_when_it_runs_out() -> None:
    ok = SiteRisk("A1", "M", "audit", "conformant", d(1, 1, 2025), "report", d(6, 30), scheme="RMAP")
    renewed = SiteRisk("A1", "M", "audit", "conformant", d(6, 1), "report 2", d(6, 1, 2027), scheme="RMAP")
    cert = SiteRisk("C1", "M", "certification", "withdrawn", d(3), "registry", scheme="IRMA")
    flag = SiteRisk("F1", "M", "red_flag", "open", d(2), "grievance", category="water")
    (a,) = [x for x in audit_status_at([ok, flag], d(12)) if x.id == "A1"]
    assert (a.status, a.since, a.until) == ("lapsed", d(6, 30), None)  # ran out on 30 June, no renewal
    assert a.label() == "RMAP lapsed since 2026-06-30"
    (b,) = audit_status_at([ok, renewed], d(12))
    assert (b.status, b.since, b.until) == ("conformant", d(6), d(6, 1, 2027))
    assert b.label() == "RMAP conformant since 2026-06-01 until 2027-06-01"
    assert [x.status for x in audit_status_at([ok, renewed], d(3))] == ["conformant"]  # the renewal not yet stated
    assert audit_status_at([ok], d(12, 1, 2024)) == []  # before any statement
    assert [(x.id, x.status) for x in audit_status_at([cert, flag], d(12))] == [("C1", "withdrawn")]  # no flags


def test_policy_and_measure_refusals_name_their_field() -> None:
    good = DiligencePolicy("P", "Org", "Policy", d(1), "DOC-1", "https://example.org/p")
    assert policy_problems(good) == []
    bad = DiligencePolicy(" ", "Org", "", d(1), "DOC-1", "www.example.org", "")
    assert [f for f, _ in policy_problems(bad)] == ["/id", "/title", "/verification", "/public_url"]
    m = RiskMeasure("M1", "S", "act", "owner", "planned", d(2), risk="R", strategy="disengage", due=d(5))
    assert measure_problems(m) == []
    worse = RiskMeasure("M1", "S", " ", "owner", "finished", d(2), risk=" ", strategy="wait", due=d(2))
    assert [f for f, _ in measure_problems(worse)] == ["/action", "/status", "/strategy", "/risk", "/due"]


def test_latest_is_the_record_in_force_on_the_day_per_id() -> None:
    a1 = RiskMeasure("A", "S", "act", "o", "planned", d(1))
    a2 = RiskMeasure("A", "S", "act", "o", "completed", d(4))
    b1 = RiskMeasure("B", "S", "act", "o", "in_progress", d(2))
    assert [(m.id, m.status) for m in latest([a1, b1, a2], d(3))] == [("A", "planned"), ("B", "in_progress")]
    assert [(m.id, m.status) for m in latest([a1, b1, a2], d(5))] == [("B", "in_progress"), ("A", "completed")]
    same_day = RiskMeasure("A", "S", "act", "o", "abandoned", d(1))
    assert [m.status for m in latest([a1, same_day], d(2))] == ["abandoned"]  # equal dates: the later recorded
    assert latest([a1], d(12, 1, 2025)) == []

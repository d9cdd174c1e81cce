"""Site risk statements: their timeline (each statement in force until the next one of its id or its end; an
audit that runs out lapses) and the refusals of statements that cannot be recorded."""

from __future__ import annotations

from datetime import UTC, datetime

from lichain.core.diligence import risk_intervals, site_risk_problems
from lichain.core.model import SiteRisk


def d(month: int, day: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_a_flag_is_in_force_from_its_statement_until_it_is_closed() -> None:
    raised = SiteRisk("RF-1", "M1", "red_flag", "open", d(2), "grievance G-7", category="serious_abuses")
    closed = SiteRisk("RF-1", "M1", "red_flag", "closed", d(5), "verification report V-2",
                      category="serious_abuses")
    (iv,) = risk_intervals([closed, raised])  # recorded order does not matter: the timeline is by date
    assert (iv.start, iv.end, iv.status) == (d(2), d(5), "open")
    assert iv.overlaps(d(1), d(2)) and iv.overlaps(d(4), None) and iv.overlaps(d(3), d(3))
    assert not iv.overlaps(d(1), d(1, 31)) and not iv.overlaps(d(5), d(6))


def test_an_audit_lapses_when_it_runs_out_or_is_declared_lapsed() -> None:
    audit = SiteRisk("RMAP-M2", "M2", "audit", "conformant", d(1, 1, 2025), "RMAP audit", valid_to=d(6),
                     scheme="RMAP")
    (ran_out,) = risk_intervals([audit])
    assert (ran_out.status, ran_out.start, ran_out.end) == ("lapsed", d(6), None)
    renewed = SiteRisk("RMAP-M2", "M2", "audit", "conformant", d(6), "RMAP re-audit", scheme="RMAP")
    assert risk_intervals([audit, renewed]) == []
    lost = SiteRisk("RMAP-M2", "M2", "audit", "lapsed", d(3), "RMAP list update", scheme="RMAP")
    (iv,) = risk_intervals([audit, lost])
    assert (iv.status, iv.start, iv.end) == ("lapsed", d(3), None)


def test_certifications_inform_but_carry_no_risk() -> None:
    cert = SiteRisk("ISO-1", "R1", "certification", "lapsed", d(2), "certificate register", scheme="ISO 14001")
    assert risk_intervals([cert]) == []


def test_statements_that_cannot_be_recorded_are_refused_with_their_field() -> None:
    bad = SiteRisk("RF-2", "M1", "red_flag", "open", d(3), "", valid_to=d(2), category="rumours")
    assert [f for f, _ in site_risk_problems(bad)] == ["/category", "/valid_to", "/source"]
    assert [f for f, _ in site_risk_problems(SiteRisk("A", "M1", "audit", "fine", d(1), "x"))] == ["/status",
                                                                                                   "/scheme"]
    assert [f for f, _ in site_risk_problems(SiteRisk("", "M1", "rumour", "x", d(1), "x"))] == ["/id", "/kind"]
    good = SiteRisk("CAHRA-CD", "M1", "cahra", "listed", d(1), "EU indicative CAHRA list (2026 update)")
    assert site_risk_problems(good) == []

"""One period rule for every aggregate: days inclusive at both ends, instants half-open."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lichain.core.errors import PeriodError
from lichain.core.period import parse_period
from lichain.services import circularity, esg


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_day_range_includes_its_last_day() -> None:
    p = parse_period("2026-01-01..2026-06-30")
    assert (p.start, p.end) == (t("2026-01-01"), t("2026-07-01"))
    assert p.contains(t("2026-06-30T23:59:59"))
    assert not p.contains(t("2026-07-01"))
    assert p.last_day == "2026-06-30"


def test_instant_range_is_half_open() -> None:
    p = parse_period("2026-01-01T00:00:00Z..2026-07-01T00:00:00Z")
    assert (p.start, p.end) == (t("2026-01-01"), t("2026-07-01"))
    assert not p.contains(p.end)


@pytest.mark.parametrize("text", ["2026", "2026-Q2", "2026-03", "2026-01-01..2026-06-30", "2024-02"])
def test_circularity_and_esg_read_a_period_alike(text: str) -> None:
    p = esg.parse_period(text)
    assert circularity.parse_period(text) == (p.start, p.end)


@pytest.mark.parametrize("text", ["2026-06-30..2026-01-01", "2026-01-01..2026-01-01T00:00:00Z", "2026-02-30..2026-03-01",
                                  "9999-12..", "x"])
def test_bad_or_empty_periods_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


@given(st.dates(min_value=datetime(1971, 1, 1).date(), max_value=datetime(2200, 1, 1).date()),
       st.integers(min_value=0, max_value=800))
def test_a_day_range_spans_its_days(first: object, days: int) -> None:
    from datetime import timedelta

    a = first  # a date
    b = a + timedelta(days=days)  # type: ignore[operator]
    p = parse_period(f"{a}..{b}")
    assert (p.end - p.start).days == days + 1
    assert p.contains(datetime(b.year, b.month, b.day, 12, tzinfo=UTC))

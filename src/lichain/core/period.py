"""Reporting periods: one type and one rule for every period aggregate (recovery, Art. 8, claims, ESG report).

A period is the half-open interval ``[start, end)`` in UTC. It is written as a calendar year (``2026``), a
quarter (``2026-Q2``), a month (``2026-03``), or a range of days ``2026-01-01..2026-06-30`` in which **both
named days are included** (the interval ends at midnight after the second day). A range of instants with times
``2026-01-01T00:00:00Z..2026-07-01T00:00:00Z`` is taken as written: start included, end excluded.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lichain.core.errors import PeriodError

__all__ = ["Period", "parse_period"]

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_HELP = "use 2026, 2026-Q1, 2026-03, 2026-01-01..2026-06-30 (both days included) or START..END instants"


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period ``[start, end)`` in UTC and the label it was asked by."""

    label: str
    start: datetime
    end: datetime

    def contains(self, t: datetime) -> bool:
        """True when ``t`` lies in ``[start, end)``."""
        return self.start <= t < self.end

    @property
    def last_day(self) -> str:
        """The last calendar day inside the period (ISO date), for people."""
        return (self.end - timedelta(microseconds=1)).date().isoformat()


def _month_end(y: int, m: int) -> datetime:
    return datetime(y, m, calendar.monthrange(y, m)[1], tzinfo=UTC) + timedelta(days=1)


def _instant(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def parse_period(text: str) -> Period:
    """Parse a period (see the module docstring for the forms and the one end rule).

    Raises
    ------
    PeriodError
        When the text is none of the accepted forms or the period is empty.
    """
    t = text.strip()
    try:
        if m := re.fullmatch(r"(\d{4})", t):
            y = int(m[1])
            return Period(t, datetime(y, 1, 1, tzinfo=UTC), datetime(y + 1, 1, 1, tzinfo=UTC))
        if m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", t):
            y, q = int(m[1]), int(m[2])
            return Period(f"{y}-Q{q}", datetime(y, 3 * q - 2, 1, tzinfo=UTC), _month_end(y, 3 * q))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", t):
            y, mo = int(m[1]), int(m[2])
            return Period(t, datetime(y, mo, 1, tzinfo=UTC), _month_end(y, mo))
        if ".." in t:
            a_text, b_text = (x.strip() for x in t.split("..", 1))
            if _DAY.fullmatch(a_text) and _DAY.fullmatch(b_text):
                a = datetime.fromisoformat(a_text).replace(tzinfo=UTC)
                b = datetime.fromisoformat(b_text).replace(tzinfo=UTC) + timedelta(days=1)
            else:
                a, b = _instant(a_text), _instant(b_text)
            if b > a:
                return Period(t, a, b)
            raise PeriodError(f"period {text!r} is empty: its end is not after its start")
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"bad period {text!r}: {exc}; {_HELP}") from None
    raise PeriodError(f"bad period {text!r}: {_HELP}")

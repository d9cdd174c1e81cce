"""Hypothesis strategies for event bodies of every kind, with hostile values mixed into well-formed ones.

Each body dataclass is built field by field from its type hints: texts mix plain ids, element symbols, GS1 Digital
Link lot URIs (valid and not), keys that carry a rule of their own, control characters, lone surrogates, invisible
format characters and over-long strings; numbers and times reach past the ledger's bounds. Used to prove that the
fast payload writer and the field screen give exactly what the reference encoder and walk give.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from lichain.core.codec import BODY_KINDS
from lichain.core.model import Event

__all__ = ["TEXT", "any_body", "any_event", "body_of"]

_NAMED = st.sampled_from([
    "Ni", "Co", "Mn", "Li", "Qq", "mass_kg", "kg", "id", "kind", "mode", "name", "lot", "done_at", "valid_from",
    "chemistry", "pH", "grid", "ppa", "mass", "economic", "virgin", "road", "S1", "M-1",
    "https://id.gs1.org/01/09520001001109/10/L00000001", "https://id.gs1.org/01/09520001001109/10/L%2001",
    "https://id.gs1.org/01/09520001001109/10/", "https://id.gs1.org/01/09520001001109/10/ABCDEFGHIJKLMNOPQRSTU",
    "https://id.gs1.org/01/09520001001109/10/A B", "https://id.gs1.org/01/0952/10/X", "https://id.gs1.org/x",
    "https://id.gs1.org/01/09520001001109/10/L1?x=1", "https://id.gs1.org/01/09520001001109/10/L1\n",
])  # fmt: skip
TEXT = st.one_of(
    _NAMED,
    st.text(max_size=12),
    st.text(alphabet=st.sampled_from('ab\x00\x1f\x7f\x85\ud800\\n"é中\u202e\u200b/%'), max_size=12),
    st.sampled_from([19, 21, 41, 51, 101, 201, 301, 1_990, 2_001]).map(lambda n: "x" * n),
    st.from_regex(r"https://id\.gs1\.org/01/\d{14}/10/[!-~]{0,24}", fullmatch=True),
)
_INTS = st.one_of(st.integers(-5, 10**10), st.integers(-(10**25), 10**25), st.sampled_from([2**62, 2**63 - 1, 2**63]))
_DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("1E+2500"), Decimal("5E+12"), Decimal("-0"), Decimal("0.000")]),
)
_TIMES = st.one_of(
    st.datetimes(datetime(2020, 1, 1), datetime(2028, 1, 1)),
    st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)),
).map(lambda t: t.replace(tzinfo=UTC))
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(TEXT, c, max_size=3), max_leaves=8)


def _of(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for values of the type hint ``tp``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_of(a) for a in args))
    if tp is type(None):
        return st.none()
    if tp is str:
        return TEXT
    if tp is bool:
        return st.booleans()
    if tp is int:
        return _INTS
    if tp is Decimal:
        return _DECIMALS
    if tp is datetime:
        return _TIMES
    if tp is Any:
        return _JSON
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_of(args[0]), max_size=3).map(tuple)
        return st.tuples(*(_of(a) for a in args))
    if origin is dict:
        return st.dictionaries(_of(args[0]), _of(args[1]), max_size=4)
    if dataclasses.is_dataclass(tp):
        return body_of(tp)
    raise TypeError(f"no strategy for {tp!r}")


def body_of(cls: type) -> st.SearchStrategy[Any]:
    """Instances of the dataclass ``cls`` with every field drawn from its type hint (reader-only fields left out)."""
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{f.name: st.deferred(lambda h=hints[f.name]: _of(h))  # type: ignore[misc]
                             for f in dataclasses.fields(cls) if f.init and f.compare})


def any_body() -> st.SearchStrategy[Any]:
    """A body of any kind the ledger records."""
    return st.one_of(*(body_of(cls) for cls in BODY_KINDS))


@st.composite
def any_event(draw: st.DrawFn, body: st.SearchStrategy[Any] | None = None) -> Event:
    """An event of any kind (or of ``body``'s), with its own id and time drawn like any text and time."""
    b = draw(body if body is not None else any_body())
    return Event(draw(TEXT), BODY_KINDS[type(b)], draw(_TIMES), b)

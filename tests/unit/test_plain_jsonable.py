"""The fast result-to-JSON conversion gives exactly what the plain recursive one gave, for any nesting."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.core.codec import format_time
from lichain.core.plain import jsonable


def reference(obj: Any) -> Any:
    """The conversion as first written (one isinstance chain per value)."""
    if obj is None or isinstance(obj, str | bool | int | float):
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: reference(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): reference(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [reference(v) for v in obj]
    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, datetime):
        return format_time(obj)
    if isinstance(obj, Enum):
        return reference(obj.value)
    return str(obj)


class Colour(Enum):
    RED = "red"
    ONE = 1


class Stage(StrEnum):
    CAM = "cam"


@dataclass(frozen=True, slots=True)
class Leaf:
    kg: float
    name: str
    when: datetime | None


@dataclass(frozen=True)
class Node:
    items: tuple[Any, ...]
    by: dict[str, Any]


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False), st.text(max_size=5),
    st.decimals(allow_nan=False, allow_infinity=False, places=3), st.sampled_from([Colour.RED, Colour.ONE, Stage.CAM]),
    st.floats(-1e6, 1e6).map(np.float64), st.integers(0, 100).map(np.int64),
    st.datetimes(timezones=st.just(UTC)),
)
LEAVES = st.one_of(SCALARS, st.builds(Leaf, st.floats(allow_nan=False), st.text(max_size=4),
                                      st.none() | st.datetimes(timezones=st.just(UTC))))
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple),
    st.dictionaries(st.text(max_size=3) | st.integers(0, 9), inner, max_size=4),
    st.builds(Node, st.lists(inner, max_size=3).map(tuple), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    st.frozensets(st.integers(0, 50), max_size=4)), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_same_data_and_same_json_as_the_reference(value: Any) -> None:
    got, want = jsonable(value), reference(value)
    assert got == want
    assert json.dumps(got, default=str) == json.dumps(want, default=str)
    assert [type(x) for x in _walk(got)] == [type(x) for x in _walk(want)]


def _walk(x: Any) -> list[Any]:
    if isinstance(x, dict):
        return [x, *(y for v in x.values() for y in _walk(v))]
    if isinstance(x, list):
        return [x, *(y for v in x for y in _walk(v))]
    return [x]

"""Typed results as plain JSON-ready data: the one conversion every front door and every signed document uses.

Why this exists: use cases return frozen dataclasses; the CLI's ``--json``, the REST API, the published JSON
schemas and the documents lichain signs (passports, declarations) all turn them into JSON the same way. Field
order is the dataclass's; tuples become arrays, exact decimals become numbers (integers when whole), times
ISO 8601 UTC text, enumerations their value.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

__all__ = ["dumps", "jsonable"]


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...]] = {}  # field names per result class (dataclasses.fields costs ~3 µs a call)


def jsonable(obj: Any) -> Any:
    """``obj`` (a result dataclass, or containers and scalars of them) as JSON-ready Python data."""
    t = type(obj)
    if t in _SCALARS:
        return obj
    names = _FIELDS.get(t)
    if names is not None:
        return {n: jsonable(getattr(obj, n)) for n in names}
    if t is dict:
        return {str(k): v if type(v) in _SCALARS else jsonable(v) for k, v in obj.items()}
    if t is tuple or t is list:
        return [v if type(v) in _SCALARS else jsonable(v) for v in obj]
    return _other(obj)


def _other(obj: Any) -> Any:
    if obj is None or isinstance(obj, str | bool | int | float):
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELDS[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
        return {n: jsonable(getattr(obj, n)) for n in names}
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, datetime):
        from lichain.core.codec import format_time

        return format_time(obj)
    if isinstance(obj, Enum):
        return jsonable(obj.value)
    return str(obj)


def dumps(data: object) -> str:
    """JSON for the CLI: stable key order, UTF-8."""
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, default=str)

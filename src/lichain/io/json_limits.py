"""JSON read with bounds, every refusal located by line and column.

Why this exists: Python's JSON reader accepts ``NaN`` and ``Infinity`` (not JSON), turns a 5,000-digit integer
into an error without a position, and fails deep nesting with a ``RecursionError``. Documents from outside are
read here instead: the standard's grammar only, integers of at most :data:`MAX_INT_DIGITS` digits, nesting of at
most :data:`MAX_DEPTH` levels, and the position of whatever breaks a rule.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "JsonProblem", "load_json", "position"]

#: Deepest nesting of arrays and objects accepted (EPCIS documents need about 10).
MAX_DEPTH = 64
#: Longest integer accepted [digits] (a mass in mg fits in 19).
MAX_INT_DIGITS = 40

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|NaN|-?Infinity')


class JsonProblem(ValueError):
    """A located JSON refusal: ``line``, ``column`` (1-based) and the reason."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


def position(text: str, offset: int) -> tuple[int, int]:
    """(line, column), 1-based, of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _scan(text: str) -> JsonProblem | None:
    """The first bound broken outside string literals (nesting, long integer, NaN/Infinity), located."""
    depth = 0
    for m in _TOKENS.finditer(text):
        tok = m.group()
        c = tok[0]
        if c == '"':
            continue
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return JsonProblem(*position(text, m.start()), f"nested deeper than {MAX_DEPTH} levels")
        elif c in "]}":
            depth -= 1
        elif tok in ("NaN", "Infinity", "-Infinity"):
            return JsonProblem(*position(text, m.start()), f"{tok} is not a JSON number")
        elif re.fullmatch(r"-?\d+", tok) and len(tok.lstrip("-")) > MAX_INT_DIGITS:
            return JsonProblem(*position(text, m.start()),
                               f"integer of {len(tok.lstrip('-')):,} digits (at most {MAX_INT_DIGITS})")
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("integer too long")
    return int(text)


def load_json(text: str) -> Any:
    """Parse JSON text with decimals as :class:`~decimal.Decimal`; raise :class:`JsonProblem` with its place."""
    try:
        doc = json.loads(text, parse_float=Decimal, parse_int=_int, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise JsonProblem(exc.lineno, exc.colno, f"invalid JSON: {exc.msg}") from None
    except (ValueError, RecursionError):
        found = _scan(text)
        if found is not None:
            raise found from None
        raise JsonProblem(1, 1, "invalid JSON") from None
    found = _scan(text)  # a valid document may still nest too deeply
    if found is not None:
        raise found
    return doc

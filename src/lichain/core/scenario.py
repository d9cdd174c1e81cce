"""Scenario files: the changes a what-if applies to the ledger's figures, read from TOML or JSON and checked.

Why this exists: a scenario is a document people write ("buy the nickel sulfate from Harjavalta instead of
Quzhou; run the precursor plant on a 0.05 kg CO2e/kWh PPA; feed 20 % recycled sulfate") and the engine needs
typed, checked changes. Problems are values (:class:`lichain.core.errors.Problem`) located as
``FILE:change[i].field``, all reported at once; nothing is evaluated from a file with a problem. Numbers are
exact decimals in the file (strings or numbers) and converted once, when a change is built.

Change kinds (``kind`` of each ``[[change]]`` table):

- ``supplier``: consumptions of lots made at ``from_site`` (optionally only of ``material``, only by runs at
  ``at_site``) come instead, kg for kg, from ``to_site``'s newest lot (of ``to_material``, default the same
  material) made before the consuming lot; with another material this is a change of route, and the kg are
  scaled to bring the same mass of the new material's main tracked element.
- ``electricity``: the site's grid electricity at ``kg_co2e_per_kwh``; ``basis = "grid"`` (default: the grid mix
  of the site, both totals) or ``"ppa"`` (a power purchase agreement: market-based total only). The same as
  recording a site-scoped factor override of ``grid:…`` (or ``residual:…``) for that site.
- ``factor``: any emission factor ``key`` at ``value`` [``unit``], for one ``site`` or everywhere — the same as
  recording a factor override (reagent, fuel or transport routes).
- ``recycled_input``: runs at ``site`` (or the run ``run``) take fraction ``share`` of their ``material`` input
  from ``from_site``'s newest lot (of ``from_material``, default the same material) made before their output.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lichain.core.errors import Problem

__all__ = ["BASES", "KINDS", "Change", "Scenario", "parse_scenario"]

KINDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required fields, optional fields)
    "supplier": (("from_site", "to_site"), ("material", "to_material", "at_site")),
    "electricity": (("site", "kg_co2e_per_kwh"), ("basis",)),
    "factor": (("key", "value"), ("unit", "site")),
    "recycled_input": (("material", "share", "from_site"), ("site", "run", "from_material")),
}
BASES = ("grid", "ppa")
_NUMBERS = ("kg_co2e_per_kwh", "value", "share")


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a scenario: its ``kind`` (:data:`KINDS`), fields as text, numbers as Decimal."""

    kind: str
    fields: tuple[tuple[str, str], ...]
    numbers: tuple[tuple[str, Decimal], ...]
    location: str

    def get(self, name: str) -> str | None:
        """A text field, or None when absent."""
        return dict(self.fields).get(name)

    def number(self, name: str) -> Decimal:
        """A number field (present by construction for the kind's required numbers)."""
        return dict(self.numbers)[name]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named list of changes, applied in order."""

    name: str
    changes: tuple[Change, ...]
    description: str = ""


def _load(text: str, source: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    if source.lower().endswith(".json") or text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, [Problem(f"{source}:{exc.lineno}", f"not JSON: {exc.msg}")]
    else:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return None, [Problem(source, f"not TOML: {exc}")]
    if not isinstance(doc, dict):
        return None, [Problem(source, "a scenario is an object with name and change (a list of changes)")]
    return doc, []


def _change(i: int, raw: Any, source: str) -> tuple[Change | None, list[Problem]]:
    where = f"{source}:change[{i}]"
    if not isinstance(raw, dict):
        return None, [Problem(where, "a change is a table with kind and its fields")]
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        return None, [Problem(f"{where}.kind", f"unknown kind {kind!r}; known: {', '.join(KINDS)}")]
    required, optional = KINDS[kind]
    problems = [Problem(f"{where}.{k}", f"{kind} needs {k}") for k in required if k not in raw]
    problems += [Problem(f"{where}.{k}", f"unknown field for {kind}; fields: {', '.join((*required, *optional))}")
                 for k in raw if k not in (*required, *optional, "kind")]
    fields: list[tuple[str, str]] = []
    numbers: list[tuple[str, Decimal]] = []
    for k, v in raw.items():
        if k == "kind" or k not in (*required, *optional):
            continue
        if k in _NUMBERS:
            try:
                if isinstance(v, bool) or not isinstance(v, int | float | str):
                    raise InvalidOperation
                d = Decimal(str(v))
                if not d.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                problems.append(Problem(f"{where}.{k}", f"not a number: {v!r}"))
                continue
            if d < 0:
                problems.append(Problem(f"{where}.{k}", f"must be ≥ 0, got {d}"))
            elif k == "share" and d > 1:
                problems.append(Problem(f"{where}.{k}", f"a share is a mass fraction within 0..1, got {d}"))
            numbers.append((k, d))
        elif not isinstance(v, str) or not v.strip():
            problems.append(Problem(f"{where}.{k}", f"must be a non-empty text, got {v!r}"))
        else:
            fields.append((k, v.strip()))
    got = dict(fields)
    if kind == "electricity" and got.get("basis", "grid") not in BASES:
        problems.append(Problem(f"{where}.basis", f"basis must be one of {', '.join(BASES)}"))
    if kind == "recycled_input" and ("site" in got) == ("run" in got):
        problems.append(Problem(where, "recycled_input needs exactly one of site or run"))
    if problems:
        return None, problems
    return Change(kind, tuple(fields), tuple(numbers), where), []


def parse_scenario(text: str, source: str = "scenario") -> tuple[Scenario | None, list[Problem]]:
    """Parse a scenario document (TOML, or JSON when ``source`` ends in .json or the text is an object).

    Returns the scenario, or None with every problem located as ``SOURCE:change[i].field``.
    """
    doc, problems = _load(text, source)
    if doc is None:
        return None, problems
    unknown = [k for k in doc if k not in ("name", "description", "change")]
    problems += [Problem(f"{source}:{k}", "unknown key; keys: name, description, change") for k in unknown]
    raw = doc.get("change", [])
    if not isinstance(raw, list):
        problems.append(Problem(f"{source}:change", "change is a list of changes ([[change]] tables)"))
        raw = []
    changes = []
    for i, c in enumerate(raw):
        change, p = _change(i, c, source)
        problems += p
        if change is not None:
            changes.append(change)
    name = doc.get("name", "scenario")
    if not isinstance(name, str):
        problems.append(Problem(f"{source}:name", "must be a text"))
    if problems:
        return None, problems
    return Scenario(str(name), tuple(changes), str(doc.get("description", ""))), []

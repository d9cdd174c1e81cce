"""The battery passport JSON Schemas shipped with lichain, and validation of each aspect against its own.

Why this exists: every aspect lichain writes must be valid against the standard's schema, yet both standards make
nearly every property required while the chain knows only part of them (a warranty period, a test report URL are
the economic operator's). An aspect is therefore valid here when the schema finds nothing wrong with what is
present — types, enumerations, patterns, ranges, formats (``uri``, ``date-time`` checked, not skipped) — and every
required property that is absent is listed as a missing input (:func:`absent_required`), never filled with a
guess. The Battery Pass schemas are UTF-16 with a byte-order mark; the reader sniffs it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["BATTERYPASS_SCHEMAS", "IDTA_SCHEMAS", "absent_required", "aspect_problems", "load_schema",
           "passport_problems"]

_BP = "data/schemas/batterypass/BatteryPass/"
#: Battery Pass Data Model 1.2 aspect name → shipped schema path.
BATTERYPASS_SCHEMAS: dict[str, str] = {
    "GeneralProductInformation": _BP + "io.BatteryPass.GeneralProductInformation/1.2.0/gen/"
                                       "GeneralProductInformation-schema.json",
    "CarbonFootprint": _BP + "io.BatteryPass.CarbonFootprint/1.2.0/gen/CarbonFootprintForBatteries-schema.json",
    "SupplyChainDueDiligence": _BP + "io.BatteryPass.SupplyChainDueDiligence/1.2.0/gen/"
                                     "SupplyChainDueDiligence-schema.json",
    "MaterialComposition": _BP + "io.BatteryPass.MaterialComposition/1.2.0/gen/MaterialComposition-schema.json",
    "Circularity": _BP + "io.BatteryPass.Circularity/1.2.0/gen/Circularity-schema.json",
    "PerformanceAndDurability": _BP + "io.BatteryPass.Performance/1.2.1/gen/PerformanceAndDurability.schema",
    "Labeling": _BP + "io.BatteryPass.Labels/1.2.0/gen/Labeling-schema.json",
}
_ID = "data/schemas/idta-batterypass/io.admin-shell.idta.batterypass."
#: IDTA-02035 submodel name → shipped schema path.
IDTA_SCHEMAS: dict[str, str] = {
    "Nameplate": _ID + "digital_nameplate/1.0.0/gen/NameplateBattery-schema.json",
    "TechnicalData": _ID + "technical_data/1.0.1/gen/TechnicalDataBattery-schema.json",
    "CarbonFootprint": _ID + "carbon_footprint/1.0.0/gen/CarbonFootprintBattery-schema.json",
    "MaterialComposition": _ID + "material_composition/1.0.1/gen/MaterialCompositionBattery-schema.json",
    "Circularity": _ID + "circularity/1.0.0/gen/CircularityBattery-schema.json",
}
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


@cache
def _text(path: str) -> str:
    raw = resources.files("lichain").joinpath(path).read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


@cache
def load_schema(path: str) -> dict[str, Any]:
    """A shipped schema by its package path (UTF-16 with BOM or UTF-8), parsed once: read it, do not change it."""
    out: dict[str, Any] = json.loads(_text(path))
    return out


def _date_time(v: object) -> bool:
    if not isinstance(v, str):
        return True
    try:
        datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in v


def _checker() -> Any:
    from jsonschema import FormatChecker

    fc = FormatChecker()
    fc.checks("uri")(lambda v: not isinstance(v, str) or _URI.match(v) is not None)
    fc.checks("date-time")(_date_time)
    return fc


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """A schema node with ``$ref`` followed and ``allOf`` merged (enough for the SAMM-generated schemas)."""
    node = dict(node)
    while "$ref" in node:
        ref = node.pop("$ref")
        target: Any = root
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        node = {**target, **node}
    for sub in node.pop("allOf", []):
        r = _resolve(sub, root)
        node = {**r, **node, "required": [*r.get("required", []), *node.get("required", [])],
                "properties": {**r.get("properties", {}), **node.get("properties", {})}}
    return node


def absent_required(schema: Mapping[str, Any], payload: Any, ptr: str = "", root: Any = None) -> list[str]:
    """JSON pointers of the required properties absent from ``payload`` (inside present objects and items)."""
    root = schema if root is None else root
    node = _resolve(schema, root)
    out: list[str] = []
    if isinstance(payload, dict):
        props = node.get("properties", {})
        out += [f"{ptr}/{k}" for k in node.get("required", []) if k not in payload]
        for k, v in payload.items():
            if k in props:
                out += absent_required(props[k], v, f"{ptr}/{k}", root)
    elif isinstance(payload, list) and isinstance(node.get("items"), dict):
        for i, v in enumerate(payload):
            out += absent_required(node["items"], v, f"{ptr}/{i}", root)
    return out


def aspect_problems(path: str, payload: Mapping[str, Any], absent: set[str]) -> list[str]:
    """Schema problems of ``payload`` other than a required property listed in ``absent``: ``"<pointer>: msg"``."""
    from jsonschema import Draft4Validator

    schema = load_schema(path)
    out = []
    for e in Draft4Validator(schema, format_checker=_checker()).iter_errors(payload):
        where = "/" + "/".join(str(p) for p in e.absolute_path) if e.absolute_path else ""
        if e.validator == "required" and isinstance(e.instance, dict):
            missing = [k for k in e.validator_value if k not in e.instance]
            if all(f"{where}/{k}" in absent for k in missing):
                continue
        out.append(f"{where or '/'}: {e.message}")
    return sorted(out)


def passport_problems(fmt: str, aspects: Mapping[str, Mapping[str, Any]], missing: Iterable[tuple[str, str]],
                      withheld: Iterable[str]) -> list[str]:
    """Schema problems of every aspect of a passport (``fmt`` batterypass or aas): ``"<aspect><pointer>: msg"``.

    A required property may be absent when it is a missing input (``(aspect, pointer)``) or withheld at this level
    (``/<aspect><pointer>``); nothing else is excused.
    """
    schemas = BATTERYPASS_SCHEMAS if fmt == "batterypass" else IDTA_SCHEMAS
    excused: dict[str, set[str]] = {a: set() for a in schemas}
    for aspect, ptr in missing:
        excused.setdefault(aspect, set()).add(ptr)
    for w in withheld:
        _, aspect, *rest = w.split("/")
        excused.setdefault(aspect, set()).add("/" + "/".join(rest))
    return [f"{a}{p}" for a, payload in aspects.items() for p in aspect_problems(schemas[a], payload, excused[a])]

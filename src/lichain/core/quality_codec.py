"""Canonical JSON form of the manufacturing and quality events (:mod:`lichain.core.quality_model`).

Why this exists: every event's payload is canonical JSON (decimals as strings, UTC times); these bodies follow the
same rules as :mod:`lichain.core.codec`, which dispatches to this module for their kinds. Optional fields are
written only when present, so a payload never changes when a later field is added.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lichain.core.quality_model import (
    Certificate,
    Deviation,
    Limit,
    Measured,
    ProcessBatch,
    ProcessFile,
    SpcAlarm,
    Specification,
)

__all__ = ["QUALITY_BODIES", "QUALITY_KINDS", "quality_from_json", "quality_to_json"]

#: Event kind of each body type.
QUALITY_KINDS: dict[type, str] = {
    Specification: "specification",
    Certificate: "coa",
    Deviation: "deviation",
    SpcAlarm: "spc_alarm",
    ProcessBatch: "process_batch",
}
QUALITY_BODIES = tuple(QUALITY_KINDS)


def _dec(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text if text != "-0" else "0"


def _opt(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != ():
        out[key] = value


def quality_to_json(body: object) -> dict[str, Any]:
    """Plain-JSON dict of a manufacturing or quality body."""
    from lichain.core.codec import format_time

    t = format_time
    out: dict[str, Any]
    if isinstance(body, Specification):
        out = {"subject": body.subject, "version": body.version, "issued_at": t(body.issued_at),
               "scope": body.scope, "limits": [_limit(lim) for lim in body.limits]}
        _opt(out, "source", body.source)
    elif isinstance(body, Certificate):
        out = {"id": body.id, "lot": body.lot, "spec_version": body.spec_version, "issued_at": t(body.issued_at),
               "lab": body.lab, "values": [{"property": m.prop, "value": _dec(m.value), "unit": m.unit}
                                           for m in body.values]}
        _opt(out, "method", body.method)
    elif isinstance(body, Deviation):
        out = {"id": body.id, "lot": body.lot, "approved_by": body.approved_by, "reason": body.reason,
               "declared_at": t(body.declared_at)}
        _opt(out, "properties", list(body.properties) or None)
        _opt(out, "run", body.run)
    elif isinstance(body, SpcAlarm):
        out = {"id": body.id, "line": body.line, "parameter": body.parameter, "chart": body.chart,
               "rule": body.rule, "window_start": t(body.window_start), "window_end": t(body.window_end),
               "value": _dec(body.value), "center": _dec(body.center), "lcl": _dec(body.lcl),
               "ucl": _dec(body.ucl), "unit": body.unit, "declared_at": t(body.declared_at)}
    elif isinstance(body, ProcessBatch):
        out = {"id": body.id, "line": body.line, "source": body.source, "digest": body.digest,
               "rows": body.rows, "time_from": t(body.time_from), "time_to": t(body.time_to),
               "units": dict(body.units),
               "files": [{"path": f.path, "sha256": f.sha256, "rows": f.rows} for f in body.files]}
        _opt(out, "site", body.site)
        _opt(out, "runs", list(body.runs) or None)
    else:
        raise TypeError(f"not a quality body: {type(body).__name__}")
    return out


def _limit(lim: Limit) -> dict[str, Any]:
    out: dict[str, Any] = {"property": lim.prop, "unit": lim.unit}
    if lim.low is not None:
        out["low"] = _dec(lim.low)
    if lim.high is not None:
        out["high"] = _dec(lim.high)
    return out


def quality_from_json(kind: str, d: Mapping[str, Any]) -> object:
    """Inverse of :func:`quality_to_json` for an event of ``kind``."""
    from lichain.core.codec import parse_time

    p = parse_time
    if kind == "specification":
        return Specification(d["subject"], d["version"], p(d["issued_at"]), tuple(
            Limit(x["property"], x["unit"], Decimal(x["low"]) if x.get("low") is not None else None,
                  Decimal(x["high"]) if x.get("high") is not None else None) for x in d.get("limits", ())),
            d.get("scope", "material"), d.get("source"))
    if kind == "coa":
        return Certificate(d["id"], d["lot"], d["spec_version"], p(d["issued_at"]), d["lab"], tuple(
            Measured(v["property"], Decimal(v["value"]), v["unit"]) for v in d.get("values", ())), d.get("method"))
    if kind == "deviation":
        return Deviation(d["id"], d["lot"], d["approved_by"], d["reason"], p(d["declared_at"]),
                         tuple(d.get("properties", ())), d.get("run"))
    if kind == "spc_alarm":
        return SpcAlarm(d["id"], d["line"], d["parameter"], d["chart"], d["rule"], p(d["window_start"]),
                        p(d["window_end"]), Decimal(d["value"]), Decimal(d["center"]), Decimal(d["lcl"]),
                        Decimal(d["ucl"]), d["unit"], p(d["declared_at"]))
    if kind == "process_batch":
        return ProcessBatch(d["id"], d["line"], d.get("site"), d["source"], d["digest"], int(d["rows"]),
                            p(d["time_from"]), p(d["time_to"]), tuple(sorted(d.get("units", {}).items())),
                            tuple(ProcessFile(f["path"], f["sha256"], int(f["rows"])) for f in d.get("files", ())),
                            tuple(d.get("runs", ())))
    raise ValueError(f"not a quality event kind: {kind!r}")

"""EPCIS form of the manufacturing and quality events: lichain extension events carrying the canonical body.

Why this exists: a certificate of analysis travels with its lot (a customer receiving the EPCIS export of a lot
receives its CoAs, the specification they are judged against and any deviation), and SPC alarms and process
batches round-trip like every event. Each is an event of type ``lichain:<Type>`` in the event list with its
canonical JSON body under ``lichain:<member>`` (numbers as decimal text), as the supplier-PCF and site-risk
events are (docs/epcis.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from lichain.core.codec import format_time, parse_time
from lichain.core.model import Event, EventBody, EventKind
from lichain.core.quality_codec import QUALITY_KINDS, quality_from_json, quality_to_json

__all__ = ["EVENT_TYPES", "is_quality_type", "member_pointer", "quality_element", "read_quality_event"]

#: Event kind → (EPCIS event type, body member).
EVENT_TYPES: dict[str, tuple[str, str]] = {
    "specification": ("lichain:Specification", "specification"),
    "coa": ("lichain:CertificateOfAnalysis", "certificateOfAnalysis"),
    "deviation": ("lichain:Deviation", "deviation"),
    "spc_alarm": ("lichain:SpcAlarm", "spcAlarm"),
    "process_batch": ("lichain:ProcessBatch", "processBatch"),
}
_BY_TYPE = {etype: (kind, member) for kind, (etype, member) in EVENT_TYPES.items()}


def quality_element(ev: Event, event_id: str) -> dict[str, Any] | None:
    """The EPCIS event of a manufacturing or quality event (None for other bodies)."""
    kind = QUALITY_KINDS.get(type(ev.body))
    if kind is None:
        return None
    etype, member = EVENT_TYPES[kind]
    return {"type": etype, "eventTime": format_time(ev.time), "eventTimeZoneOffset": "+00:00",
            "eventID": event_id, f"lichain:{member}": quality_to_json(ev.body)}


def member_pointer(body: EventBody, suffix: str) -> str | None:
    """The document pointer of a canonical field of a manufacturing or quality body (None for other bodies)."""
    kind = QUALITY_KINDS.get(type(body))
    return None if kind is None else f"/lichain:{EVENT_TYPES[kind][1]}{suffix}"


def read_quality_event(ev: dict[str, Any], ptr: str, add: Callable[[str, str], None]) -> Event | None:
    """The event of an EPCIS ``lichain:<Type>`` manufacturing or quality event, or None with a located problem."""
    etype = ev.get("type")
    kind, member = _BY_TYPE[str(etype)]
    body, eid, t = ev.get(f"lichain:{member}"), ev.get("eventID"), ev.get("eventTime")
    if not isinstance(body, dict) or not isinstance(eid, str) or not isinstance(t, str):
        add(ptr, f"a {etype} needs eventID, eventTime and a lichain:{member} object")
        return None
    try:
        parsed = quality_from_json(kind, body)
        time: datetime = parse_time(t)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        add(f"{ptr}/lichain:{member}", f"malformed {etype}: {type(exc).__name__}: {str(exc)[:120]}")
        return None
    return Event(eid, EventKind(kind), time, parsed)  # type: ignore[arg-type]


def is_quality_type(etype: str) -> bool:
    """True for the EPCIS event types of this module."""
    return etype in _BY_TYPE

"""A typed screen in front of the field-bounds walk, so clean lots, runs and shipments skip it.

Why this exists: :func:`lichain.core.fieldcheck.field_problems` walks every event's ``body_to_json`` dict key by key,
which is a large share of bulk-ingest time. For the three kinds that make up nearly every event the screen below
reads the dataclass directly and answers "certainly clean" when every text is within the smallest limit that
could apply to it, every time is inside the ledger's window, every mass is far below what the schema holds, every
assay or loss key is an element symbol and every GS1 lot number is plainly valid. Anything else (a long or odd
text, a time out of range, a free-form dict such as ``quality`` or ``readings``, an economic allocation, another
kind of event) goes through the reference walk, which finds and words the problems. The screen only ever says
"clean" when the walk would find nothing (property test: ``tests/unit/test_fastcodec.py``).

The same screen exists in compiled code (``lichain/core/_hotpath.c``, built with the package): it answers True only
when this screen would clear the body, and False whenever it is not certain, which sends the body through the
Python screen below; so the compiled screen can save time, never change an answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from lichain.core.codec import body_to_json
from lichain.core.fieldcheck import _MASSES, _PAYLOAD_SUSPECT, _TIMES, _WHAT, field_problems
from lichain.core.limits import (
    CLOCK_SKEW,
    ELEMENT_SYMBOLS,
    GS1_LOT_CHARS,
    MAX_CHARS,
    MAX_TEXT_CHARS,
    MIN_TIME,
    ledger_now,
    text_problem,
    time_problem,
)
from lichain.core.model import Activity, Event, Lot, Run, Shipment

__all__ = ["python_screened_field_problems", "screened_field_problems"]

#: A mass this large [mg] or a decimal kg this large is still far below the schema's 2^63 - 1 mg.
_SAFE_MG = 2**62
_SAFE_KG = 2**62 // 1_000_000
_LOT = MAX_CHARS["lot id"]
_EVENT_ID = MAX_CHARS["event id"]
_SITE = MAX_CHARS["site id"]
_MATERIAL = MAX_CHARS["material code"]
_NAME = MAX_CHARS["name"]
_RUN_ID = MAX_CHARS["run id"]
_SHIP_ID = MAX_CHARS["shipment id"]
_RUN_KIND = MAX_CHARS["run kind"]
_MODE = MAX_CHARS["transport mode"]
_ORG = MAX_CHARS["organisation"]
_FACTOR = MAX_CHARS["factor key"]
_INSTRUMENT = MAX_CHARS["instrument"]
#: The limit of every text of these kinds not named above (free text, sources, decimals): a payload no longer
#: than it holds no longer text.
_TEXT = min(MAX_TEXT_CHARS, MAX_CHARS["source"])
_GS1_PREFIX = "https://id.gs1.org/"
#: The characters of a GS1 batch/lot number the screen clears: set 82 without percent escapes and URI delimiters.
_GS1_NUMBER = "".join(sorted(GS1_LOT_CHARS - set("%/?#")))
#: A GS1 Digital Link lot URI whose batch/lot number is 1 to 20 characters of set 82 (no percent escapes).
_GS1_OK = re.compile("https://id\\.gs1\\.org/01/\\d{14}/10/[" + re.escape(_GS1_NUMBER) + "]{1,20}(?:[/?#]|\\Z)")


#: Keys the walk gives a rule of their own (identifiers, kinds, masses and every key with a named limit): a free-form
#: dict (``quality``, ``readings``) holding one of them, or a time-like key, goes to the walk.
_RULED_KEYS = frozenset({"id", "kind", *_WHAT, *_MASSES})


def _free_ok(items: Iterable[tuple[str, Any]]) -> bool:
    """True when a free-form dict's texts fall under the free-text limit only (no key with a rule of its own)."""
    return all(type(v) is str and k not in _RULED_KEYS and not k.endswith(_TIMES) for k, v in items)


#: Lot ids already cleared (a lot id recurs in its lot, its shipments and the runs consuming it); bounded (at most
#: 65,536 ids, a few MB, emptied when full).
_CLEARED: set[str] = set()
_MAX_CLEARED = 1 << 16


def _lot_id_ok(lot_id: str) -> bool:
    if lot_id in _CLEARED:
        return True
    ok = len(lot_id) <= _LOT and (not lot_id.startswith(_GS1_PREFIX) or _GS1_OK.match(lot_id) is not None)
    if ok and type(lot_id) is str:
        if len(_CLEARED) >= _MAX_CLEARED:
            _CLEARED.clear()
        _CLEARED.add(lot_id)
    return ok


def _activity_ok(a: Activity | None) -> bool:
    if a is None:
        return True
    if a.readings and not _free_ok(a.readings):
        return False
    for e in a.electricity:
        if (e.instrument is not None and len(e.instrument) > _INSTRUMENT) or (
                e.factor_key is not None and len(e.factor_key) > _FACTOR):
            return False
    for f in a.fuels:
        if len(f.kind) > _RUN_KIND:  # a run's fuel kind is read as a run kind: the stricter limit
            return False
    for r in a.reagents:
        if len(r.name) > _NAME or (r.factor_key is not None and len(r.factor_key) > _FACTOR) or not (
                -_SAFE_KG <= r.kg <= _SAFE_KG):
            return False
    return True


def _lot_ok(lot: Lot, lo: datetime, hi: datetime) -> bool:
    return (_lot_id_ok(lot.id) and len(lot.material) <= _MATERIAL and len(lot.site) <= _SITE
            and lo <= lot.produced_at <= hi and -_SAFE_MG <= lot.mass_mg <= _SAFE_MG
            and lot.assay.keys() <= ELEMENT_SYMBOLS and (not lot.quality or _free_ok(lot.quality.items()))
            and (not lot.assay_method or len(lot.assay_method) <= _NAME)
            and (not lot.assay_lab or len(lot.assay_lab) <= _NAME) and _activity_ok(lot.activity))


def _run_ok(run: Run, lo: datetime, hi: datetime) -> bool:
    if not (len(run.id) <= _RUN_ID and len(run.site) <= _SITE and len(run.kind) <= _RUN_KIND
            and lo <= run.started_at <= hi and lo <= run.ended_at <= hi and run.allocation == "mass"
            and run.losses_mg.keys() <= ELEMENT_SYMBOLS and _activity_ok(run.activity)):
        return False
    for v in run.losses_mg.values():
        if not -_SAFE_MG <= v <= _SAFE_MG:
            return False
    for c in run.inputs:
        if not (_lot_id_ok(c.lot) and -_SAFE_MG <= c.mass_mg <= _SAFE_MG):
            return False
    return all(_lot_ok(o, lo, hi) for o in run.outputs)


def _shipment_ok(s: Shipment, lo: datetime, hi: datetime) -> bool:
    return (len(s.id) <= _SHIP_ID and _lot_id_ok(s.lot) and len(s.from_site) <= _SITE and len(s.to_site) <= _SITE
            and len(s.mode) <= _MODE and (s.to_organisation is None or len(s.to_organisation) <= _ORG)
            and lo <= s.shipped_at <= hi and -_SAFE_MG <= s.mass_mg <= _SAFE_MG)


_SCREENS: dict[type, Any] = {Run: _run_ok, Shipment: _shipment_ok, Lot: _lot_ok}

try:
    from lichain.core import _hotpath

    _hotpath.setup_screen(ELEMENT_SYMBOLS, _RULED_KEYS, _TIMES, _lot_id_ok, _CLEARED, {
        "site": _SITE, "material": _MATERIAL, "name": _NAME, "run_id": _RUN_ID, "shipment_id": _SHIP_ID,
        "run_kind": _RUN_KIND, "mode": _MODE, "organisation": _ORG, "factor": _FACTOR, "instrument": _INSTRUMENT,
        "text": _TEXT, "safe_mg": _SAFE_MG, "event_id": _EVENT_ID, "lot": _LOT, "gs1_prefix": _GS1_PREFIX,
        "gs1_lot_chars": _GS1_NUMBER}, _SAFE_KG)
    _compiled_screen: Any = _hotpath.screen
except ImportError:  # installed without a C compiler: the Python screen alone
    _compiled_screen = None


def _short_texts(payload: str) -> bool:
    """True when no text of the payload is longer than :data:`_TEXT` characters.

    A payload that short holds no longer text; a longer one (a run with many inputs) is cut at its quotes: with no
    backslash in it, no text holds an escaped quote, so every text lies inside one piece between two quotes.
    """
    if len(payload) <= _TEXT:
        return True
    return "\\" not in payload and max(map(len, payload.split('"'))) <= _TEXT


def _clean(payload: str) -> bool:
    """True when no text of the payload can hold a control, surrogate or format character (see fieldcheck)."""
    if payload.isascii():
        return "\\" not in payload and "\x7f" not in payload
    return _PAYLOAD_SUSPECT.search(payload) is None


def screened_field_problems(ev: Event, payload: str, now: datetime | None = None) -> list[tuple[str, str]]:
    """Exactly :func:`~lichain.core.fieldcheck.field_problems` of ``ev`` (``payload``: its canonical JSON).

    A lot, run or shipment that the typed screen finds certainly clean costs two checks of the event itself;
    any other event, or one the screen cannot clear, is walked by the reference.
    """
    now = now or ledger_now()
    hi = now + CLOCK_SKEW
    if _compiled_screen is not None and _compiled_screen(ev.body, payload, MIN_TIME, hi):
        return _event_problems(ev, now, hi)
    return python_screened_field_problems(ev, payload, now)


def python_screened_field_problems(ev: Event, payload: str, now: datetime | None = None) -> list[tuple[str, str]]:
    """:func:`screened_field_problems` without the compiled screen."""
    now = now or ledger_now()
    screen = _SCREENS.get(type(ev.body))
    if screen is not None and _short_texts(payload):
        hi = now + CLOCK_SKEW
        try:
            ok = _clean(payload) and screen(ev.body, MIN_TIME, hi)
        except Exception:  # a value of an unexpected type: the reference walk words the problem
            ok = False
        if ok:
            return _event_problems(ev, now, hi)
    return field_problems(ev, now, body_to_json(ev.body), payload)


def _event_problems(ev: Event, now: datetime, hi: datetime) -> list[tuple[str, str]]:
    """The field problems of an event whose body the screen cleared: its id and time only."""
    eid, t = ev.event_id, ev.time
    if len(eid) <= _EVENT_ID and eid.isascii() and eid.isprintable() and MIN_TIME <= t <= hi:
        return []  # printable ASCII holds no control, surrogate or format character
    out: list[tuple[str, str]] = []
    p = text_problem(eid, "event id")
    if p:
        out.append(("", p))
    p = time_problem(t, "event time", now)
    if p:
        out.append(("", p))
    return out

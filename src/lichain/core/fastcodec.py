"""The canonical payload of lots, runs and shipments written straight to text, byte-identical to the reference.

Why this exists: bulk ingest spends a large share of each event building the :func:`~lichain.core.codec.body_to_json`
dict and encoding it with ``json.dumps(sort_keys=True)``. The three kinds that make up nearly every event of a
ledger (lots, runs, shipments) have a fixed shape, so their JSON can be assembled in one pass: keys in the sorted
order ``json.dumps`` would give, every string escaped by the JSON encoder's own C escaper
(``json.encoder.encode_basestring``, the one ``ensure_ascii=False`` uses), every number formatted by the codec's
own converters. Any other kind, and anything unexpected in a body (a value of another type, a nested dict with a
non-text value), goes through the reference :func:`~lichain.core.codec.canonical_payload`, so the bytes stored and
hashed never change (property test: ``tests/unit/test_fastcodec.py``).

The same writer exists in compiled code (``lichain/core/_hotpath.c``, built with the package): it is tried first and
declines (``None``) for anything but the plain types of the model, so this module's writer, and behind it the
reference, decide every unusual body. :data:`COMPILED` tells whether it is there.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

from lichain.core.codec import _dec, _mg_kg, _ppb_fraction, canonical_payload, format_time
from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    Event,
    EventBody,
    Fuel,
    LocatedEvent,
    Lot,
    Reagent,
    Run,
    Shipment,
)
from lichain.core.ports import LotState, Movement

__all__ = ["COMPILED", "fast_payload", "plain_decimal_context", "python_payload"]

try:
    from lichain.core import _hotpath
except ImportError:  # installed without a C compiler: the Python writer alone
    _hotpath = None  # type: ignore[assignment]

_esc = encode_basestring
#: Assay fractions repeat across a ledger (a few thousand distinct values in a 20 k-lot demo); ``typed`` keeps 1 and
#: 1.0 and True apart, so a value of the wrong type still reaches the reference converter and its refusal.
_ppb = lru_cache(maxsize=8192, typed=True)(_ppb_fraction)


def _kg(mg: int) -> str:
    """``_mg_kg(mg)`` (integer mg → exact kg text), from the digits for the usual masses of a kg or more."""
    if type(mg) is int and mg >= 1_000_000:
        d = str(mg)
        frac = d[-6:]
        return d[:-6] if frac == "000000" else f"{d[:-6]}.{frac.rstrip('0')}"
    return _mg_kg(mg)


class _Fallback(Exception):
    """A body the fast writer does not cover: the reference encoder writes it."""


def _text_map(d: Mapping[str, Any]) -> str:
    """A dict of text to text, keys sorted (as ``json.dumps(sort_keys=True)`` sorts them)."""
    parts = []
    for k, v in sorted(d.items()):
        if type(k) is not str or type(v) is not str:
            raise _Fallback
        parts.append(f"{_esc(k)}:{_esc(v)}")
    return "{" + ",".join(parts) + "}"


def _opt(v: str | None) -> str:
    return "null" if v is None else _esc(v)


def _activity(a: Activity) -> str:
    """The JSON of a non-empty activity (keys: electricity, fuels, process_kg_co2e, readings, reagents, water_m3)."""
    parts = []
    if a.electricity:
        items = []
        for e in a.electricity:
            f = []
            if e.factor_key is not None:
                f.append(f'"factor_key":{_esc(e.factor_key)}')
            if e.instrument is not None:
                f.append(f'"instrument":{_esc(e.instrument)}')
            f.append(f'"kwh":"{_dec(e.kwh)}"')
            if e.source is not None:
                f.append(f'"source":{_esc(e.source)}')
            items.append("{" + ",".join(f) + "}")
        parts.append('"electricity":[' + ",".join(items) + "]")
    if a.fuels:
        parts.append('"fuels":[' + ",".join(f'{{"kind":{_esc(f.kind)},"mj":"{_dec(f.mj)}"}}'
                                            for f in a.fuels) + "]")
    if a.process_kg_co2e is not None:
        parts.append(f'"process_kg_co2e":"{_dec(a.process_kg_co2e)}"')
    if a.readings:
        parts.append('"readings":' + _text_map(dict(a.readings)))
    if a.reagents:
        items = []
        for r in a.reagents:
            fk = "" if r.factor_key is None else f'"factor_key":{_esc(r.factor_key)},'
            items.append(f'{{{fk}"kg":"{_dec(r.kg)}","name":{_esc(r.name)}}}')
        parts.append('"reagents":[' + ",".join(items) + "]")
    if a.water_m3 is not None:
        parts.append(f'"water_m3":"{_dec(a.water_m3)}"')
    return "{" + ",".join(parts) + "}"


def _lot(lot: Lot) -> str:
    """The JSON of a lot (keys: activity, assay, assay_lab, assay_method, id, mass_kg, material, origin,
    produced_at, quality, site).

    Numbers and times are written between quotes without the escaper: their text is digits, signs, ``.``, ``:``,
    ``T`` and ``Z`` only (a value of another type raises in its converter and goes to the reference).
    """
    head = ""
    if lot.activity is not None and not lot.activity.is_empty():
        head = f'"activity":{_activity(lot.activity)},'
    assay = ",".join([f'{_esc(e)}:"{_ppb(v)}"' for e, v in sorted(lot.assay.items())])
    lab = f'"assay_lab":{_esc(lot.assay_lab)},' if lot.assay_lab else ""
    method = f'"assay_method":{_esc(lot.assay_method)},' if lot.assay_method else ""
    quality = f'"quality":{_text_map(lot.quality)},' if lot.quality else ""
    return (f'{{{head}"assay":{{{assay}}},{lab}{method}"id":{_esc(lot.id)},"mass_kg":"{_kg(lot.mass_mg)}",'
            f'"material":{_esc(lot.material)},"origin":{_esc(lot.origin)},'
            f'"produced_at":"{format_time(lot.produced_at)}",{quality}"site":{_esc(lot.site)}}}')


def _run(run: Run) -> str:
    """The JSON of a run (keys: activity, allocation, ended_at, id, inputs, kind, losses_kg, output_values,
    outputs, site, started_at)."""
    head = "" if run.activity.is_empty() else f'"activity":{_activity(run.activity)},'
    values = ""
    if run.allocation != "mass":
        head += f'"allocation":{_esc(run.allocation)},'
        items = []
        for k, v in sorted(run.output_values.items()):
            if type(k) is not str:
                raise _Fallback
            items.append(f'{_esc(k)}:"{_dec(v)}"')
        values = '"output_values":{' + ",".join(items) + "},"
    inputs = ",".join([f'{{"lot":{_esc(c.lot)},"mass_kg":"{_kg(c.mass_mg)}"}}' for c in run.inputs])
    losses = ""
    if run.losses_mg:
        losses = ('"losses_kg":{' + ",".join([f'{_esc(e)}:"{_kg(v)}"' for e, v in sorted(run.losses_mg.items())])
                  + "},")
    outputs = ",".join([_lot(o) for o in run.outputs])
    return (f'{{{head}"ended_at":"{format_time(run.ended_at)}","id":{_esc(run.id)},"inputs":[{inputs}],'
            f'"kind":{_esc(run.kind)},{losses}{values}"outputs":[{outputs}],"site":{_esc(run.site)},'
            f'"started_at":"{format_time(run.started_at)}"}}')


def _shipment(s: Shipment) -> str:
    """The JSON of a shipment (keys: distance_km, from_site, id, lot, mass_kg, mode, shipped_at, to_organisation,
    to_site)."""
    return (f'{{"distance_km":"{_dec(s.distance_km)}","from_site":{_esc(s.from_site)},"id":{_esc(s.id)},'
            f'"lot":{_esc(s.lot)},"mass_kg":"{_kg(s.mass_mg)}","mode":{_esc(s.mode)},'
            f'"shipped_at":"{format_time(s.shipped_at)}","to_organisation":{_opt(s.to_organisation)},'
            f'"to_site":{_esc(s.to_site)}}}')


_WRITERS: dict[type, Any] = {Run: _run, Shipment: _shipment, Lot: _lot}


def plain_decimal_context() -> bool:
    """True when the decimal context cannot round or clamp what the compiled code writes from a Decimal's own text
    (at most 28 digits, exponents within ±100): ``normalize()`` then changes no digit, and the Decimal products of
    the ledger rules (a lot mass times a tolerance of at most 9 digits) are exact. Under any other context the
    compiled code is not used, so what is written and refused never depends on which path ran."""
    c = decimal.getcontext()
    return c.prec >= 28 and c.Emax >= 999 and c.Emin <= -999 and not c.clamp


def python_payload(body: EventBody) -> str:
    """:func:`fast_payload` without the compiled writer."""
    w = _WRITERS.get(type(body))
    if w is not None:
        try:
            return w(body)  # type: ignore[no-any-return]
        except Exception:  # an unexpected value (wrong type, odd key): the reference decides, raising if it does
            pass
    return canonical_payload(body)


if _hotpath is not None:
    _hotpath.setup_types((Lot, Run, Shipment, Consumption, Activity, Electricity, Fuel, Reagent, Event,
                          LocatedEvent, LotState, Movement))
    _hotpath.setup(Lot, Run, Shipment, UTC, _dec, Decimal)
    _compiled = _hotpath.payload

    def fast_payload(body: EventBody) -> str:
        """The canonical JSON text of ``body``: exactly :func:`~lichain.core.codec.canonical_payload`, written
        faster (the compiled writer first, the Python writer where it declines)."""
        p: str | None = _compiled(body) if plain_decimal_context() else None
        return p if p is not None else python_payload(body)
else:
    fast_payload = python_payload

#: True when the compiled writer is installed.
COMPILED = _hotpath is not None

"""The fast payload writer and the field screen give exactly what the reference encoder and walk give.

The reference stays :func:`lichain.core.codec.canonical_payload` (``json.dumps`` of ``body_to_json``) and
:func:`lichain.core.fieldcheck.field_problems` (the key-by-key walk): stored ledgers keep verifying because the
bytes are the same, and every bound still holds because the screen only clears what the walk would clear.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lichain.core.codec import BODY_KINDS, canonical_payload
from lichain.core.fastcodec import COMPILED, fast_payload, python_payload
from lichain.core.fieldcheck import field_problems
from lichain.core.fieldscreen import python_screened_field_problems, screened_field_problems
from lichain.core.limits import CLOCK_SKEW, MIN_TIME
from lichain.core.model import (
    Activity,
    Consumption,
    Electricity,
    Event,
    EventKind,
    Lot,
    Reagent,
    Run,
    Shipment,
)
from tests.support.any_body import any_event, body_of

NOW = datetime(2027, 12, 31, tzinfo=UTC)
T = datetime(2026, 3, 1, 8, 30, 0, 250_000, tzinfo=UTC)
GS1 = "https://id.gs1.org/01/09520001001109/10/L00000001"


def _outcome(f: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", f(*args)
    except Exception as exc:  # the same refusal of a malformed body counts as the same answer
        return "raises", type(exc)


def _run(**kw: Any) -> Run:
    out = Lot(GS1.replace("L00000001", "L2"), "CAM", "S-1", T, 10_000_000, {"Ni": 480_000_000, "Li": 71_000_000},
              quality={"chemistry": "NCM811"}, assay_method="ICP-OES", assay_lab="QC lab")
    base: dict[str, Any] = dict(
        id="R-1", site="S-1", kind="calcination", started_at=T, ended_at=T, inputs=(Consumption(GS1, 12_500_000),),
        outputs=(out,), losses_mg={"Ni": 12},
        activity=Activity((Electricity(Decimal("2500.50"), "grid", None, "grid:CN"),), (),
                          (Reagent("LiOH", Decimal("12.000"), None),), Decimal("4"), None, (("pH", "11.2"),)))
    base.update(kw)
    return Run(**base)


def test_fast_payload_of_a_typical_run_lot_and_shipment_is_the_reference() -> None:
    ship = Shipment("SHP-1", GS1, 5_000_000, "S-1", "S-2", T, "road", Decimal("25.0"), "Cell Co")
    for body in (_run(), _run().outputs[0], ship, _run(allocation="economic",
                                                        output_values={_run().outputs[0].id: Decimal("3.50")})):
        assert fast_payload(body) == canonical_payload(body)
        assert python_payload(body) == canonical_payload(body)
    assert fast_payload(ship) == ('{"distance_km":"25","from_site":"S-1","id":"SHP-1","lot":"' + GS1 + '",'
                                  '"mass_kg":"5","mode":"road","shipped_at":"2026-03-01T08:30:00.25Z",'
                                  '"to_organisation":"Cell Co","to_site":"S-2"}')


WRITERS = pytest.mark.parametrize("writer", [fast_payload, python_payload], ids=["compiled-first", "python"])


@WRITERS
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_payload_equals_the_reference_on_every_kind(writer: Any, data: st.DataObject) -> None:
    for cls in BODY_KINDS:  # every kind the ledger records, in every example
        body = data.draw(body_of(cls), label=cls.__name__)
        assert _outcome(writer, body) == _outcome(canonical_payload, body)


@WRITERS
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(body_of(Run), body_of(Lot), body_of(Shipment)))
def test_fast_payload_equals_the_reference_on_lots_runs_and_shipments(writer: Any, body: Any) -> None:
    assert _outcome(writer, body) == _outcome(canonical_payload, body)


def test_the_compiled_writer_is_installed_and_writes_every_plain_lot_run_and_shipment() -> None:
    """The package builds its compiled writer (setup.py); it declines none of the demo chain's lots, runs and
    shipments, so bulk ingest never falls back to Python for them, and writes them byte for byte."""
    from lichain.core import _hotpath
    from lichain.demo import generate
    from lichain.services.record import assign_ids

    assert COMPILED
    chain = generate(lots=400, seed=3)
    bodies = [e.body for b in chain.batches() for e in assign_ids(b) if type(e.body) in (Lot, Run, Shipment)]
    assert {type(b) for b in bodies} == {Lot, Run, Shipment}
    written = [_hotpath.payload(b) for b in bodies]
    assert None not in written
    assert written == [canonical_payload(b) for b in bodies]


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.decimals(allow_nan=True, allow_infinity=True),
                 st.decimals(allow_nan=False, allow_infinity=False, places=9),
                 st.integers(-40, 40).flatmap(lambda e: st.integers(-(10**30), 10**30).map(
                     lambda c: Decimal(c).scaleb(e)))))
@example(Decimal("-0.000"))
@example(Decimal("1E+101"))
@example(Decimal("1E-101"))
@example(Decimal("12.3400E+5"))
@example(Decimal("-0.0012E-3"))
@example(Decimal("1234567890123456789012345678"))
@example(Decimal("12345678901234567890123456789"))
def test_the_compiled_decimal_text_is_the_codecs(d: Decimal) -> None:
    """Quantities in kWh, MJ, kg, m³ and km are written from the Decimal's own text by the compiled writer: the
    same text as ``format(d.normalize(), "f")`` (the codec), or the codec itself decides."""
    ship = Shipment("SHP-1", GS1, 5_000_000, "S-1", "S-2", T, "road", d, None)
    assert _outcome(fast_payload, ship) == _outcome(canonical_payload, ship)


def _screened(ev: Event, screen: Any = screened_field_problems) -> tuple[str, Any]:
    try:
        payload = canonical_payload(ev.body)
    except Exception as exc:
        return "raises", type(exc)
    return _outcome(screen, ev, payload, NOW)


SCREENS = pytest.mark.parametrize("screen", [screened_field_problems, python_screened_field_problems],
                                  ids=["compiled-first", "python"])


@SCREENS
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=any_event(st.one_of(body_of(Run), body_of(Lot), body_of(Shipment))))
def test_screen_gives_the_walks_problems_on_lots_runs_and_shipments(screen: Any, ev: Event) -> None:
    assert _screened(ev, screen) == _outcome(field_problems, ev, NOW)


@SCREENS
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_screen_gives_the_walks_problems_on_every_kind(screen: Any, data: st.DataObject) -> None:
    for cls in BODY_KINDS:
        ev = data.draw(any_event(body_of(cls)), label=cls.__name__)
        assert _screened(ev, screen) == _outcome(field_problems, ev, NOW)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(body_of(Run), body_of(Lot), body_of(Shipment)))
def test_the_compiled_screen_clears_only_what_the_python_screen_clears(body: Any) -> None:
    """True from the compiled screen is a promise that the Python screen clears the body too."""
    from lichain.core import _hotpath

    try:
        payload = canonical_payload(body)
    except Exception:
        return
    ev = Event("urn:uuid:1", BODY_KINDS[type(body)], T, body)
    if _hotpath.screen(body, payload, MIN_TIME, NOW + CLOCK_SKEW):
        assert python_screened_field_problems(ev, payload, NOW) == [] == field_problems(ev, NOW)


def test_the_compiled_screen_clears_every_lot_run_and_shipment_of_the_demo() -> None:
    from lichain.core import _hotpath
    from lichain.demo import generate
    from lichain.services.record import assign_ids

    chain = generate(lots=400, seed=3)
    bodies = [e.body for b in chain.batches() for e in assign_ids(b) if type(e.body) in (Lot, Run, Shipment)]
    hi = datetime(2040, 1, 1, tzinfo=UTC)
    assert all(_hotpath.screen(b, canonical_payload(b), MIN_TIME, hi) for b in bodies)
    first = next(b for b in bodies if type(b) is Lot)
    assert not _hotpath.screen(first, canonical_payload(first), MIN_TIME, first.produced_at - timedelta(days=1))


def test_screen_clears_a_clean_run_and_still_finds_each_planted_problem() -> None:
    def problems(body: Run) -> list[tuple[str, str]]:
        ev = Event("urn:uuid:1", EventKind.RUN, T, body)
        return screened_field_problems(ev, canonical_payload(body), NOW)

    assert problems(_run()) == []
    o = _run().outputs[0]
    cases = {
        "/outputs/0/assay/Qq": _run(outputs=(Lot(o.id, o.material, o.site, T, o.mass_mg, {"Qq": 1}),)),
        "/ended_at": _run(ended_at=datetime(2099, 1, 1, tzinfo=UTC)),
        "/inputs/0/lot": _run(inputs=(Consumption(GS1.replace("L00000001", "L" * 21), 1),)),
        "/kind": _run(kind="k" * 51),
        "/losses_kg/Ni": _run(losses_mg={"Ni": 2**63}),
        "/outputs/0/quality/produced_at": _run(outputs=(Lot(o.id, o.material, o.site, T, 1, {},
                                                            quality={"produced_at": "9999-01-01T00:00:00Z"}),)),
    }
    for where, body in cases.items():
        found = problems(body)
        assert [p for p, _ in found] == [where], (where, found)
        assert found == field_problems(Event("urn:uuid:1", EventKind.RUN, T, body), NOW)


def test_the_compiled_code_declines_lists_where_the_model_has_tuples() -> None:
    """A list's items can move while they are read (should anything run Python code), so the compiled writer and
    screen take the model's tuples only; the Python writer still gives the reference's bytes for a list."""
    from lichain.core import _hotpath

    run = _run()
    listed = _run(inputs=list(run.inputs), outputs=list(run.outputs))
    assert _hotpath.payload(run) == canonical_payload(run)
    assert _hotpath.payload(listed) is None
    assert fast_payload(listed) == canonical_payload(listed)
    assert not _hotpath.screen(listed, canonical_payload(listed), MIN_TIME, NOW + CLOCK_SKEW)


def test_the_compiled_screen_decides_lot_ids_at_their_limits_as_the_python_screen() -> None:
    """Plain ids are cleared in compiled code by length alone; GS1 Digital Link ids still by the Python form check."""
    from lichain.core import _hotpath
    from lichain.core.fieldscreen import _lot_id_ok
    from lichain.core.limits import MAX_CHARS

    n = MAX_CHARS["lot id"]
    prefix = "https://id.gs1.org/"
    ids = ["L" * n, "L" * (n + 1), GS1, GS1.replace("L00000001", "L" * 21), GS1.replace("L00000001", "L%20"),
           prefix + "x" * (n - len(prefix)), prefix + "x" * (n + 1 - len(prefix)), "https://id.gs1.org"]
    for lot_id in [*ids, "é" * (n + 1)]:
        body = Lot(lot_id, "CAM", "S-1", T, 10_000_000, {"Ni": 480_000_000})
        payload = canonical_payload(body)
        cleared = _hotpath.screen(body, payload, MIN_TIME, NOW + CLOCK_SKEW)
        assert cleared is _lot_id_ok(lot_id), lot_id  # a plain (ASCII) payload: nothing else declines it
        if cleared:
            assert python_screened_field_problems(Event("urn:uuid:1", EventKind.LOT, T, body), payload, NOW) == []
    assert [_lot_id_ok(i) for i in ids] == [True, False, True, False, False, False, False, True]


_GS1_PARTS = st.tuples(
    st.sampled_from(["https://id.gs1.org/01/", "https://id.gs1.org/", "https://id.gs1.org/02/", "http://id.gs1.org/01/"]),
    st.text("0123456789x٣", min_size=12, max_size=15),
    st.sampled_from(["/10/", "/10", "/11/", "10/"]),
    st.text("AZaz09!\"%&'()*+,-.:;<=>_ /?#é\n", max_size=24),
    st.sampled_from(["", "/", "?x=1", "#f", "/21/123", "\n"]))


@settings(max_examples=500, deadline=None)
@given(_GS1_PARTS)
@example(("https://id.gs1.org/01/", "09520001001109", "/10/", "L00000001", ""))  # the demo's form: cleared
@example(("https://id.gs1.org/01/", "09520001001109", "/10/", "L" * 20, "?x=1"))  # 20 characters: cleared
@example(("https://id.gs1.org/01/", "09520001001109", "/10/", "L" * 21, ""))  # 21: refused
@example(("https://id.gs1.org/01/", "0952000100110٣", "/10/", "L1", ""))  # another script's digit: Python decides
def test_the_compiled_screen_reads_gs1_lot_ids_as_the_python_form_check(parts: tuple[str, ...]) -> None:
    """GS1 Digital Link ids are checked in compiled code (ASCII) or by the Python check (a digit of another
    script): the same answer as the screen's regex either way."""
    from lichain.core import _hotpath
    from lichain.core.fieldscreen import _GS1_OK, _GS1_PREFIX, _LOT

    lot_id = "".join(parts)
    body = Lot(lot_id, "CAM", "S-1", T, 10_000_000, {"Ni": 480_000_000})
    expected = len(lot_id) <= _LOT and (not lot_id.startswith(_GS1_PREFIX) or _GS1_OK.match(lot_id) is not None)
    payload = canonical_payload(body)
    if payload.isascii() and "\\" not in payload:  # no escape, no other script: nothing but the id declines it
        assert _hotpath.screen(body, payload, MIN_TIME, NOW + CLOCK_SKEW) is expected
    else:
        assert not _hotpath.screen(body, payload, MIN_TIME, NOW + CLOCK_SKEW) or expected

"""The bulk-ingest fast paths give exactly the reference's answers on the events they take.

The references stay :func:`lichain.core.fieldcheck.field_problems` (the key-by-key walk) and
:func:`lichain.core.codec.canonical_payload`. Covered here: the field screen on runs whose canonical JSON is
longer than the free-text limit (many inputs; the screen now cuts the payload at its quotes instead of walking),
and the one-test clearance of a printable ASCII event id and an in-window event time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lichain.core.codec import canonical_payload
from lichain.core.fastcodec import fast_payload
from lichain.core.fieldcheck import field_problems
from lichain.core.fieldscreen import _TEXT, screened_field_problems
from lichain.core.model import Activity, Consumption, Electricity, Event, EventKind, Lot, Reagent, Run
from tests.support.any_body import TEXT

NOW = datetime(2027, 12, 31, tzinfo=UTC)
T = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
GS1 = "https://id.gs1.org/01/09520001001109/10/L{:08d}"
#: Texts that break a rule only when long, or that hide an escape or a quote in a long payload.
LONG = st.one_of(
    TEXT,
    st.sampled_from([1_999, 2_000, 2_001, 2_500]).map(lambda n: "y" * n),
    st.sampled_from([1_998, 2_000, 2_001]).map(lambda n: 'q"' + "z" * n),
    st.sampled_from([1_998, 2_001]).map(lambda n: "\\" + "z" * n),
    st.sampled_from([1_990, 2_001]).map(lambda n: "é" * n),
    st.sampled_from([999, 1_001]).map(lambda n: "é" + "z" * n + '"' + "z" * 1_000),  # one text over two pieces
)


def _long_run(n_inputs: int, where: str, text: str) -> Run:
    """A clean run with ``n_inputs`` inputs (canonical JSON far over 2,000 characters) and ``text`` put ``where``."""
    def t(name: str, default: str) -> str:
        return text if where == name else default

    out = Lot(GS1.format(99_999_999), "CAM", "S-1", T, 10_000_000, {"Ni": 480_000_000},
              quality={"chemistry": t("quality", "NCM811")}, assay_lab=t("lab", "QC lab"), origin=t("origin", "virgin"))
    act = Activity((Electricity(Decimal("2500.5"), t("source", "grid"), None, None),), (),
                   (Reagent(t("reagent", "LiOH"), Decimal("12"), None),), None, None, (("pH", t("reading", "11.2")),))
    inputs = tuple(Consumption(t("lot", GS1.format(i)) if i == 3 else GS1.format(i), 1_000_000)
                   for i in range(n_inputs))
    return Run(t("id", "R-1"), t("site", "S-1"), t("kind", "calcination"), T, T, inputs, (out,), {"Ni": 12},
               act)


def _screened(ev: Event) -> list[tuple[str, str]]:
    payload = fast_payload(ev.body)
    assert payload == canonical_payload(ev.body)  # byte-identical to the reference encoder
    return screened_field_problems(ev, payload, NOW)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(0, 60),
       where=st.sampled_from(["quality", "lab", "origin", "source", "reagent", "reading", "lot", "id", "site",
                              "kind"]),
       text=LONG)
def test_screen_of_a_long_run_gives_the_walks_problems(n: int, where: str, text: str) -> None:
    ev = Event("urn:uuid:00000000-0000-5000-8000-000000000001", EventKind.RUN, T, _long_run(n, where, text))
    assert _screened(ev) == field_problems(ev, NOW)


def test_a_clean_long_run_is_cleared_and_a_long_text_in_it_is_still_found() -> None:
    ev = Event("urn:uuid:1", EventKind.RUN, T, _long_run(40, "", ""))
    assert len(canonical_payload(ev.body)) > _TEXT
    assert _screened(ev) == []
    bad = Event("urn:uuid:1", EventKind.RUN, T, _long_run(40, "source", "s" * 2_001))
    assert _screened(bad) == [("/activity/electricity/0/source",
                               "source is 2,001 characters long; the limit is 2,000")]


EVENT_IDS = st.one_of(
    TEXT,
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=20),
    st.sampled_from([199, 200, 201]).map(lambda n: "e" * n),
    st.sampled_from(["urn:uuid:1", "a b", "id\x7f", "id\x00", "id\u200b", "idé", "\ud800"]),
)
TIMES = st.one_of(
    st.sampled_from([datetime(1899, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(1900, 1, 1, tzinfo=UTC),
                     NOW + timedelta(days=1), NOW + timedelta(days=1, microseconds=1), T]),
    st.datetimes(datetime(1800, 1, 1), datetime(2030, 1, 1)).map(lambda t: t.replace(tzinfo=UTC)),
)


@settings(max_examples=300, deadline=None)
@given(event_id=EVENT_IDS, time=TIMES)
def test_event_id_and_time_of_a_screened_event_give_the_walks_problems(event_id: str, time: datetime) -> None:
    ev = Event(event_id, EventKind.RUN, time, _long_run(1, "", ""))
    got = _screened(ev)
    assert got == field_problems(ev, NOW)
    plain = (len(event_id) <= 200 and event_id.isascii() and event_id.isprintable()
             and datetime(1900, 1, 1, tzinfo=UTC) <= time <= NOW + timedelta(days=1))
    if plain:  # the one-test clearance: printable ASCII within the id limit, a time inside the window
        assert got == []
    elif event_id.isascii() and event_id.isprintable() and len(event_id) <= 200:
        assert got != []  # a plain id with a time out of the window



@settings(max_examples=500, deadline=None)
@given(mg=st.one_of(st.integers(-(10**7), 10**7), st.integers(-(2**64), 2**64), st.sampled_from([0, 10**6, 10**12]),
                    st.integers(0, 10**6).map(lambda k: k * 1_000_000)))
def test_mass_text_is_the_reference_converter(mg: int) -> None:
    from lichain.core.codec import _mg_kg
    from lichain.core.fastcodec import _kg

    assert _kg(mg) == _mg_kg(mg)


@settings(max_examples=300, deadline=None)
@given(ppb=st.one_of(st.integers(0, 10**9), st.integers(-(10**12), 10**12)))
def test_cached_fraction_text_is_the_reference_converter(ppb: int) -> None:
    from lichain.core.codec import _ppb_fraction
    from lichain.core.fastcodec import _ppb

    assert _ppb(ppb) == _ppb_fraction(ppb)
    assert _ppb(ppb) == _ppb_fraction(ppb)  # from the cache


def test_a_fraction_of_another_type_is_not_served_from_the_cache() -> None:
    from lichain.core.codec import canonical_payload
    from lichain.core.model import Lot

    lot = Lot("L1", "CAM", "S1", T, 1_000_000, {"Ni": 1})
    odd = Lot("L1", "CAM", "S1", T, 1_000_000, {"Ni": 1.0})
    assert fast_payload(lot) == canonical_payload(lot)
    assert _outcome(fast_payload, odd) == _outcome(canonical_payload, odd)


def _outcome(f: object, *args: object) -> tuple[str, object]:
    try:
        return "ok", f(*args)  # type: ignore[operator]
    except Exception as exc:  # the same refusal of a malformed body counts as the same answer
        return "raises", type(exc)

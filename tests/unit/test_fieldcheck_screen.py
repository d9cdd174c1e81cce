"""The fast paths of the field checks give exactly the per-character rule's answers.

The control-character test is one compiled pattern (checked against ``unicodedata`` over every code point), and an
event whose canonical JSON shows no suspect byte skips the per-string character scan: the property below puts
random text (control characters, surrogates, escapes, long strings) into every text field of a run and compares
the screened result with the unscreened one.
"""

from __future__ import annotations

import sys
import unicodedata
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from lichain.core.codec import body_to_json
from lichain.core.fieldcheck import _Walk, field_problems
from lichain.core.limits import _BAD_CHAR, _FORMAT_CHAR, text_problem
from lichain.core.model import Consumption, Event, EventKind, Lot, Run

T = datetime(2026, 3, 1, tzinfo=UTC)
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def test_control_pattern_is_unicode_category_cc_and_surrogates() -> None:
    by_table = [c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in ("Cc", "Cs")]
    by_pattern = [c for c in range(sys.maxunicode + 1) if _BAD_CHAR.match(chr(c))]
    assert by_pattern == by_table
    assert len(by_table) == 65 + 2048  # 65 control characters (C0, DEL, C1) and 2048 surrogate code points


def test_format_pattern_is_unicode_category_cf() -> None:
    by_table = [c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    by_pattern = [c for c in range(sys.maxunicode + 1) if _FORMAT_CHAR.match(chr(c))]
    assert by_pattern == by_table


def test_invisible_characters_are_refused_in_ids_and_kept_in_names() -> None:
    p = text_problem("urn:x:lot\u202e1gpj", "lot id")
    assert p == ("lot id holds the invisible format character U+202E (RIGHT-TO-LEFT OVERRIDE) at character 10: "
                 "ids that look alike must be alike")
    assert text_problem("Kolwezi\u200dMine", "name") is None  # a zero-width joiner is part of some scripts


def _unscreened(ev: Run) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    _Walk("run", NOW, out, clean=False).container(body_to_json(ev), "", "")
    return out


texts = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from("ab\x00\x1f\x7f\x85\x9f\ud800\udfff\\n\"é中\u202e"), max_size=25),
    st.text(alphabet="xyz", min_size=15, max_size=320),
)


@settings(max_examples=400, deadline=None)
@given(run_id=texts, site=texts, kind=texts, lot_id=texts, material=texts, lab=texts)
def test_screened_field_checks_equal_the_per_character_rule(
    run_id: str, site: str, kind: str, lot_id: str, material: str, lab: str
) -> None:
    out = Lot(lot_id, material, site, T, 5_000_000, {"Ni": 200_000_000}, assay_lab=lab)
    run = Run(run_id, site, kind, T, T, (Consumption(lot_id + "in", 5_000_000),), (out,))
    ev = Event("urn:uuid:00000000-0000-5000-8000-000000000000", EventKind.RUN, T, run)
    screened = field_problems(ev, NOW)
    assert [p for p in screened if p[0]] == _unscreened(run)

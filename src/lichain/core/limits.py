"""Bounds on everything a document can put into the ledger, so hostile input is a located refusal, never a crash.

Why this exists: the ledger stores masses as 64-bit integers of mg, identifiers and names in sized columns, and
text that every database and JSON encoder must accept. Anything outside is refused at the boundary with the limit
in the message, the same way on SQLite and PostgreSQL. Sources:

* GS1 General Specifications (Release 24.0, 2024), §3.4.1 AI (10) Batch or lot number: up to 20 characters of
  GS1 AI encodable character set 82 (§7.11, Figure 7.11-1).
* IUPAC periodic table (2022): the 118 element symbols.
* The ledger schema (``lichain.storage.schema``): column lengths below are the schema's (a storage test checks
  they agree); 64-bit signed integers hold masses up to 9,223,372,036,854,775,807 mg ≈ 9.2e12 kg.
"""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import unquote

__all__ = [
    "CLOCK_SKEW",
    "ELEMENT_SYMBOLS",
    "FORMAT_CHARS",
    "GS1_LOT_CHARS",
    "IDENTIFIERS",
    "MAX_CHARS",
    "MAX_MASS_KG",
    "MAX_TEXT_CHARS",
    "MIN_TIME",
    "gs1_lot_problem",
    "ledger_now",
    "text_problem",
    "time_problem",
]

#: Largest mass of one lot, consumption, shipment or declared loss [kg]: what the schema's signed 64-bit column
#: of milligrams holds, (2^63 - 1) mg, rounded down to whole kg.
MAX_MASS_KG = Decimal((2**63 - 1) // 1_000_000)
#: Times further in the future than this (relative to the ledger's clock) are refused as typing errors.
CLOCK_SKEW = timedelta(days=1)
#: Times before this are refused: no battery material lot predates it.
MIN_TIME = datetime(1900, 1, 1, tzinfo=UTC)
#: Longest free text (names, sources, reasons) [characters].
MAX_TEXT_CHARS = 2_000
#: Column lengths of the schema, per kind of field [characters].
MAX_CHARS = {
    "event id": 200, "lot id": 300, "run id": 300, "shipment id": 300, "claim id": 300, "site id": 200,
    "material code": 100, "name": 300, "organisation": 300, "grid region": 100, "formula": 200, "run kind": 50,
    "transport mode": 40, "activity name": 100, "factor key": 200, "unit": 20, "instrument": 300,
    "factor unit": 60, "source": MAX_TEXT_CHARS, "reason": MAX_TEXT_CHARS, "certification": 300,
}  # fmt: skip

ELEMENT_SYMBOLS = frozenset(["H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"])

#: GS1 AI encodable character set 82.
GS1_LOT_CHARS = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_DL_LOT = re.compile(r"^https://id\.gs1\.org/01/\d{14}/10/([^/?#]*)")
#: Control characters (Unicode category Cc: U+0000–U+001F, U+007F–U+009F) and surrogate code points: one compiled
#: search finds the first of them, so a clean text costs one C-level scan.
_BAD_CHAR = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: Invisible format characters (Unicode category Cf, e.g. U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH
#: SPACE): refused in identifiers, so two ids that look alike are alike. Ranges of Unicode 14.0 (a test checks them
#: against ``unicodedata``); free text such as names keeps them (joiners are part of some scripts).
FORMAT_CHARS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_FORMAT_CHAR = re.compile(f"[{FORMAT_CHARS}]")
#: Kinds of field that identify something (no invisible characters allowed).
IDENTIFIERS = frozenset(["event id", "lot id", "run id", "shipment id", "claim id", "site id", "material code",
                         "factor key"])


def text_problem(value: str, what: str, limit: int | None = None) -> str | None:
    """Why ``value`` cannot be stored as ``what`` (None if it can): length, control characters, lone surrogates."""
    n = limit if limit is not None else MAX_CHARS.get(what, MAX_TEXT_CHARS)
    if len(value) > n:
        return f"{what} is {len(value):,} characters long; the limit is {n:,}"
    m = _BAD_CHAR.search(value)
    if m is None:
        f = _FORMAT_CHAR.search(value) if what in IDENTIFIERS else None
        if f is None:
            return None
        return (f"{what} holds the invisible format character U+{ord(f[0]):04X} "
                f"({unicodedata.name(f[0], 'unnamed')}) at character {f.start() + 1}: ids that look alike must be "
                "alike")
    i, o = m.start(), ord(m[0])
    if 0xD800 <= o <= 0xDFFF:
        return f"{what} holds a lone surrogate (U+{o:04X}) at character {i + 1}: not valid Unicode text"
    return f"{what} holds the control character U+{o:04X} at character {i + 1}"


def gs1_lot_problem(lot_id: str) -> str | None:
    """For a GS1 Digital Link lot URI: why its batch/lot number breaks GS1's AI (10) rule (None if it does not)."""
    m = _DL_LOT.match(lot_id)
    if m is None:
        return None
    lot = unquote(m[1])
    if not 1 <= len(lot) <= 20:
        return (f"GS1 batch/lot number (AI 10) is {len(lot):,} characters long; GS1 allows 1 to 20 "
                "(General Specifications §3.4.1)")
    bad = sorted({c for c in lot if c not in GS1_LOT_CHARS})
    if bad:
        return (f"GS1 batch/lot number (AI 10) holds {''.join(bad)!r}, outside GS1 character set 82 "
                "(General Specifications §7.11)")
    return None


def ledger_now() -> datetime:
    """The ledger's clock: ``LICHAIN_NOW`` (an ISO time, for simulations and reproducible tests) or the system's."""
    text = os.environ.get("LICHAIN_NOW")
    if text:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=UTC)
    return datetime.now(UTC)


def time_problem(t: datetime, what: str, now: datetime | None = None) -> str | None:
    """Why ``t`` is not a plausible time for ``what`` (None if it is): before 1900 or beyond the clock skew."""
    if t < MIN_TIME:
        return f"{what} {t.isoformat()} is before {MIN_TIME.date().isoformat()}"
    limit = (now or ledger_now()) + CLOCK_SKEW
    if t > limit:
        return (f"{what} {t.isoformat()} is in the future (later than now plus the allowed clock skew of "
                f"{CLOCK_SKEW.days} day)")
    return None

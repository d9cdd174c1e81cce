"""GS1 URIs reduced to one canonical form: identifiers (EPC URN / Digital Link) and CBV vocabulary terms.

The same physical lot can reach lichain as an EPC Class URN (``urn:epc:class:lgtin:4012345.012345.Lot987``),
as a GS1 Digital Link URI on a brand's own resolver (``https://example.com/01/04012345123456/10/Lot987?x=1``)
or as the canonical Digital Link URI (``https://id.gs1.org/01/04012345123456/10/Lot987``). Lot identity and
the EPCIS event hash (CBV 2.0 §8.9) both need one spelling, so every form is mapped here to the *constrained
canonical GS1 Digital Link URI*: host ``https://id.gs1.org``, numeric AIs instead of short names, GTINs padded
to 14 digits, no query string or fragment, no CPV (AI 22), and only the finest identification level (a serial
wins over a lot). Conversion rules follow the GS1 EPC Tag Data Standard 2.x (§6, §7) and GS1 Digital Link
URI Syntax 1.2 (§4.11); the accepted key set is the one listed in CBV 2.0 §8.9.

CBV vocabulary values (``shipping``, ``urn:epcglobal:cbv:bizstep:shipping``, ``cbv:BizStep-shipping``) are
likewise mapped to their GS1 Web URI (``https://ref.gs1.org/cbv/BizStep-shipping``), CBV 2.0 §8.9 steps 14-16.

Pure stdlib, no I/O. Strings that are not GS1 identifiers are returned unchanged (stripped).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

__all__ = [
    "CANONICAL_DL_HOST",
    "CBV",
    "CBV_PREFIXES",
    "GS1_VOC",
    "expand_legacy_cbv",
    "gs1_check_digit",
    "normalise_cbv",
    "normalise_epc",
]

CANONICAL_DL_HOST = "https://id.gs1.org"
CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"
_BIZSTEP, _DISP, _BTT, _SDT, _ER, _COMP = (
    CBV + p for p in ("BizStep-", "Disp-", "BTT-", "SDT-", "ER-", "Comp-")
)
#: URI prefix of a bare term, by vocabulary (CBV 2.0 vocabulary name or EPCIS field name).
CBV_PREFIXES = {
    "bizStep": _BIZSTEP, "BizStep": _BIZSTEP, "disposition": _DISP, "Disp": _DISP,
    "bizTransactionType": _BTT, "BTT": _BTT, "sourceDestType": _SDT, "SDT": _SDT,
    "errorReason": _ER, "ER": _ER, "component": _COMP, "Comp": _COMP,
    "measurementType": GS1_VOC, "sensorAlertType": GS1_VOC,
}  # fmt: skip
_LEGACY_CBV = {"bizstep": _BIZSTEP, "disp": _DISP, "btt": _BTT, "sdt": _SDT, "er": _ER}
_CANONICAL = re.compile(
    r"https://id\.gs1\.org/(?:01/\d{14}(?:/(?:10|21|235)/[^/?#]+)?|00/\d{18}|414/\d{13}(?:/254/[^/?#]+)?"
    r"|417/\d{13})\Z",
    re.ASCII,
)

# Characters that may appear raw in an EPC URN component but must be percent-encoded in a Digital Link path
# (GS1 Digital Link 1.2, table 7-1); characters already escaped in the URN (%2F, %22, ...) are kept.
_DL_ESCAPE = str.maketrans(
    {"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"}
)
_DL_ESCAPED = frozenset("!()*+,:")
_URN_CHARS = re.compile(r"(?:[-!'()*+,.0-9:;=A-Z_a-z]|%[0-9A-Fa-f]{2})+\Z")
_CPI_CHARS = re.compile(r"(?:[-0-9A-Z]|%2[3Ff])+\Z")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def gs1_check_digit(digits: str) -> str:
    """Return the GS1 modulo-10 check digit for a string of decimal digits.

    Parameters
    ----------
    digits : str
        The key without its check digit (e.g. the 13 leading digits of a GTIN-14, 17 of an SSCC).

    Returns
    -------
    str
        One decimal digit. Weights 3 and 1 alternate from the rightmost digit (GS1 General Specifications
        §7.9.1), so leading zeros do not change the result.

    Raises
    ------
    ValueError
        If ``digits`` is empty or contains anything but ASCII digits.
    """
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"not a string of decimal digits: {digits!r}")
    odd, even = digits[-1::-2].encode(), digits[-2::-2].encode()  # 48 = ord("0")
    return str(-(3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)) % 10)


def _digits(s: str, lo: int, hi: int) -> bool:
    return lo <= len(s) <= hi and (not s or (s.isascii() and s.isdigit()))


def _chars(s: str, limit: int, pattern: re.Pattern[str] = _URN_CHARS) -> bool:
    return pattern.match(s) is not None and len(_ESCAPE.sub("_", s) if "%" in s else s) <= limit


def _gtin(cp: str, ref: str) -> str | None:
    """GTIN-14 from company prefix and indicator-led item reference (TDS §7.1)."""
    if not (_digits(cp, 6, 12) and _digits(ref, 1, 7) and len(cp) + len(ref) == 13):
        return None
    body = ref[0] + cp + ref[1:]
    return body + gs1_check_digit(body)


def _key(cp: str, ref: str, length: int) -> str | None:
    """Company prefix + reference (+ check digit) for GLN-like keys of ``length`` digits before the check."""
    if not (_digits(cp, 6, 12) and _digits(ref, 0, 11) and len(cp) + len(ref) == length):
        return None
    body = cp + ref
    return body + gs1_check_digit(body)


def _parts(body: str, n: int) -> list[str] | None:
    parts = body.split(".", n - 1)
    return parts if len(parts) == n else None


_GTIN_SERIAL = re.compile(
    r"(\d{6,12})\.(\d{1,7})\.((?:[-!'()*+,.0-9:;=A-Z_a-z]|%[0-9A-Fa-f]{2}){1,20})\Z", re.ASCII
)


def _gtin_qualified(ai: str) -> Callable[[str], str | None]:
    """SGTIN (serial, AI 21) and LGTIN (lot, AI 10): one regex, the hot path for lichain's lots."""

    def convert(b: str) -> str | None:
        m = _GTIN_SERIAL.match(b)
        if m is None:
            return None
        cp, ref, serial = m.groups()
        if len(cp) + len(ref) != 13:
            return None
        body = ref[0] + cp + ref[1:]
        if not _DL_ESCAPED.isdisjoint(serial):
            serial = serial.translate(_DL_ESCAPE)
        return f"/01/{body}{gs1_check_digit(body)}/{ai}/{serial}"

    return convert


def _sscc(b: str) -> str | None:
    p = _parts(b, 2)
    if not (p and _digits(p[0], 6, 12) and _digits(p[1], 1, 11) and len(p[0]) + len(p[1]) == 17):
        return None
    body = p[1][0] + p[0] + p[1][1:]
    return f"/00/{body}{gs1_check_digit(body)}"


def _sgln(b: str) -> str | None:
    p = _parts(b, 3)
    k = p and _key(p[0], p[1], 12)
    if not (p and k and _chars(p[2], 20)):
        return None
    return f"/414/{k}" if p[2] == "0" else f"/414/{k}/254/{p[2].translate(_DL_ESCAPE)}"


def _grai(b: str) -> str | None:
    p = _parts(b, 3)
    k = p and _key(p[0], p[1], 12)
    return f"/8003/0{k}{p[2].translate(_DL_ESCAPE)}" if p and k and _chars(p[2], 16) else None


def _giai(b: str) -> str | None:
    p = _parts(b, 2)
    ok = p and _digits(p[0], 6, 12) and _chars(p[1], 30 - len(p[0]))
    return f"/8004/{p[0]}{p[1].translate(_DL_ESCAPE)}" if p and ok else None


def _ginc(b: str) -> str | None:
    p = _parts(b, 2)
    ok = p and _digits(p[0], 6, 12) and _chars(p[1], 30 - len(p[0]))
    return f"/401/{p[0]}{p[1].translate(_DL_ESCAPE)}" if p and ok else None


def _keyed(ai: str, length: int) -> Callable[[str], str | None]:
    def convert(b: str) -> str | None:
        p = _parts(b, 2)
        k = p and _key(p[0], p[1], length)
        return f"/{ai}/{k}" if k else None

    return convert


def _gdti(b: str) -> str | None:
    p = _parts(b, 3)
    k = p and _key(p[0], p[1], 12)
    return f"/253/{k}{p[2].translate(_DL_ESCAPE)}" if p and k and _chars(p[2], 17) else None


def _sgcn(b: str) -> str | None:
    p = _parts(b, 3)
    k = p and _key(p[0], p[1], 12)
    return f"/255/{k}{p[2]}" if p and k and _digits(p[2], 1, 12) else None


def _cpi(b: str) -> str | None:
    p = _parts(b, 3)
    ok = p and _digits(p[0], 6, 12) and _chars(p[1], 30 - len(p[0]), _CPI_CHARS) and _digits(p[2], 1, 12)
    return f"/8010/{(p[0] + p[1]).translate(_DL_ESCAPE)}/8011/{p[2]}" if p and ok else None


def _itip(b: str) -> str | None:
    p = _parts(b, 5)
    g = p and _gtin(p[0], p[1])
    if not (p and g and _digits(p[2], 2, 2) and _digits(p[3], 2, 2) and _chars(p[4], 20)):
        return None
    return f"/8006/{g}{p[2]}{p[3]}/21/{p[4].translate(_DL_ESCAPE)}"


def _upui(b: str) -> str | None:
    p = _parts(b, 3)
    g = p and _gtin(p[0], p[1])
    return f"/01/{g}/235/{p[2].translate(_DL_ESCAPE)}" if p and g and _chars(p[2], 28) else None


def _pattern(convert: Callable[[list[str]], str | None], n: int) -> Callable[[str], str | None]:
    """EPC ID pattern URIs whose last component is ``*`` map to the class-level key (no serial)."""

    def parse(b: str) -> str | None:
        p = _parts(b, n)
        return convert(p[:-1]) if p and p[-1] == "*" else None

    return parse


def _pat_key(ai: str, lead: str = "") -> Callable[[list[str]], str | None]:
    def convert(p: list[str]) -> str | None:
        k = _key(p[0], p[1], 12)
        return f"/{ai}/{lead}{k}" if k else None

    return convert


def _pat_gtin(p: list[str]) -> str | None:
    g = _gtin(p[0], p[1])
    return f"/01/{g}" if g else None


def _pat_itip(p: list[str]) -> str | None:
    g = _gtin(p[0], p[1])
    return f"/8006/{g}{p[2]}{p[3]}" if g and _digits(p[2], 2, 2) and _digits(p[3], 2, 2) else None


def _pat_cpi(p: list[str]) -> str | None:
    ok = _digits(p[0], 6, 12) and _chars(p[1], 30 - len(p[0]), _CPI_CHARS)
    return f"/8010/{(p[0] + p[1]).translate(_DL_ESCAPE)}" if ok else None


_URN: dict[str, Callable[[str], str | None]] = {
    "urn:epc:id:sgtin:": _gtin_qualified("21"),
    "urn:epc:id:sscc:": _sscc,
    "urn:epc:id:sgln:": _sgln,
    "urn:epc:id:grai:": _grai,
    "urn:epc:id:giai:": _giai,
    "urn:epc:id:gsrn:": _keyed("8018", 17),
    "urn:epc:id:gsrnp:": _keyed("8017", 17),
    "urn:epc:id:gdti:": _gdti,
    "urn:epc:id:cpi:": _cpi,
    "urn:epc:id:sgcn:": _sgcn,
    "urn:epc:id:ginc:": _ginc,
    "urn:epc:id:gsin:": _keyed("402", 16),
    "urn:epc:id:itip:": _itip,
    "urn:epc:id:upui:": _upui,
    "urn:epc:id:pgln:": _keyed("417", 12),
    "urn:epc:class:lgtin:": _gtin_qualified("10"),
    "urn:epc:idpat:sgtin:": _pattern(_pat_gtin, 3),
    "urn:epc:idpat:upui:": _pattern(_pat_gtin, 3),
    "urn:epc:idpat:grai:": _pattern(_pat_key("8003", "0"), 3),
    "urn:epc:idpat:gdti:": _pattern(_pat_key("253"), 3),
    "urn:epc:idpat:sgcn:": _pattern(_pat_key("255"), 3),
    "urn:epc:idpat:cpi:": _pattern(_pat_cpi, 3),
    "urn:epc:idpat:itip:": _pattern(_pat_itip, 5),
}

# Digital Link primary keys: path segment (numeric AI or GS1 short name) -> AI.
_PRIMARY = {
    "00": "00", "sscc": "00", "01": "01", "gtin": "01", "253": "253", "gdti": "253", "255": "255",
    "gcn": "255", "401": "401", "ginc": "401", "402": "402", "gsin": "402", "414": "414", "gln": "414",
    "417": "417", "party": "417", "8003": "8003", "grai": "8003", "8004": "8004", "giai": "8004",
    "8006": "8006", "itip": "8006", "8010": "8010", "cpid": "8010", "8017": "8017", "gsrnp": "8017",
    "8018": "8018", "gsrn": "8018",
}  # fmt: skip
# Key value syntax per AI: (leading digits, max length with a %xx escape counted as one char, all digits?)
_KEY_SYNTAX: dict[str, tuple[int, int, bool]] = {
    "00": (18, 18, True), "01": (14, 14, True), "253": (13, 30, False), "255": (13, 25, True),
    "401": (4, 30, False), "402": (17, 17, True), "414": (13, 13, True), "417": (13, 13, True),
    "8003": (14, 30, False), "8004": (4, 30, False), "8006": (18, 18, True), "8010": (4, 30, False),
    "8017": (18, 18, True), "8018": (18, 18, True),
}  # fmt: skip
_QUALIFIER_ALIAS = {"cpv": "22", "lot": "10", "ser": "21", "glnx": "254"}
_QUALIFIERS = {"01": ("21", "10", "235"), "8006": ("21", "10"), "414": ("254",), "8010": ("8011",)}


def _digital_link(uri: str) -> str | None:
    """Constrained canonical form of a GS1 Digital Link URI, or None if ``uri`` is not one."""
    rest = uri.partition("://")[2]
    path = rest.partition("/")[2].partition("?")[0].partition("#")[0]
    if not path.isascii():
        return None
    segs = path.split("/")
    if segs and not segs[-1]:
        segs.pop()
    start = next(
        (i for i in range(len(segs) - 1) if segs[i] in _PRIMARY and _digits(segs[i + 1][:4], 4, 4)), -1
    )
    if start < 0:
        return None
    ai, value, pairs = _PRIMARY[segs[start]], segs[start + 1], segs[start + 2 :]
    if len(pairs) % 2:
        return None
    if ai == "01" and len(value) in (8, 12, 13) and value.isdigit():
        value = value.zfill(14)
    lead, limit, numeric = _KEY_SYNTAX[ai]
    if not (value[:lead].isdigit() and len(_ESCAPE.sub("_", value)) <= limit and len(value) >= lead):
        return None
    if numeric and not value.isdigit():
        return None
    quals = {_QUALIFIER_ALIAS.get(pairs[j], pairs[j]): pairs[j + 1] for j in range(0, len(pairs), 2)}
    quals.pop("22", None)
    if "21" in quals:
        quals.pop("10", None)
    allowed = _QUALIFIERS.get(ai, ())
    if len(quals) > 1 or any(q not in allowed or not v for q, v in quals.items()):
        return None
    tail = "".join(f"/{q}/{v}" for q, v in quals.items())
    return f"{CANONICAL_DL_HOST}/{ai}/{value}{tail}"


@lru_cache(maxsize=1 << 16)
def normalise_epc(uri: str) -> str:
    """Map an EPC URI or GS1 Digital Link URI to its constrained canonical GS1 Digital Link URI.

    This is the identifier normalisation of the EPCIS event hash (CBV 2.0 §8.9, steps 17-18) and the rule
    lichain uses to decide that two spellings name the same object, lot or location.

    Parameters
    ----------
    uri : str
        An EPC pure-identity URI (``urn:epc:id:sgtin|sscc|sgln|grai|giai|gsrn|gsrnp|gdti|cpi|sgcn|ginc|gsin|
        itip|upui|pgln:...``), an EPC class URI (``urn:epc:class:lgtin:...``), an EPC ID pattern URI with a
        trailing ``*`` (``urn:epc:idpat:sgtin|upui|grai|gdti|sgcn|cpi|itip:...``) or a GS1 Digital Link URI on
        any host, with AI numbers or GS1 short names (``/gtin/``, ``/lot/``, ``/ser/`` ...).

    Returns
    -------
    str
        ``https://id.gs1.org/<AI>/<key>[/<qualifier AI>/<value>]`` with computed or preserved check digits,
        GTIN padded to 14 digits, query string, fragment and CPV removed, lot dropped if a serial is present.
        Any other string (not a GS1 identifier, or malformed) is returned stripped but otherwise unchanged.
        Check digits present in a Digital Link URI are kept, not verified.

    Examples
    --------
    >>> normalise_epc("urn:epc:class:lgtin:4012345.012345.Lot987")
    'https://id.gs1.org/01/04012345123456/10/Lot987'
    >>> normalise_epc("https://example.com/gtin/4012345123456/lot/Lot987?linkType=all")
    'https://id.gs1.org/01/04012345123456/10/Lot987'
    """
    s = uri.strip()
    if s.startswith("urn:epc:"):
        prefix = s[: s.find(":", s.find(":", 8) + 1) + 1]
        convert = _URN.get(prefix)
        out = convert(s[len(prefix) :]) if convert is not None else None
        return CANONICAL_DL_HOST + out if out else s
    if s[:7].lower() in ("https:/", "http://"):
        return s if _CANONICAL.match(s) else _digital_link(s) or s
    return s


def expand_legacy_cbv(uri: str) -> str:
    """Map a CBV 1.x URN (``urn:epcglobal:cbv:bizstep|disp|btt|sdt|er:<term>``) to its CBV 2.0 Web URI.

    Parameters
    ----------
    uri : str
        Any string; only the five legacy vocabulary URN forms are rewritten (CBV 2.0 §8.9 step 14).

    Returns
    -------
    str
        E.g. ``https://ref.gs1.org/cbv/Disp-in_transit`` for ``urn:epcglobal:cbv:disp:in_transit``; other
        strings (including business transaction ids ``urn:epcglobal:cbv:bt:...``) unchanged.
    """
    if not uri.startswith("urn:epcglobal:cbv:"):
        return uri
    vocabulary, sep, term = uri[18:].partition(":")
    prefix = _LEGACY_CBV.get(vocabulary) if sep else None
    return uri if prefix is None else prefix + term


def normalise_cbv(value: str, vocabulary: str) -> str:
    """Expand a CBV vocabulary value to its full GS1 Web URI (CBV 2.0 §8.9 steps 14-16).

    Parameters
    ----------
    value : str
        A bare term (``shipping``), a legacy URN (``urn:epcglobal:cbv:bizstep:shipping``), a CURIE
        (``cbv:BizStep-shipping``, ``gs1:Temperature``) or a full URI (returned unchanged, as is any
        private-vocabulary URI).
    vocabulary : str
        Which vocabulary a bare term belongs to: ``bizStep``/``BizStep``, ``disposition``/``Disp``,
        ``bizTransactionType``/``BTT``, ``sourceDestType``/``SDT``, ``errorReason``/``ER``,
        ``component``/``Comp``, ``measurementType`` or ``sensorAlertType`` (the last two are ``gs1:`` terms).

    Returns
    -------
    str
        E.g. ``https://ref.gs1.org/cbv/BizStep-shipping``.

    Raises
    ------
    ValueError
        If ``vocabulary`` is not one of the names above.
    """
    prefix = CBV_PREFIXES.get(vocabulary)
    if prefix is None:
        raise ValueError(f"unknown CBV vocabulary {vocabulary!r}; expected one of {sorted(CBV_PREFIXES)}")
    text = value.strip()
    if text and ":" not in text:
        return prefix + text
    if text.startswith("cbv:"):
        return CBV + text[4:]
    if text.startswith("gs1:"):
        return GS1_VOC + text[4:]
    return expand_legacy_cbv(text)

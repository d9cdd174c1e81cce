"""The vocabulary lichain's EPCIS reader and writer share: namespaces, contexts, CBV code lists, id and number forms.

Why this exists: the reader must accept exactly what the writer produces (round trip) and both must agree with
GS1 CBV 2.0, so every constant and text form lives in one place. Nothing here does I/O except loading the
packaged JSON-LD context once at import.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import quote, unquote

from lichain.core.quantities import MASS_UNITS_KG

__all__ = [
    "BIZ_STEPS",
    "DISPOSITIONS",
    "EPCIS_CONTEXT",
    "ERROR_REASONS",
    "GS1_CONTEXTS",
    "GS1_EPCIS_CONTEXT",
    "LICHAIN_CONTEXT",
    "LICHAIN_CONTEXT_URL",
    "LICHAIN_NS",
    "LOCAL_ID_BASE",
    "MASS_UOMS",
    "MDA_COUNTRY",
    "MDA_NAME",
    "REC20",
    "SDT_LOCATION",
    "SDT_OWNING_PARTY",
    "SOURCE_DEST_TYPES",
    "URI",
    "VTYPE_CLASS",
    "VTYPE_FACTOR",
    "VTYPE_LOCATION",
    "decimal_text",
    "fraction_text",
    "from_uri",
    "kg_text",
    "to_uri",
]

#: lichain's JSON-LD namespace for ILMD keys, user extensions and master-data attributes.
LICHAIN_NS = "https://lichain.dev/ns/epcis/1#"
#: The URL under which ``src/lichain/data/epcis-context.jsonld`` is known (accepted by reference, never fetched).
LICHAIN_CONTEXT_URL = "https://lichain.dev/ns/epcis/1/context.jsonld"
#: GS1's EPCIS 2.0 context, referenced by URL (GS1 does not allow redistribution; its terms are built in).
GS1_EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#: GS1 EPCIS 2.0 context URLs accepted by reference (never fetched).
GS1_CONTEXTS = frozenset({
    GS1_EPCIS_CONTEXT,
    "https://ref.gs1.org/standards/epcis/2.0.1/epcis-context.jsonld",
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
    "https://gs1.github.io/EPCIS/epcis-context.jsonld",
})  # fmt: skip
#: Ids that are not URIs (``LOT-17``, a run number) are written as ``<LOCAL_ID_BASE><kind>/<percent-encoded>``.
LOCAL_ID_BASE = "https://lichain.dev/id/"

VTYPE_LOCATION = "urn:epcglobal:epcis:vtype:BusinessLocation"
VTYPE_CLASS = "urn:epcglobal:epcis:vtype:EPCClass"
VTYPE_FACTOR = LICHAIN_NS + "FactorOverride"
MDA_NAME = "urn:epcglobal:cbv:mda#name"
MDA_COUNTRY = "urn:epcglobal:cbv:mda#countryCode"
SDT_LOCATION = "https://ref.gs1.org/cbv/SDT-location"
SDT_OWNING_PARTY = "https://ref.gs1.org/cbv/SDT-owning_party"

#: CBV 2.0 business steps (``https://ref.gs1.org/cbv/BizStep-<term>``).
BIZ_STEPS = frozenset({
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
    "creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying",
    "disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting", "installing",
    "killing", "loading", "other", "packing", "picking", "receiving", "removing", "repackaging",
    "repairing", "replacing", "reserving", "retail_selling", "sampling", "sensor_reporting", "shipping",
    "staging_outbound", "stock_taking", "stocking", "storing", "transporting", "unloading", "unpacking",
    "void_shipping"
})  # fmt: skip
#: CBV 2.0 dispositions (``https://ref.gs1.org/cbv/Disp-<term>``).
DISPOSITIONS = frozenset({
    "active", "available", "completeness_inferred", "completeness_verified", "conformant",
    "container_closed", "container_open", "damaged", "destroyed", "dispensed", "disposed", "encoded",
    "expired", "in_progress", "in_transit", "inactive", "mismatch_class", "mismatch_instance",
    "mismatch_quantity", "needs_replacement", "no_pedigree_match", "non_conformant", "non_sellable_other",
    "partially_dispensed", "recalled", "reserved", "retail_sold", "returned", "sellable_accessible",
    "sellable_not_accessible", "stolen", "unavailable", "unknown"
})  # fmt: skip
#: CBV 2.0 source/destination types (``https://ref.gs1.org/cbv/SDT-<term>``).
SOURCE_DEST_TYPES = frozenset({"owning_party", "possessing_party", "location"})
#: CBV 2.0 error reasons (``https://ref.gs1.org/cbv/ER-<term>``), kept in their short form by the ledger.
ERROR_REASONS = frozenset({"did_not_occur", "incorrect_data"})

#: A UN/ECE Recommendation 20 common code, the form EPCIS 2.0 requires of ``uom``.
REC20 = re.compile(r"[A-Z0-9]{2,3}\Z")
#: Mass units accepted in ``uom`` (Rec 20 codes of :data:`lichain.core.quantities.MASS_UNITS_KG`), exact in kg.
MASS_UOMS = frozenset(u for u in MASS_UNITS_KG if REC20.match(u))
#: What counts as a URI (RFC 3986 scheme, then no whitespace).
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+\Z")


def _load_context() -> dict[str, Any]:
    text = resources.files("lichain").joinpath("data/epcis-context.jsonld").read_text(encoding="utf-8")
    ctx: dict[str, Any] = json.loads(text)["@context"]
    return ctx


#: The term definitions of lichain's own context file, inlined into every written document.
LICHAIN_CONTEXT: dict[str, Any] = _load_context()
#: The ``@context`` of written documents (GS1 by reference, lichain inline); also the hash context of our events.
EPCIS_CONTEXT: list[Any] = [GS1_EPCIS_CONTEXT, LICHAIN_CONTEXT]


@lru_cache(maxsize=1 << 16)  # site and lot ids recur in many events
def to_uri(value: str, kind: str) -> str:
    """The identifier as a URI: URIs unchanged, other strings under ``LOCAL_ID_BASE/<kind>/``."""
    if URI.match(value):
        return value
    return f"{LOCAL_ID_BASE}{kind}/{quote(value, safe='')}"


def from_uri(value: str, kind: str) -> str:
    """Inverse of :func:`to_uri` (URIs outside ``LOCAL_ID_BASE/<kind>/`` are returned unchanged)."""
    prefix = f"{LOCAL_ID_BASE}{kind}/"
    return unquote(value[len(prefix) :]) if value.startswith(prefix) else value


def _scaled(n: int, scale: int, digits: int) -> str:
    """Exact decimal text of n / scale without trailing zeros (``1500000`` mg → ``1.5`` kg)."""
    q, r = divmod(abs(n), scale)
    sign = "-" if n < 0 else ""
    return f"{sign}{q}" if r == 0 else f"{sign}{q}.{r:0{digits}d}".rstrip("0")


def kg_text(mg: int) -> str:
    """Integer mg as exact kg text (``1000000500`` → ``"1000.0005"``)."""
    return _scaled(mg, 1_000_000, 6)


def fraction_text(ppb: int) -> str:
    """Integer parts per 10⁹ as exact mass-fraction text (``15000000`` → ``"0.015"``)."""
    return _scaled(ppb, 1_000_000_000, 9)


def decimal_text(d: Decimal) -> str:
    """A Decimal as plain text without exponent or trailing zeros (``Decimal("5E+4")`` → ``"50000"``)."""
    text = format(d.normalize(), "f")
    return "0" if text == "-0" else text

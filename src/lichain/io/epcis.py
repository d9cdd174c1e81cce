"""GS1 EPCIS 2.0 JSON-LD in and out for the lichain ledger: the one module callers import.

Why this exists: services, the CLI and tests need one import for EPCIS exchange, while the implementation stays
in small modules: ``epcis_read`` (events in), ``epcis_write`` (events out, event ids), ``epcis_master``
(sites, materials, factor overrides as master data), ``epcis_fields`` (located value readers) and
``epcis_vocab`` (namespaces, contexts, CBV code lists). The mapping is documented in ``docs/epcis.md``.
"""

from __future__ import annotations

from lichain.io.epcis_read import read_epcis
from lichain.io.epcis_vocab import (
    BIZ_STEPS,
    DISPOSITIONS,
    EPCIS_CONTEXT,
    GS1_CONTEXTS,
    GS1_EPCIS_CONTEXT,
    LICHAIN_CONTEXT,
    LICHAIN_CONTEXT_URL,
    LICHAIN_NS,
    LOCAL_ID_BASE,
    MASS_UOMS,
    from_uri,
    to_uri,
)
from lichain.io.epcis_write import assign_event_id, render_event, write_epcis, write_epcis_stream

__all__ = [
    "BIZ_STEPS",
    "DISPOSITIONS",
    "EPCIS_CONTEXT",
    "GS1_CONTEXTS",
    "GS1_EPCIS_CONTEXT",
    "LICHAIN_CONTEXT",
    "LICHAIN_CONTEXT_URL",
    "LICHAIN_NS",
    "LOCAL_ID_BASE",
    "MASS_UOMS",
    "assign_event_id",
    "from_uri",
    "read_epcis",
    "render_event",
    "to_uri",
    "write_epcis",
    "write_epcis_stream",
]

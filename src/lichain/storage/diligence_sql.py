"""Reads of the due-diligence management records (policies, risk-mitigation measures) from the event log.

Why a module of its own: like site risk statements, these records have no projection table (a handful per year);
the use cases read their canonical payloads from the hash-chained ``events`` table by kind (indexed by
``ix_events_kind``), live ones only, in recorded order.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from lichain.core.codec import body_from_json
from lichain.core.model import DiligencePolicy, EventKind, RiskMeasure
from lichain.storage import schema as s
from lichain.storage.sql import SqlStore

__all__ = ["measures", "policies"]


def _payloads(store: SqlStore, kind: EventKind) -> list[dict[str, object]]:
    retracted = select(s.retractions.c.target_seq)
    q = (select(s.events.c.payload).where(s.events.c.kind == kind.value)
         .where(s.events.c.seq.not_in(retracted)).order_by(s.events.c.seq))
    with store.read() as conn:
        return [json.loads(p) for p in conn.execute(q).scalars()]


def policies(store: SqlStore) -> list[DiligencePolicy]:
    """Live due-diligence policy statements, in recorded order."""
    out = [body_from_json(EventKind.DILIGENCE_POLICY, d) for d in _payloads(store, EventKind.DILIGENCE_POLICY)]
    return [b for b in out if isinstance(b, DiligencePolicy)]


def measures(store: SqlStore) -> list[RiskMeasure]:
    """Live risk-mitigation measure records, in recorded order."""
    out = [body_from_json(EventKind.RISK_MEASURE, d) for d in _payloads(store, EventKind.RISK_MEASURE)]
    return [b for b in out if isinstance(b, RiskMeasure)]

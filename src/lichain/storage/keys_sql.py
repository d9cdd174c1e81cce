"""Read the ledger's signing-key statements (``signing_key`` events; they have no projection table).

Why a module of its own: key management (:mod:`lichain.services.keys`) and every verifier of signed documents read
the same statements; the query stays out of the shared SQL store. Retracted statements are left out.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from lichain.core.codec import body_from_json
from lichain.core.model import EventKind, KeyStatement
from lichain.storage import schema as s
from lichain.storage.sql import SqlStore

__all__ = ["key_statements"]


def key_statements(store: SqlStore) -> list[KeyStatement]:
    """Live signing-key statements, in recorded order (inside a unit of work: its locked transaction)."""
    retracted = select(s.retractions.c.target_seq)
    q = (select(s.events.c.payload).where(s.events.c.kind == EventKind.SIGNING_KEY.value)
         .where(s.events.c.seq.not_in(retracted)).order_by(s.events.c.seq))
    with store.read() as conn:
        rows = conn.execute(q).scalars().all()
    out = []
    for payload in rows:
        body = body_from_json(EventKind.SIGNING_KEY, json.loads(payload))
        if isinstance(body, KeyStatement):
            out.append(body)
    return out

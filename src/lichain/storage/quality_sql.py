"""Reads of the manufacturing and quality events: what the quality rule and the quality views need.

Why this exists: specifications, certificates of analysis, deviations, SPC alarms and process batches have no
projection table; they are read from the hash-chained events by kind (index ``ix_events_kind``), so ``verify``
covers them as it covers every event. Certificates and deviations of given lots are found by the lot their payload
names (partial expression index ``ix_events_quality_lot``, migration 0012), so checking a document reads only the
statements of the lots it names, not every certificate on record. Retracted events are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from lichain.core.quality import QualityRecords
from lichain.core.quality_codec import quality_from_json
from lichain.core.quality_model import Certificate, Deviation, Specification
from lichain.storage import schema as s
from lichain.storage.inlist import in_rows
from lichain.storage.sql import chunks

__all__ = ["events_of_kinds", "quality_lots_sql", "quality_records", "records_from"]

_KINDS = ("specification", "coa", "deviation")


def events_of_kinds(conn: Any, kinds: Iterable[str]) -> list[tuple[str, str, str]]:
    """Live events of ``kinds`` as (kind, event id, payload), in recorded order."""
    retracted = select(s.retractions.c.target_seq)
    q = (select(s.events.c.kind, s.events.c.event_id, s.events.c.payload)
         .where(s.events.c.kind.in_(list(kinds))).where(s.events.c.seq.not_in(retracted))
         .order_by(s.events.c.seq))
    return [(k, e, p) for k, e, p in conn.execute(q).all()]


def records_from(rows: Iterable[tuple[str, str]], materials: dict[str, str], lots: set[str]) -> QualityRecords:
    """Quality records of ``lots`` from (kind, payload) rows (every specification is kept)."""
    specs: list[Specification] = []
    coas: list[Certificate] = []
    devs: list[Deviation] = []
    for kind, payload in rows:
        body = quality_from_json(kind, json.loads(payload))
        if isinstance(body, Specification):
            specs.append(body)
        elif isinstance(body, Certificate) and body.lot in lots:
            coas.append(body)
        elif isinstance(body, Deviation) and body.lot in lots:
            devs.append(body)
    return QualityRecords(materials, specs, coas, devs)


#: The lot a ``coa`` or ``deviation`` payload names: the expressions of index ``ix_events_quality_lot``
#: (migration 0012); a query must use them verbatim, with the index's own ``WHERE``, for the index to serve it.
_LOT_EXPR = {"sqlite": "json_extract(payload, '$.lot')", "postgresql": "(payload::jsonb ->> 'lot')"}
_LOT_KINDS = "kind IN ('coa', 'deviation')"


def quality_lots_sql(dialect: str, since: bool = False) -> str:
    """The lot named by every ``coa`` and ``deviation`` event (retracted ones too); ``since``: of the events after
    seq ``:v`` only (the writer's memory of the lots with quality statements)."""
    return f"SELECT {_LOT_EXPR[dialect]} FROM events WHERE {_LOT_KINDS}" + (" AND seq > :v" if since else "")


def _lot_statements(conn: Any, lots: Iterable[str]) -> list[tuple[int, str, str]]:
    """Live certificates and deviations naming one of ``lots`` as (seq, kind, payload).

    Driver-level ``IN`` lists (:func:`lichain.storage.inlist.in_rows`): a document names tens of thousands of lots,
    and a SQLAlchemy ``text`` with one named parameter per lot cost more to build than the query to run.
    """
    expr = _LOT_EXPR[conn.dialect.name]
    sql = (f"SELECT seq, kind, payload FROM events WHERE {_LOT_KINDS} AND {expr} IN ({{keys}}) "
           "AND seq NOT IN (SELECT target_seq FROM retractions)")
    return [(q_seq, k, p) for q_seq, k, p in in_rows(conn, sql, lots)]


def quality_records(conn: Any, lots: Iterable[str], named: Iterable[str] = ()) -> QualityRecords:
    """Every specification, the certificates and deviations of ``lots``, and the materials of those of them
    that have any and of the ``named`` lots (a document's certificates and deviations name them)."""
    wanted = set(lots) | set(named)
    retracted = select(s.retractions.c.target_seq)
    specs = conn.execute(select(s.events.c.seq, s.events.c.kind, s.events.c.payload)
                         .where(s.events.c.kind == "specification", s.events.c.seq.not_in(retracted))).all()
    rows = sorted([*((q, k, p) for q, k, p in specs), *_lot_statements(conn, wanted)])
    records = records_from([(k, p) for _, k, p in rows], {}, wanted)
    need = {c.lot for c in records.certificates} | {d.lot for d in records.deviations} | set(named)
    for part in chunks(sorted(need)):
        records.materials.update(conn.execute(select(s.lots.c.id, s.lots.c.material)
                                              .where(s.lots.c.id.in_(part))).all())
    return records

"""events: an index of certificates of analysis and deviations by the lot they name

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-05 23:00:00

The quality rule checks each document against the stored certificates and deviations of the lots it consumes.
These statements have no projection table (they are read from the hash-chained events, so ``verify`` covers
them); without an index the rule decoded every certificate on record for every document (22 s per one-lot
document on a ledger of 384 k certificates). A partial expression index on the lot a ``coa`` or ``deviation``
payload names finds them directly; it holds only those events, and being derived by the database it adds no fact
to verify. The expression must stay the one :mod:`lichain.storage.quality_sql` queries with.
"""
from __future__ import annotations

from alembic import op

revision = '0012'
down_revision = '0008'
branch_labels = None
depends_on = None

#: The lot a quality statement names, per dialect (the query in storage/quality_sql.py uses the same text).
LOT_EXPR = {"sqlite": "json_extract(payload, '$.lot')", "postgresql": "(payload::jsonb ->> 'lot')"}
WHERE = "kind IN ('coa', 'deviation')"


def upgrade() -> None:
    expr = LOT_EXPR[op.get_bind().dialect.name]
    op.execute(f"CREATE INDEX ix_events_quality_lot ON events ({expr}) WHERE {WHERE}")


def downgrade() -> None:
    op.execute("DROP INDEX ix_events_quality_lot")

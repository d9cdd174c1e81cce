"""events by kind: an index for reading one kind of statement (site risk statements) without a full scan

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 17:50:00

Site risk statements (``site_risk`` events) have no projection table: the due-diligence use case reads them from
the hash-chained events themselves, so ``verify`` covers them with no table of their own.
"""
from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_events_kind', 'events', ['kind', 'seq'])


def downgrade() -> None:
    op.drop_index('ix_events_kind', table_name='events')

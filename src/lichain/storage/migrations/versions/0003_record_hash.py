"""record chain over recorded_at and source

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 12:40:00

Adds ``events.record_hash``: a second hash chain over what the content chain leaves out (when and from which
document an event was recorded), SHA-256(prev record_hash ‖ chain_hash ‖ recorded_at ‖ source). Existing rows
are filled in seq order.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from lichain.core.codec import GENESIS, record_hash

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_hash', sa.String(length=64), nullable=False, server_default=''))
    conn = op.get_bind()
    prev = GENESIS
    rows = conn.execute(sa.text("SELECT seq, chain_hash, recorded_at, source FROM events ORDER BY seq")).all()
    for seq, chain, recorded, source in rows:
        prev = record_hash(prev, chain, recorded, source)
        conn.execute(sa.text("UPDATE events SET record_hash = :h WHERE seq = :s"), {"h": prev, "s": seq})


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('record_hash')

"""supplier PCFs: product carbon footprints of purchased lots, declared by their suppliers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 17:00:00

Adds the ``supplier_pcfs`` projection of ``supplier_pcf`` events (one row per declaration; the latest of a lot
is the one the footprint uses).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supplier_pcfs',
    sa.Column('event_seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('lot_id', sa.String(length=300), nullable=False),
    sa.Column('value', sa.String(length=60), nullable=False),
    sa.Column('unit', sa.String(length=60), nullable=False),
    sa.Column('supplier', sa.Text(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('boundary', sa.String(length=60), nullable=False),
    sa.Column('standard', sa.String(length=200), nullable=False),
    sa.Column('data_quality_rating', sa.String(length=40), nullable=True),
    sa.Column('primary_data_share', sa.String(length=40), nullable=True),
    sa.Column('valid_from_us', sa.BigInteger(), nullable=True),
    sa.Column('valid_until_us', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('event_seq')
    )
    with op.batch_alter_table('supplier_pcfs', schema=None) as batch_op:
        batch_op.create_index('ix_supplier_pcfs_lot', ['lot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('supplier_pcfs', schema=None) as batch_op:
        batch_op.drop_index('ix_supplier_pcfs_lot')
    op.drop_table('supplier_pcfs')

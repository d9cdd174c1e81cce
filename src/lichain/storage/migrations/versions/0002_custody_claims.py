"""custody claims: chain-of-custody claims and their allocations of recycled element mass

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('custody_claims',
    sa.Column('event_seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('site', sa.String(length=200), nullable=False),
    sa.Column('model', sa.String(length=40), nullable=False),
    sa.Column('start_us', sa.BigInteger(), nullable=False),
    sa.Column('end_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('event_seq'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('custody_claims', schema=None) as batch_op:
        batch_op.create_index('ix_custody_claims_site', ['site', 'start_us'], unique=False)

    op.create_table('claim_allocations',
    sa.Column('claim_seq', sa.BigInteger(), nullable=False),
    sa.Column('lot_id', sa.String(length=300), nullable=False),
    sa.Column('element', sa.String(length=3), nullable=False),
    sa.Column('pre_mg', sa.BigInteger(), nullable=False),
    sa.Column('post_mg', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('claim_seq', 'lot_id', 'element')
    )
    with op.batch_alter_table('claim_allocations', schema=None) as batch_op:
        batch_op.create_index('ix_claim_allocations_lot', ['lot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('claim_allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_allocations_lot')

    op.drop_table('claim_allocations')
    with op.batch_alter_table('custody_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_custody_claims_site')

    op.drop_table('custody_claims')

"""access control and capture jobs: organisations' users, their API keys (hashed) and EPCIS capture jobs

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-05 19:20:00

These tables are configuration of the service, not ledger facts: they sit outside the hash chain (no event,
no projection), so granting or revoking a key never changes the chain head, and ``verify`` does not cover them.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'access_users',
        sa.Column('id', sa.String(100), primary_key=True),
        sa.Column('organisation', sa.String(300), nullable=False),
        sa.Column('role', sa.String(20), nullable=False),
        sa.Column('scope', sa.Text, nullable=False),
        sa.Column('created_at', sa.String(40), nullable=False),
        sa.Column('revoked_at', sa.String(40), nullable=True),
    )
    op.create_table(
        'access_keys',
        sa.Column('key_id', sa.String(40), primary_key=True),
        sa.Column('user_id', sa.String(100), nullable=False, index=True),
        sa.Column('secret_sha256', sa.String(64), nullable=False),
        sa.Column('created_at', sa.String(40), nullable=False),
        sa.Column('revoked_at', sa.String(40), nullable=True),
    )
    op.create_table(
        'capture_jobs',
        sa.Column('id', sa.String(40), primary_key=True),
        sa.Column('user_id', sa.String(100), nullable=False),
        sa.Column('organisation', sa.String(300), nullable=False),
        sa.Column('document_sha256', sa.String(64), nullable=False, index=True),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('created_at', sa.String(40), nullable=False),
        sa.Column('finished_at', sa.String(40), nullable=True),
        sa.Column('result', sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table('capture_jobs')
    op.drop_table('access_keys')
    op.drop_table('access_users')

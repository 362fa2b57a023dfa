"""quarantine and pull backoff

A push AniList refuses is quarantined on its outbox row (failed_at) until the item
is edited again; a failing periodic pull backs off per account (pull_failures,
next_pull_at); an account connected for the first time waits for its owner to
choose how to merge (first_sync_pending).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD/DROP COLUMN (no batch copy): SQLite has both, and nothing else changes.
    op.add_column('anilist_accounts', sa.Column('first_sync_pending', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('anilist_accounts', sa.Column('pull_failures', sa.Integer(), server_default='0', nullable=False))
    op.add_column('anilist_accounts', sa.Column('next_pull_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('sync_outbox', sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('sync_outbox', 'failed_at')
    op.drop_column('anilist_accounts', 'next_pull_at')
    op.drop_column('anilist_accounts', 'pull_failures')
    op.drop_column('anilist_accounts', 'first_sync_pending')

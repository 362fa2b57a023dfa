"""request ids on queued work

A job and a pending push keep the id of the request that queued them
(``X-Request-ID``), so the worker logs under it while it does that work.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs: a batch (table copy) on SQLite would drop triggers and indexes.
    op.add_column('jobs', sa.Column('request_id', sa.String(length=128), nullable=True))
    op.add_column('sync_outbox', sa.Column('request_id', sa.String(length=128), nullable=True))


def downgrade():
    op.drop_column('sync_outbox', 'request_id')
    op.drop_column('jobs', 'request_id')

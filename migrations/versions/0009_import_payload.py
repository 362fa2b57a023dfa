"""import payload

A file import keeps its parsed rows with its job (``jobs.payload``) for a while, so
the person can apply a preview without uploading the file again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 03:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('jobs', sa.Column('payload', sa.JSON(), nullable=True))


def downgrade():
    op.drop_column('jobs', 'payload')

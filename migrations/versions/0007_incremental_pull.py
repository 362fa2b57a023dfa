"""incremental pull

A periodic pull reads only the AniList entries changed since the newest one the
last pull read (pull_watermark, AniList's clock) and the whole list once a day
(last_full_pull_at).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('anilist_accounts', sa.Column('last_full_pull_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('anilist_accounts', sa.Column('pull_watermark', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('anilist_accounts', 'pull_watermark')
    op.drop_column('anilist_accounts', 'last_full_pull_at')

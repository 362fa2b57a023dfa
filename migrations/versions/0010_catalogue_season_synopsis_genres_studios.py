"""catalogue season, synopsis, genres and studios

What the item page shows about a title when AniList knows it: the season it aired
in, a plain-text synopsis, its genres and its main studios.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 03:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('media', sa.Column('season', sa.String(length=8), nullable=True))
    op.add_column('media', sa.Column('synopsis', sa.Text(), nullable=True))
    op.add_column('media', sa.Column('genres', sa.JSON(), nullable=True))
    op.add_column('media', sa.Column('studios', sa.JSON(), nullable=True))


def downgrade():
    op.drop_column('media', 'studios')
    op.drop_column('media', 'genres')
    op.drop_column('media', 'synopsis')
    op.drop_column('media', 'season')

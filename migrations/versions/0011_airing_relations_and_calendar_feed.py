"""airing schedule, relations, episode length and the calendar feed's secret

What "up next", the calendar and the statistics read: each title's coming
episodes (``airing_episodes``), how titles relate (``media_relations``, for the
sequel prompt), minutes per episode (``media.duration``), when each of those was
last read from AniList, and the hashed secret of a user's private .ics feed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs: a batch (table copy) on SQLite would drop the search triggers
    # on media and the case-insensitive username index on users.
    op.add_column('media', sa.Column('duration', sa.Integer(), nullable=True))
    op.add_column('media', sa.Column('airing_refreshed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('media', sa.Column('relations_fetched_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
    op.create_index('ix_users_calendar_token_hash', 'users', ['calendar_token_hash'], unique=True)
    op.create_table(
        'airing_episodes',
        sa.Column('media_id', sa.Integer(), nullable=False),
        sa.Column('episode', sa.Integer(), nullable=False),
        sa.Column('airing_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['media_id'], ['media.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('media_id', 'episode'),
    )
    op.create_index('ix_airing_episodes_airing_at', 'airing_episodes', ['airing_at'])
    op.create_table(
        'media_relations',
        sa.Column('media_id', sa.Integer(), nullable=False),
        sa.Column('related_id', sa.Integer(), nullable=False),
        sa.Column('relation', sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(['media_id'], ['media.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['related_id'], ['media.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('media_id', 'related_id'),
    )
    op.create_index('ix_media_relations_related_id', 'media_relations', ['related_id'])


def downgrade():
    op.drop_index('ix_media_relations_related_id', table_name='media_relations')
    op.drop_table('media_relations')
    op.drop_index('ix_airing_episodes_airing_at', table_name='airing_episodes')
    op.drop_table('airing_episodes')
    op.drop_index('ix_users_calendar_token_hash', table_name='users')
    op.drop_column('users', 'calendar_token_hash')
    op.drop_column('media', 'relations_fetched_at')
    op.drop_column('media', 'airing_refreshed_at')
    op.drop_column('media', 'duration')

"""custom lists on items; conflicts that can be resolved

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTERs (no batch copy): SQLite adds and drops columns in place.
    # Existing rows are in no custom list until the next pull says otherwise.
    op.add_column('library_items', sa.Column('custom_lists', sa.JSON(), nullable=False,
                                             server_default=sa.text("'[]'")))
    op.add_column('item_events', sa.Column('resolved_at', sa.DateTime(timezone=True),
                                           nullable=True))
    op.add_column('item_events', sa.Column('resolution', sa.String(length=8), nullable=True))
    op.create_index('ix_item_events_user_kind', 'item_events', ['user_id', 'kind'], unique=False)


def downgrade():
    op.drop_index('ix_item_events_user_kind', table_name='item_events')
    op.drop_column('item_events', 'resolution')
    op.drop_column('item_events', 'resolved_at')
    op.drop_column('library_items', 'custom_lists')

"""a text index over catalogue titles: FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# SQLite: a contentless FTS5 table kept in step by triggers, so every writer (services,
# bulk inserts, the shell) keeps it right. It indexes search_text framed by newlines
# (one title a line), so a title start is the phrase "\n" + query.
FRAMED = "char(10) || {row}.search_text || char(10)"
SQLITE_UP = [
    "CREATE VIRTUAL TABLE media_fts USING fts5(titles, content='', tokenize='trigram')",
    "CREATE TRIGGER media_fts_insert AFTER INSERT ON media BEGIN "
    f"INSERT INTO media_fts(rowid, titles) VALUES (new.id, {FRAMED.format(row='new')}); END",
    "CREATE TRIGGER media_fts_delete AFTER DELETE ON media BEGIN "
    "INSERT INTO media_fts(media_fts, rowid, titles) "
    f"VALUES ('delete', old.id, {FRAMED.format(row='old')}); END",
    "CREATE TRIGGER media_fts_update AFTER UPDATE OF search_text ON media BEGIN "
    "INSERT INTO media_fts(media_fts, rowid, titles) "
    f"VALUES ('delete', old.id, {FRAMED.format(row='old')}); "
    f"INSERT INTO media_fts(rowid, titles) VALUES (new.id, {FRAMED.format(row='new')}); END",
    # backfill the titles stored before the index
    f"INSERT INTO media_fts(rowid, titles) SELECT id, {FRAMED.format(row='media')} FROM media",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS media_fts_update",
    "DROP TRIGGER IF EXISTS media_fts_delete",
    "DROP TRIGGER IF EXISTS media_fts_insert",
    "DROP TABLE IF EXISTS media_fts",
]
# PostgreSQL: a trigram GIN index serves LIKE '%…%' directly; building it indexes every row.
POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_media_search_text_trgm ON media USING gin (search_text gin_trgm_ops)",
]
POSTGRESQL_DOWN = ["DROP INDEX IF EXISTS ix_media_search_text_trgm"]


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    _run(SQLITE_UP if op.get_bind().dialect.name == 'sqlite' else POSTGRESQL_UP)


def downgrade():
    _run(SQLITE_DOWN if op.get_bind().dialect.name == 'sqlite' else POSTGRESQL_DOWN)

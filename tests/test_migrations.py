"""The Alembic revisions and the models describe the same schema."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import make_app
from tracker.extensions import db
from tracker.models import modelled
from tracker.services import catalog


@pytest.fixture
def empty_database_url(database_url: str, tmp_path):
    """A brand-new database of the same kind as the suite's."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"tracker_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# SQLite cannot reflect the lower(username) index; the uniqueness test below proves it exists.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)
def test_models_and_migrations_agree(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            options = {"compare_type": True, "include_object": modelled}
            context = MigrationContext.configure(conn, opts=options)
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == []


def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        assert "library_items" in inspect(db.engine).get_table_names()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert {"users", "media", "library_items", "item_events", "sync_outbox", "jobs"} <= set(
            inspect(db.engine).get_table_names()
        )
        db.engine.dispose()


def test_usernames_are_unique_whatever_their_case_in_the_schema(app):
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO users (username, password_hash, created_at, preferences) "
                "VALUES ('Alice', 'x', CURRENT_TIMESTAMP, '{}')"
            )
        )
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            db.session.execute(
                text(
                    "INSERT INTO users (username, password_hash, created_at, preferences) "
                    "VALUES ('aLICE', 'x', CURRENT_TIMESTAMP, '{}')"
                )
            )
        db.session.rollback()


def test_the_title_index_is_backfilled_for_titles_stored_before_it(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0005")
        db.session.execute(
            text(
                "INSERT INTO media (source, external_id, media_type, title_preferred, synonyms, "
                "search_text) VALUES ('anilist', '1', 'anime', 'Sousou no Frieren', '[]', "
                "'sousou no frieren')"
            )
        )
        db.session.commit()
        upgrade()
        assert [m.title_preferred for m in catalog.search_local("frieren")] == ["Sousou no Frieren"]
        db.session.remove()
        db.engine.dispose()

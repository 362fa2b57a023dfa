"""``flask tracker import``: the preview printed, and with --apply the import done."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.test_import_mal import anime_entry, export
from tracker.extensions import db
from tracker.models import LibraryItem
from tracker.services import accounts


@pytest.fixture
def app(remote_app):
    """Matching asks the fake AniList, never the real one."""
    return remote_app


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_the_preview_is_printed_and_nothing_imported_without_apply(app, runner, tmp_path):
    with app.app_context():
        accounts.register("alice", "password123")
    path = tmp_path / "animelist.xml"
    bad = anime_entry(2, "Bad", my_status="Sometimes")
    path.write_bytes(export(anime_entry(1, "Cowboy Bebop"), bad))
    preview = runner.invoke(args=["tracker", "import", "alice", str(path)])
    assert preview.exit_code == 0, preview.output
    assert "Would add 1, updated 0, unchanged 0, skipped 1." in preview.output
    assert "row 2 'Bad': Unknown status 'Sometimes'." in preview.output
    assert "Nothing was imported" in preview.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LibraryItem)) == 0

    applied = runner.invoke(args=["tracker", "import", "alice", str(path), "--apply"])
    assert applied.exit_code == 0, applied.output
    assert "Added 1, updated 0, unchanged 0, skipped 1." in applied.output
    with app.app_context():
        assert db.session.scalar(select(LibraryItem.title)) == "Cowboy Bebop"


def test_an_unknown_user_or_an_unreadable_file_is_an_error(app, runner, tmp_path):
    path = tmp_path / "list.xml"
    path.write_bytes(b"<html/>")
    unknown = runner.invoke(args=["tracker", "import", "nobody", str(path)])
    assert unknown.exit_code == 1 and "nobody" in unknown.output
    with app.app_context():
        accounts.register("alice", "password123")
    refused = runner.invoke(args=["tracker", "import", "alice", str(path)])
    assert refused.exit_code == 1 and "not a MyAnimeList export" in refused.output

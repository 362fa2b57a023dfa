"""The hot paths at the floor: how many statements a +1 and the library page cost.

A +1 is the user lookup, one ``UPDATE … RETURNING`` (bounds and status rules in SQL),
one history row and, only for a user linked to AniList, one outbox upsert; nothing is
read again after the commit. The counts do not grow with the library.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, insert, select

from tests.conftest import ApiClient
from tracker.extensions import db
from tracker.models import AniListAccount, LibraryItem, Media, Origin, SyncOutbox, User, utcnow
from tracker.services import library, outbox

PLUS_ONE_LIMIT = 4


@contextmanager
def counted(app) -> Iterator[list[str]]:
    """Every statement the app's engine runs inside the block."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def fill_library(app, username: str, size: int, *, linked: bool = False) -> int:
    """``size`` AniList titles in ``username``'s library; the id of the first (1 of 12)."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        now = utcnow()
        db.session.execute(
            insert(Media),
            [{"source": "anilist", "external_id": str(90_000 + n), "anilist_id": 90_000 + n,
              "media_type": "anime", "title_preferred": f"Title {n}", "episodes": 12,
              "search_text": f"title {n}", "synonyms": []} for n in range(size)],
        )  # fmt: skip
        media_ids = db.session.scalars(
            select(Media.id).where(Media.anilist_id >= 90_000).order_by(Media.anilist_id)
        ).all()
        db.session.execute(
            insert(LibraryItem),
            [{"user_id": user_id, "media_id": media_id, "media_type": "anime",
              "title": f"Title {n}", "status": "current", "progress": 1, "repeat": 0,
              "private": False, "created_at": now, "updated_at": now, "custom_lists": []}
             for n, media_id in enumerate(media_ids)],
        )  # fmt: skip
        if linked:
            db.session.add(AniListAccount(user_id=user_id, anilist_user_id=1, name=username,
                                          access_token_encrypted="x"))  # fmt: skip
        db.session.commit()
        return db.session.scalar(select(LibraryItem.id).where(LibraryItem.media_id == media_ids[0]))


def plus_one_as(kind: str, htmx, api):
    """Post a +1 from the web row or the JSON API."""
    if kind == "htmx":
        return lambda item_id: htmx.post(f"/items/{item_id}/increment", data={"by": "1"})
    return lambda item_id: api.post(f"/api/library/items/{item_id}/increment")


@pytest.fixture
def web_and_api(app, htmx):
    """The htmx client and a JWT client for the same person (alice)."""
    token = app.test_client().post(
        "/api/auth/token", data={"username": "alice", "password": "password123"}
    )
    return htmx, ApiClient(app.test_client(), token.get_json()["access_token"])


@pytest.mark.parametrize("kind", ["htmx", "json"])
@pytest.mark.parametrize("size", [10, 5000])
def test_a_linked_plus_one_is_at_most_four_statements(app, web_and_api, kind, size):
    post = plus_one_as(kind, *web_and_api)
    item_id = fill_library(app, "alice", size, linked=True)
    with counted(app) as statements:
        response = post(item_id)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(statements) <= PLUS_ONE_LIMIT, "\n\n".join(statements)
    assert any(s.lstrip().upper().startswith("INSERT INTO SYNC_OUTBOX") for s in statements)


@pytest.mark.parametrize("kind", ["htmx", "json"])
def test_an_unlinked_plus_one_is_three_statements_and_queues_nothing(app, web_and_api, kind):
    post = plus_one_as(kind, *web_and_api)
    item_id = fill_library(app, "alice", 10)
    with counted(app) as statements:
        assert post(item_id).status_code == 200
    assert len(statements) <= PLUS_ONE_LIMIT - 1, "\n\n".join(statements)
    assert not any(s.lstrip().upper().startswith("INSERT INTO SYNC_OUTBOX") for s in statements)


def test_a_linked_plus_one_answers_pending_without_reading_the_outbox_again(app, web_and_api):
    _htmx, api = web_and_api
    item_id = fill_library(app, "alice", 1, linked=True)
    body = api.post(f"/api/library/items/{item_id}/increment").get_json()
    assert body["sync"]["state"] == "pending"
    with app.app_context():
        assert db.session.scalar(select(SyncOutbox.item_id)) == item_id


def test_the_plus_one_reaching_the_last_episode_completes_in_the_same_statement(app, web_and_api):
    _htmx, api = web_and_api
    item_id = fill_library(app, "alice", 1)
    api.patch(f"/api/library/items/{item_id}", json={"progress": 11})
    with counted(app) as statements:
        body = api.post(f"/api/library/items/{item_id}/increment").get_json()
    assert (body["progress"], body["status"]) == (12, "completed")
    assert body["completed_on"] is not None
    assert sum(s.lstrip().upper().startswith(("UPDATE", "WITH")) for s in statements) == 1


@pytest.mark.parametrize("size", [10, 300])
def test_the_library_page_costs_the_same_statements_whatever_its_size(app, htmx, size):
    fill_library(app, "alice", size, linked=True)
    with counted(app) as small:
        assert htmx.get("/?per_page=10").status_code == 200
    with counted(app) as full:
        assert htmx.get("/?per_page=100").status_code == 200
    assert len(full) == len(small)
    assert len(full) <= 8, "\n\n".join(full)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_pages_go_out_compressed_to_a_client_that_accepts_it(app, htmx, encoding):
    fill_library(app, "alice", 20)
    response = htmx.browser.client.get("/", headers={"Accept-Encoding": encoding})
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]


def test_json_goes_out_compressed_to_a_client_that_accepts_it(app, web_and_api):
    _htmx, api = web_and_api
    fill_library(app, "alice", 20)
    response = api.get("/api/library/items", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert len(gzip.decompress(response.data)) > len(response.data)


def test_a_client_that_asks_for_no_compression_gets_plain_text(app, htmx):
    response = htmx.browser.client.get("/")
    assert "Content-Encoding" not in response.headers
    assert "<html" in response.get_data(as_text=True)


def test_a_fifty_row_page_is_at_most_30_kb_compressed(app, htmx):
    fill_library(app, "alice", 50)
    response = htmx.browser.client.get("/?per_page=50", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(response.data).decode().count('class="item-row') == 50
    assert len(response.data) <= 30 * 1024


def test_a_plus_one_and_its_queued_push_commit_together_or_not_at_all(
    app, web_and_api, monkeypatch
):
    # On SQLite the +1 (a statement starting with WITH) once committed on its own: a
    # reader saw the new progress beside the old push, and a failure here kept the step
    # without its history and push.
    item_id = fill_library(app, "alice", 1, linked=True)

    def queue_down(*_args, **_kwargs):
        raise RuntimeError("queueing the push failed")

    monkeypatch.setattr(outbox, "note_change", queue_down)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "alice"))
        with pytest.raises(RuntimeError):
            library.increment_progress(user_id, item_id, 1, Origin.WEB, linked=True)
        db.session.rollback()
        db.session.remove()
    with app.app_context():
        assert db.session.get(LibraryItem, item_id).progress == 1
        assert db.session.scalar(select(SyncOutbox.id)) is None

"""What the hot paths answer, built by hand for speed, is what the documented schemas say.

The JSON +1 and autocomplete answer dicts built without marshmallow (``item_json``,
``search_answer_json``); the +1 fills its item straight from ``UPDATE … RETURNING``;
the row fragment derives every route from the item's own URL. Each must read exactly as
the slow, documented way would: the schemas' dumps, the ORM's load, ``url_for``.
"""

from __future__ import annotations

import gzip
import re

import pytest
from flask import url_for
from sqlalchemy import insert, select, update

from tests.test_fast_path import PLUS_ONE_LIMIT, counted, fill_library, plus_one_as
from tests.test_fast_path import web_and_api as web_and_api  # the fixture, by name
from tracker.extensions import db
from tracker.models import LibraryItem, Media, Origin, SyncOutbox, User, utcnow
from tracker.schemas import ItemSchema, SearchAnswerSchema, item_json, search_answer_json
from tracker.services import catalog, library


def user_id_of(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


@pytest.fixture
def variety(app, api) -> dict[str, int]:
    """One item of each kind an answer must say right, by name."""
    first = fill_library(app, "alice", 4, linked=True)
    typed = api.add(title="Typed by hand", type="manga", notes="mine", score=70)["id"]
    user_id = user_id_of(app, "alice")
    with app.app_context():
        ids = db.session.scalars(
            select(LibraryItem.id).where(LibraryItem.media_id.is_not(None)).order_by(LibraryItem.id)
        ).all()
        pending, failed, synced, listed = ids[:4]
        assert pending == first
        now = utcnow()
        for item_id in (pending, failed):
            library.increment_progress(user_id, item_id, 1, Origin.API, linked=True)
        db.session.execute(
            update(SyncOutbox).where(SyncOutbox.item_id == failed).values(last_error="Refused")
        )
        db.session.execute(
            update(LibraryItem)
            .where(LibraryItem.id == synced)
            .values(synced_at=now, started_on="2024-05", cover_url="https://img.test/c.png")
        )
        db.session.execute(
            update(LibraryItem)
            .where(LibraryItem.id == listed)
            .values(custom_lists=["Favourites", "Rewatch"], status="paused", private=True)
        )
        media_id = db.session.execute(
            insert(Media).returning(Media.id),
            [{"source": "mangadex", "external_id": "8f1c-uuid", "media_type": "manga",
              "title_preferred": "Dex", "search_text": "dex", "synonyms": [], "chapters": 40,
              "format": "ONE_SHOT", "site_url": "https://mangadex.test/title/8f1c-uuid"}],
        ).scalar_one()  # fmt: skip
        dex = db.session.execute(
            insert(LibraryItem).returning(LibraryItem.id),
            [{"user_id": user_id, "media_id": media_id, "media_type": "manga", "title": "Dex",
              "status": "current", "progress": 3, "repeat": 1, "private": False,
              "created_at": now, "updated_at": now, "custom_lists": []}],
        ).scalar_one()  # fmt: skip
        db.session.commit()
    return {"pending": pending, "failed": failed, "synced": synced, "listed": listed,
            "typed": typed, "mangadex": dex}  # fmt: skip


def test_the_hand_built_item_answer_is_the_item_schemas_dump(app, variety):
    user_id = user_id_of(app, "alice")
    with app.app_context():
        for name, item_id in variety.items():
            item = library.get_item(user_id, item_id)
            assert item_json(item) == ItemSchema().dump(item), name
            db.session.rollback()


def test_the_item_a_plus_one_returns_reads_as_the_item_loaded_afterwards(app, variety):
    user_id = user_id_of(app, "alice")
    with app.app_context():
        for name, item_id in variety.items():
            stepped = library.increment_progress(user_id, item_id, 1, Origin.API).item
            assert isinstance(stepped, LibraryItem) and isinstance(stepped.media, Media | None)
            loaded = library.get_item(user_id, item_id)
            assert ItemSchema().dump(stepped) == ItemSchema().dump(loaded), name
            assert item_json(stepped) == ItemSchema().dump(loaded), name
            assert (stepped.max_progress, stepped.sync) == (loaded.max_progress, loaded.sync)
            db.session.rollback()


def test_the_json_plus_one_answers_what_the_schema_says_of_the_item(app, api, variety):
    user_id = user_id_of(app, "alice")
    for name, item_id in variety.items():
        answer = api.post(f"/api/library/items/{item_id}/increment", json={"by": 1})
        assert answer.status_code == 200, answer.get_json()
        with app.app_context():
            documented = ItemSchema().dump(library.get_item(user_id, item_id))
        assert answer.get_json() == documented, name


def test_the_hand_built_autocomplete_answer_is_the_search_schemas_dump(app, api):
    api.get("/api/library/items")
    user_id = user_id_of(app, "alice")
    with app.app_context():
        catalog.upsert_records([
            {"source": "anilist", "external_id": str(n), "type": "anime", "episodes": 12,
             "titles": {"romaji": f"Kimi no Hoshi {n}", "english": f"Your Star {n}"},
             "cover_url": "https://img.test/k.png", "year": 2020 + n, "format": "TV"}
            for n in range(1, 4)
        ] + [{"source": "mangadex", "external_id": "md-1", "type": "manga",
              "titles": {"romaji": "Kimi no Manga"}}])  # fmt: skip
        db.session.commit()
        answer = catalog.autocomplete(user_id, "kimi")
        assert len(answer.results) == 4
        answer.sources_last_ok_at = {"anilist": utcnow(), "mangadex": None}
        assert search_answer_json(answer) == SearchAnswerSchema().dump(answer)
    body = api.get("/api/sources/autocomplete", query_string={"q": "kimi"}).get_json()
    assert body["results"] == SearchAnswerSchema().dump(answer)["results"]


@pytest.mark.parametrize("script_root", ["", "/tracker"])
def test_every_url_in_a_row_is_the_one_its_route_builds(app, htmx, script_root):
    item_id = fill_library(app, "alice", 1, linked=True)
    row = htmx.post(f"/items/{item_id}/increment", data={"by": "1"},
                    environ_base={"SCRIPT_NAME": script_root})  # fmt: skip
    assert row.status_code == 200
    html = row.get_data(as_text=True)
    assert "sync-pending" in html  # the badge that polls is there too
    with app.test_request_context(environ_base={"SCRIPT_NAME": script_root}):
        routes = {
            url_for(endpoint, item_id=item_id)
            for endpoint in ("library.detail", "library.update", "library.delete",
                             "library.increment", "library.sync_state")
        }  # fmt: skip
    found = set(re.findall(r'(?:href|hx-post|hx-delete|hx-get)="([^"]+)"', html))
    assert found == routes


@pytest.mark.parametrize("kind", ["htmx", "json"])
def test_a_plus_one_costs_no_more_statements_than_before(app, web_and_api, kind):
    item_id = fill_library(app, "alice", 10, linked=True)
    post = plus_one_as(kind, *web_and_api)
    with counted(app) as statements:
        assert post(item_id).status_code == 200
    assert len(statements) <= PLUS_ONE_LIMIT


def test_an_answer_smaller_than_a_packet_goes_out_plain_and_a_row_compressed(app, web_and_api):
    htmx, api = web_and_api
    item_id = fill_library(app, "alice", 1)
    gz = {"Accept-Encoding": "gzip"}
    small = api.post(f"/api/library/items/{item_id}/increment", headers=gz)
    assert "Content-Encoding" not in small.headers and small.get_json()["progress"] == 2
    row = htmx.post(f"/items/{item_id}/increment", data={"by": "1"}, headers=gz)
    assert row.headers["Content-Encoding"] == "gzip"
    assert f'id="item-{item_id}"' in gzip.decompress(row.data).decode()


def test_a_jwt_accepted_before_is_refused_once_its_session_ends(app, api):
    assert api.get("/api/auth/me").status_code == 200  # checked in full, then remembered
    assert api.get("/api/auth/me").status_code == 200
    assert api.post("/api/auth/logout").status_code in (200, 204)
    refused = api.get("/api/auth/me")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["message"] == "The token has been revoked."


def test_a_remembered_jwt_past_its_expiry_takes_the_full_check_again(app, api):
    assert api.get("/api/auth/me").status_code == 200
    known = app.extensions["tracker.known_jwts"][f"Bearer {api.token}"]
    known["exp"] = utcnow().timestamp() - 1
    key = app.config["JWT_SECRET_KEY"]
    app.config["JWT_SECRET_KEY"] = "another-key-that-is-long-enough-for-hs256-signing"
    try:
        assert api.get("/api/auth/me").status_code == 401  # the full check ran, and failed
    finally:
        app.config["JWT_SECRET_KEY"] = key

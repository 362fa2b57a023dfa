"""The library over the JSON API (DESIGN §5)."""

from __future__ import annotations

import pytest

from tests.test_auth_api import error_of
from tracker.extensions import db
from tracker.models import ItemEvent

ITEM_KEYS = {
    "id", "title", "type", "source", "status", "progress", "max_progress", "progress_volumes",
    "score", "notes", "repeat", "private", "cover_url", "format", "site_url", "anilist_id",
    "mangadex_id", "mal_id", "started_on", "completed_on", "created_at", "updated_at", "sync",
    "custom_lists",
}  # fmt: skip


def test_add_a_manual_title(api):
    response = api.post("/api/library/items", json={"title": "  My Doujin  ", "type": "manga"})
    assert response.status_code == 201
    item = response.get_json()
    assert set(item) == ITEM_KEYS
    assert item["title"] == "My Doujin"
    assert item["source"] == "manual"
    assert item["status"] == "planning"
    assert item["progress"] == 0
    assert item["sync"] == {"state": "none", "synced_at": None, "last_error": None}
    assert item["created_at"].endswith("+00:00")


def test_add_a_title_from_anilist_links_the_catalogue(api):
    item = api.add(source="anilist", anilist_id=154587, cover_url="https://img.example/f.jpg",
                   max_progress=28, status="current", progress=3)  # fmt: skip
    assert item["source"] == "anilist"
    assert item["anilist_id"] == 154587
    assert item["max_progress"] == 28
    assert item["cover_url"] == "https://img.example/f.jpg"


def test_the_same_anilist_title_twice_is_a_conflict(api):
    api.add(source="anilist", anilist_id=1)
    response = api.post(
        "/api/library/items", json={"title": "x", "type": "anime", "source": "anilist",
                                    "anilist_id": 1}
    )  # fmt: skip
    assert response.status_code == 409


def test_two_users_can_keep_the_same_title(api, other_api):
    api.add(source="anilist", anilist_id=1)
    other_api.add(source="anilist", anilist_id=1)


def test_source_anilist_needs_an_anilist_id(api):
    response = api.post(
        "/api/library/items", json={"title": "x", "type": "anime", "source": "anilist"}
    )
    assert response.status_code == 422
    assert "anilist_id" in error_of(response)["fields"]


@pytest.mark.parametrize("status", ["current", "planning", "completed", "dropped", "paused",
                                    "repeating"])  # fmt: skip
def test_every_status_is_accepted(api, status):
    assert api.add(status=status)["status"] == status


@pytest.mark.parametrize(
    "body, field",
    [
        ({"type": "anime"}, "title"),
        ({"title": "", "type": "anime"}, "title"),
        ({"title": "   ", "type": "anime"}, "title"),
        ({"title": "x" * 501, "type": "anime"}, "title"),
        ({"title": "x"}, "type"),
        ({"title": "x", "type": "novel"}, "type"),
        ({"title": "x", "type": "anime", "status": "watching"}, "status"),
        ({"title": "x", "type": "anime", "progress": -1}, "progress"),
        ({"title": "x", "type": "anime", "progress": 1.5}, "progress"),
        ({"title": "x", "type": "anime", "progress": "3"}, "progress"),
        ({"title": "x", "type": "anime", "progress": True}, "progress"),
        ({"title": "x", "type": "anime", "progress": 100_001}, "progress"),
        ({"title": "x", "type": "anime", "score": 101}, "score"),
        ({"title": "x", "type": "anime", "notes": "n" * 10_001}, "notes"),
        ({"title": "x", "type": "anime", "source": "kitsu"}, "source"),
        ({"title": "x", "type": "anime", "started_on": "2024-13"}, "started_on"),
        ({"title": "x", "type": "anime", "started_on": "2024-02-30"}, "started_on"),
        ({"title": "x", "type": "anime", "started_on": "2024-00"}, "started_on"),
        ({"title": "x", "type": "anime", "completed_on": "2024-05-00"}, "completed_on"),
        ({"title": "x", "type": "anime", "completed_on": "2023-02-29"}, "completed_on"),
        ({"title": "x", "type": "anime", "started_on": "２０２４"}, "started_on"),
        ({"title": "x", "type": "anime", "started_on": " 2024"}, "started_on"),
        ({"title": "x", "type": "anime", "started_on": ""}, "started_on"),
        ({"title": "x", "type": "anime", "cover_url": "javascript:alert(1)"}, "cover_url"),
        ({"title": "x", "type": "anime", "colour": "red"}, "colour"),
        ({"title": "x", "type": "anime", "max_progress": 12, "progress": 13}, "progress"),
    ],
)
def test_create_rejects_bad_input_and_stores_nothing(api, body, field):
    response = api.post("/api/library/items", json=body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert api.get("/api/library/items").get_json() == []


@pytest.mark.parametrize(
    "data, content_type", [("{", "application/json"), ("[1, 2]", "application/json"),
                           ("null", "application/json"), ("title=x", "text/plain")]
)  # fmt: skip
def test_create_rejects_bodies_that_are_not_json_objects(api, data, content_type):
    response = api.post("/api/library/items", data=data, content_type=content_type)
    assert 400 <= response.status_code < 500
    error_of(response)


def test_partial_dates_are_kept_as_given(api):
    item = api.add(started_on="2024", completed_on="2024-05")
    assert (item["started_on"], item["completed_on"]) == ("2024", "2024-05")
    patched = api.patch(f"/api/library/items/{item['id']}", json={"started_on": "2024-05-17"})
    assert patched.get_json()["started_on"] == "2024-05-17"


def test_february_29_is_a_date_in_leap_years_only(api):
    item = api.add(completed_on="2024-02-29")
    assert item["completed_on"] == "2024-02-29"
    refused = api.patch(f"/api/library/items/{item['id']}", json={"completed_on": "2025-02-29"})
    assert refused.status_code == 422
    assert "completed_on" in error_of(refused)["fields"]
    assert api.get(f"/api/library/items/{item['id']}").get_json()["completed_on"] == "2024-02-29"


def test_get_one_item(api):
    item = api.add()
    response = api.get(f"/api/library/items/{item['id']}")
    assert response.status_code == 200
    assert response.get_json() == item


def test_patch_changes_only_the_given_fields(api):
    item = api.add(notes="keep me", score=70)
    response = api.patch(f"/api/library/items/{item['id']}", json={"status": "paused"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "paused"
    assert (body["notes"], body["score"]) == ("keep me", 70)


def test_patch_can_clear_nullable_fields(api):
    item = api.add(score=70, max_progress=12)
    body = api.patch(f"/api/library/items/{item['id']}",
                     json={"score": None, "max_progress": None}).get_json()  # fmt: skip
    assert body["score"] is None
    assert body["max_progress"] is None


@pytest.mark.parametrize(
    "body",
    [{"progress": -1}, {"progress": "x"}, {"status": "done"}, {"score": -1}, {"title": ""},
     {"title": None}, {"id": 5}, {"max_progress": 0}],
)  # fmt: skip
def test_patch_rejects_bad_input_and_changes_nothing(api, body):
    item = api.add(progress=2)
    response = api.patch(f"/api/library/items/{item['id']}", json=body)
    assert response.status_code == 422
    error_of(response)
    assert api.get(f"/api/library/items/{item['id']}").get_json() == item


def test_patch_refuses_progress_past_a_known_max(api):
    item = api.add(max_progress=12, progress=5, status="current")
    response = api.patch(f"/api/library/items/{item['id']}", json={"progress": 13})
    assert response.status_code == 422
    assert "past the last episode (12)" in error_of(response)["message"]


def test_lowering_the_max_below_progress_is_refused(api):
    item = api.add(max_progress=12, progress=10, status="current")
    response = api.patch(f"/api/library/items/{item['id']}", json={"max_progress": 8})
    assert response.status_code == 422


def test_delete_removes_the_item(api):
    item = api.add()
    response = api.delete(f"/api/library/items/{item['id']}")
    assert response.status_code == 204
    assert response.data == b""
    assert api.get(f"/api/library/items/{item['id']}").status_code == 404


def test_ids_of_deleted_items_are_never_reused(api):
    first = api.add(title="Gone soon")
    api.delete(f"/api/library/items/{first['id']}")
    assert api.add(title="Newcomer")["id"] > first["id"]


def test_increment_adds_one_by_default(api):
    item = api.add(status="current")
    response = api.post(f"/api/library/items/{item['id']}/increment", json={})
    assert response.status_code == 200
    assert response.get_json()["progress"] == 1


def test_increment_accepts_negative_steps(api):
    item = api.add(status="current", progress=5)
    body = api.post(f"/api/library/items/{item['id']}/increment", json={"by": -2}).get_json()
    assert body["progress"] == 3


def test_increment_below_zero_is_refused(api):
    item = api.add(status="current", progress=1)
    response = api.post(f"/api/library/items/{item['id']}/increment", json={"by": -2})
    assert response.status_code == 422
    assert "below 0" in error_of(response)["message"]
    assert api.get(f"/api/library/items/{item['id']}").get_json()["progress"] == 1


def test_increment_past_the_max_is_refused(api):
    item = api.add(status="current", progress=12, max_progress=12)
    response = api.post(f"/api/library/items/{item['id']}/increment", json={"by": 1})
    assert response.status_code == 422
    assert "12 of 12 episodes" in error_of(response)["message"]


@pytest.mark.parametrize("by", [1.5, "1", None, 200_000])
def test_increment_rejects_bad_steps(api, by):
    item = api.add()
    response = api.post(f"/api/library/items/{item['id']}/increment", json={"by": by})
    assert response.status_code == 422


def test_reaching_the_last_episode_completes_the_item(api):
    item = api.add(status="current", progress=11, max_progress=12)
    body = api.post(f"/api/library/items/{item['id']}/increment", json={}).get_json()
    assert body["status"] == "completed"
    assert body["completed_on"] is not None


def test_the_first_episode_moves_a_planned_item_to_current(api):
    item = api.add()
    body = api.post(f"/api/library/items/{item['id']}/increment", json={}).get_json()
    assert body["status"] == "current"
    assert body["started_on"] is not None


def test_marking_completed_fills_progress_to_the_max(api):
    item = api.add(status="current", progress=3, max_progress=12)
    body = api.patch(f"/api/library/items/{item['id']}", json={"status": "completed"}).get_json()
    assert body["progress"] == 12


def test_summary_counts_every_status_and_type(api):
    api.add(title="A", status="current")
    api.add(title="B", type="manga", status="paused")
    api.add(title="C", type="manga", status="paused")
    body = api.get("/api/library/summary").get_json()
    assert body["total"] == 3
    assert body["by_type"] == {"anime": 1, "manga": 2}
    assert body["by_status"] == {"current": 1, "planning": 0, "completed": 0, "dropped": 0,
                                 "paused": 2, "repeating": 0}  # fmt: skip


def test_every_change_is_recorded_with_its_origin(app, api):
    item = api.add()
    api.patch(f"/api/library/items/{item['id']}", json={"score": 80})
    api.post(f"/api/library/items/{item['id']}/increment", json={})
    api.delete(f"/api/library/items/{item['id']}")
    with app.app_context():
        events = db.session.query(ItemEvent).order_by(ItemEvent.id).all()
    assert [e.kind for e in events] == ["created", "updated", "updated", "deleted"]
    assert {e.origin for e in events} == {"api"}
    assert events[1].changes == {"score": [None, 80]}
    assert events[2].changes["progress"] == [0, 1]


def test_a_patch_that_changes_nothing_records_nothing(app, api):
    item = api.add(score=80)
    api.patch(f"/api/library/items/{item['id']}", json={"score": 80})
    with app.app_context():
        assert db.session.query(ItemEvent).count() == 1


# --- listing ------------------------------------------------------------------


@pytest.fixture
def shelf(api):
    api.add(title="Cowboy Bebop", status="completed", score=90)
    api.add(title="frieren", status="current", score=95, progress=4)
    api.add(title="Berserk", type="manga", status="current", progress=300)
    api.add(title="Monster", type="manga", status="planning")
    return api


def titles(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["title"] for item in response.get_json()]


def test_list_defaults_to_most_recently_updated_first(shelf):
    assert titles(shelf.get("/api/library/items")) == ["Monster", "Berserk", "frieren",
                                                       "Cowboy Bebop"]  # fmt: skip


@pytest.mark.parametrize(
    "query, expected",
    [
        ("type=manga", ["Monster", "Berserk"]),
        ("status=current", ["Berserk", "frieren"]),
        ("type=manga&status=current", ["Berserk"]),
        ("q=BEBOP", ["Cowboy Bebop"]),
        ("q=er", ["Monster", "Berserk", "frieren"]),
        ("q=%25", []),
        ("sort=title", ["Berserk", "Cowboy Bebop", "frieren", "Monster"]),
        ("sort=-title", ["Monster", "frieren", "Cowboy Bebop", "Berserk"]),
        ("sort=-progress", ["Berserk", "frieren", "Monster", "Cowboy Bebop"]),
        ("sort=-score", ["frieren", "Cowboy Bebop", "Monster", "Berserk"]),
        ("sort=created", ["Cowboy Bebop", "frieren", "Berserk", "Monster"]),
    ],
)
def test_list_filters_and_sorts(shelf, query, expected):
    assert titles(shelf.get(f"/api/library/items?{query}")) == expected


def test_list_pages_with_total_and_link_headers(shelf):
    response = shelf.get("/api/library/items?sort=title&per_page=3")
    assert titles(response) == ["Berserk", "Cowboy Bebop", "frieren"]
    assert response.headers["X-Total-Count"] == "4"
    link = response.headers["Link"]
    assert 'rel="next"' in link and 'rel="last"' in link and 'rel="first"' in link
    assert 'rel="prev"' not in link
    last = shelf.get("/api/library/items?sort=title&per_page=3&page=2")
    assert titles(last) == ["Monster"]
    assert 'rel="next"' not in last.headers["Link"]
    assert 'rel="prev"' in last.headers["Link"]
    assert "sort=title" in last.headers["Link"]


def test_a_page_past_the_end_is_empty(shelf):
    response = shelf.get("/api/library/items?page=9")
    assert titles(response) == []
    assert response.headers["X-Total-Count"] == "4"


@pytest.mark.parametrize(
    "query, field",
    [("per_page=0", "per_page"), ("per_page=201", "per_page"), ("page=0", "page"),
     ("page=x", "page"), ("sort=rating", "sort"), ("type=film", "type"),
     ("status=watching", "status")],
)  # fmt: skip
def test_list_rejects_bad_query_strings(api, query, field):
    response = api.get(f"/api/library/items?{query}")
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


# --- isolation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, suffix, body",
    [("get", "", None), ("patch", "", {"score": 1}), ("delete", "", None),
     ("post", "/increment", {"by": 1})],
)  # fmt: skip
def test_another_users_item_is_404_and_unchanged(api, other_api, method, suffix, body):
    item = api.add(progress=2)
    kwargs = {"json": body} if body is not None else {}
    response = getattr(other_api, method)(f"/api/library/items/{item['id']}{suffix}", **kwargs)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert api.get(f"/api/library/items/{item['id']}").get_json() == item


def test_lists_and_summaries_show_only_your_items(api, other_api):
    api.add(title="Mine")
    assert other_api.get("/api/library/items").get_json() == []
    assert other_api.get("/api/library/summary").get_json()["total"] == 0


def test_library_needs_authentication(client):
    response = client.get("/api/library/items")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_unknown_api_paths_and_methods_answer_json(api):
    missing = api.get("/api/nothing-here")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    wrong = api.request("PUT", "/api/library/summary")
    assert wrong.status_code == 405
    assert error_of(wrong)["code"] == "method_not_allowed"


def test_the_browser_session_works_on_the_api_with_csrf(htmx):
    client = htmx.browser.client
    assert client.get("/api/auth/me").get_json()["username"] == "alice"
    refused = client.post("/api/library/items", json={"title": "x", "type": "anime"})
    assert refused.status_code == 400
    assert error_of(refused)["code"] == "csrf_failed"
    accepted = client.post("/api/library/items", json={"title": "x", "type": "anime"},
                           headers={"X-CSRFToken": htmx.token})  # fmt: skip
    assert accepted.status_code == 201

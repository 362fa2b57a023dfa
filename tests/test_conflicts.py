"""Sync conflicts a person can see and settle: the item's history (page and API), "use
the other value" as an ordinary edit that reaches AniList, and "keep this"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import ApiClient, api_client_for
from tests.test_anilist_sync import connect, outbox_rows, run_job, work
from tests.test_auth_api import error_of
from tests.test_concurrency import post_at_once
from tests.test_library_pages import add, one, text, toast_of
from tracker.extensions import db
from tracker.models import AniListAccount, ItemEvent, LibraryItem, Origin, utcnow
from tracker.services import library, sync

LOCAL_WON = {"winner": "local", "remote": {"status": "paused", "progress": 10, "notes": None}}
REMOTE_WON = {"winner": "remote", "local": {"status": "current", "progress": 12, "score": 80}}
DELETED = {"remote": "deleted on AniList", "entry_id": 400000001}


def record_conflict(app, item_id: int, changes: dict) -> int:
    """A conflict as the sync service writes it; its event id."""
    with app.app_context():
        item = db.session.get(LibraryItem, item_id)
        library.record_event(item, "conflict", changes, Origin.ANILIST)
        db.session.commit()
        return db.session.query(ItemEvent).filter_by(kind="conflict").order_by(
            ItemEvent.id.desc()).first().id  # fmt: skip


def events_of(api: ApiClient, item_id: int, **query):
    return api.get(f"/api/library/items/{item_id}/events", query_string=query)


def resolve(api: ApiClient, item_id: int, event_id: int, use: str):
    return api.post(f"/api/library/items/{item_id}/events/{event_id}/resolve", json={"use": use})


# --- the history in the API ------------------------------------------------------------------


def test_the_history_comes_newest_first_and_paged_like_the_list(api):
    item = api.add()
    for progress in (1, 2, 3):
        api.patch(f"/api/library/items/{item['id']}", json={"progress": progress})
    first = events_of(api, item["id"], per_page=2)
    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == "4"
    assert [e["changes"].get("progress") for e in first.get_json()] == [[2, 3], [1, 2]]
    assert 'rel="next"' in first.headers["Link"]
    second = events_of(api, item["id"], per_page=2, page=2)
    assert [e["kind"] for e in second.get_json()] == ["updated", "created"]
    assert 'rel="next"' not in second.headers["Link"]
    assert 'rel="prev"' in second.headers["Link"]


def test_a_conflict_in_the_history_carries_both_values(app, api):
    item = api.add()
    record_conflict(app, item["id"], LOCAL_WON)
    (conflict, _created) = events_of(api, item["id"]).get_json()
    assert conflict["kind"] == "conflict"
    assert conflict["conflict"] == {
        "winner": "local",
        "fields": [{"field": "status", "local": "planning", "remote": "paused"},
                   {"field": "progress", "local": 0, "remote": 10}],
        "deleted_on_anilist": False,
        "resolved": False,
        "resolved_at": None,
        "resolution": None,
    }  # fmt: skip


def test_another_users_item_history_is_not_found(api, other_api):
    item = api.add()
    response = events_of(other_api, item["id"])
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("query", [{"per_page": 0}, {"per_page": 201}, {"page": 0}])
def test_paging_outside_the_limits_is_refused(api, query):
    item = api.add()
    assert events_of(api, item["id"], **query).status_code == 422


def test_a_removed_items_history_goes_with_it_and_its_conflict_cannot_be_settled(app, api):
    item = api.add()
    event_id = record_conflict(app, item["id"], REMOTE_WON)
    api.delete(f"/api/library/items/{item['id']}")
    assert events_of(api, item["id"]).status_code == 404  # like the item itself
    refused = resolve(api, item["id"], event_id, "local")
    assert refused.status_code == 409
    assert "removed from your library" in error_of(refused)["message"]
    with app.app_context():  # the rows themselves are kept
        kinds = db.session.scalars(select(ItemEvent.kind).where(ItemEvent.item_id == item["id"]))
        assert sorted(kinds) == ["conflict", "created", "deleted"]


# --- settling through the API ----------------------------------------------------------------


def test_keep_this_marks_the_conflict_resolved_and_changes_nothing(app, api):
    item = api.add()
    event_id = record_conflict(app, item["id"], LOCAL_WON)
    answer = resolve(api, item["id"], event_id, "local")
    assert answer.status_code == 200
    assert answer.get_json()["item"]["status"] == "planning"
    assert answer.get_json()["event"]["conflict"]["resolution"] == "local"
    assert answer.get_json()["event"]["conflict"]["resolved"] is True
    assert [e["kind"] for e in events_of(api, item["id"]).get_json()] == ["conflict", "created"]


def test_using_the_other_value_applies_it_as_an_edit(app, api):
    item = api.add()
    event_id = record_conflict(app, item["id"], LOCAL_WON)
    answer = resolve(api, item["id"], event_id, "remote").get_json()
    assert (answer["item"]["status"], answer["item"]["progress"]) == ("paused", 10)
    updated = events_of(api, item["id"]).get_json()[0]
    assert (updated["kind"], updated["origin"]) == ("updated", "api")
    assert updated["changes"]["progress"] == [0, 10]


def test_resolving_twice_changes_nothing_the_second_time(app, api):
    item = api.add()
    event_id = record_conflict(app, item["id"], LOCAL_WON)
    resolve(api, item["id"], event_id, "remote")
    api.patch(f"/api/library/items/{item['id']}", json={"progress": 3})
    again = resolve(api, item["id"], event_id, "remote").get_json()
    assert again["item"]["progress"] == 3
    assert again["event"]["conflict"]["resolution"] == "remote"


def test_simultaneous_clicks_apply_the_other_value_once(app, api):
    item = api.add()
    event_id = record_conflict(app, item["id"], LOCAL_WON)
    url = f"/api/library/items/{item['id']}/events/{event_id}/resolve"
    assert post_at_once(api, url, {"use": "remote"}, 4) == [200] * 4
    kinds = [e["kind"] for e in events_of(api, item["id"]).get_json()]
    assert kinds == ["updated", "conflict", "created"]


def test_a_deletion_on_anilist_has_no_other_value_to_use(app, api):
    item = api.add()
    event_id = record_conflict(app, item["id"], DELETED)
    refused = resolve(api, item["id"], event_id, "remote")
    assert refused.status_code == 422
    assert "no other value" in error_of(refused)["message"]
    assert resolve(api, item["id"], event_id, "local").status_code == 200


@pytest.mark.parametrize("body", [{}, {"use": "both"}, {"use": None}])
def test_resolving_needs_a_side(app, api, body):
    item = api.add()
    event_id = record_conflict(app, item["id"], LOCAL_WON)
    url = f"/api/library/items/{item['id']}/events/{event_id}/resolve"
    assert api.post(url, json=body).status_code == 422


def test_another_users_conflict_is_not_found(app, api, other_api):
    item = api.add()
    event_id = record_conflict(app, item["id"], LOCAL_WON)
    assert resolve(other_api, item["id"], event_id, "remote").status_code == 404
    assert resolve(api, item["id"], event_id + 1000, "remote").status_code == 404


def test_an_event_that_is_no_conflict_cannot_be_resolved(api):
    item = api.add()
    (created,) = events_of(api, item["id"]).get_json()
    assert resolve(api, item["id"], created["id"], "local").status_code == 404


# --- the round trip with AniList -------------------------------------------------------------


@pytest.fixture
def connected(anilist_app, viewer) -> ApiClient:
    alice = api_client_for(anilist_app, "alice")
    connect(alice)
    return alice


def test_the_other_value_reaches_anilist_and_the_conflict_shows_resolved(anilist_app, connected,
                                                                        fake, viewer):  # fmt: skip
    entry = fake.add_entry(viewer.id, 1, status="CURRENT", progress=10)
    run_job(anilist_app, connected, "/api/anilist/import")
    (item,) = connected.get("/api/library/items").get_json()
    fake.down = True
    connected.patch(f"/api/library/items/{item['id']}", json={"progress": 12})
    work(anilist_app)  # cannot push
    fake.down = False
    entry.progress, entry.updated_at = 30, int(utcnow().timestamp()) + 3600  # newer on AniList
    with anilist_app.app_context():
        sync.pull(db.session.query(AniListAccount).one().user_id, origin=Origin.ANILIST)
    conflict = next(e for e in events_of(connected, item["id"]).get_json()
                    if e["kind"] == "conflict")  # fmt: skip
    progress = next(f for f in conflict["conflict"]["fields"] if f["field"] == "progress")
    assert (conflict["conflict"]["winner"], progress["local"], progress["remote"]) == (
        "remote", 12, 30)  # fmt: skip

    answer = resolve(connected, item["id"], conflict["id"], "local")
    assert answer.get_json()["item"]["progress"] == 12
    assert [row.item_id for row in outbox_rows(anilist_app)] == [item["id"]]
    work(anilist_app)
    assert entry.progress == 12
    assert outbox_rows(anilist_app) == []
    settled = next(e for e in events_of(connected, item["id"]).get_json()
                   if e["id"] == conflict["id"])  # fmt: skip
    assert (settled["conflict"]["resolved"], settled["conflict"]["resolution"]) == (True, "local")


# --- the item page -----------------------------------------------------------------------------


def history_text(client, item_id: int) -> str:
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    return text(page.split('id="history-heading"')[1])


def test_the_item_page_offers_the_other_value_with_csrf(app, htmx, logged_in):
    item_id = add(htmx)
    event_id = record_conflict(app, item_id, LOCAL_WON)
    page = logged_in.client.get(f"/items/{item_id}").get_data(as_text=True)
    form = one(page, "form", hx_post=f"/items/{item_id}/conflicts/{event_id}")
    assert form["hx-target"] == "#item-detail"
    block = page.split(f'id="conflict-{event_id}"')[1].split("</form>")[0]
    assert one(block, "input", name="csrf_token")
    assert one(block, "button", value="remote")["name"] == "use"
    assert one(block, "button", value="local")


def test_using_the_other_value_on_the_page_answers_the_item_resolved(app, htmx, logged_in):
    item_id = add(htmx)
    event_id = record_conflict(app, item_id, LOCAL_WON)
    response = htmx.post(f"/items/{item_id}/conflicts/{event_id}", data={"use": "remote"})
    assert response.status_code == 200
    assert toast_of(response)["message"] == (
        "Frieren: conflict resolved with AniList’s value")  # fmt: skip
    html = response.get_data(as_text=True)
    assert one(html, "article")["id"] == "item-detail"
    assert "selected" in one(html, "option", value="paused")  # the status control at the top
    assert "Resolved: you chose AniList’s value instead." in history_text(logged_in.client, item_id)


def test_keep_this_on_the_page_leaves_the_values_and_says_resolved(app, htmx, logged_in):
    item_id = add(htmx)
    event_id = record_conflict(app, item_id, REMOTE_WON)
    htmx.post(f"/items/{item_id}/conflicts/{event_id}", data={"use": "remote"})
    history = history_text(logged_in.client, item_id)
    assert "Resolved: you kept the value that was applied." in history
    assert "Keep AniList’s value" not in history


def test_the_page_without_javascript_settles_and_goes_back_to_the_item(app, htmx, logged_in):
    item_id = add(htmx)
    event_id = record_conflict(app, item_id, LOCAL_WON)
    form = {"use": "remote", "csrf_token": logged_in.csrf_token()}
    response = logged_in.client.post(f"/items/{item_id}/conflicts/{event_id}", data=form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/items/{item_id}")


def test_settling_on_a_page_whose_item_was_removed_says_so(app, htmx):
    item_id = add(htmx)
    event_id = record_conflict(app, item_id, LOCAL_WON)
    htmx.delete(f"/items/{item_id}")
    response = htmx.post(f"/items/{item_id}/conflicts/{event_id}", data={"use": "remote"})
    assert response.status_code == 409
    assert "removed from your library" in toast_of(response)["message"]
    assert "removed from your library" in text(response.get_data(as_text=True))


def test_the_library_lists_only_titles_with_unresolved_conflicts(app, htmx, logged_in):
    settled, open_, _calm = add(htmx, "Frieren"), add(htmx, "Dungeon Meshi"), add(htmx, "Pluto")
    resolve_id = record_conflict(app, settled, LOCAL_WON)
    record_conflict(app, open_, LOCAL_WON)
    htmx.post(f"/items/{settled}/conflicts/{resolve_id}", data={"use": "local"})
    page = logged_in.client.get("/?conflicts=true").get_data(as_text=True)
    assert re.findall(r'<tr id="item-(\d+)"', page) == [str(open_)]
    assert "Showing titles with a sync conflict you have not settled yet (1)" in text(page)


def test_the_history_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    events = paths["/api/library/items/{item_id}/events"]["get"]
    assert {p["name"] for p in events["parameters"]} >= {"page", "per_page"}
    assert events["responses"]["200"]["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/Event"
    }
    resolve_op = paths["/api/library/items/{item_id}/events/{event_id}/resolve"]["post"]
    assert set(resolve_op["responses"]) >= {"200", "404", "409", "422"}

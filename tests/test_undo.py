"""Undo: a removed item comes back as it was, and the toasts that offer Undo or ask first."""

from __future__ import annotations

import pytest

from tests.test_anilist_sync import connect, graphql, work
from tests.test_auth_api import error_of
from tests.test_library_pages import add, increment, one, row_post, stored, text, toast_of
from tracker.extensions import db
from tracker.models import ItemEvent, SyncOutbox


def restore(htmx, item_id: int):
    return htmx.post(f"/items/{item_id}/restore", headers={"HX-Target": f"item-{item_id}"})


def remove(htmx, item_id: int):
    return htmx.delete(f"/items/{item_id}", headers={"HX-Target": f"item-{item_id}"})


# --- removing offers Undo ------------------------------------------------------------------


def test_remove_keeps_the_rows_place_and_offers_undo(htmx):
    item_id = add(htmx)
    response = remove(htmx, item_id)
    assert one(response.get_data(as_text=True), "template")["id"] == f"item-{item_id}"
    assert toast_of(response) == {
        "message": "Removed Frieren",
        "level": "success",
        "action": {"label": "Undo", "url": f"/items/{item_id}/restore", "method": "post",
                   "values": {}, "target": f"#item-{item_id}"},
    }  # fmt: skip


def test_undo_brings_the_item_back_as_it_was_with_its_history(app, htmx):
    item_id = add(htmx, status="current", max_progress="12", notes="Re-watch the finale")
    for _ in range(3):
        increment(htmx, item_id)
    row_post(htmx, item_id, score="85")
    before = stored(app, item_id)
    remove(htmx, item_id)

    response = restore(htmx, item_id)
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith(f'<tr id="item-{item_id}"')
    assert toast_of(response) == {"message": "Restored Frieren", "level": "success"}
    after = stored(app, item_id)
    kept = ("title", "status", "progress", "score", "notes", "max_progress_override",
            "started_on", "media_type", "created_at")  # fmt: skip
    assert {f: getattr(after, f) for f in kept} == {f: getattr(before, f) for f in kept}
    with app.app_context():
        kinds = db.session.scalars(
            db.select(ItemEvent.kind).where(ItemEvent.item_id == item_id).order_by(ItemEvent.id)
        ).all()
    assert kinds == ["created", "updated", "updated", "updated", "updated", "deleted", "restored"]


def test_the_restored_items_history_shows_what_the_removal_took_not_its_bookkeeping(api):
    item = api.add(status="current", progress=2)
    api.delete(f"/api/library/items/{item['id']}")
    assert api.post(f"/api/library/items/{item['id']}/restore").status_code == 201
    events = api.get(f"/api/library/items/{item['id']}/events").get_json()
    assert [e["kind"] for e in events] == ["restored", "deleted", "created"]
    assert events[1]["changes"]["progress"] == [2, None]
    assert "media_type" not in events[1]["changes"] and "created_at" not in events[1]["changes"]


def test_restoring_twice_is_a_conflict_not_a_second_copy(app, htmx):
    item_id = add(htmx)
    remove(htmx, item_id)
    assert restore(htmx, item_id).status_code == 200
    again = restore(htmx, item_id)
    assert again.status_code == 409
    assert toast_of(again) == {"message": "That item is already in your library.", "level": "error"}


def test_restoring_an_item_never_had_is_not_found(htmx):
    response = restore(htmx, 987654)
    assert response.status_code == 404
    assert toast_of(response)["level"] == "error"


def test_another_users_removed_item_cannot_be_restored_by_me(app, htmx, other_api):
    theirs = other_api.add(title="Mallory's")
    other_api.delete(f"/api/library/items/{theirs['id']}")
    assert restore(htmx, theirs["id"]).status_code == 404
    assert stored(app, theirs["id"]) is None


def test_another_users_present_item_is_not_found_rather_than_a_conflict(htmx, other_api):
    theirs = other_api.add(title="Mallory's")
    assert restore(htmx, theirs["id"]).status_code == 404


def test_a_title_added_again_meanwhile_is_a_conflict(api):
    first = api.add(source="mangadex", mangadex_id="abc-123", type="manga")
    api.delete(f"/api/library/items/{first['id']}")
    api.add(source="mangadex", mangadex_id="abc-123", type="manga", title="Again")
    response = api.post(f"/api/library/items/{first['id']}/restore")
    assert response.status_code == 409
    assert "again" in error_of(response)["message"]


def test_restore_without_htmx_goes_back_to_the_library(app, logged_in, htmx):
    item_id = add(htmx)
    remove(htmx, item_id)
    form = {"csrf_token": logged_in.csrf_token()}
    response = logged_in.client.post(f"/items/{item_id}/restore", data=form)
    assert response.status_code == 303 and response.headers["Location"] == "/library"
    assert stored(app, item_id).title == "Frieren"


def test_restore_needs_the_csrf_token(logged_in, htmx):
    item_id = add(htmx)
    remove(htmx, item_id)
    assert logged_in.client.post(f"/items/{item_id}/restore").status_code == 400


def test_the_api_restore_answers_201_then_409(api):
    item = api.add()
    api.delete(f"/api/library/items/{item['id']}")
    response = api.post(f"/api/library/items/{item['id']}/restore")
    assert response.status_code == 201 and response.get_json()["id"] == item["id"]
    assert error_of(api.post(f"/api/library/items/{item['id']}/restore"))["code"] == "conflict"
    assert api.post("/api/library/items/424242/restore").status_code == 404


# --- AniList: a delete undone is a save again --------------------------------------------


@pytest.fixture
def linked(anilist_app, viewer):
    from tests.conftest import api_client_for

    alice = api_client_for(anilist_app, "alice")
    connect(alice)
    return alice


def test_undo_before_the_delete_was_sent_turns_it_back_into_a_save(
    anilist_app, linked, fake, viewer
):
    item = linked.add(source="anilist", anilist_id=1, title="Cowboy Bebop")
    work(anilist_app)
    linked.patch(f"/api/library/items/{item['id']}", json={"progress": 3})
    linked.delete(f"/api/library/items/{item['id']}")
    linked.post(f"/api/library/items/{item['id']}/restore")
    with anilist_app.app_context():
        (queued,) = db.session.scalars(db.select(SyncOutbox)).all()
        assert (queued.item_id, queued.op) == (item["id"], "save")
    fake.requests.clear()
    work(anilist_app)
    assert graphql(fake, "DeleteMediaListEntry") == []
    assert [e.progress for e in fake.entries_of(viewer.id)] == [3]


def test_undo_after_the_delete_was_sent_creates_the_entry_again(anilist_app, linked, fake, viewer):
    item = linked.add(source="anilist", anilist_id=1, title="Cowboy Bebop", progress=5)
    work(anilist_app)
    linked.delete(f"/api/library/items/{item['id']}")
    work(anilist_app)
    assert fake.entries_of(viewer.id) == []
    linked.post(f"/api/library/items/{item['id']}/restore")
    work(anilist_app)
    assert [e.progress for e in fake.entries_of(viewer.id)] == [5]
    with anilist_app.app_context():
        assert db.session.scalars(db.select(SyncOutbox)).all() == []


# --- status changes offer Undo; a last episode asks before completing ---------------------


def test_a_status_change_offers_undo_with_what_it_moved(htmx):
    item_id = add(htmx, status="current", max_progress="12")
    increment(htmx, item_id)
    response = row_post(htmx, item_id, status="completed")
    action = toast_of(response)["action"]
    assert (action["label"], action["target"]) == ("Undo", f"#item-{item_id}")
    assert action["values"]["status"] == "current" and action["values"]["progress"] == "1"


def test_undoing_a_status_change_is_an_ordinary_edit_back(app, htmx):
    item_id = add(htmx, status="current", max_progress="12")
    increment(htmx, item_id)
    action = toast_of(row_post(htmx, item_id, status="completed"))["action"]
    response = row_post(htmx, item_id, **action["values"])
    assert toast_of(response)["message"] == "Frieren: episode 1 of 12, now Watching"
    item = stored(app, item_id)
    assert (item.status, item.progress, item.completed_on) == ("current", 1, None)


def test_a_score_change_offers_no_undo(htmx):
    item_id = add(htmx)
    assert "action" not in toast_of(row_post(htmx, item_id, score="70"))


@pytest.mark.parametrize("status", ["paused", "dropped"])
def test_a_paused_title_at_its_last_episode_stays_and_the_toast_asks(app, htmx, status):
    item_id = add(htmx, status=status, max_progress="2", progress="1")
    response = increment(htmx, item_id)
    label = {"paused": "Paused", "dropped": "Dropped"}[status]
    assert toast_of(response)["message"] == f"Frieren: episode 2 of 2, still {label}"
    action = toast_of(response)["action"]
    assert (action["label"], action["values"]) == ("Mark completed", {"status": "completed"})
    assert stored(app, item_id).status == status
    done = row_post(htmx, item_id, **action["values"])
    assert toast_of(done)["message"] == "Frieren: now Completed"
    assert stored(app, item_id).status == "completed"


def test_a_watching_title_at_its_last_episode_completes_as_before(app, htmx):
    item_id = add(htmx, status="current", max_progress="1")
    response = increment(htmx, item_id)
    assert "action" not in toast_of(response)
    assert stored(app, item_id).status == "completed"
    assert "Completed" in text(response.get_data(as_text=True))

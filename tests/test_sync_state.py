"""Sync states that tell the truth: the AniList status (one service for the settings page
and the API), and row badges that follow a pending push until it lands or fails."""

from __future__ import annotations

import pytest

from tests.test_anilist_sync import work
from tests.test_conflicts import LOCAL_WON, record_conflict
from tests.test_library_pages import add, elements, one, set_sync_state, text
from tests.test_settings_pages import STATUS, come_back_from_anilist, person
from tracker.extensions import db
from tracker.models import LibraryItem, SyncOutbox


@pytest.fixture
def connected(anilist_app, viewer):
    """alice in the browser, connected to ayaka's AniList."""
    alice = person(anilist_app)
    assert come_back_from_anilist(alice).status_code == 302
    return alice


def status_of(client) -> dict:
    return client.get("/api/anilist/status").get_json()


# --- the AniList status -------------------------------------------------------------------


def test_a_healthy_connection_is_ok_with_nothing_waiting(connected):
    status = status_of(connected)
    assert (status["health"], status["pending"], status["failed"], status["conflicts"]) == (
        "ok", 0, 0, 0)  # fmt: skip
    assert one(connected.get(STATUS).get_data(as_text=True), "span", id="anilist-health")[
        "class"] == "badge state-ok"  # fmt: skip


def test_during_an_outage_the_badge_says_waiting_not_ok(anilist_app, connected, fake):
    fake.down = True
    connected.post("/api/library/items", json={"title": "Cowboy Bebop", "type": "anime",
                                               "source": "anilist", "anilist_id": 1})  # fmt: skip
    work(anilist_app)
    status = status_of(connected)
    assert (status["health"], status["pending"], status["failed"]) == ("waiting", 1, 1)
    assert "unreachable" in status["last_error"]
    section = connected.get(STATUS).get_data(as_text=True)
    badge = one(section, "span", id="anilist-health")
    assert badge["class"] == "badge state-warning"
    assert "Waiting — AniList unreachable" in text(section)
    assert "1 change (1 failed the last try; retried automatically)" in text(section)
    assert status["last_error"] in text(section)


def test_once_anilist_is_back_the_badge_is_ok_again(anilist_app, connected, fake):
    fake.down = True
    connected.post("/api/library/items", json={"title": "Cowboy Bebop", "type": "anime",
                                               "source": "anilist", "anilist_id": 1})  # fmt: skip
    work(anilist_app)
    fake.down = False
    with anilist_app.app_context():
        db.session.query(SyncOutbox).update({"next_attempt_at": SyncOutbox.created_at})
        db.session.commit()
    work(anilist_app)
    status = status_of(connected)
    assert (status["health"], status["pending"], status["failed"], status["last_error"]) == (
        "ok", 0, 0, None)  # fmt: skip


def test_settings_counts_unresolved_conflicts_and_links_to_them(anilist_app, connected):
    item = connected.post("/api/library/items", json={"title": "Frieren", "type": "anime"})
    record_conflict(anilist_app, item.get_json()["id"], LOCAL_WON)
    assert status_of(connected)["conflicts"] == 1
    section = connected.get(STATUS).get_data(as_text=True)
    link = one(section, "a", href="/library?conflicts=true")
    assert link is not None
    assert "Conflicts to review 1 conflict not yet resolved" in text(section)


def test_a_resolved_conflict_is_no_longer_counted(anilist_app, connected):
    item_id = connected.post("/api/library/items", json={"title": "Frieren", "type": "anime"})
    item_id = item_id.get_json()["id"]
    event_id = record_conflict(anilist_app, item_id, LOCAL_WON)
    connected.post(f"/items/{item_id}/conflicts/{event_id}", data={"use": "local"})
    assert status_of(connected)["conflicts"] == 0
    assert "Conflicts to review None" in text(connected.get(STATUS).get_data(as_text=True))


# --- live badges ----------------------------------------------------------------------------


def row_of(client, item_id: int) -> str:
    page = client.get("/library").get_data(as_text=True)
    return page.split(f'<tr id="item-{item_id}"')[1].split("</tr>")[0]


def test_a_pending_badge_polls_its_own_state_every_two_seconds(app, htmx, logged_in):
    item_id = add(htmx)
    set_sync_state(app, item_id, "pending")
    badge = one(row_of(logged_in.client, item_id), "span", id=f"sync-{item_id}")
    assert badge["hx-get"] == f"/items/{item_id}/sync"
    assert (badge["hx-trigger"], badge["hx-target"], badge["hx-swap"]) == (
        "every 2s", "this", "outerHTML")  # fmt: skip


@pytest.mark.parametrize("state", ["synced", "error"])
def test_a_settled_badge_does_not_poll(app, htmx, logged_in, state):
    item_id = add(htmx)
    set_sync_state(app, item_id, state)
    assert "hx-get" not in one(row_of(logged_in.client, item_id), "span", id=f"sync-{item_id}")


def test_the_poll_answers_the_badge_and_stops_once_the_push_landed(app, htmx):
    item_id = add(htmx)
    set_sync_state(app, item_id, "pending")
    still = htmx.get(f"/items/{item_id}/sync").get_data(as_text=True)
    assert one(still, "span", id=f"sync-{item_id}")["hx-trigger"] == "every 2s"
    with app.app_context():
        db.session.query(SyncOutbox).delete()
        db.session.get(LibraryItem, item_id).synced_at = db.func.now()
        db.session.commit()
    landed = htmx.get(f"/items/{item_id}/sync").get_data(as_text=True)
    badge = one(landed, "span", id=f"sync-{item_id}")
    assert (badge["class"], text(landed)) == ("badge sync-badge sync-synced", "Synced")
    assert "hx-trigger" not in badge


def test_a_failed_push_says_why_on_hover_focus_and_to_screen_readers(app, htmx, logged_in):
    item_id = add(htmx)
    set_sync_state(app, item_id, "error")
    answer = htmx.get(f"/items/{item_id}/sync").get_data(as_text=True)
    badge = one(answer, "span", id=f"sync-{item_id}")
    assert badge["title"].endswith("Reason: AniList unreachable: HTTP 503")
    assert badge["tabindex"] == "0"
    hidden = answer.split('<span class="visually-hidden">')[1].split("</span>")[0]
    assert hidden == ". Reason: AniList unreachable: HTTP 503"


def test_the_item_page_gives_the_reason_a_push_failed(app, htmx, logged_in):
    item_id = add(htmx)
    set_sync_state(app, item_id, "error")
    page = text(logged_in.client.get(f"/items/{item_id}").get_data(as_text=True))
    assert "it is retried automatically. Reason: AniList unreachable: HTTP 503" in page


def test_another_users_badge_is_not_found(app, htmx, other_api):
    theirs = other_api.add()
    response = htmx.get(f"/items/{theirs['id']}/sync")
    assert (response.status_code, response.get_data(as_text=True)) == (404, "")
    assert elements(response.get_data(as_text=True), "span") == []

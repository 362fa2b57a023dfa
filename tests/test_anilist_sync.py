"""AniList: OAuth connect, import, and two-way sync that never loses a change.

Every test talks to the fake AniList over real HTTP. Time is passed to the worker
explicitly (``work(app, now=…)``), so backoff and recovery are tested without waiting.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.conftest import ApiClient, api_client_for, oauth_config, remote_config
from tests.test_auth_api import error_of
from tracker import worker
from tracker.extensions import db
from tracker.models import AniListAccount, ItemEvent, SyncOutbox, utcnow
from tracker.services import sync


@pytest.fixture
def alice(anilist_app) -> ApiClient:
    return api_client_for(anilist_app, "alice")


def approve(api: ApiClient) -> tuple[str, str]:
    """Ask for the connect URL and approve on the fake AniList: (code, state)."""
    url = api.get("/api/anilist/connect-url").get_json()["url"]
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlparse(answer.headers["Location"]).query)
    return query["code"][0], query["state"][0]


def connect(api: ApiClient) -> None:
    code, state = approve(api)
    # The browser that lands here has no session: the state alone names the user.
    landing = api.client.application.test_client().get(
        f"/api/anilist/callback?code={code}&state={state}"
    )
    assert landing.status_code == 200, landing.get_data(as_text=True)


def work(app, *, now=None, rounds: int = 1) -> None:
    with app.app_context():
        for _ in range(rounds):
            sync.work_once(now=now)


def graphql(fake, name: str) -> list[dict]:
    return [variables for op, variables, _ in fake.requests if op == name]


@pytest.fixture
def connected(alice, viewer):
    connect(alice)
    return alice


# --- connecting ---------------------------------------------------------------------


def test_connecting_with_a_token_and_no_browser_session(anilist_app, connected, viewer):
    status = connected.get("/api/anilist/status").get_json()
    assert status["connected"] is True
    assert status["state"] == "ok"
    assert (status["name"], status["anilist_user_id"]) == ("ayaka", viewer.id)
    with anilist_app.app_context():
        account = db.session.query(AniListAccount).one()
        assert account.score_format == "POINT_10"
        assert "." not in account.access_token_encrypted[:10]  # not the JWT itself
        assert account.expires_at > utcnow() + timedelta(days=300)


def test_the_token_exchange_sends_the_secret_in_the_form(connected, fake):
    (exchange,) = [v for op, v, _ in fake.requests if op == "oauth/token"]
    assert exchange["client_secret"] == "tracker-test-secret"


def test_a_callback_with_an_unknown_state_is_refused_before_any_exchange(alice, fake, viewer):
    code, _state = approve(alice)
    response = alice.client.get(f"/api/anilist/callback?code={code}&state=forged")
    assert response.status_code == 400
    assert "unknown or was already used" in response.get_data(as_text=True)
    assert not [op for op in fake.operations if op == "oauth/token"]


def test_a_state_with_a_nul_is_refused_as_unknown(alice, fake, viewer):
    code, state = approve(alice)
    response = alice.client.get(
        "/api/anilist/callback", query_string={"code": code, "state": f"{state}\x00"}
    )
    assert response.status_code == 400
    assert "unknown or was already used" in response.get_data(as_text=True)


def test_a_replayed_callback_is_refused(alice, fake, viewer):
    code, state = approve(alice)
    first = alice.client.get(f"/api/anilist/callback?code={code}&state={state}")
    second = alice.client.get(f"/api/anilist/callback?code={code}&state={state}")
    assert (first.status_code, second.status_code) == (200, 400)
    assert len([op for op in fake.operations if op == "oauth/token"]) == 1


def test_an_expired_state_is_refused(anilist_app, alice, viewer):
    code, state = approve(alice)
    with anilist_app.app_context():
        from tracker.models import OAuthState

        db.session.query(OAuthState).update({"expires_at": utcnow() - timedelta(seconds=1)})
        db.session.commit()
    response = alice.client.get(f"/api/anilist/callback?code={code}&state={state}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_a_state_is_bound_to_the_user_who_asked(anilist_app, alice, viewer):
    mallory = api_client_for(anilist_app, "mallory")
    code, state = approve(alice)
    alice.client.application.test_client().get(f"/api/anilist/callback?code={code}&state={state}")
    assert alice.get("/api/anilist/status").get_json()["connected"] is True
    assert mallory.get("/api/anilist/status").get_json()["connected"] is False


def test_without_credentials_the_api_says_how_to_set_them(api):
    response = api.get("/api/anilist/connect-url")
    assert response.status_code == 409
    assert "TRACKER_ANILIST_CLIENT_ID" in error_of(response)["message"]
    assert api.get("/api/anilist/status").get_json()["configured"] is False


def test_disconnecting_forgets_the_account_but_keeps_the_library(connected):
    item = connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop")
    assert connected.delete("/api/anilist/connection").status_code == 204
    assert connected.get("/api/anilist/status").get_json()["state"] == "disconnected"
    assert connected.get(f"/api/library/items/{item['id']}").status_code == 200


# --- import -------------------------------------------------------------------------


@pytest.fixture
def remote_list(fake, viewer):
    fake.add_media(3)
    fake.add_entry(
        viewer.id,
        1,
        status="PAUSED",
        progress=10,
        score=85,
        notes="jazz",
        started_at={"year": 2020, "month": 5, "day": None},
        private=True,
    )
    fake.add_entry(
        viewer.id,
        154587,
        status="REPEATING",
        progress=3,
        repeat=2,
        completed_at={"year": 2024, "month": 3, "day": 22},
    )
    fake.add_entry(
        viewer.id,
        118586,
        status="CURRENT",
        progress=120,
        progress_volumes=12,
        hidden_from_status_lists=True,
        custom_lists={"Favourites"},
    )
    fake.add_entry(viewer.id, 200001, status="PLANNING")
    return viewer  # fmt: skip


def run_job(app, api: ApiClient, path: str) -> dict:
    started = api.post(path)
    assert started.status_code == 202
    location = started.headers["Location"]
    assert started.get_json()["job"]["state"] == "queued"
    work(app)
    return api.get(location).get_json()


def test_import_carries_every_field(anilist_app, connected, remote_list):
    job = run_job(anilist_app, connected, "/api/anilist/import")
    assert job["state"] == "done", job
    assert job["result"] == {"added": 4, "updated": 0, "unchanged": 0, "conflicts": 0,
                             "unmatched": []}  # fmt: skip
    items = {i["anilist_id"]: i for i in connected.get("/api/library/items").get_json()}
    bebop = items[1]
    assert (bebop["status"], bebop["progress"], bebop["score"]) == ("paused", 10, 85)
    assert (bebop["notes"], bebop["private"], bebop["started_on"]) == ("jazz", True, "2020-05")
    assert bebop["max_progress"] == 26
    frieren = items[154587]
    assert (frieren["status"], frieren["repeat"], frieren["completed_on"]) == (
        "repeating", 2, "2024-03-22")  # fmt: skip
    hidden = items[118586]  # only in a custom list: still imported
    assert (hidden["type"], hidden["progress"], hidden["progress_volumes"]) == ("manga", 120, 12)
    assert items[200001]["score"] is None
    assert all(i["sync"]["state"] == "synced" for i in items.values())


def test_importing_twice_never_duplicates(anilist_app, connected, remote_list):
    run_job(anilist_app, connected, "/api/anilist/import")
    again = run_job(anilist_app, connected, "/api/anilist/import")
    assert again["result"]["unchanged"] == 4
    assert again["result"]["added"] == 0
    assert len(connected.get("/api/library/items").get_json()) == 4


def test_import_links_a_title_added_by_hand_instead_of_doubling_it(anilist_app, connected,
                                                                    remote_list, fake):  # fmt: skip
    mine = connected.add(title="cowboy bebop", notes="typed by hand")
    bebop = next(e for e in fake.entries_of(remote_list.id) if e.media_id == 1)
    bebop.updated_at = int(utcnow().timestamp()) + 3600  # newer on AniList: its values win
    job = run_job(anilist_app, connected, "/api/anilist/import")
    assert job["result"]["added"] == 3
    linked = connected.get(f"/api/library/items/{mine['id']}").get_json()
    assert (linked["anilist_id"], linked["status"], linked["notes"]) == (1, "paused", "jazz")


def test_import_does_not_push_anything_back(anilist_app, connected, remote_list, fake):
    run_job(anilist_app, connected, "/api/anilist/import")
    work(anilist_app)
    assert graphql(fake, "SaveMediaListEntry") == []


def test_jobs_belong_to_their_user(anilist_app, connected, remote_list):
    location = connected.post("/api/anilist/import").headers["Location"]
    mallory = api_client_for(anilist_app, "mallory")
    assert mallory.get(location).status_code == 404


def test_import_needs_a_connection(alice):
    assert alice.post("/api/anilist/import").status_code == 404


# --- push ---------------------------------------------------------------------------


def outbox_rows(app) -> list[SyncOutbox]:
    with app.app_context():
        rows = db.session.query(SyncOutbox).order_by(SyncOutbox.id).all()
        db.session.expunge_all()
        return rows


def test_a_change_is_queued_in_the_same_transaction_and_pushed(anilist_app, connected, fake,
                                                               viewer):  # fmt: skip
    item = connected.add(source="anilist", anilist_id=154587, title="Frieren",
                         status="current", score=90, notes="Himmel")  # fmt: skip
    assert [r.op for r in outbox_rows(anilist_app)] == ["save"]
    assert connected.get(f"/api/library/items/{item['id']}").get_json()["sync"]["state"] == (
        "pending")  # fmt: skip
    work(anilist_app)
    (entry,) = fake.entries_of(viewer.id)
    assert (entry.media_id, entry.status, entry.score, entry.notes) == (
        154587, "CURRENT", 90, "Himmel")  # fmt: skip
    synced = connected.get(f"/api/library/items/{item['id']}").get_json()
    assert synced["sync"]["state"] == "synced"
    assert outbox_rows(anilist_app) == []


def test_edits_coalesce_into_one_push(anilist_app, connected, fake, viewer):
    item = connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop", status="current")
    for _ in range(3):
        connected.post(f"/api/library/items/{item['id']}/increment", json={})
    assert len(outbox_rows(anilist_app)) == 1
    work(anilist_app)
    assert len(graphql(fake, "SaveMediaListEntry")) == 1
    assert fake.entries_of(viewer.id)[0].progress == 3


def test_an_edit_landing_between_the_lease_and_the_send_is_sent_once(
    anilist_app, connected, fake, viewer, monkeypatch
):
    """The worker sends the item as it is when it reads it: a +1 that lands after the
    row was leased goes out in that save, and the same state is not sent again."""
    item = connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop", status="current")
    lease = sync._lease_due_rows

    def lease_then_click(*args):
        leased = lease(*args)
        connected.post(f"/api/library/items/{item['id']}/increment", json={})
        return leased

    monkeypatch.setattr(sync, "_lease_due_rows", lease_then_click)
    work(anilist_app)
    monkeypatch.undo()
    work(anilist_app, rounds=2)
    assert [save["progress"] for save in graphql(fake, "SaveMediaListEntry")] == [1]
    assert fake.entries_of(viewer.id)[0].progress == 1
    assert outbox_rows(anilist_app) == []


def test_manual_titles_are_never_pushed(anilist_app, connected):
    connected.add(title="Something of my own")
    assert outbox_rows(anilist_app) == []


def test_deleting_a_linked_item_deletes_the_remote_entry(anilist_app, connected, fake, viewer):
    item = connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop")
    work(anilist_app)
    connected.delete(f"/api/library/items/{item['id']}")
    work(anilist_app)
    assert fake.entries_of(viewer.id) == []
    assert len(graphql(fake, "DeleteMediaListEntry")) == 1


def test_an_item_added_and_deleted_before_any_push_sends_nothing(anilist_app, connected, fake):
    item = connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop")
    connected.delete(f"/api/library/items/{item['id']}")
    work(anilist_app)
    assert graphql(fake, "SaveMediaListEntry") == [] and graphql(fake, "DeleteMediaListEntry") == []


def test_an_outage_loses_nothing_and_delivers_in_order_exactly_once(anilist_app, connected, fake,
                                                                     viewer):  # fmt: skip
    bebop = connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop")
    frieren = connected.add(source="anilist", anilist_id=154587, title="Frieren")
    work(anilist_app)
    fake.down = True
    connected.patch(f"/api/library/items/{bebop['id']}", json={"score": 70})
    connected.delete(f"/api/library/items/{frieren['id']}")
    one_piece = connected.add(source="anilist", anilist_id=21, title="ONE PIECE", progress=1000)
    now = utcnow()
    for minute in range(5):  # five minutes of outage, worker running all along
        work(anilist_app, now=now + timedelta(minutes=minute))
    assert {r.item_id for r in outbox_rows(anilist_app)} == {bebop["id"], frieren["id"],
                                                          one_piece["id"]}  # fmt: skip
    fake.down = False
    fake.requests.clear()
    work(anilist_app, now=now + timedelta(minutes=5, seconds=31))  # < 60 s after recovery
    assert fake.operations == ["SaveMediaListEntry", "DeleteMediaListEntry", "SaveMediaListEntry"]
    assert graphql(fake, "SaveMediaListEntry")[0]["scoreRaw"] == 70
    work(anilist_app, now=now + timedelta(minutes=10))
    assert len(fake.operations) == 3  # exactly once
    remote = {e.media_id: e for e in fake.entries_of(viewer.id)}
    assert set(remote) == {1, 21}
    assert remote[21].progress == 1000


def test_failed_pushes_are_retried_at_most_thirty_seconds_apart(anilist_app, connected, fake):
    connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop")
    fake.down = True
    now = utcnow()
    for _ in range(12):
        now += timedelta(seconds=31)
        work(anilist_app, now=now)
    (row,) = outbox_rows(anilist_app)
    assert row.attempts >= 8
    assert row.next_attempt_at - now <= timedelta(seconds=30)
    assert "503" in row.last_error


def test_pending_changes_survive_a_restart(app_factory, anilist_app, connected, fake, viewer,
                                           fake_mangadex, sleeps):  # fmt: skip
    fake.down = True
    connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop", progress=5)
    work(anilist_app)
    fake.down = False
    url = anilist_app.config["ANILIST_GRAPHQL_URL"]
    restarted = app_factory(**remote_config(url, fake_mangadex[1], sleeps), **oauth_config(url))
    work(restarted, now=utcnow() + timedelta(seconds=31))
    assert fake.entries_of(viewer.id)[0].progress == 5


def test_a_429_storm_sends_nothing_beyond_the_budget(anilist_app, connected, fake):
    for anilist_id in (1, 5, 21):
        connected.add(source="anilist", anilist_id=anilist_id, title=f"t{anilist_id}")
    fake.fail_next(429, headers={"Retry-After": "60"}, times=50)
    fake.requests.clear()
    for _ in range(5):
        work(anilist_app)
    assert len(fake.operations) == 1  # one 429, then the shared budget stays closed
    rows = outbox_rows(anilist_app)
    assert len(rows) == 3
    # Every row waits for the Retry-After, and no longer than it.
    for row in rows:
        assert utcnow() + timedelta(seconds=50) <= row.next_attempt_at
        assert row.next_attempt_at <= utcnow() + timedelta(seconds=61)


def test_a_revoked_token_needs_reauth_and_keeps_every_change(anilist_app, connected, fake, viewer):
    token = next(t for t, uid in fake.tokens.items() if uid == viewer.id)
    fake.revoke(token)
    item = connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop", progress=4)
    work(anilist_app)
    status = connected.get("/api/anilist/status").get_json()
    assert status["state"] == "needs_reauth"
    assert status["pending"] == 1
    assert "reconnect" in status["last_error"]
    connected.patch(f"/api/library/items/{item['id']}", json={"progress": 6})
    work(anilist_app, now=utcnow() + timedelta(minutes=5))
    assert fake.entries_of(viewer.id) == []
    connect(connected)  # reconnecting sends what waited
    work(anilist_app)
    assert connected.get("/api/anilist/status").get_json()["state"] == "ok"
    assert fake.entries_of(viewer.id)[0].progress == 6


def test_an_entry_deleted_on_anilist_is_created_again_by_a_local_edit(anilist_app, connected, fake,
                                                                      viewer):  # fmt: skip
    item = connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop")
    work(anilist_app)
    fake.entries.clear()  # the person deleted it on AniList's site
    connected.patch(f"/api/library/items/{item['id']}", json={"progress": 2})
    work(anilist_app)
    assert fake.entries_of(viewer.id)[0].progress == 2
    assert outbox_rows(anilist_app) == []


# --- pull ---------------------------------------------------------------------------


def test_anilist_applies_changes_made_on_anilist(anilist_app, connected, remote_list, fake, viewer):
    run_job(anilist_app, connected, "/api/anilist/import")
    entry = next(e for e in fake.entries_of(viewer.id) if e.media_id == 1)
    entry.progress, entry.updated_at = 20, entry.updated_at + 100
    job = run_job(anilist_app, connected, "/api/anilist/sync")
    assert job["result"]["updated"] == 1
    assert job["result"]["unchanged"] == 3
    items = {i["anilist_id"]: i for i in connected.get("/api/library/items").get_json()}
    assert items[1]["progress"] == 20


def test_sync_sends_pending_changes_before_pulling(anilist_app, connected, remote_list, fake):
    run_job(anilist_app, connected, "/api/anilist/import")
    item = next(i for i in connected.get("/api/library/items").get_json() if i["anilist_id"] == 1)
    connected.patch(f"/api/library/items/{item['id']}", json={"progress": 11})
    fake.requests.clear()
    run_job(anilist_app, connected, "/api/anilist/sync")
    assert fake.operations[0] == "SaveMediaListEntry"
    assert connected.get(f"/api/library/items/{item['id']}").get_json()["progress"] == 11


def test_a_change_on_both_sides_is_settled_last_write_wins(anilist_app, connected, remote_list,
                                                           fake, viewer):  # fmt: skip
    run_job(anilist_app, connected, "/api/anilist/import")
    item = next(i for i in connected.get("/api/library/items").get_json() if i["anilist_id"] == 1)
    fake.down = True
    connected.patch(f"/api/library/items/{item['id']}", json={"progress": 12})
    work(anilist_app)  # cannot push
    fake.down = False
    entry = next(e for e in fake.entries_of(viewer.id) if e.media_id == 1)
    entry.progress, entry.updated_at = 30, int(utcnow().timestamp()) + 3600  # later than ours
    with anilist_app.app_context():
        result = sync.pull(db.session.query(AniListAccount).one().user_id, origin="anilist")
        events = db.session.query(ItemEvent).filter_by(item_id=item["id"], kind="conflict").all()
    assert result.conflicts == 1
    assert events[0].changes["winner"] == "remote"
    assert connected.get(f"/api/library/items/{item['id']}").get_json()["progress"] == 30
    assert outbox_rows(anilist_app) == []


def test_a_remote_deletion_keeps_the_local_item(anilist_app, connected, remote_list, fake, viewer):
    run_job(anilist_app, connected, "/api/anilist/import")
    fake.entries.pop(next(e.id for e in fake.entries_of(viewer.id) if e.media_id == 1))
    job = run_job(anilist_app, connected, "/api/anilist/sync?full=true")  # deletions show then
    assert job["state"] == "done"
    assert job["result"]["conflicts"] == 1
    items = {i["anilist_id"]: i for i in connected.get("/api/library/items").get_json()}
    assert items[1]["sync"]["state"] == "none"


def test_a_sync_with_a_revoked_token_fails_clearly(anilist_app, connected, remote_list, fake,
                                                   viewer):  # fmt: skip
    fake.revoke(next(t for t, uid in fake.tokens.items() if uid == viewer.id))
    job = run_job(anilist_app, connected, "/api/anilist/sync")
    assert job["state"] == "failed"
    assert "reconnect" in job["error"]
    assert connected.get("/api/anilist/status").get_json()["state"] == "needs_reauth"


def test_periodic_pulls_are_queued_for_healthy_accounts(anilist_app, connected):
    anilist_app.config["ANILIST_PULL_INTERVAL"] = 60
    work(anilist_app)  # the first sync, queued when the account was connected
    later = utcnow() + timedelta(seconds=61)
    with anilist_app.app_context():
        assert sync.queue_periodic_pulls(later) == 1
        assert sync.queue_periodic_pulls(later) == 0  # one is queued already: no second
        from tracker.models import Job

        assert db.session.query(Job).filter_by(state="queued").count() == 1


def test_the_in_process_worker_pushes_a_change_within_seconds(app_factory, fake_anilist, viewer,
                                                             fake_mangadex, sleeps):  # fmt: skip
    fake, url = fake_anilist
    config = {**remote_config(url, fake_mangadex[1], sleeps), **oauth_config(url)}
    app = app_factory(**config, WORKER_POLL_SECONDS=0.2)
    worker.start_in_process(app)  # as the development server does; stopped by app_factory
    alice = api_client_for(app, "alice")
    connect(alice)
    alice.add(source="anilist", anilist_id=1, title="Cowboy Bebop", progress=3)
    assert fake.wait_for("SaveMediaListEntry", timeout=10)  # DESIGN §6: within 10 s


def test_two_workers_never_send_the_same_change_twice(anilist_app, connected, fake, viewer):
    fake.add_media(20)
    for anilist_id in range(200_001, 200_021):
        connected.add(source="anilist", anilist_id=anilist_id, title=f"t{anilist_id}")
    fake.requests.clear()
    start = threading.Barrier(2)

    def worker() -> None:
        with anilist_app.app_context():
            start.wait()
            sync.push_pending()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    saved = [v["mediaId"] for v in graphql(fake, "SaveMediaListEntry")]
    assert sorted(saved) == list(range(200_001, 200_021))  # each exactly once
    assert outbox_rows(anilist_app) == []

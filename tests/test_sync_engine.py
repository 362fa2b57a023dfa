"""The sync engine: the first connect and every import merge field by field, a poison
change is quarantined without holding anyone back, and pulls back off and leave the
AniList budget to pushes.

AniList is the fake over real HTTP. Its clock stands in 2023, so its entries are
older than anything made here unless a test moves their ``updated_at``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import ApiClient, api_client_for, oauth_config, remote_config
from tests.test_anilist_sync import connect, graphql, outbox_rows, work
from tests.test_settings_pages import come_back_from_anilist, person
from tracker.clients import MemoryBudget
from tracker.clients import anilist as anilist_client
from tracker.extensions import db
from tracker.models import AniListAccount, ItemEvent, Job, LibraryItem, SyncOutbox, utcnow
from tracker.services import sync
from tracker.services.remote import remote

HOUR = 3600


@pytest.fixture
def alice(anilist_app) -> ApiClient:
    return api_client_for(anilist_app, "alice")


def unix(seconds_from_now: float = 0) -> int:
    return int(utcnow().timestamp() + seconds_from_now)


def item_of(api: ApiClient, item_id: int) -> dict:
    return api.get(f"/api/library/items/{item_id}").get_json()


def conflicts_of(app, item_id: int) -> list[dict]:
    with app.app_context():
        return [
            e.changes
            for e in db.session.scalars(
                select(ItemEvent).where(ItemEvent.item_id == item_id, ItemEvent.kind == "conflict")
            )
        ]


def set_item(app, item_id: int, **values) -> None:
    """Write stored values directly (times in the past, values the API would refuse)."""
    with app.app_context():
        item = db.session.get(LibraryItem, item_id)
        for name, value in values.items():
            setattr(item, name, value)
        db.session.commit()


def account_of(app) -> AniListAccount:
    with app.app_context():
        account = db.session.scalars(select(AniListAccount)).one()
        db.session.expunge(account)
        return account


def choose(app, api: ApiClient, policy: str) -> dict:
    started = api.post("/api/anilist/first-sync", json={"policy": policy})
    assert started.status_code == 202, started.get_json()
    work(app)
    return api.get(started.headers["Location"]).get_json()


@pytest.fixture
def two_titles(anilist_app, alice, fake, viewer) -> dict[str, dict]:
    """Bebop: changed here after AniList; Frieren: changed on AniList after here.
    Then alice connects, and the account waits for her choice."""
    bebop = alice.add(source="anilist", anilist_id=1, title="Cowboy Bebop", progress=5)
    frieren = alice.add(source="anilist", anilist_id=154587, title="Frieren", progress=2)
    fake.add_entry(viewer.id, 1, status="CURRENT", progress=10, notes="jazz")
    fake.add_entry(viewer.id, 154587, status="CURRENT", progress=7).updated_at = unix(HOUR)
    connect(alice)
    return {"bebop": bebop, "frieren": frieren}


def remote_entry(fake, viewer, media_id: int):
    return next(e for e in fake.entries_of(viewer.id) if e.media_id == media_id)


# --- first connect -------------------------------------------------------------------


def test_a_first_connect_with_differences_waits_for_a_choice(anilist_app, alice, two_titles,
                                                             fake):  # fmt: skip
    assert account_of(anilist_app).first_sync_pending is True
    anilist_app.config["ANILIST_PULL_INTERVAL"] = 60
    alice.patch(f"/api/library/items/{two_titles['bebop']['id']}", json={"progress": 6})
    fake.requests.clear()
    work(anilist_app, now=utcnow() + timedelta(minutes=5), rounds=3)
    assert fake.operations == []  # neither pushed nor pulled
    assert len(outbox_rows(anilist_app)) == 1  # the edit waits for the choice
    with anilist_app.app_context():
        assert db.session.scalar(select(Job.id)) is None


def test_the_preview_counts_and_shows_what_differs_without_changing_anything(
    anilist_app, alice, two_titles, fake
):
    preview = alice.get("/api/anilist/first-sync").get_json()
    assert (preview["pending"], preview["entries"], preview["differ"]) == (True, 2, 2)
    assert (preview["local_newer"], preview["remote_newer"]) == (1, 1)
    assert {"item_id": two_titles["bebop"]["id"], "title": "Cowboy Bebop", "field": "progress",
            "local": 5, "remote": 10, "winner": "local"} in preview["examples"]  # fmt: skip
    assert item_of(alice, two_titles["frieren"]["id"])["progress"] == 2
    assert graphql(fake, "SaveMediaListEntry") == []


def test_newest_keeps_a_local_change_made_after_anilists_and_pushes_it(
    anilist_app, alice, two_titles, fake, viewer
):
    job = choose(anilist_app, alice, "newest")
    assert job["state"] == "done", job
    bebop = two_titles["bebop"]["id"]
    assert item_of(alice, bebop)["progress"] == 5
    work(anilist_app)
    assert remote_entry(fake, viewer, 1).progress == 5
    (conflict,) = conflicts_of(anilist_app, bebop)
    assert conflict["winner"] == "local"
    assert (conflict["local"]["progress"], conflict["remote"]["progress"]) == (5, 10)
    assert conflict["remote"]["notes"] == "jazz"  # the value that lost is kept
    assert conflict["local_updated_at"] and conflict["remote_updated_at"]


def test_newest_takes_anilists_newer_values_and_keeps_the_local_ones_in_history(
    anilist_app, alice, two_titles, fake, viewer
):
    choose(anilist_app, alice, "newest")
    frieren = two_titles["frieren"]["id"]
    assert item_of(alice, frieren)["progress"] == 7
    (conflict,) = conflicts_of(anilist_app, frieren)
    assert conflict["winner"] == "remote"
    assert conflict["local"]["progress"] == 2
    work(anilist_app)
    assert remote_entry(fake, viewer, 154587).progress == 7  # nothing pushed over it


@pytest.mark.parametrize(("policy", "bebop", "frieren"), [("mine", 5, 2), ("theirs", 10, 7)])
def test_mine_and_theirs_settle_every_title_one_way(anilist_app, alice, two_titles, fake, viewer,
                                                    policy, bebop, frieren):  # fmt: skip
    assert choose(anilist_app, alice, policy)["state"] == "done"
    work(anilist_app)
    ids = {name: item["id"] for name, item in two_titles.items()}
    assert item_of(alice, ids["bebop"])["progress"] == bebop
    assert item_of(alice, ids["frieren"])["progress"] == frieren
    assert remote_entry(fake, viewer, 1).progress == bebop
    assert remote_entry(fake, viewer, 154587).progress == frieren
    winner = "local" if policy == "mine" else "remote"
    for item_id in ids.values():
        assert [c["winner"] for c in conflicts_of(anilist_app, item_id)] == [winner]
    assert account_of(anilist_app).first_sync_pending is False


def test_after_the_choice_waiting_edits_go_out(anilist_app, alice, two_titles, fake, viewer):
    frieren = two_titles["frieren"]["id"]
    choose(anilist_app, alice, "newest")
    alice.patch(f"/api/library/items/{frieren}", json={"progress": 8})
    work(anilist_app)
    assert remote_entry(fake, viewer, 154587).progress == 8


def test_the_choice_uses_the_values_at_apply_time_not_the_previews(
    anilist_app, alice, two_titles, fake, viewer
):
    frieren = two_titles["frieren"]["id"]
    remote_entry(fake, viewer, 154587).updated_at = unix(-60)  # a minute ago on AniList
    set_item(anilist_app, frieren, updated_at=utcnow() - timedelta(hours=1))  # here before
    before = alice.get("/api/anilist/first-sync").get_json()
    assert {e["winner"] for e in before["examples"] if e["item_id"] == frieren} == {"remote"}
    alice.patch(f"/api/library/items/{frieren}", json={"notes": "edited during the preview"})
    choose(anilist_app, alice, "newest")
    item = item_of(alice, frieren)
    assert (item["progress"], item["notes"]) == (2, "edited during the preview")
    work(anilist_app)
    assert remote_entry(fake, viewer, 154587).notes == "edited during the preview"


@pytest.mark.parametrize(("edited", "winner"), [(False, "remote"), (True, "local")])
def test_an_anilist_entry_without_updated_at_loses_only_to_a_local_edit(
    anilist_app, alice, fake, viewer, edited, winner
):
    item = alice.add(source="anilist", anilist_id=1, title="Cowboy Bebop", progress=5)
    if edited:
        alice.patch(f"/api/library/items/{item['id']}", json={"progress": 6})
    fake.add_entry(viewer.id, 1, progress=10).updated_at = 0  # AniList gives no time
    connect(alice)
    choose(anilist_app, alice, "newest")
    assert item_of(alice, item["id"])["progress"] == (6 if edited else 10)
    assert [c["winner"] for c in conflicts_of(anilist_app, item["id"])] == [winner]
    assert conflicts_of(anilist_app, item["id"])[0]["remote_updated_at"] is None


def test_local_titles_anilist_lacks_are_created_there(anilist_app, alice, fake, viewer):
    alice.add(source="anilist", anilist_id=21, title="ONE PIECE", progress=1000)
    alice.add(source="anilist", anilist_id=1, title="Cowboy Bebop", progress=5)
    fake.add_entry(viewer.id, 1, progress=10).updated_at = unix(HOUR)
    connect(alice)
    assert alice.get("/api/anilist/first-sync").get_json()["only_here"] == 1
    choose(anilist_app, alice, "newest")
    work(anilist_app)
    one_piece = remote_entry(fake, viewer, 21)
    assert one_piece.progress == 1000
    assert all(i["sync"]["state"] == "synced" for i in alice.get("/api/library/items").get_json())


def test_the_same_title_twice_here_is_never_merged_into_one(anilist_app, alice, fake, viewer):
    linked = alice.add(source="anilist", anilist_id=1, title="Cowboy Bebop", progress=3)
    by_hand = alice.add(title="Cowboy Bebop", notes="my own copy")
    fake.add_entry(viewer.id, 1, progress=3)
    connect(alice)
    job = choose(anilist_app, alice, "newest")
    assert job["state"] == "done", job
    work(anilist_app)
    items = {i["id"]: i for i in alice.get("/api/library/items").get_json()}
    assert set(items) == {linked["id"], by_hand["id"]}
    assert items[linked["id"]]["sync"]["state"] == "synced"
    assert (items[by_hand["id"]]["anilist_id"], items[by_hand["id"]]["notes"]) == (
        None, "my own copy")  # fmt: skip


def test_an_empty_library_is_merged_at_once_without_asking(anilist_app, alice, fake, viewer):
    fake.add_entry(viewer.id, 1, progress=10)
    connect(alice)
    assert account_of(anilist_app).first_sync_pending is False
    work(anilist_app)
    (item,) = alice.get("/api/library/items").get_json()
    assert item["progress"] == 10


def test_a_library_that_does_not_differ_is_merged_at_once(anilist_app, alice, fake, viewer):
    alice.add(source="anilist", anilist_id=1, title="Cowboy Bebop")
    fake.add_entry(viewer.id, 1, status="PLANNING")
    connect(alice)
    assert account_of(anilist_app).first_sync_pending is False


def test_import_merges_field_by_field_too(anilist_app, alice, fake, viewer):
    fake.add_entry(viewer.id, 1, progress=10)
    connect(alice)
    work(anilist_app)  # the first import
    (item,) = alice.get("/api/library/items").get_json()
    fake.down = True
    alice.patch(f"/api/library/items/{item['id']}", json={"progress": 12})
    work(anilist_app)  # could not push
    fake.down = False
    entry = remote_entry(fake, viewer, 1)
    entry.notes, entry.updated_at = "changed on AniList, before the edit here", entry.updated_at + 1
    started = alice.post("/api/anilist/import")
    with anilist_app.app_context():
        sync.run_next_job()  # the import alone, before the worker pushes anything
    assert alice.get(started.headers["Location"]).get_json()["result"]["conflicts"] == 1
    (conflict,) = conflicts_of(anilist_app, item["id"])
    assert conflict["winner"] == "local"
    assert conflict["remote"]["progress"] == 10
    assert conflict["remote"]["notes"] == "changed on AniList, before the edit here"
    work(anilist_app, now=utcnow() + timedelta(seconds=31))
    assert (entry.progress, entry.notes) == (12, "")  # AniList keeps cleared notes as ""
    assert item_of(alice, item["id"])["notes"] is None


def test_an_unknown_policy_is_refused(anilist_app, alice, two_titles):
    response = alice.post("/api/anilist/first-sync", json={"policy": "random"})
    assert response.status_code == 422
    assert "policy" in response.get_json()["error"]["fields"]


def test_an_anilist_date_with_an_unknown_month_keeps_its_year(anilist_app, alice, fake, viewer):
    fake.add_entry(viewer.id, 1, started_at={"year": 2020, "month": 0, "day": 0},
                   completed_at={"year": 2021, "month": 3, "day": 0})  # fmt: skip
    connect(alice)
    work(anilist_app)
    (item,) = alice.get("/api/library/items").get_json()
    assert (item["started_on"], item["completed_on"]) == ("2020", "2021-03")


# --- the settings page -----------------------------------------------------------------


def test_settings_asks_for_the_first_choice_after_connecting(anilist_app, fake, viewer):
    alice = person(anilist_app)
    alice.post("/api/library/items",
               json={"title": "Cowboy Bebop", "type": "anime", "source": "anilist",
                     "anilist_id": 1, "progress": 5})  # fmt: skip
    fake.add_entry(viewer.id, 1, progress=10).updated_at = unix(HOUR)
    landing = come_back_from_anilist(alice)
    page = alice.browser.client.get(landing.headers["Location"]).get_data(as_text=True)
    assert 'id="first-sync"' in page
    assert "1 title differs" in page
    for policy in ("newest", "mine", "theirs"):
        assert f'name="policy" value="{policy}"' in page
    chosen = alice.post("/settings/anilist/first-sync", data={"policy": "theirs"})
    assert chosen.status_code == 200
    assert "First sync with AniList:</strong> waiting to start" in chosen.get_data(as_text=True)
    work(anilist_app)
    assert 'id="first-sync"' not in alice.browser.client.get("/settings").get_data(as_text=True)


# --- quarantine --------------------------------------------------------------------------


@pytest.fixture
def connected(anilist_app, alice, viewer) -> ApiClient:
    connect(alice)
    work(anilist_app)  # the import that connecting starts
    return alice


def test_a_change_anilist_refuses_is_quarantined_while_the_others_go(anilist_app, connected,
                                                                      fake, viewer):  # fmt: skip
    fake.refuse[5] = "Invalid progress"
    titles = [connected.add(source="anilist", anilist_id=i, title=f"t{i}") for i in (1, 5, 21)]
    work(anilist_app)
    assert {e.media_id for e in fake.entries_of(viewer.id)} == {1, 21}
    (row,) = outbox_rows(anilist_app)
    assert row.failed_at is not None
    assert row.last_error == (
        "AniList refused this entry: Invalid progress. Edit the item to try again.")  # fmt: skip
    assert item_of(connected, titles[1]["id"])["sync"]["state"] == "error"
    fake.requests.clear()
    work(anilist_app, now=utcnow() + timedelta(hours=1), rounds=3)
    assert graphql(fake, "SaveMediaListEntry") == []  # not retried by itself


def test_editing_a_quarantined_item_sends_it_again(anilist_app, connected, fake, viewer):
    fake.refuse[5] = "Invalid progress"
    item = connected.add(source="anilist", anilist_id=5, title="Cowboy Bebop: the movie")
    work(anilist_app)
    del fake.refuse[5]
    connected.patch(f"/api/library/items/{item['id']}", json={"progress": 1})
    (row,) = outbox_rows(anilist_app)
    assert (row.failed_at, row.last_error) == (None, None)
    work(anilist_app)
    assert remote_entry(fake, viewer, 5).progress == 1
    assert item_of(connected, item["id"])["sync"]["state"] == "synced"


def test_a_stored_value_anilist_cannot_take_never_delays_another_users_push(
    anilist_app, connected, fake
):
    bob = api_client_for(anilist_app, "bob")
    fake.authorize_as = fake.add_user("bob-on-anilist").id
    connect(bob)
    work(anilist_app)  # bob's first import
    broken = connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop")
    set_item(anilist_app, broken["id"], started_on="2024-00")  # the API would refuse it
    good = bob.add(source="anilist", anilist_id=21, title="ONE PIECE", progress=3)
    with anilist_app.app_context():
        assert sync.push_pending() == 1  # one round: bob's change went, alice's waits
    quarantined = {r.item_id: r for r in outbox_rows(anilist_app)}
    assert set(quarantined) == {broken["id"]}
    assert "start date" in quarantined[broken["id"]].last_error
    assert "'2024-00'" in quarantined[broken["id"]].last_error
    assert quarantined[broken["id"]].last_error.endswith("Edit the item to try again.")
    assert item_of(bob, good["id"])["sync"]["state"] == "synced"


def test_a_failing_step_of_the_round_never_skips_the_others(anilist_app, connected, fake,
                                                            viewer, monkeypatch):  # fmt: skip
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(sync, "run_next_job", broken)
    monkeypatch.setattr(sync, "push_pending", broken)
    anilist_app.config["ANILIST_PULL_INTERVAL"] = 60
    work(anilist_app, now=utcnow() + timedelta(minutes=2))
    with anilist_app.app_context():
        assert db.session.scalar(select(Job.state).where(Job.state == "queued")) == "queued"


# --- backoff, one pull per account, pruning -----------------------------------------------


def test_ten_minutes_of_a_dead_anilist_add_a_bounded_number_of_jobs(anilist_app, connected,
                                                                    fake):  # fmt: skip
    bob = api_client_for(anilist_app, "bob")
    fake.authorize_as = fake.add_user("bob-on-anilist").id
    connect(bob)
    work(anilist_app)
    anilist_app.config["ANILIST_PULL_INTERVAL"] = 60
    fake.down = True
    start = utcnow() + timedelta(minutes=2)  # both accounts due for a pull
    with anilist_app.app_context():
        before = db.session.query(Job).count()
        for second in range(600):  # the worker's poll rate over ten simulated minutes
            sync.work_once(now=start + timedelta(seconds=second))
            db.session.remove()
        added = db.session.query(Job).count() - before
        failures = [a.pull_failures for a in db.session.query(AniListAccount)]
    # Back-off 30 s doubling (jittered down to half): at most 6 tries each in 10 minutes.
    assert added <= 12
    assert min(failures) >= 4
    fake.down = False
    with anilist_app.app_context():
        for _ in range(3):
            sync.work_once(now=start + timedelta(hours=2))
        assert {a.pull_failures for a in db.session.query(AniListAccount)} == {0}


def test_a_failed_pull_waits_before_the_next_one(anilist_app, connected, fake):
    anilist_app.config["ANILIST_PULL_INTERVAL"] = 60
    fake.down = True
    now = utcnow() + timedelta(minutes=2)
    work(anilist_app, now=now, rounds=2)  # queued, then run
    with anilist_app.app_context():
        account = db.session.scalars(select(AniListAccount)).one()
        assert account.pull_failures == 1
        assert now + timedelta(seconds=15) <= account.next_pull_at <= now + timedelta(seconds=30)
        assert sync.queue_periodic_pulls(now + timedelta(seconds=14)) == 0


def test_an_account_never_has_two_pulls_waiting(anilist_app, connected):
    with anilist_app.app_context():
        user_id = db.session.scalars(select(AniListAccount.user_id)).one()
        first = sync.start_job(user_id, sync.SYNC)
        assert sync.start_job(user_id, sync.IMPORT).id == first.id
        assert sync.start_job(user_id, sync.SYNC).id == first.id
        waiting = db.session.query(Job).filter(Job.state.in_(("queued", "running"))).count()
    assert waiting == 1


def test_two_requests_queueing_a_pull_together_leave_one(anilist_app, connected, monkeypatch):
    with anilist_app.app_context():
        user_id = db.session.scalars(select(AniListAccount.user_id)).one()
        other = Job(user_id=user_id, kind=sync.SYNC, state="queued", params={},
                    created_at=utcnow())  # fmt: skip
        db.session.add(other)  # queued by another worker after this one looked
        db.session.commit()
        real, looks = sync.active_job, []

        def looked_before_the_other_insert(*args):
            looks.append(args)
            return None if len(looks) == 1 else real(*args)

        monkeypatch.setattr(sync, "active_job", looked_before_the_other_insert)
        assert sync.start_job(user_id, sync.IMPORT).id == other.id
        waiting = db.session.query(Job).filter(Job.state.in_(("queued", "running"))).count()
    assert waiting == 1


def test_finished_jobs_are_pruned_after_the_retention_period(anilist_app, connected):
    now = utcnow()
    with anilist_app.app_context():
        user_id = db.session.scalars(select(AniListAccount.user_id)).one()
        db.session.query(Job).delete()
        for state, age in (("done", 8), ("failed", 8), ("done", 6), ("running", 30)):
            at = now - timedelta(days=age)
            finished = at if state != "running" else None
            db.session.add(Job(user_id=user_id, kind=sync.SYNC, state=state, params={},
                               created_at=at, finished_at=finished))  # fmt: skip
        db.session.commit()
        sync.work_once(now=now + timedelta(hours=2))  # the worker prunes once an hour
        left = [(job.state, (now - job.created_at).days) for job in db.session.query(Job)]
    assert sorted(left) == [("done", 6), ("running", 30)]


# --- pushes before pulls ---------------------------------------------------------------------


def test_a_budget_keeps_requests_back_for_those_who_keep_none():
    clock = [0.0]
    budget = MemoryBudget(30, burst=10, clock=lambda: clock[0])
    taken = 0
    while budget.acquire(block=False, keep=3):
        taken += 1
    assert taken == 7
    assert all(budget.acquire(block=False) for _ in range(3))
    assert not budget.acquire(block=False)


def test_a_pull_never_takes_the_budget_pushes_need(app_factory, fake_anilist, viewer,
                                                   fake_mangadex, sleeps):  # fmt: skip
    fake, url = fake_anilist
    app = app_factory(**remote_config(url, fake_mangadex[1], sleeps, ANILIST_RATE_PER_MINUTE=30),
                      **oauth_config(url))  # fmt: skip
    alice = api_client_for(app, "alice")
    connect(alice)  # queues the first import
    alice.add(source="anilist", anilist_id=1, title="Cowboy Bebop", progress=3)
    with app.app_context():
        budget = remote().anilist.transport.budget
        while budget.acquire(block=False, keep=6):  # pulls have spent all they may
            pass
    fake.requests.clear()
    work(app)
    assert fake.operations == ["SaveMediaListEntry"]  # the push went, the pull did not
    with app.app_context():
        job = db.session.scalars(select(Job)).one()
        assert (job.kind, job.state) == (sync.IMPORT, "failed")
        assert "rate limit" in job.error
        assert db.session.query(SyncOutbox).count() == 0


def test_a_long_import_lets_other_accounts_pushes_go_between_its_chunks(
    anilist_app, connected, fake, viewer, monkeypatch
):
    monkeypatch.setattr(anilist_client, "MAX_PER_CHUNK", 2)  # AniList's 500, scaled down
    for media in fake.add_media(3):
        fake.add_entry(viewer.id, media["id"], status="PLANNING")
    bob = api_client_for(anilist_app, "bob")
    fake.authorize_as = fake.add_user("bob-on-anilist").id
    connect(bob)
    work(anilist_app)  # bob's first import
    bob.add(source="anilist", anilist_id=1, title="Cowboy Bebop", progress=3)
    connected.post("/api/anilist/import")
    fake.requests.clear()
    with anilist_app.app_context():
        sync.run_next_job()  # alice's import; the worker's push step has not run
    sent = [(op, v.get("type"), v.get("chunk")) for op, v, _ in fake.requests]
    read = "MediaListCollection"
    assert sent == [(read, "ANIME", 1), ("SaveMediaListEntry", None, None),
                    (read, "ANIME", 2), (read, "MANGA", 1)]  # fmt: skip
    assert len(connected.get("/api/library/items").get_json()) == 3


def test_the_preview_needs_a_connection(alice):
    response = alice.get("/api/anilist/first-sync")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_preview_says_when_anilist_cannot_be_read(anilist_app, alice, two_titles, fake):
    fake.down = True
    response = alice.get("/api/anilist/first-sync")
    assert response.status_code == 503
    assert "unreachable" in response.get_json()["error"]["message"]


def test_a_forged_choice_in_the_page_is_refused_in_place(anilist_app, fake, viewer):
    alice = person(anilist_app)
    come_back_from_anilist(alice)
    response = alice.post("/settings/anilist/first-sync", data={"policy": "everything"})
    assert response.status_code == 422
    assert "Choose one of: newest, mine, theirs." in response.get_data(as_text=True)

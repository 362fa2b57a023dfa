"""Incremental pull: a sync reads only the AniList entries changed since the last pull
(``Page.mediaList`` sorted ``UPDATED_TIME_DESC``); the whole list is read on the first
pull, once a day (deletions show only then) and when asked for.

AniList is the fake over real HTTP; its clock moves on by one second at each save or
new entry, so ``updatedAt`` is predictable.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import ApiClient, api_client_for
from tests.test_anilist_sync import connect, graphql, work
from tests.test_sync_engine import account_of
from tracker.extensions import db
from tracker.models import AniListAccount, utcnow
from tracker.services import sync

FULL_READ, CHANGES = "MediaListCollection", "Page"


@pytest.fixture
def alice(anilist_app) -> ApiClient:
    return api_client_for(anilist_app, "alice")


@pytest.fixture
def synced(anilist_app, alice, fake, viewer) -> ApiClient:
    """Alice's AniList list of 3 anime and 2 manga, imported here by the first sync."""
    for media in fake.add_media(3) + fake.add_media(2, type="manga"):
        fake.add_entry(viewer.id, media["id"], progress=1)
    connect(alice)  # an empty library: the first merge starts at once
    work(anilist_app)
    assert len(alice.get("/api/library/items").get_json()) == 5
    fake.requests.clear()
    return alice


def sync_now(app, api: ApiClient, query: str = "") -> dict:
    started = api.post(f"/api/anilist/sync{query}")
    assert started.status_code == 202, started.get_json()
    work(app)
    job = api.get(started.headers["Location"]).get_json()
    assert job["state"] == "done", job
    return job["result"]


def change_remote(fake, viewer, media_id: int, **values) -> None:
    entry = next(e for e in fake.entries_of(viewer.id) if e.media_id == media_id)
    for name, value in values.items():
        setattr(entry, name, value)
    entry.updated_at = fake.clock()


def progress_of(api: ApiClient) -> dict[int, int]:
    items = api.get("/api/library/items?per_page=100").get_json()
    return {i["anilist_id"]: i["progress"] for i in items}


def set_account(app, **values) -> None:
    with app.app_context():
        account = db.session.scalars(select(AniListAccount)).one()
        for name, value in values.items():
            setattr(account, name, value)
        db.session.commit()


def test_the_first_sync_reads_the_whole_list(anilist_app, synced, fake):
    account = account_of(anilist_app)
    assert account.last_full_pull_at is not None
    assert account.pull_watermark == max(e.updated_at for e in fake.entries.values())


def test_a_sync_reads_only_the_changes_in_one_request(anilist_app, synced, fake, viewer):
    anime, manga = fake.add_media(1)[0]["id"], 200_004
    change_remote(fake, viewer, manga, progress=9)
    fake.add_entry(viewer.id, anime, progress=4)
    result = sync_now(anilist_app, synced)
    assert fake.operations == [CHANGES]  # both lists in one request, no full read
    assert (result["added"], result["updated"]) == (1, 1)
    assert progress_of(synced)[manga] == 9
    assert progress_of(synced)[anime] == 4


def test_a_sync_with_nothing_changed_applies_nothing(anilist_app, synced, fake):
    result = sync_now(anilist_app, synced)
    assert fake.operations == [CHANGES]
    assert (result["added"], result["updated"], result["conflicts"]) == (0, 0, 0)


def test_an_entry_saved_in_the_same_second_as_the_last_read_is_not_missed(
    anilist_app, synced, fake, viewer
):
    newest = account_of(anilist_app).pull_watermark
    entry = next(e for e in fake.entries_of(viewer.id) if e.updated_at < newest)
    entry.progress, entry.updated_at = 7, newest  # AniList's updatedAt has whole seconds
    sync_now(anilist_app, synced)
    assert progress_of(synced)[entry.media_id] == 7


def test_an_updated_at_far_in_the_future_does_not_hide_later_changes(
    anilist_app, synced, fake, viewer
):
    first, second = (e.media_id for e in fake.entries_of(viewer.id)[:2])
    far_ahead = int((utcnow() + timedelta(days=400)).timestamp())
    change_remote(fake, viewer, first, progress=5)
    next(e for e in fake.entries_of(viewer.id) if e.media_id == first).updated_at = far_ahead
    sync_now(anilist_app, synced)
    assert account_of(anilist_app).pull_watermark < far_ahead
    change_remote(fake, viewer, second, progress=6)
    sync_now(anilist_app, synced)
    assert progress_of(synced)[second] == 6


def test_a_title_added_by_hand_is_linked_by_a_sync_not_doubled(anilist_app, synced, fake,
                                                                viewer):  # fmt: skip
    mine = synced.add(title="cowboy bebop", notes="typed by hand")
    later_than_here = int(utcnow().timestamp()) + 3600  # AniList's values win
    fake.add_entry(viewer.id, 1, status="PAUSED", notes="jazz").updated_at = later_than_here
    result = sync_now(anilist_app, synced)
    assert fake.operations == [CHANGES]
    assert result["added"] == 0
    linked = synced.get(f"/api/library/items/{mine['id']}").get_json()
    assert (linked["anilist_id"], linked["notes"]) == (1, "jazz")


def test_changes_across_a_page_boundary_are_all_found(anilist_app, synced, fake, viewer):
    for media in fake.add_media(60):
        fake.add_entry(viewer.id, media["id"], progress=2)
    result = sync_now(anilist_app, synced)
    assert result["added"] == 60
    assert fake.operations == [CHANGES, CHANGES]


def test_an_entry_deleted_between_two_pages_makes_none_slip_past(
    anilist_app, synced, fake, viewer, monkeypatch
):
    added = [fake.add_entry(viewer.id, m["id"], progress=3) for m in fake.add_media(55)]
    find_entries = fake._find_entries

    def delete_after_the_first_page(args, viewer_id):
        found = find_entries(args, viewer_id)
        if args.get("type") == "ANIME" and args.get("mediaId_not_in"):
            return found  # the second page: asked after the deletion below
        if args.get("type") == "ANIME":
            fake.entries.pop(added[-1].id)  # on the first page: the rest moves up by one
        return found

    monkeypatch.setattr(fake, "_find_entries", delete_after_the_first_page)
    sync_now(anilist_app, synced)
    titles = progress_of(synced)
    assert all(titles.get(e.media_id) == 3 for e in added)  # the deleted one too: read first


def test_a_remote_deletion_waits_for_the_daily_full_read(anilist_app, synced, fake, viewer):
    gone = fake.entries.pop(fake.entries_of(viewer.id)[0].id)
    assert sync_now(anilist_app, synced)["conflicts"] == 0  # only changes were read
    set_account(anilist_app, last_full_pull_at=utcnow() - timedelta(hours=25))
    result = sync_now(anilist_app, synced)
    assert FULL_READ in fake.operations
    assert result["conflicts"] == 1
    items = {i["anilist_id"]: i for i in synced.get("/api/library/items").get_json()}
    assert items[gone.media_id]["sync"]["state"] == "none"  # kept here, unlinked


def test_the_daily_full_read_happens_in_periodic_pulls(anilist_app, synced, fake):
    anilist_app.config["ANILIST_PULL_INTERVAL"] = 60
    later = utcnow() + timedelta(minutes=5)
    work(anilist_app, now=later, rounds=2)
    assert fake.operations == [CHANGES]
    work(anilist_app, now=later + timedelta(days=1))  # runs the pull queued last round
    assert fake.operations[1:] == [FULL_READ, FULL_READ]  # anime, then manga
    assert account_of(anilist_app).last_full_pull_at == later + timedelta(days=1)
    work(anilist_app, now=later + timedelta(days=1, minutes=5))
    assert fake.operations[3:] == [CHANGES]  # and then only changes again, for a day


def test_sync_everything_reads_the_whole_list(anilist_app, synced, fake):
    sync_now(anilist_app, synced, "?full=true")
    assert fake.operations == [FULL_READ, FULL_READ]


def test_sync_everything_replaces_a_sync_not_yet_started(anilist_app, synced, fake):
    synced.post("/api/anilist/sync")
    sync_now(anilist_app, synced, "?full=true")
    assert CHANGES not in fake.operations


def test_more_changes_than_a_few_pages_read_the_whole_list_instead(
    anilist_app, synced, fake, viewer, monkeypatch
):
    monkeypatch.setattr(sync, "UPDATES_MAX_REQUESTS", 1)
    for media in fake.add_media(60):
        fake.add_entry(viewer.id, media["id"], progress=2)
    result = sync_now(anilist_app, synced)
    assert fake.operations == [CHANGES, FULL_READ, FULL_READ]
    assert result["added"] == 60
    assert len(graphql(fake, CHANGES)) == 1

"""flask tracker backfill: totals and metadata for the titles people keep."""

from __future__ import annotations

import pytest

from tests.conftest import api_client_for
from tracker.extensions import db
from tracker.models import ItemEvent, LibraryItem, Media
from tracker.services import backfill


def id_batches(fake) -> list[list[int]]:
    return [v["ids"] for op, v, _ in fake.requests if "ids" in v]


@pytest.fixture
def stubs(remote_app, remote_api, fake_anilist):
    """120 titles added by id only: the catalogue knows nothing but their ids."""
    fake = fake_anilist[0]
    for media in fake.add_media(120):
        remote_api.add(title=media["title"]["romaji"], source="anilist", anilist_id=media["id"])
    return remote_api


def run(remote_app, *args):
    return remote_app.test_cli_runner().invoke(args=["tracker", "backfill", *args])


def test_backfill_fills_totals_fifty_ids_per_request(remote_app, stubs, fake_anilist):
    result = run(remote_app)
    assert result.exit_code == 0, result.output
    assert "Fetched 120 titles" in result.output
    assert [len(batch) for batch in id_batches(fake_anilist[0])] == [50, 50, 20]
    items = stubs.get("/api/library/items?per_page=200").get_json()
    assert {item["max_progress"] for item in items} == {12}
    assert all(item["cover_url"] for item in items)


def test_backfill_is_safe_to_run_again(remote_app, stubs, fake_anilist):
    run(remote_app)
    before = len(fake_anilist[0].requests)
    result = run(remote_app)
    assert "0 linked titles need data" in result.output
    assert len(fake_anilist[0].requests) == before


def test_dry_run_changes_nothing_and_asks_nothing(remote_app, stubs, fake_anilist):
    result = run(remote_app, "--dry-run")
    assert result.exit_code == 0
    assert "120 linked titles need data" in result.output
    assert id_batches(fake_anilist[0]) == []
    with remote_app.app_context():
        assert db.session.query(Media).filter(Media.fetched_at.is_not(None)).count() == 0


def test_limit_caps_the_work(remote_app, stubs, fake_anilist):
    run(remote_app, "--limit", "30")
    assert [len(batch) for batch in id_batches(fake_anilist[0])] == [30]


def test_an_interrupted_run_keeps_finished_batches(remote_app, stubs, fake_anilist):
    fake_anilist[0].fail_next(500, times=3)  # every attempt at the first batch fails
    with remote_app.app_context():
        report = backfill.run(sleep=lambda _s: None)
        assert report.fetched == 70
        assert len(report.unresolved) == 50
        assert len(backfill.media_needing_data()) == 50  # what a second run will do


def test_a_rate_limit_is_waited_out(remote_app, stubs, fake_anilist):
    fake_anilist[0].fail_next(429, headers={"Retry-After": "0"})
    waits: list[float] = []
    with remote_app.app_context():
        report = backfill.run(sleep=waits.append)
    assert report.fetched == 120
    assert waits == [0.0]


def test_title_only_items_are_linked_when_the_match_is_certain(remote_app, remote_api):
    bebop = remote_api.add(title="cowboy  bebop")
    unknown = remote_api.add(title="A Show Nobody Made")
    result = run(remote_app)
    assert "linked 1 entries" in result.output
    assert "'A Show Nobody Made' (anime): no confident match" in result.output
    linked = remote_api.get(f"/api/library/items/{bebop['id']}").get_json()
    assert (linked["anilist_id"], linked["max_progress"], linked["source"]) == (1, 26, "anilist")
    assert remote_api.get(f"/api/library/items/{unknown['id']}").get_json()["source"] == "manual"
    with remote_app.app_context():
        event = db.session.query(ItemEvent).filter_by(item_id=bebop["id"]).all()[-1]
        assert (event.origin, event.changes) == ("anilist", {"anilist_id": [None, 1]})


def test_the_same_title_in_two_libraries_is_searched_once(remote_app, remote_api, fake_anilist):
    other = api_client_for(remote_app, "mallory")
    remote_api.add(title="Cowboy Bebop")
    other.add(title="COWBOY BEBOP")
    run(remote_app)
    searches = [v for op, v, _ in fake_anilist[0].requests if "search" in v]
    assert len(searches) == 1
    with remote_app.app_context():
        assert db.session.query(LibraryItem).filter(LibraryItem.media_id.is_(None)).count() == 0


def test_a_title_already_linked_in_that_library_is_not_doubled(remote_app, remote_api):
    remote_api.add(title="Cowboy Bebop", source="anilist", anilist_id=1)
    manual = remote_api.add(title="Cowboy Bebop")
    result = run(remote_app)
    assert "already in that library" in result.output
    assert remote_api.get(f"/api/library/items/{manual['id']}").get_json()["source"] == "manual"


def test_backfill_with_anilist_down_loses_nothing(remote_app, stubs, fake_anilist):
    fake_anilist[0].down = True
    result = run(remote_app)
    assert result.exit_code == 0
    assert "120 left as they were" in result.output
    assert "AniList unreachable" in result.output
    with remote_app.app_context():
        assert db.session.query(LibraryItem).count() == 120

"""The airing refresh: coming episodes and relations from AniList, 50 ids a request,
stored per batch, hostile values skipped, what was known kept through an outage."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from tests.conftest import api_client_for
from tracker.clients.anilist import normalise_airing_and_relations
from tracker.extensions import db
from tracker.models import AiringEpisode, LibraryItem, Media, MediaRelation, User, utcnow
from tracker.services import airing, sync

DAY = 24 * 3600


@pytest.fixture
def refresh_app(remote_app):
    api_client_for(remote_app, "alice")
    return remote_app


def keep(app, fake, ids, *, status="RELEASING", username="alice", **media_values):
    """The fake's titles ``ids`` as ``status``, and stubs of them in ``username``'s library."""
    for anilist_id in ids:
        fake.media[anilist_id]["status"] = status
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        known = set(db.session.scalars(select(Media.anilist_id).where(Media.anilist_id.in_(ids))))
        new = [i for i in ids if i not in known]
        if new:
            db.session.execute(
                insert(Media),
                [{"source": "anilist", "external_id": str(i), "anilist_id": i,
                  "media_type": "anime", "title_preferred": "", "search_text": "",
                  "synonyms": [], **media_values} for i in new],
            )  # fmt: skip
        media = dict(db.session.execute(select(Media.anilist_id, Media.id).where(
            Media.anilist_id.in_(ids))).all())  # fmt: skip
        now = utcnow()
        db.session.execute(
            insert(LibraryItem),
            [{"user_id": user_id, "media_id": media[i], "media_type": "anime", "title": f"T{i}",
              "status": "current", "progress": 0, "repeat": 0, "private": False,
              "created_at": now, "updated_at": now, "custom_lists": []} for i in ids],
        )  # fmt: skip
        db.session.commit()
        return media


def refresh(app, **options):
    with app.app_context():
        return airing.run(**options)


def schedule_of(app, anilist_id):
    with app.app_context():
        rows = db.session.execute(
            select(AiringEpisode.episode, AiringEpisode.airing_at)
            .join(Media, Media.id == AiringEpisode.media_id)
            .where(Media.anilist_id == anilist_id)
            .order_by(AiringEpisode.episode)
        ).all()
        return [(episode, int(at.timestamp())) for episode, at in rows]


def relations_of(app, anilist_id):
    with app.app_context():
        related = Media.__table__.alias("related")
        rows = db.session.execute(
            select(related.c.anilist_id, MediaRelation.relation)
            .join(Media, Media.id == MediaRelation.media_id)
            .join(related, related.c.id == MediaRelation.related_id)
            .where(Media.anilist_id == anilist_id)
        ).all()
        return sorted(rows)


def airing_requests(fake):
    return [v for op, v, _ in fake.requests if op == "Page" and "airing" in v]


def test_a_refresh_asks_for_fifty_ids_a_request(refresh_app, fake):
    ids = [200_000 + k for k in range(1, 121)]
    fake.add_media(120)
    keep(refresh_app, fake, ids)

    report = refresh(refresh_app)

    sent = airing_requests(fake)
    assert [len(v["ids"]) for v in sent] == [50, 50, 20]
    assert sorted(i for v in sent for i in v["ids"]) == ids
    assert (report.refreshed, report.requests, report.missing) == (120, 3, 0)


def test_the_schedule_is_stored_and_replaced_on_the_next_refresh(refresh_app, fake):
    soon = int(time.time()) + DAY
    keep(refresh_app, fake, [21])
    fake.schedules[21] = [{"episode": 1100, "airingAt": soon},
                          {"episode": 1101, "airingAt": soon + 7 * DAY}]  # fmt: skip
    refresh(refresh_app)
    assert schedule_of(refresh_app, 21) == [(1100, soon), (1101, soon + 7 * DAY)]

    fake.schedules[21] = [{"episode": 1100, "airingAt": soon + 3600}]  # delayed an hour
    later = utcnow() + airing.AIRING_STALE + timedelta(minutes=1)
    refresh(refresh_app, now=later)

    assert schedule_of(refresh_app, 21) == [(1100, soon + 3600)]


def test_relations_are_stored_with_the_related_titles_as_catalogue_rows(refresh_app, fake):
    keep(refresh_app, fake, [1], status="FINISHED")
    fake.relations[1] = [("SEQUEL", 5), ("SIDE_STORY", 154587), ("ADAPTATION", 118586)]

    report = refresh(refresh_app)

    assert relations_of(refresh_app, 1) == [
        (5, "sequel"), (118586, "adaptation"), (154587, "side_story"),
    ]  # fmt: skip
    assert report.relations == 3
    with refresh_app.app_context():
        sequel = db.session.scalar(select(Media).where(Media.anilist_id == 5))
        assert sequel.title_preferred == "Cowboy Bebop: Tengoku no Tobira"
        assert (sequel.format, sequel.episodes) == ("MOVIE", 1)
        assert sequel.fetched_at is None  # lean: a backfill reads the rest when it is kept
        title = db.session.scalar(select(Media).where(Media.anilist_id == 1))
        assert title.relations_fetched_at is not None and title.airing_refreshed_at is not None


def test_relations_are_replaced_not_added_to(refresh_app, fake):
    keep(refresh_app, fake, [1], status="FINISHED")
    fake.relations[1] = [("SEQUEL", 5)]
    refresh(refresh_app)
    fake.relations[1] = [("ALTERNATIVE", 154587)]

    refresh(refresh_app, now=utcnow() + airing.RELATIONS_STALE + timedelta(days=1))

    assert relations_of(refresh_app, 1) == [(154587, "alternative")]


def test_a_title_read_in_full_is_not_overwritten_by_a_lean_relation(refresh_app, fake):
    keep(refresh_app, fake, [1, 154587], status="FINISHED")
    fake.media[154587]["description"] = "Elves."
    fake.relations[1] = [("SEQUEL", 154587)]

    refresh(refresh_app)

    with refresh_app.app_context():
        frieren = db.session.scalar(select(Media).where(Media.anilist_id == 154587))
        assert frieren.synopsis == "Elves." and frieren.fetched_at is not None


@pytest.mark.parametrize(
    "slot",
    [
        {"episode": "12", "airingAt": 1},
        {"episode": 12, "airingAt": "tomorrow"},
        {"episode": -1, "airingAt": 1_900_000_000},
        {"episode": True, "airingAt": 1_900_000_000},
        {"episode": 12, "airingAt": 10**15},
        {"episode": None, "airingAt": None},
        "not an object",
    ],
)
def test_a_hostile_episode_is_skipped_and_the_rest_stored(refresh_app, fake, slot):
    good = int(time.time()) + DAY
    keep(refresh_app, fake, [21])
    fake.schedules[21] = [slot, {"episode": 1100, "airingAt": good}]

    report = refresh(refresh_app)

    assert schedule_of(refresh_app, 21) == [(1100, good)]
    assert report.error is None and report.refreshed == 1


def test_hostile_relations_are_skipped(refresh_app, fake):
    keep(refresh_app, fake, [1], status="FINISHED")
    fake.relations[1] = [("BEST_FRIEND", 5), (None, 154587), (7, 118586), ("SEQUEL", 1),
                         ("PREQUEL", 5)]  # fmt: skip

    refresh(refresh_app)

    assert relations_of(refresh_app, 1) == [(5, "prequel")]


def test_an_unreadable_title_keeps_its_data_and_does_not_stall_the_queue(refresh_app, fake):
    soon = int(time.time()) + DAY
    keep(refresh_app, fake, [21, 154587])
    fake.schedules[21] = [{"episode": 1100, "airingAt": soon}]
    fake.relations[21] = [("PREQUEL", 1)]
    refresh(refresh_app)
    fake.media[21]["type"] = "NOVEL"  # nothing this app can store
    fake.schedules[21] = []

    report = refresh(refresh_app, now=utcnow() + airing.RELATIONS_STALE + timedelta(days=1))

    assert (report.refreshed, report.missing) == (1, 1)
    assert schedule_of(refresh_app, 21) == [(1100, soon)]
    assert relations_of(refresh_app, 21) == [(1, "prequel")]
    with refresh_app.app_context():
        assert airing.due_titles() == []


def test_the_normaliser_survives_any_shape():
    for raw in (None, [], {"id": "x"}, {"id": 1, "type": "ANIME", "title": "no"},
                {"id": 1, "type": "ANIME", "airingSchedule": [], "relations": "x"}):  # fmt: skip
        answer = normalise_airing_and_relations(raw)
        assert answer is None or (answer["airing"], answer["related"]) == ([], [])


def test_an_outage_keeps_what_was_known_and_what_was_done(refresh_app, fake):
    soon = int(time.time()) + DAY
    ids = [200_000 + k for k in range(1, 61)]
    fake.add_media(60)
    keep(refresh_app, fake, [21, *ids])
    fake.schedules[21] = [{"episode": 1100, "airingAt": soon}]
    refresh(refresh_app)
    fake.schedules[21] = []
    later = utcnow() + airing.AIRING_STALE + timedelta(hours=1)

    fake.down = True
    report = refresh(refresh_app, now=later)

    assert report.error and "unreachable" in report.error
    assert schedule_of(refresh_app, 21) == [(1100, soon)]
    with refresh_app.app_context():
        assert len(airing.due_titles(later)) == 61  # still due: asked again next time


def test_a_batch_done_before_an_outage_is_kept(refresh_app, fake):
    ids = [200_000 + k for k in range(1, 61)]
    fake.add_media(60)
    keep(refresh_app, fake, ids)

    def go_down(_done):  # after the first batch is stored
        fake.down = True

    report = refresh(refresh_app, progress=go_down)

    assert report.refreshed == 50 and report.error
    with refresh_app.app_context():
        assert len(airing.due_titles()) == 10


def test_a_rate_limit_ends_the_workers_run_at_once(refresh_app, fake, sleeps):
    keep(refresh_app, fake, [21])
    fake.fail_next(429, times=1)

    report = refresh(refresh_app, patient=False, sleep=sleeps)

    assert (report.requests, report.refreshed, sleeps) == (1, 0, [])
    assert "rate limiting" in report.error


def test_the_command_waits_out_a_rate_limit(refresh_app, fake, sleeps):
    keep(refresh_app, fake, [21])
    fake.fail_next(429, times=1)

    refresh(refresh_app, sleep=sleeps)

    assert sleeps and sleeps[0] == 60.0  # AniList's Retry-After


def test_only_titles_in_a_library_that_may_air_or_lack_relations_are_due(refresh_app, fake):
    keep(refresh_app, fake, [21])
    keep(refresh_app, fake, [1], status="FINISHED")
    refresh(refresh_app)
    with refresh_app.app_context():
        assert airing.due_titles() == []
        hours_later = utcnow() + airing.AIRING_STALE + timedelta(minutes=5)
        due = [anilist_id for _id, anilist_id in airing.due_titles(hours_later)]
        month_later = utcnow() + airing.RELATIONS_STALE + timedelta(days=1)
        everything = [anilist_id for _id, anilist_id in airing.due_titles(month_later)]
    assert due == [21]  # a finished title's schedule does not change
    assert sorted(everything) == [1, 21]


def test_the_stalest_titles_come_first_and_a_run_is_bounded(refresh_app, fake):
    keep(refresh_app, fake, [21, 154587, 1])
    with refresh_app.app_context():
        old = datetime(2020, 1, 1, tzinfo=UTC)
        for anilist_id, at in ((21, old + timedelta(days=2)), (154587, old), (1, None)):
            db.session.execute(
                Media.__table__.update()
                .where(Media.anilist_id == anilist_id)
                .values(airing_refreshed_at=at, relations_fetched_at=utcnow())
            )
        db.session.commit()
        assert [a for _i, a in airing.due_titles(limit=2)] == [1, 154587]


def test_the_worker_refreshes_airing_when_it_is_due(app_factory, fake_anilist, fake_mangadex,
                                                    sleeps):  # fmt: skip
    from tests.conftest import remote_config

    fake, url = fake_anilist
    app = app_factory(**remote_config(url, fake_mangadex[1], sleeps), AIRING_REFRESH_MINUTES=60)
    api_client_for(app, "alice")
    keep(app, fake, [21])
    fake.schedules[21] = [{"episode": 1100, "airingAt": int(time.time()) + DAY}]
    with app.app_context():
        sync.work_once()
        sync.work_once()  # not due again within the hour
    assert len(airing_requests(fake)) == 1
    assert [e for e, _ in schedule_of(app, 21)] == [1100]


def test_the_command_shows_progress_and_a_summary(refresh_app, fake):
    keep(refresh_app, fake, [21])
    fake.relations[21] = [("PREQUEL", 1)]
    result = refresh_app.test_cli_runner().invoke(args=["tracker", "refresh-airing"])
    assert result.exit_code == 0, result.output
    assert "1 titles due" in result.output and "1 relations" in result.output


def test_the_command_fails_with_a_message_when_anilist_is_down(refresh_app, fake):
    keep(refresh_app, fake, [21])
    fake.down = True
    result = refresh_app.test_cli_runner().invoke(args=["tracker", "refresh-airing"])
    assert result.exit_code == 1 and "unreachable" in result.output

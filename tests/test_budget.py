"""The AniList budget kept in the database is shared by every process."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine

from tests.fakes import FakeClock
from tracker.extensions import db
from tracker.models import SearchCacheEntry
from tracker.services import sync
from tracker.services.remote import DatabaseBudget, DatabaseCache, remote


@pytest.fixture
def engines(app):
    """Two engines on the test database: two processes' worth of connections."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    first, second = create_engine(url), create_engine(url)
    yield first, second
    first.dispose()
    second.dispose()


def test_two_processes_share_one_budget(engines):
    clock = FakeClock()
    one = DatabaseBudget(engines[0], "anilist", 3, clock=clock, sleep=clock.sleep)
    two = DatabaseBudget(engines[1], "anilist", 3, clock=clock, sleep=clock.sleep)
    taken = [one.acquire(block=False), two.acquire(block=False), one.acquire(block=False)]
    assert taken == [True, True, True]
    assert two.acquire(block=False) is False
    assert one.seconds_until_free() == pytest.approx(20.0)


def test_the_budget_refills_with_time(engines):
    clock = FakeClock()
    budget = DatabaseBudget(engines[0], "anilist", 60, burst=1, clock=clock, sleep=clock.sleep)
    assert budget.acquire(block=False)
    assert not budget.acquire(block=False)
    clock.now += 1.0
    assert budget.acquire(block=False)


def test_a_blocking_acquire_waits_for_the_next_token(engines):
    clock = FakeClock()
    budget = DatabaseBudget(engines[0], "anilist", 30, burst=1, clock=clock, sleep=clock.sleep)
    budget.acquire()
    assert budget.acquire(block=True, timeout=5)
    assert clock.slept == [pytest.approx(2.0)]


def test_a_penalty_closes_the_budget_for_everyone(engines):
    clock = FakeClock()
    one = DatabaseBudget(engines[0], "anilist", 600, clock=clock, sleep=clock.sleep)
    two = DatabaseBudget(engines[1], "anilist", 600, clock=clock, sleep=clock.sleep)
    one.penalise(60)
    assert two.acquire(block=False) is False
    assert two.seconds_until_free() == pytest.approx(60.0)
    clock.now += 60.5
    assert two.acquire(block=False) is True


def test_simultaneous_takers_never_overspend(engines):
    clock = FakeClock()
    budgets = [
        DatabaseBudget(engines[n % 2], "anilist", 5, clock=clock, sleep=clock.sleep)
        for n in range(8)
    ]
    start = threading.Barrier(len(budgets))
    results: list[bool] = []

    def take(budget: DatabaseBudget) -> None:
        start.wait()
        results.append(budget.acquire(block=False))

    threads = [threading.Thread(target=take, args=(b,)) for b in budgets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 5


def test_cached_answers_expire(engines):
    clock = FakeClock()
    cache = DatabaseCache(engines[0], clock=clock)
    cache.set("search:anilist:any:bebop", {"state": "ok", "records": []}, ttl=10)
    assert cache.get("search:anilist:any:bebop") == {"state": "ok", "records": []}
    clock.now += 11
    assert cache.get("search:anilist:any:bebop") is None
    assert cache.purge_expired() == 1


def test_the_worker_removes_expired_answers(remote_app):
    with remote_app.app_context():
        remote().cache.set("search:anilist:any:old", {"state": "ok", "records": []}, ttl=-1)
        remote().cache.set("search:anilist:any:new", {"state": "ok", "records": []}, ttl=60)
        sync.work_once()
        keys = [e.key for e in db.session.query(SearchCacheEntry).all()]
    assert keys == ["search:anilist:any:new"]

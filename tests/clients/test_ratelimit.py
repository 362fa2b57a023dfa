"""The request budget shared by every user and process."""

from __future__ import annotations

import threading

import pytest
import redis

from tests.fakes import FakeClock, closed_url
from tracker.clients import MemoryBudget, RedisBudget, RequestBudget, Unavailable


def test_budgets_follow_the_protocol() -> None:
    assert isinstance(MemoryBudget(30), RequestBudget)


def test_budget_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError):
        MemoryBudget(0)


def test_a_burst_is_allowed_then_refused(clock: FakeClock) -> None:
    budget = MemoryBudget(60, burst=3, clock=clock)

    assert [budget.acquire(block=False) for _ in range(4)] == [True, True, True, False]
    assert budget.seconds_until_free() == pytest.approx(1.0)


def test_the_budget_refills_at_its_rate(clock: FakeClock) -> None:
    budget = MemoryBudget(60, burst=1, clock=clock)
    assert budget.acquire(block=False)

    clock.now += 0.5
    assert not budget.acquire(block=False)
    assert budget.seconds_until_free() == pytest.approx(0.5)
    clock.now += 0.5
    assert budget.acquire(block=False)


def test_a_full_budget_does_not_grow_past_its_burst(clock: FakeClock) -> None:
    budget = MemoryBudget(60, burst=2, clock=clock)
    clock.now += 3600

    assert [budget.acquire(block=False) for _ in range(3)] == [True, True, False]


def test_blocking_acquire_waits_for_the_next_request(clock: FakeClock) -> None:
    budget = MemoryBudget(30, burst=1, clock=clock, sleep=clock.sleep)
    budget.acquire()

    assert budget.acquire(block=True, timeout=5)
    assert clock.slept == [pytest.approx(2.0)]


def test_blocking_acquire_gives_up_at_once_when_the_wait_exceeds_the_timeout(
    clock: FakeClock,
) -> None:
    budget = MemoryBudget(6, burst=1, clock=clock, sleep=clock.sleep)
    budget.acquire()

    assert not budget.acquire(block=True, timeout=5)
    assert clock.slept == []


def test_a_penalty_closes_the_budget_then_it_refills_from_empty(clock: FakeClock) -> None:
    budget = MemoryBudget(60, burst=5, clock=clock)
    budget.penalise(60)

    assert budget.seconds_until_free() == pytest.approx(60)
    assert not budget.acquire(block=False)
    clock.now += 60
    assert not budget.acquire(block=False)  # empty: a gentle restart
    clock.now += 1
    assert budget.acquire(block=False)
    assert not budget.acquire(block=False)


def test_a_shorter_penalty_does_not_shorten_a_longer_one(clock: FakeClock) -> None:
    budget = MemoryBudget(60, clock=clock)
    budget.penalise(60)
    budget.penalise(5)

    assert budget.seconds_until_free() == pytest.approx(60)


def test_threads_never_take_more_than_the_budget(clock: FakeClock) -> None:
    budget = MemoryBudget(60, burst=10, clock=clock)
    start = threading.Barrier(40)
    granted: list[bool] = []

    def take() -> None:
        start.wait()
        granted.append(budget.acquire(block=False))

    threads = [threading.Thread(target=take) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert granted.count(True) == 10


# --- Redis: one bucket for every process ---------------------------------------------


def test_redis_budget_is_shared_between_instances(
    redis_client: redis.Redis, redis_key: str, clock: FakeClock
) -> None:
    first = RedisBudget(redis_client, redis_key, 60, burst=2, clock=clock)
    second = RedisBudget(redis_client, redis_key, 60, burst=2, clock=clock)

    assert first.acquire(block=False)
    assert second.acquire(block=False)
    assert not first.acquire(block=False)
    assert not second.acquire(block=False)
    assert second.seconds_until_free() == pytest.approx(1.0)


def test_redis_penalty_reaches_every_instance(
    redis_client: redis.Redis, redis_key: str, clock: FakeClock
) -> None:
    first = RedisBudget(redis_client, redis_key, 60, clock=clock)
    second = RedisBudget(redis_client, redis_key, 60, clock=clock)

    first.penalise(30)

    assert second.seconds_until_free() == pytest.approx(30)
    assert not second.acquire(block=False)
    clock.now += 31
    assert second.acquire(block=False)


def test_redis_budget_refills_over_time(
    redis_client: redis.Redis, redis_key: str, clock: FakeClock
) -> None:
    budget = RedisBudget(redis_client, redis_key, 60, burst=1, clock=clock)
    assert budget.acquire(block=False)
    assert not budget.acquire(block=False)

    clock.now += 1
    assert budget.acquire(block=False)


def test_redis_blocking_acquire_waits_then_takes(
    redis_client: redis.Redis, redis_key: str, clock: FakeClock
) -> None:
    budget = RedisBudget(redis_client, redis_key, 30, burst=1, clock=clock, sleep=clock.sleep)
    budget.acquire()

    assert budget.acquire(block=True, timeout=10)
    assert clock.slept == [pytest.approx(2.0)]


def test_redis_budgets_with_different_keys_are_independent(
    redis_client: redis.Redis, redis_key: str, clock: FakeClock
) -> None:
    other_key = f"{redis_key}:other"
    first = RedisBudget(redis_client, redis_key, 60, burst=1, clock=clock)
    other = RedisBudget(redis_client, other_key, 60, burst=1, clock=clock)
    try:
        assert first.acquire(block=False)
        assert other.acquire(block=False)
    finally:
        redis_client.delete(other_key)


def test_redis_budget_uses_the_server_clock_by_default(
    redis_client: redis.Redis, redis_key: str
) -> None:
    budget = RedisBudget(redis_client, redis_key, 1, burst=2)

    assert budget.acquire(block=False)
    assert budget.acquire(block=False)
    assert not budget.acquire(block=False)
    assert 55 < budget.seconds_until_free() <= 60


def test_unreachable_redis_is_reported_as_unavailable() -> None:
    client = redis.Redis.from_url(closed_url().replace("http", "redis"), socket_connect_timeout=1)
    budget = RedisBudget(client, "tracker-test:unreachable", 60)

    with pytest.raises(Unavailable):
        budget.acquire(block=False)

"""Fixtures for the client tests: fakes served over real HTTP, a fake clock, Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.fakes import FakeClock, Sleeps
from tests.fakes.anilist import FakeAniList, FakeUser
from tests.fakes.mangadex import FakeMangaDex
from tracker.clients import AniListClient, MangaDexClient, MemoryBudget


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def anilist(fake_anilist: tuple[FakeAniList, str], sleeps: Sleeps) -> AniListClient:
    """An anonymous client of the fake with a roomy budget and no real waiting."""
    return AniListClient(fake_anilist[1], budget=MemoryBudget(6000), sleep=sleeps)


@pytest.fixture
def viewer(fake_anilist: tuple[FakeAniList, str]) -> tuple[FakeUser, str]:
    """A user of the fake AniList and their access token."""
    fake = fake_anilist[0]
    user = fake.add_user("ayaka", score_format="POINT_10")
    return user, fake.issue_token(user.id)


@pytest.fixture
def mangadex(fake_mangadex: tuple[FakeMangaDex, str], sleeps: Sleeps) -> MangaDexClient:
    return MangaDexClient(
        fake_mangadex[1],
        budget=MemoryBudget(6000),
        sleep=sleeps,
        covers_url="https://covers.test/covers",
    )


@pytest.fixture
def redis_key(redis_client: redis.Redis) -> Iterator[str]:
    """A bucket key no other test (or xdist worker) shares; removed afterwards."""
    key = f"tracker-test:budget:{uuid.uuid4().hex}"
    yield key
    redis_client.delete(key)

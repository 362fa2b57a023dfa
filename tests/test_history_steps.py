"""Runs of +1 read as one history entry (``history.group_steps``), newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.services.history import EventView, StepsView, group_steps

START = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def event(n: int, changes: dict, *, origin: str = "web", kind: str = "updated") -> EventView:
    return EventView(n, 1, START + timedelta(minutes=n), origin, kind, changes)


def steps(first: int, last: int, *, origin: str = "web", at: int = 0) -> list[EventView]:
    """+1s from ``first`` to ``last``, newest first, the first one at minute ``at``."""
    return [event(at + p - first, {"progress": [p, p + 1]}, origin=origin)
            for p in reversed(range(first, last))]  # fmt: skip


def test_a_run_of_plus_ones_is_one_entry_from_the_first_value_to_the_last():
    (run,) = group_steps(steps(3, 15))
    assert isinstance(run, StepsView)
    assert (run.start, run.end, run.count, run.origin) == (3, 15, 12, "web")
    assert (run.since, run.at) == (START, START + timedelta(minutes=11))


def test_a_lone_plus_one_stays_as_it_was():
    (only,) = group_steps(steps(3, 4))
    assert isinstance(only, EventView) and only.changes == {"progress": [3, 4]}


def test_another_change_or_another_origin_ends_the_run():
    newest = steps(10, 12, at=20)
    note = [event(15, {"notes": [None, "x"]})]
    synced = steps(8, 10, origin="anilist", at=10)
    oldest = steps(5, 8)
    grouped = group_steps([*newest, *note, *synced, *oldest])
    assert [(g.kind, getattr(g, "origin", None)) for g in grouped] == [
        ("steps", "web"), ("updated", "web"), ("steps", "anilist"), ("steps", "web")]  # fmt: skip
    assert [(g.start, g.end) for g in grouped if isinstance(g, StepsView)] == [
        (10, 12), (8, 10), (5, 8)]  # fmt: skip


def test_a_plus_one_that_also_moved_the_status_is_not_folded_in():
    completing = event(9, {"progress": [11, 12], "status": ["current", "completed"]})
    grouped = group_steps([completing, *steps(8, 11)])
    assert grouped[0] is completing
    assert (grouped[1].start, grouped[1].end) == (8, 11)


def test_conflicts_and_other_kinds_are_never_grouped():
    created = event(0, {"title": [None, "Frieren"]}, kind="created")
    assert group_steps([created]) == [created]
    assert group_steps([]) == []

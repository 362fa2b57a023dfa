"""Partial dates: what the API, the forms and the AniList sync agree a date is."""

from __future__ import annotations

import pytest

from tracker.dates import fuzzy_date_to_partial, parse_partial_date, partial_to_fuzzy_date


@pytest.mark.parametrize(
    "text",
    ["2024", "2024-05", "2024-05-17", "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31"],
)
def test_real_partial_dates_are_accepted_as_given(text):
    assert parse_partial_date(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "2024-00", "2024-05-00", "2024-13", "2024-02-30", "2024-04-31",
        "2023-02-29", "1900-02-29",  # not leap years
        "0000", "24", "20240", "2024-5", "2024-05-7", "2024/05/17", "May 2024",
        "２０２４", "２０２４-０５", "٢٠٢٤",  # digits, but not ASCII ones
        "", " 2024", "2024 ", "2024\n", "2024-05-17T00:00",
    ],
)  # fmt: skip
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_partial_date(text)


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        ((2024, 5, 17), "2024-05-17"),
        ((2024, 5, None), "2024-05"),
        ((2024, None, None), "2024"),
        ((None, None, None), None),
    ],
)
def test_fuzzy_dates_and_partial_dates_convert_both_ways(parts, text):
    assert fuzzy_date_to_partial(*parts) == text
    assert partial_to_fuzzy_date(text) == parts


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        ((2024, 0, 5), "2024"),  # AniList's 0 means unknown: keep the year, drop what follows
        ((2024, None, 5), "2024"),
        ((2024, 5, 0), "2024-05"),
        ((None, 5, 17), None),
        ((0, 5, 17), None),
        ((2024, 13, 1), "2024"),  # no such month
        ((2023, 2, 29), "2023-02"),  # no such day
    ],
)
def test_a_pull_keeps_what_anilist_knows(parts, text):
    assert fuzzy_date_to_partial(*parts) == text


def test_an_empty_date_is_no_fuzzy_date():
    assert partial_to_fuzzy_date("") == (None, None, None)


def test_a_bad_date_is_no_fuzzy_date_either():
    with pytest.raises(ValueError):
        partial_to_fuzzy_date("2024-00")

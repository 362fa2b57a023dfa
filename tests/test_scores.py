"""Scores in each of AniList's formats over the stored 0-100: shown, read back, kept."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tracker import scores
from tracker.scores import POINT_3, POINT_5, POINT_10, POINT_10_DECIMAL, POINT_100

ALL_SCORES = [None, *range(0, 101)]


@pytest.mark.parametrize(
    ("score", "score_format", "shown"),
    [
        (85, POINT_100, "85"),
        (85, POINT_10_DECIMAL, "8.5"),
        (80, POINT_10_DECIMAL, "8.0"),
        (85, POINT_10, "9"),
        (84, POINT_10, "8"),
        (85, POINT_5, "★★★★☆"),
        (90, POINT_5, "★★★★★"),
        (100, POINT_5, "★★★★★"),
        (35, POINT_3, "😞"),
        (36, POINT_3, "😐"),
        (60, POINT_3, "😐"),
        (61, POINT_3, "🙂"),
        (0, POINT_100, "0"),
        (0, POINT_10_DECIMAL, "0.0"),
        (0, POINT_10, "0"),
        (100, POINT_100, "100"),
        (100, POINT_10_DECIMAL, "10.0"),
        (100, POINT_10, "10"),
        (100, POINT_3, "🙂"),
    ],
)
def test_a_score_reads_in_the_chosen_format(score, score_format, shown):
    assert scores.label(score, score_format) == shown


@pytest.mark.parametrize("score_format", scores.FORMATS)
def test_no_score_reads_as_a_dash_in_every_format(score_format):
    assert scores.label(None, score_format) == "–"
    assert scores.spoken(None, score_format) == "No score"
    assert scores.field_value(None, score_format) == ""


@pytest.mark.parametrize("score_format", [POINT_5, POINT_3])
def test_zero_reads_as_no_score_with_stars_and_smileys_as_on_anilist(score_format):
    assert scores.label(0, score_format) == "–"


@pytest.mark.parametrize("score_format", [POINT_10, POINT_5, POINT_3])
def test_a_small_positive_score_never_reads_as_nothing(score_format):
    assert scores.to_format(1, score_format) == 1


def test_stars_and_smileys_have_words_for_screen_readers():
    assert scores.spoken(85, POINT_5) == "4 of 5 stars"
    assert [scores.spoken(s, POINT_3) for s in (20, 50, 85)] == ["Disliked", "Neutral", "Liked"]
    assert scores.spoken(85, POINT_10_DECIMAL) == "8.5 of 10"


@pytest.mark.parametrize(
    ("text", "score_format", "stored"),
    [
        ("85", POINT_100, 85),
        ("0", POINT_100, 0),
        ("100", POINT_100, 100),
        ("8.5", POINT_10_DECIMAL, 85),
        ("8,5", POINT_10_DECIMAL, 85),
        ("10", POINT_10_DECIMAL, 100),
        ("0.1", POINT_10_DECIMAL, 1),
        ("9", POINT_10, 90),
        ("4", POINT_5, 80),
        ("5", POINT_5, 100),
        ("1", POINT_3, 35),
        ("2", POINT_3, 60),
        ("3", POINT_3, 85),
        ("", POINT_100, None),
        ("  ", POINT_5, None),
    ],
)
def test_a_typed_or_picked_score_is_stored_as_0_to_100(text, score_format, stored):
    assert scores.from_form(text, score_format) == stored


@pytest.mark.parametrize(
    ("text", "score_format"),
    [
        ("101", POINT_100),
        ("-1", POINT_100),
        ("8.5", POINT_100),
        ("10.5", POINT_10_DECIMAL),
        ("8.55", POINT_10_DECIMAL),
        ("11", POINT_10),
        ("8.5", POINT_10),
        ("6", POINT_5),
        ("4", POINT_3),
        ("abc", POINT_100),
        ("1e2", POINT_100),
        ("٨٥", POINT_100),  # Arabic-Indic digits: int() reads them, the pattern does not
        ("8\x00", POINT_10),
        ("9" * 5000, POINT_100),
    ],
)
def test_a_score_the_format_does_not_allow_is_refused_with_what_would_be(text, score_format):
    with pytest.raises(scores.ScoreError) as refused:
        scores.from_form(text, score_format)
    assert refused.value.message


@pytest.mark.parametrize("score_format", scores.FORMATS)
@pytest.mark.parametrize("score", ALL_SCORES)
def test_a_score_shown_and_saved_back_unchanged_keeps_the_stored_score(score, score_format):
    shown = scores.field_value(score, score_format)
    was = "" if score is None else str(score)
    assert scores.from_form(shown, score_format, was=was) is scores.KEEP


@pytest.mark.parametrize("score_format", scores.FORMATS)
@pytest.mark.parametrize("score", ALL_SCORES)
def test_reading_a_shown_score_back_shows_the_same(score, score_format):
    """Without ``score_was`` (a row control): what is stored reads as what was shown."""
    stored = scores.from_form(scores.field_value(score, score_format), score_format)
    assert scores.label(stored, score_format) == scores.label(score, score_format)


def test_a_changed_value_is_stored_even_with_the_old_score_sent():
    assert scores.from_form("5", POINT_5, was="85") == 100
    assert scores.from_form("", POINT_5, was="85") is None


@pytest.mark.parametrize("was", ["abc", "101", "-5", "8.5", "\x00"])
def test_a_forged_old_score_is_ignored_not_trusted(was):
    assert scores.from_form("4", POINT_5, was=was) == 80


def test_the_lossless_formats_store_exactly_what_is_typed():
    for score in range(101):
        for score_format in (POINT_100, POINT_10_DECIMAL):
            assert scores.from_form(scores.field_value(score, score_format), score_format) == score
    assert scores.to_format(85, POINT_10_DECIMAL) == Decimal("8.5")


def test_selects_offer_none_and_every_star_or_smiley():
    stars = scores.choices(POINT_5)
    assert [value for value, _label, _words in stars] == ["", "1", "2", "3", "4", "5"]
    assert stars[4][1:] == ("★★★★☆", "4 of 5 stars")
    assert [label for _value, label, _words in scores.choices(POINT_3)] == ["–", "😞", "😐", "🙂"]
    assert scores.choices(POINT_100) is None


def test_number_inputs_step_as_the_format_does():
    assert scores.bounds(POINT_100) == ("100", "1")
    assert scores.bounds(POINT_10_DECIMAL) == ("10", "0.1")
    assert scores.bounds(POINT_10) == ("10", "1")


def test_an_unknown_format_falls_back_to_100_points():
    assert scores.format_or_default("POINT_7") == POINT_100
    assert scores.format_or_default(None) == POINT_100

"""Scores in the person's format: AniList's five, over the 0-100 that is stored.

The database, the API and AniList's ``scoreRaw`` speak 0-100; only the pages show and
read the chosen format. The lossy formats round as AniList does (85 is 9 points, 4
stars, a smile), so the pages send back what they showed (``score_was``) and a value
that still reads the same is kept as stored, not rounded (``from_form``). No Flask here.
"""

from __future__ import annotations

import re
from decimal import Decimal

POINT_100 = "POINT_100"
POINT_10_DECIMAL = "POINT_10_DECIMAL"
POINT_10 = "POINT_10"
POINT_5 = "POINT_5"
POINT_3 = "POINT_3"
FORMATS = (POINT_100, POINT_10_DECIMAL, POINT_10, POINT_5, POINT_3)
DEFAULT_FORMAT = POINT_100
FORMAT_NAMES = {
    POINT_100: "100-point (85)",
    POINT_10_DECIMAL: "10-point decimal (8.5)",
    POINT_10: "10-point (9)",
    POINT_5: "5 stars (★★★★☆)",
    POINT_3: "3 smileys (🙂)",
}

# A smiley and its words; AniList stores each as 35, 60 and 85, and reads up to 35 as
# disliked and up to 60 as neutral.
SMILEYS = {1: ("😞", "Disliked"), 2: ("😐", "Neutral"), 3: ("🙂", "Liked")}
_SMILEY_SCORES = {1: 35, 2: 60, 3: 85}
_SMILEY_TOPS = ((35, 1), (60, 2))
STARS = 5

# What each format accepts as typed: (pattern, the largest value, the message).
_INPUT = {
    POINT_100: (re.compile(r"^[0-9]{1,3}$"), 100, "Use a whole number from 0 to 100."),
    POINT_10_DECIMAL: (re.compile(r"^[0-9]{1,2}(?:[.,][0-9])?$"), 10,
                       "Use a number from 0 to 10 with at most one decimal, like 8.5."),
    POINT_10: (re.compile(r"^[0-9]{1,2}$"), 10, "Use a whole number from 0 to 10."),
    POINT_5: (re.compile(r"^[0-5]$"), STARS, "Pick from none to 5 stars."),
    POINT_3: (re.compile(r"^[0-3]$"), 3, "Pick a smiley, or none."),
}  # fmt: skip

Shown = int | Decimal | None
KEEP = object()  # ``from_form``: the score as stored stays


class ScoreError(ValueError):
    """A typed score the format does not allow; the message says what would be."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def format_or_default(score_format: str | None) -> str:
    return score_format if score_format in FORMATS else DEFAULT_FORMAT


def _half_up(score: int, per: int) -> int:
    return (2 * score + per) // (2 * per)


def to_format(score: int | None, score_format: str) -> Shown:
    """A stored 0-100 score in the format's own units; None for no score.

    A positive score never reads as nothing: at least 1 point or 1 star. With stars and
    smileys 0 reads as no score, as on AniList."""
    if score is None:
        return None
    if score_format == POINT_10_DECIMAL:
        return (Decimal(score) / 10).quantize(Decimal("0.1"))
    if score_format == POINT_10:
        return max(1, _half_up(score, 10)) if score else 0
    if score_format == POINT_5:
        return max(1, _half_up(score, 20)) if score else None
    if score_format == POINT_3:
        if not score:
            return None
        return next((smiley for top, smiley in _SMILEY_TOPS if score <= top), 3)
    return score


def to_score(value: Shown, score_format: str) -> int | None:
    """A value in the format's units as the 0-100 score to store."""
    if value is None:
        return None
    if score_format == POINT_10_DECIMAL:
        return int(value * 10)
    if score_format == POINT_10:
        return int(value) * 10
    if score_format == POINT_5:
        return int(value) * 20
    if score_format == POINT_3:
        return _SMILEY_SCORES.get(int(value), 0)
    return int(value)


def parse(text: str | None, score_format: str) -> Shown:
    """What a person typed or picked, in the format's units; ``ScoreError`` if refused."""
    text = (text or "").strip()
    if text == "":
        return None
    pattern, largest, message = _INPUT[score_format]
    if not pattern.fullmatch(text):
        raise ScoreError(message)
    value = Decimal(text.replace(",", ".")) if score_format == POINT_10_DECIMAL else int(text)
    if value > largest:
        raise ScoreError(message)
    return value.quantize(Decimal("0.1")) if isinstance(value, Decimal) else value


def from_form(text: str | None, score_format: str, was: str | None = None) -> int | object | None:
    """The 0-100 score a form field asks for, or ``KEEP`` when it reads the same as the
    score the page was drawn with (``was``, 0-100): showing 85 as 4 stars and saving the
    form again leaves 85, not 80."""
    value = parse(text, score_format)
    before = _stored(was)
    if before is not _UNKNOWN and to_format(before, score_format) == value:
        return KEEP
    return to_score(value, score_format)


_UNKNOWN = object()


def _stored(was: str | None) -> int | object | None:
    """The hidden ``score_was`` as a 0-100 score ("" is none); anything else is unknown."""
    if was is None:
        return _UNKNOWN
    was = was.strip()
    if was == "":
        return None
    if re.fullmatch(r"[0-9]{1,3}", was) and int(was) <= 100:
        return int(was)
    return _UNKNOWN


# --- how a score reads -----------------------------------------------------------------


def field_value(score: int | None, score_format: str) -> str:
    """The score as an input's or a select's value."""
    value = to_format(score, score_format)
    return "" if value is None else str(value)


def label(score: int | None, score_format: str) -> str:
    """The score as shown: ``85``, ``8.5``, ``9``, ``★★★★☆``, ``🙂``; an en dash for none."""
    value = to_format(score, score_format)
    if value is None:
        return "–"
    if score_format == POINT_5:
        return "★" * int(value) + "☆" * (STARS - int(value))
    if score_format == POINT_3:
        return SMILEYS[int(value)][0]
    return str(value)


def spoken(score: int | None, score_format: str) -> str:
    """The score in words, for screen readers and titles: ``4 of 5 stars``, ``Liked``."""
    value = to_format(score, score_format)
    if value is None:
        return "No score"
    if score_format == POINT_5:
        return f"{value} of {STARS} stars"
    if score_format == POINT_3:
        return SMILEYS[int(value)][1]
    return f"{value} of {100 if score_format == POINT_100 else 10}"


def choices(score_format: str) -> list[tuple[str, str, str]] | None:
    """(value, label, words) for a select: stars and smileys; None for the numbers."""
    if score_format == POINT_5:
        scores = [to_score(n, POINT_5) for n in range(1, STARS + 1)]
    elif score_format == POINT_3:
        scores = [to_score(n, POINT_3) for n in SMILEYS]
    else:
        return None
    return [("", "–", "No score")] + [
        (field_value(s, score_format), label(s, score_format), spoken(s, score_format))
        for s in scores
    ]


def bounds(score_format: str) -> tuple[str, str]:
    """(max, step) for a number input in the format."""
    return {
        POINT_10_DECIMAL: ("10", "0.1"),
        POINT_10: ("10", "1"),
    }.get(score_format, ("100", "1"))

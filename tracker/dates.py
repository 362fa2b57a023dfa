"""Partial dates, as AniList keeps them: "2024", "2024-05" or "2024-05-17".

The one home for reading and writing them, used by the request schemas (API and forms)
and by the AniList client (FuzzyDate in both directions). No Flask in here.
"""

from __future__ import annotations

import re
from datetime import date

# ASCII digits only (\d would also take full-width or Arabic-Indic digits, which int()
# reads but AniList refuses), year 0001 to 9999, months 01 to 12 and days that exist in
# their month. The OpenAPI document shows this pattern too; only Feb 29 in a year that is
# not leap needs the calendar.
_YEAR = r"([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_MONTH = r"(0[1-9]|1[0-2])"
_MONTH_DAY = (
    r"(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"|(0[13-9]|1[0-2])-(29|30)"
    r"|(0[13578]|1[02])-31"
    r"|02-29"
)
PARTIAL_DATE_PATTERN = rf"^{_YEAR}(-{_MONTH}|-({_MONTH_DAY}))?$"
_PARTIAL_DATE = re.compile(PARTIAL_DATE_PATTERN)

FuzzyDate = tuple[int | None, int | None, int | None]


def parse_partial_date(text: str) -> str:
    """``text`` checked as a real YYYY, YYYY-MM or YYYY-MM-DD; ValueError otherwise.

    Months are 01 to 12 and days exist in their month (Feb 29 only in leap years)."""
    if not _PARTIAL_DATE.fullmatch(text):
        raise ValueError(f"not a real date like 2024, 2024-05 or 2024-05-17: {text!r}")
    year, month, day = _parts(text)
    if day is not None:
        try:
            date(year, month, day)  # type: ignore[arg-type]
        except ValueError:
            raise ValueError(f"no such day: {text!r}") from None
    return text


def partial_to_fuzzy_date(text: str | None) -> FuzzyDate:
    """A partial date → (year, month, day), unknown parts None; None or "" → all None."""
    if not text:
        return (None, None, None)
    return _parts(parse_partial_date(text))


def _parts(text: str) -> FuzzyDate:
    numbers: list[int | None] = [int(part) for part in text.split("-")]
    year, month, day = numbers + [None] * (3 - len(numbers))
    return (year, month, day)


def fuzzy_date_to_partial(year: int | None, month: int | None, day: int | None) -> str | None:
    """AniList's (year, month, day) → the longest partial date that is known and real.

    AniList writes an unknown part as 0 or null; a part after an unknown one is dropped
    (``2024, 0, 5`` → "2024"), and so is one that names no real month or day."""
    if not year or not 1 <= year <= 9999:
        return None
    text = f"{year:04d}"
    if not month or not 1 <= month <= 12:
        return text
    text += f"-{month:02d}"
    if not day:
        return text
    try:
        date(year, month, day)
    except ValueError:
        return text
    return f"{text}-{day:02d}"

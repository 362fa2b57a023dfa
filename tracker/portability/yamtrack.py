"""Yamtrack's CSV export (``db_to_csv``) read into ``ImportRow``: anime and manga rows;
movies, TV and games are counted and skipped (this tracker keeps anime and manga only).

Yamtrack quotes every field, ends lines with CRLF, writes scores 0 to 10 with one decimal
and ``0001-01-01`` for "no date" on some rows.
"""

from __future__ import annotations

import csv
import io

from tracker.dates import parse_partial_date
from tracker.portability import ImportRow, ParsedFile, Skipped, UnreadableFile

COLUMNS = ("media_id", "source", "media_type", "title", "score", "progress", "status",
           "repeats", "start_date", "end_date", "notes")  # fmt: skip
STATUSES = {
    "in progress": "current",
    "completed": "completed",
    "repeating": "repeating",
    "planning": "planning",
    "paused": "paused",
    "dropped": "dropped",
}
NO_DATE = "0001-01-01"
MAX_COUNT = 100_000
MAX_TEXT = 10_000
MAX_FIELD = 1024 * 1024  # csv's own limit is 128 KiB; a long note is still a note


def read(data: bytes) -> ParsedFile:
    text = decode(data)
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise UnreadableFile(f"The CSV cannot be read: {error}.") from None
    if header is None:
        raise UnreadableFile("The file is empty.")
    names = [name.strip().lower() for name in header]
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise UnreadableFile(
            "This CSV is not a Yamtrack export: it lacks the column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}."
        )
    where = {name: names.index(name) for name in COLUMNS}
    parsed = ParsedFile("yamtrack")
    row_number = 1
    try:
        for row_number, cells in enumerate(reader, start=2):  # the header is line 1
            if not any(cell.strip() for cell in cells):
                continue
            values = {name: cells[i].strip() if i < len(cells) else "" for name, i in where.items()}
            title = values["title"] or None
            if len(cells) != len(names):
                reason = f"The row has {len(cells)} fields where the header has {len(names)}."
                parsed.skipped.append(Skipped(row_number, title, reason))
                continue
            media_type = values["media_type"].lower()
            if media_type not in ("anime", "manga"):
                kind = media_type[:20] or "typeless"
                reason = f"A {kind} entry: this tracker keeps anime and manga only."
                parsed.skipped.append(Skipped(row_number, title, reason))
                continue
            try:
                parsed.rows.append(_row(row_number, media_type, values))
            except ValueError as error:
                parsed.skipped.append(Skipped(row_number, title, str(error)))
    except csv.Error as error:
        raise UnreadableFile(f"The CSV is broken at line {row_number + 1}: {error}.") from None
    return parsed


def decode(data: bytes) -> str:
    """UTF-8 (a byte-order mark is dropped); anything else is refused by name."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16").encode("utf-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"The file is not UTF-8 text (byte {error.start + 1} is not UTF-8): save it "
            "as UTF-8 and try again."
        ) from None


def _row(number: int, media_type: str, values: dict[str, str]) -> ImportRow:
    if any("\x00" in value for value in values.values()):
        raise ValueError("The row holds a NUL character, which no text has.")
    title = values["title"]
    if not title:
        raise ValueError("The row has no title.")
    if len(title) > 500:
        raise ValueError("The title is longer than 500 characters.")
    status = STATUSES.get(values["status"].lower())
    if status is None:
        raise ValueError(f"Unknown status {values['status'][:30]!r}.")
    notes = values["notes"] or None
    if notes and len(notes) > MAX_TEXT:
        raise ValueError(f"The notes are longer than {MAX_TEXT} characters.")
    mal_id = None
    if values["source"].lower() == "mal":
        mal_id = _count(values["media_id"], "media_id") or None
    return ImportRow(
        row=number,
        type=media_type,
        title=title,
        status=status,
        progress=_count(values["progress"], "progress"),
        score=_score(values["score"]),
        notes=notes,
        repeat=_count(values["repeats"], "repeats"),
        started_on=_date(values["start_date"]),
        completed_on=_date(values["end_date"]),
        mal_id=mal_id,
    )


def _count(text: str, what: str) -> int:
    if not text:
        return 0
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"The {what} is not a whole number ≥ 0: {text[:20]!r}.")
    value = int(text)
    if value > MAX_COUNT and what != "media_id":
        raise ValueError(f"The {what} ({value}) is beyond any real title.")
    return value


def _score(text: str) -> int | None:
    """0 to 10 with one decimal → 0 to 100; empty is not scored."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"The score is not a number: {text[:20]!r}.") from None
    if not 0 <= value <= 10:  # also refuses nan and inf
        raise ValueError(f"The score {text[:20]!r} is not between 0 and 10.")
    return round(value * 10) or None


def _date(text: str) -> str | None:
    if not text or text == NO_DATE:
        return None
    try:
        return parse_partial_date(text)
    except ValueError:
        raise ValueError(f"Not a date: {text[:20]!r}.") from None

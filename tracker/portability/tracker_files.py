"""This app's own files: a JSON export that holds everything (history included) and a
CSV for spreadsheets, written as text chunks and read back into ``ImportRow``s.

JSON::

    {"format": "tracker", "version": 1, "exported_at": "…", "username": "…",
     "items": [{<ITEM_FIELDS>, "events": [{<EVENT_FIELDS>}, …]}, …]}

CSV: a header row of ``ITEM_FIELDS`` (any order when read), one row per item, UTF-8
without a BOM, ``\\r\\n`` line ends; ``custom_lists`` joined with ``"; "``; a cell that a
spreadsheet would run as a formula gets a leading ``'``, which the reader takes off again.

Both readers check every value as the API would and skip a bad row with the reason
(``Skipped``); a file that is not of this kind raises ``UnreadableFile``. No Flask, no
database: the export and import services do the reading and writing of the library.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO

from tracker.dates import parse_partial_date
from tracker.models import MEDIA_SOURCES, MEDIA_TYPES, STATUSES, Origin
from tracker.portability import EXPORT_VERSION, ImportRow, ParsedFile, Skipped, UnreadableFile
from tracker.schemas import MAX_LIST_NAME, MAX_NOTES, MAX_PROGRESS, MAX_TITLE, WebUrl

FORMAT_NAME = "tracker"
# Every field of an exported item, in the order both files write them.
ITEM_FIELDS = (
    "type", "title", "status", "progress", "progress_volumes", "max_progress", "score",
    "notes", "repeat", "private", "started_on", "completed_on", "created_at", "updated_at",
    "source", "anilist_id", "mal_id", "mangadex_id", "cover_url", "custom_lists",
)  # fmt: skip
EVENT_FIELDS = ("at", "origin", "kind", "changes", "resolved_at", "resolution")
EVENT_KINDS = ("created", "updated", "deleted", "conflict")
ORIGINS = tuple(origin.value for origin in Origin)
RESOLUTIONS = ("local", "remote")
CSV_COLUMNS = ITEM_FIELDS
LIST_SEPARATOR = "; "
MAX_REMOTE_ID = 10**9
MAX_MANGADEX_ID = 64
_BOM = b"\xef\xbb\xbf"
# A cell a spreadsheet would run as a formula: one starting with = + - @, a tab or a CR,
# maybe behind quote marks (so that a cell starting with ' stays apart from a guarded one).
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


# --- writing --------------------------------------------------------------------------


def _timestamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def item_record(item: Mapping[str, Any]) -> dict[str, Any]:
    """The exported fields of one item (a mapping holding at least ``ITEM_FIELDS``),
    timestamps as ISO 8601 UTC."""
    record = {name: item[name] for name in ITEM_FIELDS}
    record["created_at"] = _timestamp(item["created_at"])
    record["updated_at"] = _timestamp(item["updated_at"])
    record["custom_lists"] = list(item["custom_lists"] or [])
    return record


def event_record(event: Mapping[str, Any]) -> dict[str, Any]:
    record = {name: event[name] for name in EVENT_FIELDS}
    record["at"] = _timestamp(event["at"])
    record["resolved_at"] = _timestamp(event["resolved_at"])
    return record


def write_json(
    items: Iterable[Mapping[str, Any]], *, username: str, exported_at: datetime
) -> Iterator[str]:
    """The JSON export, an item at a time (each item's ``events`` as given, oldest first)."""
    head = {"format": FORMAT_NAME, "version": EXPORT_VERSION,
            "exported_at": _timestamp(exported_at), "username": username}  # fmt: skip
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "items": ['
    separator = "\n"
    for item in items:
        record = item_record(item)
        record["events"] = [event_record(event) for event in item["events"]]
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


def guard_cell(text: str) -> str:
    """``text`` as a spreadsheet will show it, never run it: formulas get a leading '."""
    return "'" + text if _FORMULA.match(text) else text


def unguard_cell(text: str) -> str:
    """What ``guard_cell`` was given: exactly one guarding ' taken off, nothing else."""
    if text.startswith("'") and _FORMULA.match(text, 1):
        return text[1:]
    return text


def join_lists(names: Iterable[str]) -> str:
    """Custom list names in one cell, ``"; "`` between them (a ``;`` or ``\\`` in a name
    is escaped with ``\\``, so every name comes back whole)."""
    return LIST_SEPARATOR.join(n.replace("\\", "\\\\").replace(";", "\\;") for n in names)


def split_lists(text: str) -> list[str]:
    """The names ``join_lists`` joined (the space after each ``;`` is optional)."""
    names, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ";":
            names.append("".join(current))
            current = []
        else:
            current.append(char)
    names.append("".join(current) + ("\\" if escaped else ""))
    names[1:] = [name[1:] if name.startswith(" ") else name for name in names[1:]]
    return [name for name in names if name]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _timestamp(value) or ""
    if isinstance(value, list):
        return guard_cell(join_lists(value))
    return guard_cell(str(value))


def write_csv(items: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The CSV export: the header, then a row per item."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Iterable[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(CSV_COLUMNS)
    for item in items:
        yield line(_cell(item[name]) for name in CSV_COLUMNS)


# --- reading --------------------------------------------------------------------------


class _Refused(ValueError):
    """One value of a row is refused: the message says which and why."""


def _text_of(binary_file: BinaryIO, kind: str) -> str:
    data = binary_file.read()
    if not data.strip():
        raise UnreadableFile(f"The file is empty: it is not a Tracker {kind} export.")
    if data.startswith(_BOM):
        raise UnreadableFile(
            "The file starts with a byte-order mark (BOM); save it as UTF-8 without a BOM."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnreadableFile(
            f"The file is not UTF-8 text (line {line}, byte {exc.start + 1}): save it as UTF-8."
        ) from None


def _display_title(value: Any) -> str | None:
    return value[:MAX_TITLE] if isinstance(value, str) else None


def _whole(name: str, value: Any, low: int, high: int, *, optional: bool = True) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refused(f"{name} must be a whole number")
    if not low <= value <= high:
        raise _Refused(f"{name} must be between {low:,} and {high:,}")
    return value


def _string(name: str, value: Any, *, optional: bool = True, longest: int) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _Refused(f"{name} must be text")
    value = value.replace("\x00", "")  # PostgreSQL cannot store it; it means nothing
    if len(value) > longest:
        raise _Refused(f"{name} is longer than {longest:,} characters")
    return value


def _one_of(name: str, value: Any, choices: tuple[str, ...], *, optional: bool = False):
    if value is None and optional:
        return None
    if value is None:
        raise _Refused(f"{name} is missing (one of {', '.join(choices)})")
    if value not in choices:
        raise _Refused(f"{name} {repr(value)[:40]} is not one of {', '.join(choices)}")
    return value


def _date(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Refused(f"{name} must be a date like 2024, 2024-05 or 2024-05-17")
    try:
        return parse_partial_date(value)
    except ValueError:
        raise _Refused(
            f"{name} {value[:40]!r} is not a date like 2024, 2024-05 or 2024-05-17"
        ) from None


def _moment(name: str, value: Any, *, optional: bool = True) -> datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise _Refused(f"{name} must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Refused(
            f"{name} {value!r} is not an ISO 8601 time like 2024-05-17T12:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 just east of UTC
        raise _Refused(f"{name} {value!r} is out of range") from None


def _lists(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Refused("custom_lists must be a list of names")
    names = [_string("a custom list name", name, optional=False, longest=MAX_LIST_NAME)
             for name in value]  # fmt: skip
    if any(not name for name in names):
        raise _Refused("a custom list name is empty")
    return names


def _event(number: int, value: Any) -> dict[str, Any]:
    where = f"event {number}"
    if not isinstance(value, dict):
        raise _Refused(f"{where} is not an object")
    unknown = sorted(set(value) - set(EVENT_FIELDS))
    if unknown:
        raise _Refused(f"{where} has unknown fields: {', '.join(map(str, unknown))[:200]}")
    changes = value.get("changes", {})
    if not isinstance(changes, dict):
        raise _Refused(f"{where}: changes must be an object")
    return {
        "at": _moment(f"{where}: at", value.get("at"), optional=False),
        "origin": _one_of(f"{where}: origin", value.get("origin"), ORIGINS),
        "kind": _one_of(f"{where}: kind", value.get("kind"), EVENT_KINDS),
        "changes": changes,
        "resolved_at": _moment(f"{where}: resolved_at", value.get("resolved_at")),
        "resolution": _one_of(
            f"{where}: resolution", value.get("resolution"), RESOLUTIONS, optional=True
        ),
    }


def _events(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Refused("events must be a list")
    return [_event(number, event) for number, event in enumerate(value, start=1)]


def _import_row(row: int, values: Mapping[str, Any]) -> ImportRow:
    """One item's values (JSON types) checked as the API checks them."""
    title = _string("title", values.get("title"), longest=MAX_TITLE)
    if title is None or not title.strip():
        raise _Refused("the title is empty")
    private = values.get("private", False)
    if not isinstance(private, bool):
        raise _Refused("private must be true or false")
    cover_url = _string("cover_url", values.get("cover_url"), longest=1000)
    if cover_url is not None and not WebUrl.PATTERN.fullmatch(cover_url):
        raise _Refused("cover_url must be an address starting with http:// or https://")
    mangadex_id = _string("mangadex_id", values.get("mangadex_id"), longest=MAX_MANGADEX_ID)
    return ImportRow(
        row=row,
        type=_one_of("type", values.get("type"), MEDIA_TYPES),
        title=title,
        status=_one_of("status", values.get("status"), STATUSES),
        progress=_whole("progress", values.get("progress", 0), 0, MAX_PROGRESS, optional=False),
        progress_volumes=_whole(
            "progress_volumes", values.get("progress_volumes"), 0, MAX_PROGRESS
        ),
        max_progress=_whole("max_progress", values.get("max_progress"), 1, MAX_PROGRESS),
        score=_whole("score", values.get("score"), 0, 100),
        notes=_string("notes", values.get("notes"), longest=MAX_NOTES),
        repeat=_whole("repeat", values.get("repeat", 0), 0, MAX_PROGRESS, optional=False),
        private=private,
        started_on=_date("started_on", values.get("started_on")),
        completed_on=_date("completed_on", values.get("completed_on")),
        anilist_id=_whole("anilist_id", values.get("anilist_id"), 1, MAX_REMOTE_ID),
        mal_id=_whole("mal_id", values.get("mal_id"), 1, MAX_REMOTE_ID),
        mangadex_id=mangadex_id or None,
        custom_lists=_lists(values.get("custom_lists")),
        events=_events(values.get("events")),
        source=_one_of("source", values.get("source"), MEDIA_SOURCES, optional=True),
        cover_url=cover_url,
        created_at=_moment("created_at", values.get("created_at")),
        updated_at=_moment("updated_at", values.get("updated_at")),
    )


def _collect(format: str, entries: Iterable[tuple[int, Any]],
             read: Callable[[int, Any], ImportRow]) -> ParsedFile:  # fmt: skip
    parsed = ParsedFile(format=format)
    for row, entry in entries:
        try:
            parsed.rows.append(read(row, entry))
        except _Refused as refused:
            title = _display_title(entry.get("title")) if isinstance(entry, dict) else None
            parsed.skipped.append(Skipped(row, title, f"Row {row}: {refused}."))
    return parsed


def read_json(binary_file: BinaryIO) -> ParsedFile:
    """A Tracker JSON export; ``row`` is the item's place in ``items`` (1 = the first)."""
    text = _text_of(binary_file, "JSON")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "is it cut short, or a file of another kind?"
        ) from None
    except RecursionError:
        raise UnreadableFile("The JSON is nested too deeply to be a Tracker export.") from None
    except ValueError:  # an integer of thousands of digits
        raise UnreadableFile("The JSON holds a number too long to read.") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise UnreadableFile('This JSON is not a Tracker export (it has no "format": "tracker").')
    if document.get("version") != EXPORT_VERSION:
        raise UnreadableFile(
            f"This Tracker export is version {str(document.get('version'))[:20]}; "
            f"this server reads version {EXPORT_VERSION}."
        )
    unknown = sorted(set(document) - {"format", "version", "exported_at", "username", "items"})
    if unknown:
        raise UnreadableFile(f"Unknown fields in the export: {', '.join(unknown)[:200]}.")
    items = document.get("items")
    if not isinstance(items, list):
        raise UnreadableFile('The export has no "items" list.')
    return _collect("json", enumerate(items, start=1), _json_item)


def _json_item(row: int, entry: Any) -> ImportRow:
    if not isinstance(entry, dict):
        raise _Refused("not an object")
    unknown = sorted(set(entry) - {*ITEM_FIELDS, "events"})
    if unknown:
        raise _Refused(f"unknown fields: {', '.join(map(str, unknown))[:200]}")
    return _import_row(row, entry)


# How each CSV column's text becomes its JSON value (text as it is otherwise).
_INTEGER = re.compile(r"[0-9]{1,12}")
_BOOLEANS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False,
             "": False}  # fmt: skip
_NUMBER_COLUMNS = ("progress", "progress_volumes", "max_progress", "score", "repeat",
                   "anilist_id", "mal_id")  # fmt: skip
_DEFAULTS = {"progress": 0, "repeat": 0}


def _csv_value(name: str, text: str) -> Any:
    if name == "custom_lists":
        return split_lists(text)
    if name == "private":
        value = _BOOLEANS.get(text.strip().lower())
        if value is None:
            raise _Refused(f"private {text[:20]!r} must be true or false")
        return value
    if text == "":
        return _DEFAULTS.get(name)
    if name in _NUMBER_COLUMNS:
        if not _INTEGER.fullmatch(text.strip()):
            raise _Refused(f"{name} {text[:20]!r} must be a whole number")
        return int(text)
    return text


def read_csv(binary_file: BinaryIO) -> ParsedFile:
    """A Tracker CSV export; ``row`` is the spreadsheet's row (the header is row 1)."""
    text = _text_of(binary_file, "CSV")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
        columns = [unguard_cell(name).strip() for name in header]
        _check_columns(columns)
        return _collect("csv", _csv_rows(reader, columns), _csv_item)
    except csv.Error as exc:
        raise UnreadableFile(
            f"The CSV cannot be read past line {reader.line_num} ({exc}); is it cut short?"
        ) from None


def _check_columns(columns: list[str]) -> None:
    missing = [name for name in CSV_COLUMNS if name not in columns]
    extra = [name for name in columns if name not in CSV_COLUMNS]
    doubled = sorted({name for name in columns if columns.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    if extra:
        problems.append(f"unknown columns: {', '.join(extra)[:200]}")
    if doubled:
        problems.append(f"columns given twice: {', '.join(doubled)}")
    if problems:
        raise UnreadableFile(
            f"This is not a Tracker CSV export ({'; '.join(problems)}). "
            f"Its first row names these columns: {', '.join(CSV_COLUMNS)}."
        )


def _csv_rows(reader, columns: list[str]) -> Iterator[tuple[int, Any]]:
    for row, cells in enumerate(reader, start=2):
        if not cells:
            continue  # a blank line
        if len(cells) != len(columns):
            yield row, len(cells)
        else:
            yield row, {name: unguard_cell(cell) for name, cell in zip(columns, cells, strict=True)}


def _csv_item(row: int, entry: Any) -> ImportRow:
    if isinstance(entry, int):
        raise _Refused(f"it has {entry} cells where the header has {len(CSV_COLUMNS)}")
    return _import_row(row, {name: _csv_value(name, text) for name, text in entry.items()})

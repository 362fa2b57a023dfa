"""This app's own files, JSON and CSV: written and read back as they were, formulas
neutralised, hostile text kept whole, bad rows skipped with the reason and broken files
refused with a clear message."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from tracker.portability import EXPORT_VERSION, UnreadableFile
from tracker.portability.tracker_files import (
    CSV_COLUMNS,
    ITEM_FIELDS,
    guard_cell,
    join_lists,
    read_csv,
    read_json,
    split_lists,
    unguard_cell,
    write_csv,
    write_json,
)

CREATED = datetime(2024, 5, 17, 9, 30, 12, 345678, tzinfo=UTC)
UPDATED = datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
HOSTILE_TITLES = [
    "Frieren ]]> <![CDATA[ & <b>bold</b>",
    '=HYPERLINK("http://evil")',
    "+cmd|' /C calc'!A0",
    "-5 stars",
    "@SUM(A1)",
    "\tTabbed",
    "'=already quoted",
    "''@twice",
    "Emoji 🍙👩🏽‍💻 title",
    "\u202eRTL override \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "Controls \x01\x07\x1b\x7f\x85 end",
    'Quote " comma , semicolon ;',
]


def item(**fields) -> dict:
    base = {
        "type": "anime", "title": "Frieren", "status": "current", "progress": 3,
        "progress_volumes": None, "max_progress": None, "score": 85, "notes": None,
        "repeat": 0, "private": False, "started_on": "2024-05", "completed_on": None,
        "created_at": CREATED, "updated_at": UPDATED, "source": "anilist",
        "anilist_id": 154587, "mal_id": 52991, "mangadex_id": None, "cover_url": None,
        "custom_lists": [], "events": [],
    }  # fmt: skip
    return {**base, **fields}


def event(**fields) -> dict:
    base = {"at": CREATED, "origin": "web", "kind": "updated",
            "changes": {"progress": [2, 3]}, "resolved_at": None, "resolution": None}  # fmt: skip
    return {**base, **fields}


def written_event(**fields) -> dict:
    """An event as the JSON file holds it."""
    return {**event(at=CREATED.isoformat()), **fields}


def json_bytes(items: list[dict], username: str = "alice") -> bytes:
    chunks = write_json(items, username=username, exported_at=UPDATED)
    return "".join(chunks).encode()


def csv_bytes(items: list[dict]) -> bytes:
    return "".join(write_csv(items)).encode()


def as_row(record: dict) -> dict:
    """What a reader should give back for an item written from ``record``."""
    return {name: record[name] for name in (*ITEM_FIELDS, "events")}


def row_fields(row) -> dict:
    return {name: getattr(row, name) for name in (*ITEM_FIELDS, "events")}


# --- JSON -------------------------------------------------------------------------------


def test_the_json_export_has_the_documented_shape():
    document = json.loads(json_bytes([item(events=[event()])]))
    assert document["format"] == "tracker"
    assert document["version"] == EXPORT_VERSION
    assert document["username"] == "alice"
    assert document["exported_at"] == "2025-01-02T03:04:05.000006+00:00"
    [written] = document["items"]
    assert list(written) == [*ITEM_FIELDS, "events"]
    assert written["created_at"] == "2024-05-17T09:30:12.345678+00:00"
    assert written["events"] == [{"at": "2024-05-17T09:30:12.345678+00:00", "origin": "web",
                                  "kind": "updated", "changes": {"progress": [2, 3]},
                                  "resolved_at": None, "resolution": None}]  # fmt: skip


def test_an_empty_library_is_a_valid_json_export():
    parsed = read_json(io.BytesIO(json_bytes([])))
    assert parsed.format == "json"
    assert parsed.rows == [] and parsed.skipped == []


def test_every_field_and_the_history_come_back_from_json():
    records = [
        item(events=[event(kind="created", changes={}),
                     event(kind="conflict", origin="anilist",
                           changes={"winner": "local", "remote": {"score": 70}},
                           resolved_at=UPDATED, resolution="remote")]),
        item(type="manga", title="Dungeon Meshi", status="repeating", progress=97,
             progress_volumes=14, max_progress=97, score=None, notes="Reread\nwith friends",
             repeat=2, private=True, started_on="2019", completed_on="2023-12-24",
             source="mangadex", anilist_id=None, mal_id=None,
             mangadex_id="d773c8be-8e82-4ff1-a4e9-46171395319b",
             cover_url="https://example.org/cover.jpg", custom_lists=["Favourites", "a; b"]),
        item(title="Hand typed", source="manual", anilist_id=None, mal_id=None, score=0),
    ]  # fmt: skip
    parsed = read_json(io.BytesIO(json_bytes(records)))
    assert parsed.skipped == []
    assert [row.row for row in parsed.rows] == [1, 2, 3]
    assert [row_fields(row) for row in parsed.rows] == [as_row(r) for r in records]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_and_long_notes_survive_json(title):
    notes = (title + " ") * 10_000
    notes = notes[:10_000]
    parsed = read_json(io.BytesIO(json_bytes([item(title=title, notes=notes)])))
    assert parsed.skipped == []
    assert (parsed.rows[0].title, parsed.rows[0].notes) == (title, notes)


# --- CSV --------------------------------------------------------------------------------


def test_the_csv_export_is_a_header_and_a_row_per_item_with_crlf_and_no_bom():
    data = csv_bytes([item(), item(title="Mushishi", custom_lists=["A", "B"])])
    assert not data.startswith(b"\xef\xbb\xbf")
    lines = data.decode().split("\r\n")
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert lines[-1] == "" and len(lines) == 4
    assert lines[1].startswith("anime,Frieren,current,3,,,85,,0,false,2024-05,,2024-05-17T09")
    assert lines[2].endswith(",A; B")


@pytest.mark.parametrize(
    ("cell", "guarded"),
    [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-5 stars", "'-5 stars"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"), ("\rx", "'\rx"), ("'=x", "''=x"), ("'plain", "'plain"),
        ("plain", "plain"), ("a=b", "a=b"), ("", ""),
    ],
)  # fmt: skip
def test_cells_that_would_run_as_formulas_get_a_quote_and_lose_it_when_read(cell, guarded):
    assert guard_cell(cell) == guarded
    assert unguard_cell(guarded) == cell


def test_no_written_cell_starts_like_a_formula():
    data = csv_bytes([item(title=t, notes=t, custom_lists=[t]) for t in HOSTILE_TITLES])
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    for cells in rows[1:]:
        for cell in cells:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell


def test_every_field_comes_back_from_csv_except_the_history():
    records = [
        item(custom_lists=["Favourites", "a; b", "back\\slash", " spaced "]),
        item(type="manga", title="-5 stars", status="paused", progress=0,
             progress_volumes=0, max_progress=1, score=100, notes="=cmd\r\nsecond line",
             repeat=100_000, private=True, started_on=None, completed_on="2020-02-29",
             source="manual", anilist_id=None, mal_id=None,
             cover_url="https://example.org/a.png?x=1&y=2"),
    ]  # fmt: skip
    parsed = read_csv(io.BytesIO(csv_bytes(records)))
    assert parsed.format == "csv" and parsed.skipped == []
    assert [row.row for row in parsed.rows] == [2, 3]  # the spreadsheet's rows
    assert [row_fields(row) for row in parsed.rows] == [as_row(r) for r in records]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_and_long_notes_survive_csv(title):
    notes = ((title + "\r\n") * 10_000)[:10_000]
    parsed = read_csv(io.BytesIO(csv_bytes([item(title=title, notes=notes)])))
    assert parsed.skipped == []
    assert (parsed.rows[0].title, parsed.rows[0].notes) == (title, notes)


@pytest.mark.parametrize(
    "names",
    [[], ["one"], ["a;b", "c"], ["a\\", "b"], ["\\;", ";"], [" x", "y "], ["a; b; c"]],
)
def test_custom_list_names_come_back_whole_from_their_cell(names):
    assert split_lists(join_lists(names)) == names


def test_a_hand_typed_list_cell_needs_no_space_after_the_semicolon():
    assert split_lists("Favourites;Rewatch") == ["Favourites", "Rewatch"]


def test_csv_columns_may_come_in_any_order():
    header, row = csv_bytes([item()]).decode().split("\r\n")[:2]
    pairs = list(zip(header.split(","), row.split(","), strict=True))
    pairs.reverse()
    text = ",".join(p[0] for p in pairs) + "\r\n" + ",".join(p[1] for p in pairs) + "\r\n"
    parsed = read_csv(io.BytesIO(text.encode()))
    assert [row_fields(r) for r in parsed.rows] == [as_row(item())]


# --- bad rows ---------------------------------------------------------------------------


BAD_VALUES = [
    ({"status": "watching"}, "status 'watching' is not one of"),
    ({"status": None}, "status is missing"),
    ({"type": "novel"}, "type 'novel' is not one of"),
    ({"title": ""}, "the title is empty"),
    ({"title": "   "}, "the title is empty"),
    ({"title": "x" * 501}, "title is longer than 500"),
    ({"notes": "x" * 10_001}, "notes is longer than 10,000"),
    ({"progress": -1}, "progress must be between 0 and 100,000"),
    ({"progress": 100_001}, "progress must be between 0 and 100,000"),
    ({"progress": 2.5}, "progress must be a whole number"),
    ({"progress": True}, "progress must be a whole number"),
    ({"progress": "3"}, "progress must be a whole number"),
    ({"max_progress": 0}, "max_progress must be between 1 and 100,000"),
    ({"score": 101}, "score must be between 0 and 100"),
    ({"repeat": 10**400}, "repeat must be between 0 and 100,000"),
    ({"anilist_id": 0}, "anilist_id must be between 1"),
    ({"private": "yes"}, "private must be true or false"),
    ({"started_on": "2023-02-29"}, "started_on '2023-02-29' is not a date"),
    ({"completed_on": "2024-13"}, "completed_on '2024-13' is not a date"),
    ({"started_on": 2024}, "started_on must be a date"),
    ({"created_at": "yesterday"}, "created_at 'yesterday' is not an ISO 8601 time"),
    ({"source": "kitsu"}, "source 'kitsu' is not one of"),
    ({"cover_url": "javascript:alert(1)"}, "cover_url must be an address"),
    ({"custom_lists": "Favourites"}, "custom_lists must be a list"),
    ({"custom_lists": [""]}, "a custom list name is empty"),
    ({"custom_lists": [7]}, "a custom list name must be text"),
    ({"events": {}}, "events must be a list"),
    ({"events": [written_event(origin="mal")]}, "event 1: origin 'mal' is not one of"),
    ({"events": [written_event(), {"at": None}]}, "event 2: at must be an ISO 8601 time"),
    ({"events": [{**written_event(), "extra": 1}]}, "event 1 has unknown fields: extra"),
    ({"events": [written_event(changes=[1])]}, "event 1: changes must be an object"),
    ({"events": [written_event(resolution="both")]}, "event 1: resolution 'both' is not one of"),
    ({"scroe": 80}, "unknown fields: scroe"),
]


@pytest.mark.parametrize(("change", "reason"), BAD_VALUES)
def test_a_bad_json_row_is_skipped_with_its_row_and_reason(change, reason):
    document = json.loads(json_bytes([item(title="Good"), item()]))
    document["items"][1].update(change)
    parsed = read_json(io.BytesIO(json.dumps(document).encode()))
    assert [row.title for row in parsed.rows] == ["Good"]
    [skipped] = parsed.skipped
    assert skipped.row == 2
    assert skipped.reason.startswith("Row 2: ") and reason in skipped.reason, skipped.reason
    assert skipped.title == (change["title"][:500] if "title" in change else "Frieren")


def test_a_json_item_that_is_not_an_object_is_skipped():
    document = json.loads(json_bytes([item()]))
    document["items"].append(["Frieren"])
    parsed = read_json(io.BytesIO(json.dumps(document).encode()))
    assert len(parsed.rows) == 1
    assert parsed.skipped[0].row == 2 and "not an object" in parsed.skipped[0].reason


def test_nul_characters_are_dropped_from_text():
    parsed = read_json(io.BytesIO(json_bytes([item(title="Fri\x00eren", notes="a\x00b")])))
    assert (parsed.rows[0].title, parsed.rows[0].notes) == ("Frieren", "ab")


@pytest.mark.parametrize(
    ("cell", "value", "reason"),
    [
        ("status", "Watching", "status 'Watching' is not one of"),
        ("progress", "-3", "progress '-3' must be a whole number"),
        ("progress", "1e9", "progress '1e9' must be a whole number"),
        ("score", "8.5", "score '8.5' must be a whole number"),
        ("private", "maybe", "private 'maybe' must be true or false"),
        ("type", "", "type is missing"),
        ("title", "", "the title is empty"),
    ],
)
def test_a_bad_csv_row_is_skipped_with_its_spreadsheet_row(cell, value, reason):
    lines = csv_bytes([item(title="Good"), item()]).decode().split("\r\n")
    cells = lines[2].split(",")
    cells[CSV_COLUMNS.index(cell)] = value
    lines[2] = ",".join(cells)
    parsed = read_csv(io.BytesIO("\r\n".join(lines).encode()))
    assert [row.title for row in parsed.rows] == ["Good"]
    [skipped] = parsed.skipped
    assert skipped.row == 3 and reason in skipped.reason, skipped.reason


def test_a_csv_row_with_too_few_or_too_many_cells_is_skipped():
    lines = csv_bytes([item(), item(), item()]).decode().split("\r\n")
    lines[1] = lines[1].rsplit(",", 2)[0]
    lines[3] += ",extra"
    parsed = read_csv(io.BytesIO("\r\n".join(lines).encode()))
    assert [row.row for row in parsed.rows] == [3]
    assert [(s.row, s.reason) for s in parsed.skipped] == [
        (2, f"Row 2: it has {len(CSV_COLUMNS) - 2} cells where the header has 20."),
        (4, f"Row 4: it has {len(CSV_COLUMNS) + 1} cells where the header has 20."),
    ]


def test_blank_lines_in_a_csv_are_passed_over():
    data = csv_bytes([item()]) + b"\r\n\r\n"
    parsed = read_csv(io.BytesIO(data))
    assert len(parsed.rows) == 1 and parsed.skipped == []


# --- unreadable files -------------------------------------------------------------------


def _document(**changes) -> bytes:
    document = json.loads(json_bytes([item()]))
    document.update(changes)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"   \n", "The file is empty"),
        (b"\xef\xbb\xbf{}", "byte-order mark"),
        (b'{"format": "tracker", "items": ["caf\xe9"]}', "not UTF-8 text (line 1, byte 37)"),
        ("{}".encode("utf-16"), "not UTF-8"),
        (b"<?xml version='1.0'?><myanimelist/>", "not valid JSON (line 1, column 1"),
        (b"[1, 2]", 'not a Tracker export (it has no "format": "tracker")'),
        (b'{"format": "yamtrack"}', "not a Tracker export"),
        (_document(version=2), "version 2; this server reads version 1"),
        (_document(version="1"), "version 1; this server reads version 1"),
        (_document(items={}), 'no "items" list'),
        (_document(extra=True), "Unknown fields in the export: extra"),
        (_document()[:-30], "not valid JSON"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"format": "tracker", "version": ' + b"9" * 5000 + b"}", "number too long"),
    ],
)
def test_a_file_that_is_not_a_tracker_json_export_is_refused_clearly(data, message):
    with pytest.raises(UnreadableFile) as refused:
        read_json(io.BytesIO(data))
    assert message in str(refused.value)


def test_deeply_nested_json_is_refused_not_a_crash():
    deep = b'{"format": "tracker", "version": 1, "items": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    with pytest.raises(UnreadableFile) as refused:
        read_json(io.BytesIO(deep))
    assert "nested too deeply" in str(refused.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"\xef\xbb\xbftype,title\r\n", "byte-order mark"),
        (b"type,title\r\nanime,Caf\xe9\r\n", "not UTF-8 text (line 2, byte 22)"),
        (b"type,title,status\r\nanime,Frieren,current\r\n", "missing columns: progress"),
        (",".join((*CSV_COLUMNS, "rating")).encode() + b"\r\n", "unknown columns: rating"),
        (",".join((*CSV_COLUMNS, "title")).encode() + b"\r\n", "columns given twice: title"),
        (b'{"format": "tracker", "version": 1, "items": []}', "not a Tracker CSV export"),
        (b"Title,Media Type,Status\r\nFrieren,anime,Completed\r\n", "missing columns: type"),
    ],
)
def test_a_file_that_is_not_a_tracker_csv_export_is_refused_clearly(data, message):
    with pytest.raises(UnreadableFile) as refused:
        read_csv(io.BytesIO(data))
    assert message in str(refused.value)


def test_a_csv_cut_inside_a_quoted_cell_is_refused_naming_where():
    data = csv_bytes([item(notes="line one\r\nline two, with a comma")])
    with pytest.raises(UnreadableFile) as refused:
        read_csv(io.BytesIO(data[: data.index(b"line two")]))
    assert "cannot be read past line 2" in str(refused.value)

"""Reading Yamtrack's CSV export: the real example in ../shared/yamtrack (its quirks
included) and hostile files."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.conftest import need_shared
from tracker.portability import UnreadableFile, yamtrack

HEADER = (
    '"media_id","source","media_type","title","image","season_number","episode_number",'
    '"score","progress","status","repeats","start_date","end_date","notes","watch_date"'
)


def line(media_id="1", media_type="anime", title="Cowboy Bebop", score="", progress="0",
         status="Completed", repeats="0", start="", end="", notes="",
         source="mal") -> str:  # fmt: skip
    cells = [media_id, source, media_type, title, "", "", "", score, progress, status, repeats,
             start, end, notes, ""]  # fmt: skip
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


def csv_file(*lines: str, header: str = HEADER) -> bytes:
    return "\r\n".join([header, *lines, ""]).encode("utf-8")


def test_every_row_of_the_real_export_is_read_or_skipped_by_kind():
    parsed = yamtrack.read(need_shared("yamtrack/yamtrack_export_example.csv").read_bytes())
    assert parsed.format == "yamtrack"
    assert len(parsed.rows) + len(parsed.skipped) == 110
    anime = Counter(r.status for r in parsed.rows if r.type == "anime")
    manga = Counter(r.status for r in parsed.rows if r.type == "manga")
    assert anime == {"completed": 61, "planning": 4, "current": 1, "repeating": 1, "paused": 1,
                     "dropped": 1}  # fmt: skip
    assert manga == {"completed": 15, "paused": 15, "dropped": 7, "current": 1, "planning": 1}
    assert [(s.title, s.reason) for s in parsed.skipped] == [
        ("Spirited Away", "A movie entry: this tracker keeps anime and manga only."),
        ("Breaking Bad", "A tv entry: this tracker keeps anime and manga only."),
    ]
    assert all(r.mal_id for r in parsed.rows)  # source mal: media_id is the MAL id


def test_the_real_exports_quirks_are_read_as_meant():
    rows = {r.title: r for r in yamtrack.read(
        need_shared("yamtrack/yamtrack_export_example.csv").read_bytes()).rows}  # fmt: skip
    bebop = rows["Cowboy Bebop"]
    assert (bebop.mal_id, bebop.score, bebop.progress, bebop.status) == (1, 100, 26, "completed")
    eva = rows["Neon Genesis Evangelion"]
    assert (eva.started_on, eva.completed_on) == ("2023-08-17", "2023-08-18")
    ubw = rows["Fate/stay night: Unlimited Blade Works"]
    assert ubw.notes == 'Rewatched with friends, "best" ending — 最高!\nSecond line'
    assert rows["Dark Air"].notes == '=HYPERLINK("http://example.invalid")'  # text, as written


def test_scores_with_a_decimal_and_the_no_date_sentinel():
    (row,) = yamtrack.read(csv_file(line(score="9.5", start="0001-01-01", end="0001-01-01"))).rows
    assert row.score == 95 and row.started_on is None and row.completed_on is None
    (zero,) = yamtrack.read(csv_file(line(score="0.0"))).rows
    assert zero.score is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [("In progress", "current"), ("Completed", "completed"), ("Repeating", "repeating"),
     ("Planning", "planning"), ("Paused", "paused"), ("Dropped", "dropped")],
)  # fmt: skip
def test_statuses(status, expected):
    assert yamtrack.read(csv_file(line(status=status))).rows[0].status == expected


def test_a_row_from_another_source_keeps_no_mal_id():
    (row,) = yamtrack.read(csv_file(line(media_id="123", source="mangaupdates"))).rows
    assert row.mal_id is None and row.title == "Cowboy Bebop"


@pytest.mark.parametrize(
    ("values", "reason"),
    [({"status": "Watching"}, "Unknown status"),
     ({"progress": "-1"}, "not a whole number"),
     ({"progress": "12345678"}, "beyond any real title"),
     ({"score": "12"}, "not between 0 and 10"),
     ({"score": "nan"}, "not between 0 and 10"),
     ({"start": "2023-13-01"}, "Not a date"),
     ({"title": ""}, "no title"),
     ({"media_type": "game"}, "A game entry")],
)  # fmt: skip
def test_a_bad_row_is_skipped_with_its_number(values, reason):
    parsed = yamtrack.read(csv_file(line(title="Good"), line(**{"title": "Bad", **values})))
    assert [r.title for r in parsed.rows] == ["Good"]
    (skipped,) = parsed.skipped
    assert skipped.row == 3 and reason in skipped.reason


def test_rows_with_missing_or_extra_fields_are_skipped_by_number():
    parsed = yamtrack.read(csv_file(line(title="Good"), '"5","mal","anime","Short"',
                                    line(title="Long") + ',"extra"'))  # fmt: skip
    assert [r.title for r in parsed.rows] == ["Good"]
    assert [(s.row, s.title) for s in parsed.skipped] == [(3, "Short"), (4, "Long")]
    assert "4 fields where the header has 15" in parsed.skipped[0].reason


def test_columns_in_another_order_and_extra_columns_in_the_header_are_fine():
    header = '"title","media_type","source","media_id","score","progress","status","repeats",' \
             '"start_date","end_date","notes","added_later"'  # fmt: skip
    data = csv_file('"Monster","manga","mal","1","8.0","40","Paused","0","","","","x"',
                    header=header)  # fmt: skip
    (row,) = yamtrack.read(data).rows
    assert (row.title, row.type, row.mal_id, row.progress, row.status) == (
        "Monster", "manga", 1, 40, "paused")  # fmt: skip


def test_a_byte_order_mark_and_utf16_are_read_other_encodings_are_refused():
    data = csv_file(line(title="Café"))
    assert yamtrack.read(b"\xef\xbb\xbf" + data).rows[0].title == "Café"
    assert yamtrack.read(data.decode().encode("utf-16")).rows[0].title == "Café"
    with pytest.raises(UnreadableFile, match="not UTF-8"):
        yamtrack.read(data.decode().encode("latin-1"))


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"),
     (b'"title","status"\r\n"Monster","Paused"\r\n', "lacks the columns"),
     (csv_file('"1","mal","anime","Unclosed'), None)],
)  # fmt: skip
def test_a_file_that_is_no_yamtrack_export_is_refused(data, message):
    if message is None:  # an unclosed quote runs to the end: the row is short, not a crash
        parsed = yamtrack.read(data)
        assert parsed.rows == [] and len(parsed.skipped) == 1
        return
    with pytest.raises(UnreadableFile, match=message):
        yamtrack.read(data)


def test_a_nul_byte_skips_its_row_not_a_crash():
    parsed = yamtrack.read(csv_file(line(title="Good"), line(title="Bad\x00")))
    assert [r.title for r in parsed.rows] == ["Good"]
    assert parsed.skipped[0].row == 3 and "NUL" in parsed.skipped[0].reason

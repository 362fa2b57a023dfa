"""Reading MyAnimeList XML exports: the real examples in ../shared/mal, small files built
for what they lack, and hostile files (each refused with a message, or a row skipped
with its number)."""

from __future__ import annotations

import gzip
from collections import Counter

import pytest

from tests.conftest import need_shared
from tracker.portability import UnreadableFile, mal
from tracker.portability.detect import READERS, detect, read_file


def anime_entry(mal_id: int = 1, title: str = "Cowboy Bebop", **values: str) -> str:
    fields = {"series_animedb_id": str(mal_id), "series_title": f"<![CDATA[{title}]]>",
              "series_episodes": "26", "my_watched_episodes": "26", "my_start_date": "0000-00-00",
              "my_finish_date": "0000-00-00", "my_score": "0", "my_status": "Completed",
              "my_comments": "<![CDATA[]]>", "my_times_watched": "0", "my_rewatching": "0",
              **values}  # fmt: skip
    return "<anime>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</anime>"


def manga_entry(mal_id: int = 2, title: str = "Monster", **values: str) -> str:
    fields = {"manga_mangadb_id": str(mal_id), "manga_title": f"<![CDATA[{title}]]>",
              "manga_volumes": "18", "manga_chapters": "162", "my_read_volumes": "0",
              "my_read_chapters": "0", "my_start_date": "0000-00-00",
              "my_finish_date": "0000-00-00", "my_score": "0", "my_status": "Reading",
              "my_times_read": "0", "my_rereading": "NO", **values}  # fmt: skip
    return "<manga>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</manga>"


def export(*entries: str, prolog: str = '<?xml version="1.0" encoding="UTF-8" ?>') -> bytes:
    body = "<myanimelist><myinfo><user_id>1</user_id></myinfo>" + "".join(entries)
    return (prolog + body + "</myanimelist>").encode("utf-8")


def test_every_entry_of_the_real_anime_export_is_read():
    parsed = mal.read(need_shared("mal/animelist_example.xml").read_bytes())
    assert parsed.format == "mal" and not parsed.skipped
    assert len(parsed.rows) == 69
    assert Counter(r.status for r in parsed.rows) == {"completed": 64, "planning": 4,
                                                       "current": 1}  # fmt: skip
    assert {r.type for r in parsed.rows} == {"anime"}
    assert len({r.mal_id for r in parsed.rows}) == 69
    first = parsed.rows[0]
    assert (first.row, first.mal_id, first.progress, first.max_progress, first.score) == (
        1, 9989, 11, 11, 90)  # fmt: skip
    assert first.title.startswith("Ano Hi Mita Hana")
    assert all(r.started_on is None and r.completed_on is None for r in parsed.rows)  # 0000-00-00


def test_every_entry_of_the_real_manga_export_is_read_with_volumes():
    parsed = mal.read(need_shared("mal/mangalist_example.xml").read_bytes())
    assert not parsed.skipped and len(parsed.rows) == 39
    assert Counter(r.status for r in parsed.rows) == {"paused": 16, "completed": 16,
                                                       "dropped": 7}  # fmt: skip
    alive = parsed.rows[0]
    assert (alive.type, alive.mal_id, alive.progress, alive.progress_volumes) == (
        "manga", 219, 0, 13)  # fmt: skip
    assert alive.max_progress == 83 and alive.score == 80


def test_a_gzipped_export_reads_like_the_plain_one_whatever_its_name():
    plain = need_shared("mal/animelist_example.xml").read_bytes()
    packed = gzip.compress(plain)
    assert detect("export.bin", packed[:4096]) == "mal"
    assert read_file(packed, filename="export.bin").rows == mal.read(plain).rows


@pytest.mark.parametrize(
    ("status", "flag", "expected"),
    [("Watching", "0", "current"), ("Completed", "0", "completed"), ("On-Hold", "0", "paused"),
     ("Dropped", "0", "dropped"), ("Plan to Watch", "0", "planning"),
     ("Watching", "1", "repeating"), ("Completed", "1", "repeating"), ("2", "0", "completed"),
     ("6", "0", "planning")],
)  # fmt: skip
def test_anime_statuses_and_the_rewatching_flag(status, flag, expected):
    parsed = mal.read(export(anime_entry(my_status=status, my_rewatching=flag)))
    assert parsed.rows[0].status == expected


@pytest.mark.parametrize(
    ("status", "flag", "expected"),
    [("Reading", "NO", "current"), ("Reading", "YES", "repeating"), ("Plan to Read", "NO",
     "planning"), ("On-Hold", "NO", "paused")],
)  # fmt: skip
def test_manga_statuses_and_the_rereading_flag(status, flag, expected):
    parsed = mal.read(export(manga_entry(my_status=status, my_rereading=flag)))
    assert parsed.rows[0].status == expected


def test_scores_repeats_notes_and_progress_in_this_apps_terms():
    comments = "<![CDATA[Re-read the <b> arc]]>"
    entry = manga_entry(my_score="7", my_times_read="2", my_read_chapters="40",
                        my_read_volumes="5", my_comments=comments)  # fmt: skip
    (row,) = mal.read(export(entry)).rows
    assert (row.score, row.repeat, row.progress, row.progress_volumes) == (70, 2, 40, 5)
    assert row.notes == "Re-read the <b> arc"
    (unscored,) = mal.read(export(anime_entry(my_score="0"))).rows
    assert unscored.score is None and unscored.notes is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2020-04-17", "2020-04-17"), ("2020-04-00", "2020-04"), ("2008-00-00", "2008"),
     ("0000-00-00", None), ("2021-02-30", "2021-02"), ("", None)],
)  # fmt: skip
def test_partial_dates_stay_partial(text, expected):
    (row,) = mal.read(export(anime_entry(my_start_date=text, my_finish_date=text))).rows
    assert row.started_on == row.completed_on == expected


@pytest.mark.parametrize(
    ("values", "reason"),
    [({"my_status": "Watched twice"}, "Unknown status"),
     ({"my_watched_episodes": "-3"}, "not a whole number"),
     ({"my_watched_episodes": "999999999"}, "beyond any real title"),
     ({"my_score": "11"}, "not between 0 and 10"),
     ({"my_start_date": "yesterday"}, "Not a date"),
     ({"series_animedb_id": ""}, "no MAL id")],
)  # fmt: skip
def test_a_bad_entry_is_skipped_with_its_number_and_the_rest_is_read(values, reason):
    parsed = mal.read(export(anime_entry(1, "Good"), anime_entry(2, "Bad", **values),
                             anime_entry(3, "Also good")))  # fmt: skip
    assert [r.title for r in parsed.rows] == ["Good", "Also good"]
    (skipped,) = parsed.skipped
    assert (skipped.row, skipped.title) == (2, "Bad") and reason in skipped.reason


def test_a_byte_order_mark_and_another_declared_encoding_are_read():
    bom = b"\xef\xbb\xbf" + export(anime_entry(title="Café"))
    assert mal.read(bom).rows[0].title == "Café"
    latin = export(anime_entry(title="Café"), prolog='<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert mal.read(latin.decode("utf-8").encode("latin-1")).rows[0].title == "Café"


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<myanimelist>&lol2;</myanimelist>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<myanimelist><anime><series_title>&secret;</series_title></anime></myanimelist>"""


@pytest.mark.parametrize(
    ("data", "message"),
    [(BOMB, "DTD"), (EXTERNAL, "DTD"),
     (export(anime_entry())[:300], "broken or cut short at line 1"),
     (export(anime_entry(title="Café")).replace("Café".encode(), "Café".encode("latin-1")),
      "broken or cut short"),
     (b"<html><body>Not found</body></html>", "not a MyAnimeList export"),
     (b"<myanimelist></myanimelist>", "holds no <anime> or <manga>"),
     (b"\x1f\x8b\x08\x00garbage", "gzip file is broken"),
     (gzip.compress(export(anime_entry()), mtime=0)[:40], "gzip file is broken")],
)  # fmt: skip
def test_a_file_that_is_no_whole_export_is_refused_with_a_clear_message(data, message):
    with pytest.raises(UnreadableFile, match=message):
        mal.read(data)


def test_a_gzip_that_unpacks_past_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(mal, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(UnreadableFile, match="unpacks to more than"):
        mal.read(gzip.compress(b" " * 5000))


def test_an_export_of_no_entries_is_an_empty_file_not_an_error():
    parsed = mal.read(export())
    assert parsed.rows == [] and parsed.skipped == []


# --- which reader ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [("animelist.xml", b'<?xml version="1.0"?>\n<myanimelist>', "mal"),
     ("x", b"\xef\xbb\xbf<?xml version='1.0'?><myanimelist>", "mal"),
     ("list.xml.gz", b"\x1f\x8b\x08", "mal"),
     ("export.csv", b'"media_id","source","media_type","title"\r\n', "yamtrack"),
     ("tracker.csv", b"type,title,status,progress\n", "csv"),
     ("tracker.json", b'  {"version": 1, "items": []}', "json")],
)  # fmt: skip
def test_the_format_is_told_by_the_first_bytes(name, head, expected):
    assert detect(name, head) == expected


def test_a_file_of_no_known_kind_is_refused_by_name():
    with pytest.raises(UnreadableFile, match="not one Tracker can import"):
        detect("photo.png", b"\x89PNG\r\n\x1a\n")
    with pytest.raises(UnreadableFile, match="Unknown format"):
        read_file(b"x", format="xls")
    with pytest.raises(UnreadableFile, match="empty"):
        read_file(b"", filename="a.xml")


def test_a_format_joins_with_one_registration(monkeypatch):
    from tracker.portability import ParsedFile

    monkeypatch.setitem(READERS, "json", lambda raw: ParsedFile("json"))
    assert read_file(b'{"version": 1, "items": []}', filename="tracker.json").format == "json"
    monkeypatch.delitem(READERS, "json")
    with pytest.raises(UnreadableFile, match="json format is not available"):
        read_file(b'{"version": 1, "items": []}', filename="tracker.json")

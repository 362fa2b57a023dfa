"""The MyAnimeList XML writer: MyAnimeList's element names, statuses, 0 to 10 scores,
partial dates and rewatch counts; a file that parses back (with defusedxml) to the same
entries whatever the titles and notes hold."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree

from tests.conftest import need_shared
from tracker.portability import mal
from tracker.portability.mal_writer import cdata, mal_date, mal_score, write_mal


def entry(**fields) -> dict:
    base = {
        "mal_id": 52991, "title": "Sousou no Frieren", "status": "current", "progress": 3,
        "progress_volumes": None, "score": 85, "notes": None, "repeat": 0,
        "started_on": "2023-09-29", "completed_on": None, "format": "TV", "total": 28,
        "volumes": None,
    }  # fmt: skip
    return {**base, **fields}


def written(items, media_type="anime", **kwargs) -> str:
    kwargs = {"username": "alice", "totals": {}, **kwargs}
    return "".join(write_mal(items, media_type=media_type, **kwargs))


def parsed(items, media_type="anime", **kwargs):
    return ElementTree.fromstring(written(items, media_type, **kwargs).encode())


def fields_of(element) -> dict[str, str]:
    return {child.tag: child.text or "" for child in element}


def test_an_anime_entry_uses_the_element_names_of_myanimelists_own_export():
    mine = parsed([entry()])
    example = ElementTree.parse(need_shared("mal/animelist_example.xml")).getroot()
    assert [c.tag for c in mine.find("anime")] == [c.tag for c in example.find("anime")]
    assert [c.tag for c in mine.find("myinfo")] == [c.tag for c in example.find("myinfo")]


def test_a_manga_entry_uses_the_element_names_of_myanimelists_own_export():
    mine = parsed([entry(total=120, volumes=14)], "manga")
    example = ElementTree.parse(need_shared("mal/mangalist_example.xml")).getroot()
    assert [c.tag for c in mine.find("manga")] == [c.tag for c in example.find("manga")]
    assert [c.tag for c in mine.find("myinfo")] == [c.tag for c in example.find("myinfo")]


def test_an_anime_entry_holds_the_item():
    root = parsed([entry(completed_on="2024-03", repeat=2, notes="Loved it")])
    values = fields_of(root.find("anime"))
    assert values["series_animedb_id"] == "52991"
    assert values["series_title"] == "Sousou no Frieren"
    assert values["series_type"] == "TV"
    assert values["series_episodes"] == "28"
    assert values["my_watched_episodes"] == "3"
    assert values["my_start_date"] == "2023-09-29"
    assert values["my_finish_date"] == "2024-03-00"
    assert values["my_score"] == "9"
    assert values["my_status"] == "Watching"
    assert values["my_comments"] == "Loved it"
    assert values["my_times_watched"] == "2"
    assert values["my_rewatching"] == "0"
    assert values["update_on_import"] == "1"


def test_a_manga_entry_holds_chapters_volumes_and_rereads():
    item = entry(status="repeating", progress=97, progress_volumes=14, repeat=1, total=None,
                 volumes=None, started_on=None)  # fmt: skip
    values = fields_of(parsed([item], "manga").find("manga"))
    assert values["manga_mangadb_id"] == "52991"
    assert values["manga_chapters"] == "0"  # unknown, as MyAnimeList writes it
    assert values["my_read_chapters"] == "97"
    assert values["my_read_volumes"] == "14"
    assert values["my_status"] == "Reading"
    assert values["my_rereading"] == "YES"
    assert values["my_times_read"] == "1"
    assert values["my_start_date"] == "0000-00-00"


@pytest.mark.parametrize(
    ("media_type", "status", "word"),
    [
        ("anime", "current", "Watching"), ("anime", "repeating", "Watching"),
        ("anime", "planning", "Plan to Watch"), ("anime", "completed", "Completed"),
        ("anime", "paused", "On-Hold"), ("anime", "dropped", "Dropped"),
        ("manga", "current", "Reading"), ("manga", "repeating", "Reading"),
        ("manga", "planning", "Plan to Read"), ("manga", "paused", "On-Hold"),
    ],
)  # fmt: skip
def test_statuses_are_myanimelists_words(media_type, status, word):
    root = parsed([entry(status=status)], media_type)
    assert root.find(f"{media_type}/my_status").text == word


def test_repeating_anime_is_watching_with_the_rewatching_flag():
    values = fields_of(parsed([entry(status="repeating", progress=5)]).find("anime"))
    assert (values["my_status"], values["my_rewatching"], values["my_rewatching_ep"]) == (
        "Watching", "1", "5",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("score", "mal"),
    [(None, 0), (0, 0), (1, 1), (4, 1), (5, 1), (14, 1), (15, 2), (84, 8), (85, 9), (100, 10)],
)
def test_scores_become_zero_to_ten_rounded_half_up(score, mal):
    assert mal_score(score) == mal


@pytest.mark.parametrize(
    ("partial", "mal"),
    [(None, "0000-00-00"), ("", "0000-00-00"), ("2008", "2008-00-00"),
     ("2020-04", "2020-04-00"), ("2020-04-17", "2020-04-17")],
)  # fmt: skip
def test_dates_fill_unknown_parts_with_zeros(partial, mal):
    assert mal_date(partial) == mal


@pytest.mark.parametrize(
    ("fmt", "word"), [("TV_SHORT", "TV"), ("MOVIE", "Movie"), ("OVA", "OVA"), (None, "Unknown")]
)
def test_anilist_formats_become_myanimelists_types(fmt, word):
    assert parsed([entry(format=fmt)]).find("anime/series_type").text == word


def test_entries_without_a_mal_id_are_left_out_and_the_file_says_how_many():
    text = written([entry(), entry(mal_id=None, title="Hand typed")], left_out=1)
    root = ElementTree.fromstring(text.encode())
    assert [e.text for e in root.iter("series_title")] == ["Sousou no Frieren"]
    assert "1 entry without a MyAnimeList id left out" in text


def test_myinfo_counts_the_entries_by_status():
    totals = {"Watching": 2, "Completed": 5, "On-Hold": 1, "Dropped": 0, "Plan to Watch": 3}
    values = fields_of(parsed([], totals=totals).find("myinfo"))
    assert values["user_name"] == "alice"
    assert values["user_export_type"] == "1"
    assert values["user_total_anime"] == "11"
    counts = [values[f"user_total_{name}"] for name in ("watching", "completed", "onhold",
                                                         "dropped", "plantowatch")]  # fmt: skip
    assert counts == ["2", "5", "1", "0", "3"]


HOSTILE = [
    "Frieren ]]> and ]]]]> and <![CDATA[ & </series_title>",
    "<script>alert(1)</script> & &amp; &#0; &xxe;",
    "Emoji 🍙👩🏽‍💻",
    "\u202eRTL \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "-- comment-like --> <!--",
    "=cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_and_long_notes_parse_back_the_same(title):
    notes = ((title + "\n") * 10_000)[:10_000]
    root = parsed([entry(title=title, notes=notes)], username="<alice & co>")
    assert root.find("anime/series_title").text == title
    assert root.find("anime/my_comments").text == notes
    assert root.find("myinfo/user_name").text == "<alice & co>"


def test_characters_xml_cannot_hold_are_dropped_and_the_file_still_parses():
    root = parsed([entry(title="A\x00B\x01C\x1bD\ufffeE\tF", notes="x\x0by\rz")])
    assert root.find("anime/series_title").text == "ABCDE\tF"
    assert root.find("anime/my_comments").text == "xy\nz"  # XML reads a lone CR as LF


def test_a_cdata_section_never_ends_early():
    assert cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"


def test_a_written_file_parses_back_to_the_same_entries():
    items = [entry(mal_id=n, title=f"Title {n}", progress=n, score=n % 101,
                   status=("current", "completed", "paused", "dropped", "planning")[n % 5])
             for n in range(1, 201)]  # fmt: skip
    root = parsed(items)
    got = [
        (int(e.findtext("series_animedb_id")), e.findtext("series_title"),
         int(e.findtext("my_watched_episodes")), int(e.findtext("my_score")),
         e.findtext("my_status"))
        for e in root.iter("anime")
    ]  # fmt: skip
    words = {"current": "Watching", "completed": "Completed", "paused": "On-Hold",
             "dropped": "Dropped", "planning": "Plan to Watch"}  # fmt: skip
    assert got == [
        (i["mal_id"], i["title"], i["progress"], mal_score(i["score"]), words[i["status"]])
        for i in items
    ]


@pytest.mark.parametrize("media_type", ["anime", "manga"])
def test_our_own_reader_reads_a_written_file_back_to_the_same_entries(media_type):
    items = [
        entry(status="repeating", progress=5, score=90, repeat=1, notes="Second time ]]> round"),
        entry(mal_id=5114, title="Fullmetal Alchemist", status="completed", progress=64,
              score=100, started_on="2009", completed_on="2010-07-04", total=64),
        entry(mal_id=1, title="Plan", status="planning", progress=0, score=None,
              started_on=None, notes=None),
        entry(mal_id=2, title="Paused one", status="paused", progress=2, score=40),
        entry(mal_id=3, title="Dropped one", status="dropped", progress=1, score=10),
    ]  # fmt: skip
    read = mal.read(written(items, media_type).encode())
    assert read.skipped == []
    got = {row.mal_id: row for row in read.rows}
    assert sorted(got) == sorted(item["mal_id"] for item in items)
    for item in items:
        row = got[item["mal_id"]]
        assert (row.type, row.title, row.status, row.progress, row.score, row.repeat, row.notes,
                row.started_on, row.completed_on) == (
            media_type, item["title"], item["status"], item["progress"], item["score"],
            item["repeat"], item["notes"], item["started_on"], item["completed_on"],
        )  # fmt: skip

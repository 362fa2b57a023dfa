"""A MyAnimeList XML file, as MyAnimeList's own export writes it, for its importer.

One file per type: ``<myanimelist>`` with ``<myinfo>`` and an ``<anime>`` or ``<manga>``
entry per item, in MyAnimeList's element names. MyAnimeList's importer finds a title by
its id only, so items without a MAL id are left out (the caller counts them, and the
file says how many in a comment). ``update_on_import`` is 1: the file is meant to
overwrite what MyAnimeList holds for those titles. No Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from xml.sax.saxutils import escape

from tracker.portability import TO_MAL_STATUS

# What AniList calls a format, in MyAnimeList's words (anything else: Unknown).
MAL_ANIME_TYPES = {
    "TV": "TV", "TV_SHORT": "TV", "MOVIE": "Movie", "SPECIAL": "Special", "OVA": "OVA",
    "ONA": "ONA", "MUSIC": "Music",
}  # fmt: skip
# The myinfo totals, by MyAnimeList's status words.
_TOTALS = {
    "anime": (("watching", "Watching"), ("completed", "Completed"), ("onhold", "On-Hold"),
              ("dropped", "Dropped"), ("plantowatch", "Plan to Watch")),
    "manga": (("reading", "Reading"), ("completed", "Completed"), ("onhold", "On-Hold"),
              ("dropped", "Dropped"), ("plantoread", "Plan to Read")),
}  # fmt: skip
# Characters XML 1.0 cannot hold at all, even escaped: most C0 controls, lone
# surrogates and U+FFFE/U+FFFF. They are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str | None) -> str:
    """Text as XML character data (escaped, and without what XML cannot hold)."""
    return escape(_NOT_XML.sub("", value or ""))


def cdata(value: str | None) -> str:
    """Text in a CDATA section as MyAnimeList writes titles and comments; a ``]]>``
    inside is split over two sections so it cannot end the first early."""
    text = _NOT_XML.sub("", value or "").replace("]]>", "]]]]><![CDATA[>")
    return f"<![CDATA[{text}]]>"


def mal_date(partial: str | None) -> str:
    """``2020-04`` → ``2020-04-00``; unknown → ``0000-00-00``."""
    if not partial:
        return "0000-00-00"
    parts = [*partial.split("-"), "00", "00"]
    return "-".join(parts[:3])


def mal_score(score: int | None) -> int:
    """0 to 100 → MyAnimeList's 0 to 10, rounded half up; a score that is there stays at least 1
    (MyAnimeList reads 0 as "no score")."""
    if not score:
        return 0
    return max(1, min(10, (score + 5) // 10))


def mal_status(media_type: str, status: str) -> str:
    return TO_MAL_STATUS[(media_type, status)]


def _element(name: str, value: Any) -> str:
    return f"\t\t<{name}>{value}</{name}>\n"


def _anime(item: Mapping[str, Any]) -> str:
    repeating = item["status"] == "repeating"
    fields = (
        ("series_animedb_id", item["mal_id"]),
        ("series_title", cdata(item["title"])),
        ("series_type", MAL_ANIME_TYPES.get(item.get("format") or "", "Unknown")),
        ("series_episodes", item.get("total") or 0),
        ("my_id", 0),
        ("my_watched_episodes", item["progress"]),
        ("my_start_date", mal_date(item["started_on"])),
        ("my_finish_date", mal_date(item["completed_on"])),
        ("my_rated", ""),
        ("my_score", mal_score(item["score"])),
        ("my_storage", ""),
        ("my_storage_value", "0.00"),
        ("my_status", mal_status("anime", item["status"])),
        ("my_comments", cdata(item["notes"])),
        ("my_times_watched", item["repeat"]),
        ("my_rewatch_value", ""),
        ("my_priority", "LOW"),
        ("my_tags", cdata("")),
        ("my_rewatching", 1 if repeating else 0),
        ("my_rewatching_ep", item["progress"] if repeating else 0),
        ("my_discuss", 1),
        ("my_sns", "default"),
        ("update_on_import", 1),
    )
    return "\t<anime>\n" + "".join(_element(n, v) for n, v in fields) + "\t</anime>\n"


def _manga(item: Mapping[str, Any]) -> str:
    fields = (
        ("manga_mangadb_id", item["mal_id"]),
        ("manga_title", cdata(item["title"])),
        ("manga_volumes", item.get("volumes") or 0),
        ("manga_chapters", item.get("total") or 0),
        ("my_id", 0),
        ("my_read_volumes", item["progress_volumes"] or 0),
        ("my_read_chapters", item["progress"]),
        ("my_start_date", mal_date(item["started_on"])),
        ("my_finish_date", mal_date(item["completed_on"])),
        ("my_scanalation_group", cdata("")),
        ("my_score", mal_score(item["score"])),
        ("my_storage", ""),
        ("my_retail_volumes", 0),
        ("my_status", mal_status("manga", item["status"])),
        ("my_comments", cdata(item["notes"])),
        ("my_times_read", item["repeat"]),
        ("my_tags", cdata("")),
        ("my_priority", "Low"),
        ("my_reread_value", ""),
        ("my_rereading", "YES" if item["status"] == "repeating" else "NO"),
        ("my_discuss", "YES"),
        ("my_sns", "default"),
        ("update_on_import", 1),
    )
    return "\t<manga>\n" + "".join(_element(n, v) for n, v in fields) + "\t</manga>\n"


def write_mal(
    items: Iterable[Mapping[str, Any]],
    *,
    media_type: str,
    username: str,
    totals: Mapping[str, int],
    left_out: int = 0,
) -> Iterator[str]:
    """The file for ``media_type``: an entry per item that has a MAL id (others are
    passed over). ``totals`` counts the entries by MyAnimeList status word (for
    ``<myinfo>``); ``left_out`` is how many items had no MAL id, said in a comment.

    Items are mappings with ``mal_id, title, status, progress, progress_volumes, score,
    notes, repeat, started_on, completed_on`` and, when known, the catalogue's
    ``format``, ``total`` (episodes or chapters) and ``volumes``."""
    entry = _anime if media_type == "anime" else _manga
    note = (
        f"\n {left_out} {'entry' if left_out == 1 else 'entries'} without a MyAnimeList id "
        "left out: MyAnimeList's importer finds titles by id only.\n"
        if left_out
        else "\n"
    )
    yield (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        f"<!--\n Created by Tracker's MyAnimeList export{note}-->\n"
        "<myanimelist>\n\t<myinfo>\n"
        + _element("user_id", 0)
        + _element("user_name", xml_text(username))
        + _element("user_export_type", 1 if media_type == "anime" else 2)
        + _element(f"user_total_{media_type}", sum(totals.values()))
        + "".join(
            _element(f"user_total_{name}", totals.get(word, 0))
            for name, word in _TOTALS[media_type]
        )
        + "\t</myinfo>\n"
    )
    for item in items:
        if item.get("mal_id"):
            yield entry(item)
    yield "</myanimelist>\n"

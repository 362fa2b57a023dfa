"""The private feed as iCalendar text (RFC 5545), written by hand: one VEVENT per
episode, times in UTC, lines folded at 75 octets. No Flask and no database in here.

Each event's UID names the title, the episode and the person, so a calendar app that
refreshes the feed replaces the event (a rescheduled episode moves) rather than adding
another, and two people's feeds in one app never collide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime

from tracker.library.display import status_label
from tracker.services.calendar import Airing, Feed

CALENDAR_NAME = "Tracker: airing episodes"
PRODUCT = "-//Tracker//Airing calendar//EN"
# How often a calendar app should fetch the feed again (a hint; apps choose).
REFRESH = "PT6H"
LINE_OCTETS = 75
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def write_calendar(feed: Feed, *, uid_domain: str, item_url: Callable[[int], str | None]) -> str:
    """The whole feed; ``item_url(item_id)`` is the item page's address, or None."""
    stamp = _utc(feed.generated_at)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{text(CALENDAR_NAME)}",
        f"X-WR-CALNAME:{text(CALENDAR_NAME)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}",
        f"X-PUBLISHED-TTL:{REFRESH}",
    ]
    for episode in feed.episodes:
        lines.extend(_event(episode, feed.user_id, stamp, uid_domain, item_url(episode.item_id)))
    lines.append("END:VCALENDAR")
    return "".join(f"{folded}\r\n" for line in lines for folded in fold(line))


def event_uid(episode: Airing, user_id: int, domain: str) -> str:
    return f"episode-{episode.media_id}-{episode.episode}-u{user_id}@{domain}"


def _event(
    episode: Airing, user_id: int, stamp: str, domain: str, url: str | None
) -> Iterator[str]:
    yield "BEGIN:VEVENT"
    yield f"UID:{event_uid(episode, user_id, domain)}"
    yield f"DTSTAMP:{stamp}"
    yield f"DTSTART:{_utc(episode.airing_at)}"
    yield f"DTEND:{_utc(episode.ends_at)}"
    yield f"SUMMARY:{text(f'{episode.title} — Episode {episode.episode}')}"
    yield f"DESCRIPTION:{text(_description(episode))}"
    if url:
        yield f"URL:{url}"
    # Tentative: AniList announced only the next episode, without a schedule.
    yield f"STATUS:{'TENTATIVE' if episode.estimated else 'CONFIRMED'}"
    yield "TRANSP:TRANSPARENT"  # an episode does not make the person busy
    yield "END:VEVENT"


def _description(episode: Airing) -> str:
    of = f" of {episode.total}" if episode.total else ""
    seen = f"{episode.progress} seen" if episode.progress else "none seen yet"
    said = f"Episode {episode.episode}{of}. {status_label(episode.status, episode.media_type)}"
    return f"{said}, {seen}." + (" Airing time announced, not scheduled." if episode.estimated
                                 else "")  # fmt: skip


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newline escaped, other control
    characters (which no property may hold) dropped."""
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> Iterator[str]:
    """A content line cut into lines of at most 75 octets, never inside a UTF-8
    character; each continuation starts with a space (which counts)."""
    if len(line) <= LINE_OCTETS // 4 or len(line.encode()) <= LINE_OCTETS:
        yield line  # most lines: no character-by-character walk
        return
    piece, size = [], 0
    for character in line:
        octets = len(character.encode())
        if size + octets > LINE_OCTETS:
            yield "".join(piece)
            piece, size = [" "], 1
        piece.append(character)
        size += octets
    yield "".join(piece)

"""MyAnimeList's XML export (anime or manga list, plain or gzipped), read into ``ImportRow``.

Parsed with defusedxml: a DTD, an entity declaration or an external reference is refused
outright (an export never has one), so no file can expand itself or read the server's.
MAL writes partial dates with zeros for the unknown parts (``2020-04-00``), a score of 0
for "not scored", and the rewatching/rereading flag beside Watching/Reading or Completed.
"""

from __future__ import annotations

import gzip
import io
import zlib
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from tracker.dates import fuzzy_date_to_partial
from tracker.portability import MAL_STATUSES, ImportRow, ParsedFile, Skipped, UnreadableFile

GZIP_MAGIC = b"\x1f\x8b"
# A gzipped export unpacks to at most this much: a small file must not become gigabytes.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
# Beyond any real title: a value past this is a broken or hostile file.
MAX_COUNT = 100_000
MAX_TEXT = 10_000
# MAL's numeric statuses, as some exports and its API write them.
NUMERIC_STATUSES = {"1": "current", "2": "completed", "3": "paused", "4": "dropped",
                    "6": "planning"}  # fmt: skip

# Element names per list kind: id, title, total, progress, times repeated, repeating flag.
_ELEMENTS = {
    "anime": ("series_animedb_id", "series_title", "series_episodes", "my_watched_episodes",
              "my_times_watched", "my_rewatching"),
    "manga": ("manga_mangadb_id", "manga_title", "manga_chapters", "my_read_chapters",
              "my_times_read", "my_rereading"),
}  # fmt: skip


def unpack(data: bytes) -> bytes:
    """The bytes of the export, gunzipped when they start with gzip's magic bytes."""
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as packed:
            unpacked = packed.read(MAX_UNPACKED_BYTES + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise UnreadableFile(f"The gzip file is broken or cut short ({error}).") from None
    if len(unpacked) > MAX_UNPACKED_BYTES:
        raise UnreadableFile(
            f"The gzip file unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB."
        )
    return unpacked


def read(data: bytes) -> ParsedFile:
    """Every ``<anime>`` and ``<manga>`` entry of a MAL export; what cannot be read of
    an entry is skipped with its reason, a file that is not an export is refused."""
    root = _parse(unpack(data))
    parsed = ParsedFile("mal")
    position = 0
    for element in root:
        if element.tag not in _ELEMENTS:
            continue
        position += 1
        try:
            parsed.rows.append(_row(position, element.tag, element))
        except ValueError as error:
            parsed.skipped.append(Skipped(position, _text(element, _ELEMENTS[element.tag][1]),
                                          str(error)))  # fmt: skip
    if position == 0 and root.find("myinfo") is None:
        raise UnreadableFile("This MyAnimeList file holds no <anime> or <manga> entries.")
    return parsed


def _parse(data: bytes) -> Element:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise UnreadableFile(
            "The XML declares a DTD, entities or external references, which a MyAnimeList "
            f"export never has; it was not read ({type(error).__name__})."
        ) from None
    except ParseError as error:
        line, column = error.position
        raise UnreadableFile(
            f"The XML is broken or cut short at line {line}, column {column + 1}: "
            "is it a whole MyAnimeList export, saved as UTF-8?"
        ) from None
    if root.tag != "myanimelist":
        raise UnreadableFile(
            f"This XML is not a MyAnimeList export (its root is <{root.tag[:40]}>, "
            "not <myanimelist>)."
        )
    return root


def _row(position: int, kind: str, entry: Element) -> ImportRow:
    id_tag, title_tag, total_tag, progress_tag, repeat_tag, flag_tag = _ELEMENTS[kind]
    title = _text(entry, title_tag)
    if not title:
        raise ValueError("The entry has no title.")
    if len(title) > 500:
        raise ValueError("The title is longer than 500 characters.")
    mal_id = _count(entry, id_tag, "MAL id")
    if not mal_id:
        raise ValueError("The entry has no MAL id.")
    status = _status(entry)
    if _flag(_text(entry, flag_tag)) and status in ("current", "completed"):
        status = "repeating"
    notes = _text(entry, "my_comments")
    if notes and len(notes) > MAX_TEXT:
        raise ValueError(f"The comments are longer than {MAX_TEXT} characters.")
    volumes = _count(entry, "my_read_volumes", "volumes read") if kind == "manga" else None
    return ImportRow(
        row=position,
        type=kind,
        title=title,
        status=status,
        progress=_count(entry, progress_tag, "progress") or 0,
        progress_volumes=volumes or None,
        max_progress=_count(entry, total_tag, "total") or None,  # 0: MAL does not know
        score=_score(_text(entry, "my_score")),
        notes=notes or None,
        repeat=_count(entry, repeat_tag, "times repeated") or 0,
        started_on=mal_date(_text(entry, "my_start_date")),
        completed_on=mal_date(_text(entry, "my_finish_date")),
        mal_id=mal_id,
    )


def _text(entry: Element, tag: str) -> str | None:
    found = entry.find(tag)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _count(entry: Element, tag: str, what: str) -> int | None:
    text = _text(entry, tag)
    if text is None:
        return None
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"The {what} is not a whole number ≥ 0: {text[:20]!r}.")
    value = int(text)
    if value > MAX_COUNT and what != "MAL id":
        raise ValueError(f"The {what} ({value}) is beyond any real title.")
    return value


def _status(entry: Element) -> str:
    text = _text(entry, "my_status") or ""
    status = MAL_STATUSES.get(text.lower()) or NUMERIC_STATUSES.get(text)
    if status is None:
        raise ValueError(f"Unknown status {text[:30]!r}.")
    return status


def _flag(text: str | None) -> bool:
    return (text or "").lower() in ("1", "yes", "true")


def _score(text: str | None) -> int | None:
    """MAL's 1 to 10 as 10 to 100; 0 (or nothing) means not scored."""
    if not text or text in ("0", "0.0"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"The score is not a number: {text[:20]!r}.") from None
    if not 0 < value <= 10:
        raise ValueError(f"The score {text[:20]!r} is not between 0 and 10.")
    return round(value * 10)


def mal_date(text: str | None) -> str | None:
    """``2020-04-17``, ``2020-04-00`` → ``2020-04``, ``2008-00-00`` → ``2008``,
    ``0000-00-00`` → None; a part that names no real month or day ends the date."""
    if not text:
        return None
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"Not a date: {text[:20]!r}.")
    year, month, day = (int(p) for p in parts)
    return fuzzy_date_to_partial(year, month, day)

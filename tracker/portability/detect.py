"""Which reader a file needs, when the person did not say (``format`` omitted).

Each format is told by its first bytes, the name only breaking a tie: gzip or
``<myanimelist`` is MAL; a CSV whose header has Yamtrack's columns is Yamtrack; other
CSV is this app's own; JSON is this app's own. A reader takes the file's bytes and
returns ``ParsedFile`` (or raises ``UnreadableFile``).
"""

from __future__ import annotations

import io
from collections.abc import Callable

from tracker.portability import FORMATS, ParsedFile, UnreadableFile, mal, tracker_files, yamtrack

Reader = Callable[[bytes], ParsedFile]

# One line a format; this app's own readers take a binary file.
READERS: dict[str, Reader] = {
    "mal": mal.read,
    "yamtrack": yamtrack.read,
    "json": lambda data: tracker_files.read_json(io.BytesIO(data)),
    "csv": lambda data: tracker_files.read_csv(io.BytesIO(data)),
}
SNIFF_BYTES = 4096


def detect(filename: str | None, first_bytes: bytes) -> str:
    """The format of a file from its name and first bytes (``SNIFF_BYTES`` are plenty)."""
    name = (filename or "").lower()
    if first_bytes.startswith(mal.GZIP_MAGIC):
        return "mal"
    head = _text(first_bytes)
    if "<myanimelist" in head or (head.startswith("<") and name.endswith(".xml")):
        return "mal"
    if head.startswith(("{", "[")):
        return "json"
    first_line = head.split("\n", 1)[0].lower()
    if all(f'"{column}"' in first_line or column in first_line.split(",")
           for column in ("media_id", "source", "media_type")):  # fmt: skip
        return "yamtrack"
    if "," in first_line or name.endswith(".csv"):
        return "csv"
    raise UnreadableFile(
        "This file is not one Tracker can import: send a MyAnimeList XML export (.xml or "
        ".xml.gz), a Yamtrack CSV, or a Tracker JSON or CSV export."
    )


def read_file(data: bytes, *, format: str | None = None, filename: str | None = None) -> ParsedFile:
    """The file read by the reader of its ``format`` (detected when None)."""
    if format is not None and format not in FORMATS:
        raise UnreadableFile(f"Unknown format {format[:20]!r}: choose one of {', '.join(FORMATS)}.")
    if not data:
        raise UnreadableFile("The file is empty.")
    chosen = format or detect(filename, data[:SNIFF_BYTES])
    reader = READERS.get(chosen)
    if reader is None:
        raise UnreadableFile(f"Importing the {chosen} format is not available on this server yet.")
    return reader(data)


def _text(first_bytes: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return first_bytes.decode(encoding).lstrip()
        except UnicodeDecodeError:
            continue
    return first_bytes.decode("latin-1").lstrip()

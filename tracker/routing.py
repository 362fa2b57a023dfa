"""URL pieces every blueprint shares: row ids in paths, and where a redirect may lead."""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

# Ids are INTEGER columns: 32 bits on PostgreSQL, the smaller of the two databases.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<id:item_id>``: a row id the database can hold, or a 404.

    A bigger number never reaches a query (SQLite and PostgreSQL would fail on it),
    and a digit string too long for ``int()`` never matches. Out of range is a 404
    of its own, not a "no match": werkzeug would call that a 405 when the path
    exists for another method.
    """

    regex = r"\d{1,10}"

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        number = int(value)
        if not self.min <= number <= self.max:
            raise NotFound()
        return number


def local_path(target: str | None) -> str | None:
    r"""``target`` when it can only mean a path on this site, else None.

    Every redirect to a place named by the request (``next``) goes through here.
    Browsers drop tabs and newlines from a URL and read ``\`` as ``/``, so
    ``/<tab>/evil.example`` and ``/\evil.example`` both lead off the site: anything
    unprintable or with a backslash is refused, and so is whatever names a scheme or
    a host (``//evil.example``, ``https://evil.example``).
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if not target.isprintable():  # control characters, line and paragraph separators
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target

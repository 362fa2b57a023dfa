"""URL pieces every blueprint shares: where a redirect may lead."""

from __future__ import annotations

from urllib.parse import urlsplit


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

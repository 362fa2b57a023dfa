"""What the suggestions list says about the remote sources behind it.

The suggestions themselves are ``catalog.autocomplete``'s result dicts; the fragment
reads ``s.title``, ``s.total`` … on them as the JSON API's clients do.
"""

from __future__ import annotations

from collections.abc import Mapping

from tracker.library.display import SOURCE_NAMES
from tracker.services.remote import RATE_LIMITED, UNAVAILABLE

_TROUBLE = {UNAVAILABLE: "{name} is unreachable", RATE_LIMITED: "{name} is busy"}


def source_notice(sources: Mapping[str, str]) -> str | None:
    """A sentence for remote sources that did not answer, so offline use is honest:
    ``AniList is unreachable — showing titles saved here.``"""
    trouble = [
        _TROUBLE[state].format(name=SOURCE_NAMES.get(source, source))
        for source, state in sources.items()
        if state in _TROUBLE
    ]
    if not trouble:
        return None
    later = "; try again in a minute" if RATE_LIMITED in sources.values() else ""
    return f"{' and '.join(trouble)} — showing titles saved here{later}."

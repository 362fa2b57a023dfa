"""The settings page: one page of sections (profile, password, API tokens, AniList,
import/export), each an htmx fragment that also answers as the whole page."""

from tracker.settings import anilist, security  # noqa: F401  (their routes join the blueprint)
from tracker.settings.views import bp

__all__ = ["bp"]

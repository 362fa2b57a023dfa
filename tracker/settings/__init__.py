"""The settings page: one page of sections (profile, password, API tokens, AniList,
import/export; operations for admins), each an htmx fragment that also answers as the
whole page."""

# Each section's routes join the blueprint when its module is imported.
from tracker.settings import account, anilist, imports, operations, profile, security  # noqa: F401
from tracker.settings.views import bp

__all__ = ["bp"]

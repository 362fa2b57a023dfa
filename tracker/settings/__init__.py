"""The settings page: one page of sections (profile, password, API tokens, AniList,
import/export; operations for admins), each an htmx fragment that also answers as the
whole page."""

# Each section's routes join the blueprint when its module is imported.
from tracker.settings import (  # noqa: F401
    account,
    anilist,
    calendar_feed,
    imports,
    operations,
    profile,
    security,
)
from tracker.settings.views import bp

__all__ = ["bp"]

from tracker.library import settings  # noqa: F401  (its routes join the blueprint)
from tracker.library.views import bp

__all__ = ["bp"]

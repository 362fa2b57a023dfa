from tracker.library.views import bp

__all__ = ["bp"]

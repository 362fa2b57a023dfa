from tracker.auth.views import bp

__all__ = ["bp"]

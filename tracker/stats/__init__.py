from tracker.stats.views import bp

__all__ = ["bp"]

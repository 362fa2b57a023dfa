from tracker.admin.views import bp

__all__ = ["bp"]

from tracker.upnext.views import bp

__all__ = ["bp"]

"""The airing calendar: the week and month pages, and the private .ics feed."""

from tracker.calendar.views import bp

__all__ = ["bp"]

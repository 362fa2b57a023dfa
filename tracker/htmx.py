"""HTMX conventions: one URL answers with a page or a fragment; the server fires toasts."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Response, make_response, render_template, request

from tracker.routing import local_path


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def current_page() -> str:
    """Where the person is: for htmx the page's URL (``HX-Current-URL``), not the fragment's.

    A login redirect comes back here, and a fragment URL may answer only POST.
    """
    if is_htmx():
        url = urlsplit(request.headers.get("HX-Current-URL", ""))
        page = local_path(url.path + (f"?{url.query}" if url.query else ""))
        if url.netloc == request.host and page:
            return page
    return request.full_path.rstrip("?")


def render(page_template: str, fragment_template: str, status: int = 200, **context) -> Response:
    """The full page for a normal load, only the fragment for an htmx request."""
    template = fragment_template if is_htmx() else page_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def trigger(response: Response, event: str, detail: Any = True) -> Response:
    """Have htmx fire ``event`` on the page (``HX-Trigger``), beside any already asked for."""
    triggers = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    triggers[event] = detail
    response.headers["HX-Trigger"] = json.dumps(triggers)
    return response


def toast(response: Response, message: str, level: str = "success") -> Response:
    """Ask the page to show a toast: htmx fires a ``toast`` event from ``HX-Trigger``."""
    return trigger(response, "toast", {"message": message, "level": level})


def redirect_client(response: Response, location: str) -> Response:
    """Make htmx navigate the whole page instead of swapping a login form into a row."""
    response.headers["HX-Redirect"] = location
    return response

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


def toast(
    response: Response,
    message: str,
    level: str = "success",
    action: dict | None = None,
    *,
    offer: dict | None = None,
    link: dict | None = None,
) -> Response:
    """Ask the page to show a toast: htmx fires a ``toast`` event from ``HX-Trigger``.
    ``action`` (see ``toast_action``) puts a button in it, such as Undo; ``offer`` a
    second one beside it, for what to do next (add the sequel); ``link`` (see
    ``toast_link``) a plain link, such as to the item just added."""
    detail: dict[str, Any] = {"message": message, "level": level}
    for key, value in (("action", action), ("offer", offer), ("link", link)):
        if value:
            detail[key] = value
    return trigger(response, "toast", detail)


def toast_link(label: str, url: str) -> dict[str, str]:
    """A toast's link: ``label`` leading to ``url`` (a path on this site)."""
    return {"label": label, "url": url}


def toast_action(
    label: str,
    url: str,
    *,
    method: str = "post",
    values: dict[str, Any] | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """A toast's button: it sends ``method`` ``url`` with ``values`` through htmx and swaps
    the answer over ``target`` (a CSS id selector; the answer's own toast says what
    happened). Without ``target``, or when it is no longer on the page, nothing swaps."""
    return {"label": label, "url": url, "method": method, "values": values or {},
            "target": target}  # fmt: skip


def redirect_client(response: Response, location: str) -> Response:
    """Make htmx navigate the whole page instead of swapping a login form into a row."""
    response.headers["HX-Redirect"] = location
    return response

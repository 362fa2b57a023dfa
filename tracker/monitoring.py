"""``GET /metrics`` for Prometheus, and the count and timing of every request.

Who may read it (DESIGN §5): a scraper with ``Authorization: Bearer
<TRACKER_METRICS_TOKEN>``, or any client whose address (as ProxyFix gives it, see
TRACKER_TRUSTED_PROXIES) is in TRACKER_METRICS_ALLOW. With neither configured the path
does not exist (404). A refusal says nothing about the figures. The endpoint reads no
session or user, sets no cookie and has no rate limit: a scraper is not a person.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import time
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from flask.signals import request_finished, request_started

from tracker import metrics
from tracker.config import ConfigError
from tracker.extensions import limiter
from tracker.services import operations

bp = Blueprint("monitoring", __name__)

MIN_TOKEN_LENGTH = 16
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Access:
    token: str | None
    allowed: tuple[Network, ...]

    @property
    def enabled(self) -> bool:
        return bool(self.token or self.allowed)

    def admits_address(self, address: str | None) -> bool:
        if not address or not self.allowed:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.allowed)

    def admits_token(self, header: str | None) -> bool:
        scheme, _, given = (header or "").partition(" ")
        if not self.token or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), self.token.encode())


def read_access(config) -> Access:
    """TRACKER_METRICS_TOKEN and TRACKER_METRICS_ALLOW, checked at start-up."""
    token = config.get("METRICS_TOKEN")
    token = None if token in (None, "") else str(token)
    if token is not None and (len(token) < MIN_TOKEN_LENGTH or token.strip() != token):
        raise ConfigError(
            f"TRACKER_METRICS_TOKEN must be at least {MIN_TOKEN_LENGTH} characters without "
            'spaces around it; make one with `python -c "import secrets; '
            'print(secrets.token_urlsafe(32))"`.'
        )
    allow = config.get("METRICS_ALLOW") or []
    if isinstance(allow, str):  # "10.0.0.0/8, 127.0.0.1" as well as a JSON list
        allow = [part for part in re.split(r"[\s,]+", allow) if part]
    if not isinstance(allow, list | tuple):
        raise ConfigError("TRACKER_METRICS_ALLOW must be a list of addresses or networks.")
    networks = []
    for entry in allow:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(
                f"TRACKER_METRICS_ALLOW: {entry!r} is not an address or network ({exc})."
            ) from exc
    return Access(token, tuple(networks))


@bp.record_once
def _set_up(state) -> None:
    app: Flask = state.app
    app.extensions["tracker.metrics"] = read_access(app.config)
    directory = metrics.multiprocess_dir()
    if directory is not None and not os.path.isdir(directory):
        raise ConfigError(
            f"{metrics.MULTIPROCESS_ENV}={directory} does not exist: create it (empty) "
            "before the web and worker processes start."
        )
    # Signals, not request hooks: they fire even when an earlier hook answers or raises.
    request_started.connect(_started, app)
    request_finished.connect(_finished, app)


def _started(sender: Flask, **_extra) -> None:
    g.tracker_request_started = time.perf_counter()


def _finished(sender: Flask, response: Response, **_extra) -> None:
    started = g.get("tracker_request_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    endpoint = request.url_rule.endpoint if request.url_rule is not None else None
    metrics.record_request(endpoint, request.method, response.status_code, seconds)


@bp.get("/metrics")
@limiter.exempt
def scrape():
    access: Access = current_app.extensions["tracker.metrics"]
    if not access.enabled:
        abort(404)
    if not (access.admits_address(request.remote_addr) or access.admits_token(
            request.headers.get("Authorization"))):  # fmt: skip
        return _refusal(access)
    body, content_type = operations.scrape(request.headers.get("Accept"))
    return Response(body, content_type=content_type)


def _refusal(access: Access) -> Response:
    if access.token:
        response = Response("A valid metrics token is required.\n", 401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return Response("Not allowed from this address.\n", 403, mimetype="text/plain")

"""AniList OAuth (authorization-code grant) through Authlib.

AniList wants the client secret in the form body (client_secret_post), gives no
refresh token, and its tokens live a year (NOTES.md).
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from tracker.clients.errors import BadResponse, Unauthorized, Unavailable


class AniListOAuth:
    source = "AniList"

    def __init__(
        self,
        *,
        authorize_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        timeout: float = 10.0,
    ) -> None:
        self.authorize_url = authorize_url
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.timeout = timeout

    def _session(self) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            token_endpoint_auth_method="client_secret_post",
            redirect_uri=self.redirect_uri,
        )

    def authorization_url(self, state: str) -> str:
        with self._session() as session:
            url, _state = session.create_authorization_url(self.authorize_url, state=state)
        return url

    def exchange(self, code: str) -> dict[str, Any]:
        """Trade an authorization code for ``{access_token, expires_in, …}``."""
        with self._session() as session:
            try:
                token = session.fetch_token(
                    self.token_url,
                    grant_type="authorization_code",
                    code=code,
                    headers={"Accept": "application/json"},
                    timeout=self.timeout,
                )
            except OAuthError as exc:
                raise Unauthorized(f"AniList refused the code ({exc.error})") from exc
            except requests.RequestException as exc:
                raise Unavailable(f"token endpoint unreachable ({type(exc).__name__})") from exc
            except ValueError as exc:  # a body that is not JSON
                raise BadResponse("token endpoint answered with no token") from exc
        if not token.get("access_token"):
            raise BadResponse("token endpoint answered with no token")
        return dict(token)

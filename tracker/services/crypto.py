"""Secrets at rest: AniList tokens are encrypted with TRACKER_ENCRYPTION_KEY (Fernet),
a key separate from the Flask secret."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    return Fernet(current_app.config["ENCRYPTION_KEY"])


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str | None:
    """The plain text, or None when the key changed and it cannot be read."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None

"""HTTP Basic authentication for the example LMS's API (``curl -u alice:alice ...``)."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions


class BasicAuthentication(authentication.BasicAuthentication):
    """DRF's Basic authentication that answers 401 to credentials no account can have.

    A NUL byte cannot be stored in a username or a password hash, and on
    PostgreSQL a query containing one fails; such credentials are refused
    before they reach the database.
    """

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> Any:
        if "\x00" in userid or "\x00" in password:
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        return super().authenticate_credentials(userid, password, request)

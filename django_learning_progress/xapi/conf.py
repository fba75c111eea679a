"""Settings of the learning records: ``LEARNING_PROGRESS["XAPI"]``.

Read on every access through :data:`xapi_settings`, so ``override_settings``
works. Nothing raises at import time; :mod:`~django_learning_progress.xapi.checks`
reports a malformed value.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

#: The defaults of ``LEARNING_PROGRESS["XAPI"]``.
XAPI_DEFAULTS: dict[str, Any] = {
    "ENABLED": False,
    "ACTOR": "django_learning_progress.xapi.statements.default_actor",
    "ACTOR_HOME_PAGE": None,
    "ACTIVITY_ID": "django_learning_progress.xapi.statements.default_activity_id",
    "BASE_IRI": None,
    "TASK_ACTIVITY_TYPE": "http://adlnet.gov/expapi/activities/lesson",
    "PLATFORM": "django-learning-progress",
    "ENDPOINT": None,
    "USERNAME": None,
    "PASSWORD": None,
    "AUTHORIZATION": None,
    "BATCH_SIZE": 100,
    "TIMEOUT": 10,
    "RETRY_DELAY": 60,
    "MAX_RETRY_DELAY": 86400,
}


class XapiSettings:
    """The options of ``settings.LEARNING_PROGRESS["XAPI"]``, read on every access."""

    def _get(self, name: str) -> Any:
        options = getattr(settings, "LEARNING_PROGRESS", None)
        xapi = options.get("XAPI") if isinstance(options, dict) else None
        if not isinstance(xapi, dict):  # reported by check learning_progress_xapi.E001
            xapi = {}
        return xapi.get(name, XAPI_DEFAULTS[name])

    @property
    def ENABLED(self) -> bool:
        """Write a statement for every progress event (off by default)."""
        return bool(self._get("ENABLED"))

    @property
    def ACTOR(self) -> Any:
        """Callable (or its dotted path) ``user -> dict``: the statement's actor (an Agent)."""
        return self._get("ACTOR")

    @property
    def ACTOR_HOME_PAGE(self) -> str:
        """``homePage`` of the default actor's account (``BASE_IRI`` when unset)."""
        return str(self._get("ACTOR_HOME_PAGE") or self.BASE_IRI)

    @property
    def ACTIVITY_ID(self) -> Any:
        """Callable (or its dotted path) ``obj -> str``: the IRI of a course, task, quiz, question or attempt."""
        return self._get("ACTIVITY_ID")

    @property
    def BASE_IRI(self) -> str:
        """Base of the default activity ids and actor home page, e.g. ``"https://lms.example.com"``."""
        return str(self._get("BASE_IRI") or "").rstrip("/")

    @property
    def TASK_ACTIVITY_TYPE(self) -> str:
        """Activity type of a task (``http://adlnet.gov/expapi/activities/lesson``)."""
        return str(self._get("TASK_ACTIVITY_TYPE"))

    @property
    def PLATFORM(self) -> str:
        """``context.platform`` of every statement (empty: left out)."""
        return str(self._get("PLATFORM") or "")

    @property
    def ENDPOINT(self) -> str:
        """The LRS's xAPI endpoint; statements are sent to ``ENDPOINT/statements``."""
        return str(self._get("ENDPOINT") or "").rstrip("/")

    @property
    def USERNAME(self) -> str | None:
        """User of HTTP basic authentication with the LRS."""
        value = self._get("USERNAME")
        return None if value is None else str(value)

    @property
    def PASSWORD(self) -> str | None:
        """Password of HTTP basic authentication with the LRS."""
        value = self._get("PASSWORD")
        return None if value is None else str(value)

    @property
    def AUTHORIZATION(self) -> str | None:
        """A whole ``Authorization`` header value instead (e.g. ``"Bearer ..."``)."""
        value = self._get("AUTHORIZATION")
        return None if value is None else str(value)

    @property
    def BATCH_SIZE(self) -> int:
        """Statements per POST."""
        return int(self._get("BATCH_SIZE"))

    @property
    def TIMEOUT(self) -> float:
        """Seconds to wait for the LRS on each request."""
        return float(self._get("TIMEOUT"))

    @property
    def RETRY_DELAY(self) -> int:
        """Seconds before the first retry of a failed statement; doubled on each failure."""
        return int(self._get("RETRY_DELAY"))

    @property
    def MAX_RETRY_DELAY(self) -> int:
        """The longest wait between two tries of a statement, in seconds."""
        return int(self._get("MAX_RETRY_DELAY"))


#: The single instance to read the options from.
xapi_settings = XapiSettings()

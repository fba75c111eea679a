"""Settings of django-learning-progress.

Two kinds of settings exist:

* Flat ``LEARNING_PROGRESS_*_MODEL`` settings name models. Django's migrations
  must see them, so they are top-level settings like ``AUTH_USER_MODEL``.
* Behaviour options live in one dict, ``LEARNING_PROGRESS``. They are read on
  every access through :data:`app_settings`, so ``override_settings`` works.

Nothing here raises at import time: a missing or malformed setting is
reported by the system checks (see :mod:`django_learning_progress.checks`).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

#: Flat settings naming the host's content models (required).
CONTENT_MODEL_SETTINGS: dict[str, str] = {
    "course": "LEARNING_PROGRESS_COURSE_MODEL",
    "task": "LEARNING_PROGRESS_TASK_MODEL",
    "quiz": "LEARNING_PROGRESS_QUIZ_MODEL",
    "question": "LEARNING_PROGRESS_QUESTION_MODEL",
}

#: Flat settings naming the (swappable) progress models, with their defaults.
PROGRESS_MODEL_SETTINGS: dict[str, tuple[str, str]] = {
    "enrollment": ("LEARNING_PROGRESS_ENROLLMENT_MODEL", "learning_progress.CourseEnrollment"),
    "task_progress": ("LEARNING_PROGRESS_TASK_PROGRESS_MODEL", "learning_progress.TaskProgress"),
    "quiz_attempt": ("LEARNING_PROGRESS_QUIZ_ATTEMPT_MODEL", "learning_progress.QuizAttempt"),
    "quiz_response": ("LEARNING_PROGRESS_QUIZ_RESPONSE_MODEL", "learning_progress.QuizResponse"),
}

_MODEL_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


def is_model_label(value: object) -> bool:
    """Whether ``value`` has the ``"app_label.ModelName"`` form."""
    return isinstance(value, str) and bool(_MODEL_LABEL.match(value))


def model_setting(kind: str) -> str:
    """The model label configured for ``kind`` (``"course"``, ``"enrollment"``, ...).

    A content model setting that is missing or malformed yields a placeholder
    label that resolves to no model, so that importing the models never fails;
    the system checks then report the setting by name.
    """
    if kind in CONTENT_MODEL_SETTINGS:
        name = CONTENT_MODEL_SETTINGS[kind]
        value = getattr(settings, name, None)
        if is_model_label(value):
            return str(value)
        return f"learning_progress.Unconfigured{kind.title()}Model"
    name, default = PROGRESS_MODEL_SETTINGS[kind]
    value = getattr(settings, name, default)
    return str(value) if is_model_label(value) else default


GRADE_METHODS = ("highest", "latest", "first", "average")
OVERDUE_POLICIES = ("submit", "abandon")
#: The highest ``MAX_JSON_DEPTH`` a host may set: far below the nesting at
#: which Python's JSON encoder and decoder hit the recursion limit.
MAX_JSON_DEPTH_LIMIT = 200

DEFAULTS: dict[str, Any] = {
    "CONTENT_ADAPTER": "django_learning_progress.content.ContentAdapter",
    "AUTO_ENROLL": False,
    "MAX_TIME_PER_CALL": 3600,
    "REQUIRE_QUIZZES_FOR_COMPLETION": False,
    "QUIZ_GRADE_METHOD": "highest",
    "OVERDUE_ATTEMPT_POLICY": "submit",
    "DEADLINE_GRACE_SECONDS": 0,
    "INSTRUCTOR_CHECK": "django_learning_progress.access.default_instructor_check",
    "API_PAGE_SIZE": 50,
    "INACTIVE_DAYS": 14,
    "ANALYTICS_MIN_ATTEMPTS": 10,
    "MAX_JSON_DEPTH": 31,
    "MAX_JSON_BYTES": 65536,
    "ALLOW_SELF_GRADING": False,
}

#: Keys of ``LEARNING_PROGRESS`` that optional integrations read and check
#: themselves (``"XAPI"``: :mod:`django_learning_progress.xapi`).
INTEGRATION_KEYS = ("XAPI",)


class AppSettings:
    """Behaviour options from ``settings.LEARNING_PROGRESS``, read on every access."""

    def _get(self, name: str) -> Any:
        options = getattr(settings, "LEARNING_PROGRESS", None)
        if not isinstance(options, dict):  # reported by check learning_progress.E007
            options = {}
        return options.get(name, DEFAULTS[name])

    @property
    def CONTENT_ADAPTER(self) -> str:
        """Dotted path of the :class:`~django_learning_progress.content.ContentAdapter` class."""
        return str(self._get("CONTENT_ADAPTER"))

    @property
    def AUTO_ENROLL(self) -> bool:
        """Enroll a learner automatically when they start a task or quiz of a course."""
        return bool(self._get("AUTO_ENROLL"))

    @property
    def MAX_TIME_PER_CALL(self) -> int:
        """Most seconds one call may add to a task's or response's time spent."""
        return int(self._get("MAX_TIME_PER_CALL"))

    @property
    def REQUIRE_QUIZZES_FOR_COMPLETION(self) -> bool:
        """Course completion also needs every quiz of the course passed."""
        return bool(self._get("REQUIRE_QUIZZES_FOR_COMPLETION"))

    @property
    def QUIZ_GRADE_METHOD(self) -> str:
        """How a quiz grade is taken over attempts (``highest``, ``latest``, ``first`` or ``average``)."""
        return str(self._get("QUIZ_GRADE_METHOD"))

    @property
    def OVERDUE_ATTEMPT_POLICY(self) -> str:
        """What happens to an attempt past its deadline (``submit`` or ``abandon``)."""
        return str(self._get("OVERDUE_ATTEMPT_POLICY"))

    @property
    def DEADLINE_GRACE_SECONDS(self) -> int:
        """Seconds after an attempt's deadline during which answers are still accepted."""
        return int(self._get("DEADLINE_GRACE_SECONDS"))

    @property
    def INSTRUCTOR_CHECK(self) -> Any:
        """Callable (or its dotted path) ``(user, course) -> bool``: is the user an instructor?"""
        return self._get("INSTRUCTOR_CHECK")

    @property
    def API_PAGE_SIZE(self) -> int:
        """Page size of the REST API lists when the host sets no DRF pagination class."""
        return int(self._get("API_PAGE_SIZE"))

    @property
    def INACTIVE_DAYS(self) -> int:
        """Days without task activity after which an active learner counts as inactive."""
        return int(self._get("INACTIVE_DAYS"))

    @property
    def ANALYTICS_MIN_ATTEMPTS(self) -> int:
        """Fewest counted attempts for item discrimination and Cronbach's alpha."""
        return int(self._get("ANALYTICS_MIN_ATTEMPTS"))

    @property
    def MAX_JSON_DEPTH(self) -> int:
        """Deepest nesting of arrays and objects accepted in a stored JSON value.

        31 by default: the deepest value MariaDB's ``JSON_VALID`` accepts.
        """
        return int(self._get("MAX_JSON_DEPTH"))

    @property
    def MAX_JSON_BYTES(self) -> int:
        """Largest stored JSON value accepted, in bytes of its compact UTF-8 encoding."""
        return int(self._get("MAX_JSON_BYTES"))

    @property
    def ALLOW_SELF_GRADING(self) -> bool:
        """Let a grader grade responses of their own attempts (staff included; off by default)."""
        return bool(self._get("ALLOW_SELF_GRADING"))


#: The single instance to read behaviour options from.
app_settings = AppSettings()

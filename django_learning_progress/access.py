"""Who may see a course's figures: the host's instructor check.

``LEARNING_PROGRESS["INSTRUCTOR_CHECK"]`` names a callable ``(user, course) -> bool``
(dotted path, or the callable itself). The default,
:func:`default_instructor_check`, answers ``user.is_staff``. Staff users
always pass, whatever the check says.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from django_learning_progress.conf import app_settings


def default_instructor_check(user: Any, course: Any) -> bool:
    """The default instructor check: staff users instruct every course."""
    return bool(getattr(user, "is_staff", False))


def get_instructor_check() -> Any:
    """The configured instructor check callable."""
    check = app_settings.INSTRUCTOR_CHECK
    if isinstance(check, str):
        check = import_string(check)
    if not callable(check):
        raise ImproperlyConfigured('LEARNING_PROGRESS["INSTRUCTOR_CHECK"] must be a callable.')
    return check


def is_instructor(user: Any, course: Any) -> bool:
    """Whether ``user`` may see every learner's figures in ``course``."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_staff", False):
        return True
    return bool(get_instructor_check()(user, course))

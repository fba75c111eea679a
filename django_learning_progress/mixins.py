"""``LearningProgressUserMixin``: progress helpers on the host's user model.

The mixin adds no fields and imports no models at import time, so a host can
use it in the ``models.py`` that defines its user model::

    from django.contrib.auth.models import AbstractUser
    from django_learning_progress.mixins import LearningProgressUserMixin

    class User(LearningProgressUserMixin, AbstractUser):
        pass

Each method calls the function of the same name in
:mod:`django_learning_progress.helpers` with the user first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from django_learning_progress.helpers import CourseProgress


class LearningProgressUserMixin:
    """Progress helpers for a user model (no fields, no queries until called)."""

    def calculate_progress_percentage(self, course: Any) -> float:
        """See :func:`django_learning_progress.helpers.calculate_progress_percentage`."""
        from django_learning_progress import helpers

        return helpers.calculate_progress_percentage(self, course)

    def is_course_completed(self, course: Any) -> bool:
        """See :func:`django_learning_progress.helpers.is_course_completed`."""
        from django_learning_progress import helpers

        return helpers.is_course_completed(self, course)

    def get_course_progress(self, course: Any) -> CourseProgress:
        """See :func:`django_learning_progress.helpers.get_course_progress`."""
        from django_learning_progress import helpers

        return helpers.get_course_progress(self, course)

    def get_latest_quiz_attempt(self, quiz: Any = None) -> Any:
        """See :func:`django_learning_progress.helpers.get_latest_quiz_attempt`."""
        from django_learning_progress import helpers

        return helpers.get_latest_quiz_attempt(self, quiz)

    def get_best_quiz_attempt(self, quiz: Any) -> Any:
        """See :func:`django_learning_progress.helpers.get_best_quiz_attempt`."""
        from django_learning_progress import helpers

        return helpers.get_best_quiz_attempt(self, quiz)

    def get_quiz_grade(self, quiz: Any) -> Decimal | None:
        """See :func:`django_learning_progress.helpers.get_quiz_grade`."""
        from django_learning_progress import helpers

        return helpers.get_quiz_grade(self, quiz)

    def get_enrolled_courses(self, *, include_dropped: bool = False) -> QuerySet[Any]:
        """See :func:`django_learning_progress.helpers.get_enrolled_courses`."""
        from django_learning_progress import helpers

        return helpers.get_enrolled_courses(self, include_dropped=include_dropped)

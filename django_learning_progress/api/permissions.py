"""Permission classes of the REST API."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from django_learning_progress.access import is_instructor


class IsCourseInstructor(BasePermission):
    """Staff, or an instructor of the view's course (``LEARNING_PROGRESS["INSTRUCTOR_CHECK"]``).

    The view provides the course with ``get_course()``.
    """

    message = "Only instructors of this course may see this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_instructor(request.user, view.get_course())

"""How django-learning-progress reads the catalog (named in ``settings.LEARNING_PROGRESS``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from django_learning_progress.content import ContentAdapter


class CatalogAdapter(ContentAdapter):
    """Lessons are the tasks; they reach their course through their module."""

    task_course_lookup = "module__course"

    def required_tasks(self, course: Any) -> QuerySet[Any]:
        """Optional lessons do not count towards completing a course."""
        return self.course_tasks(course).filter(optional=False)


def teaches(user: Any, course: Any) -> bool:
    """``LEARNING_PROGRESS["INSTRUCTOR_CHECK"]``: the course lists the user as an instructor."""
    return course.instructors.filter(pk=user.pk).exists()

"""Instructor pages outside the admin: a course's report and its downloads.

Include :mod:`django_learning_progress.pages.urls` at a path of your choice::

    path("teach/", include("django_learning_progress.pages.urls")),

The pages need only Django (not Django REST framework). See :doc:`/pages`.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse

#: The URL namespace of :mod:`django_learning_progress.pages.urls`.
NAMESPACE = "learning_progress_pages"


def course_page_url(course: Any) -> str | None:
    """URL of ``course``'s report page, or ``None`` when the host has not included the pages."""
    try:
        return reverse(f"{NAMESPACE}:course-report", args=[getattr(course, "pk", course)])
    except NoReverseMatch:
        return None

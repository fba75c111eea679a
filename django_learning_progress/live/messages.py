"""The JSON messages pushed to WebSocket clients (see :doc:`/live`).

Each message is a snapshot of the current state, read once per change after
the commit, never a difference: a client that receives the same message twice,
or misses one and then receives the next, ends up right.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import router

from django_learning_progress import helpers
from django_learning_progress.models import get_enrollment_model

COURSE_PROGRESS = "course_progress"
ATTEMPT = "attempt"

__all__ = ["ATTEMPT", "COURSE_PROGRESS", "attempt_message", "course_progress_message", "json_id"]


def json_id(value: Any) -> Any:
    """A primary key as JSON: integers stay numbers, anything else (a UUID) becomes a string."""
    value = getattr(value, "pk", value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None if value is None else str(value)


def course_progress_message(user: Any, course: Any) -> dict[str, Any]:
    """``user``'s figures in ``course`` as a ``course_progress`` message.

    One query (:func:`~django_learning_progress.helpers.course_figures`), on
    the database that the change was written to, so that a lagging read
    replica never sends stale figures.
    """
    using = router.db_for_write(get_enrollment_model())
    figures = helpers.course_figures(
        user, course, "percentage", "tasks_completed", "tasks_total", "status", using=using
    )
    return {
        "type": COURSE_PROGRESS,
        "course": json_id(course),
        "user": json_id(user),
        "percentage": helpers.round_percentage(figures["percentage"]),
        "tasks_completed": figures["tasks_completed"],
        "tasks_total": figures["tasks_total"],
        "status": figures["status"],
    }


def attempt_message(attempt: Any) -> dict[str, Any]:
    """An ``attempt`` message: the attempt's state as it was saved (no query).

    ``score`` is a decimal string (as in the REST API) or ``null`` until graded.
    """
    score = attempt.score
    if score is not None:
        places = type(attempt)._meta.get_field("score").decimal_places
        score = Decimal(score).quantize(Decimal(1).scaleb(-places))
    return {
        "type": ATTEMPT,
        "quiz": json_id(attempt.quiz_id),
        "attempt": json_id(attempt.pk),
        "status": str(attempt.status),
        "score": None if score is None else str(score),
        "passed": attempt.passed,
    }

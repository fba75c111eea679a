"""Building xAPI 1.0.3 statements from the services' events.

:func:`build_statements` turns one event (a signal of
:mod:`django_learning_progress.signals` with its arguments) into the
statements that record it. The ``ACTOR`` and ``ACTIVITY_ID`` hooks default to
:func:`default_actor` and :func:`default_activity_id`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.db.models import Model, Sum
from django.dispatch import Signal
from django.utils import timezone
from django.utils.module_loading import import_string

from django_learning_progress import helpers, signals
from django_learning_progress.choices import EnrollmentStatus
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import get_task_progress_model
from django_learning_progress.xapi.conf import xapi_settings

__all__ = [
    "ACTIVITY",
    "NAMESPACE",
    "VERB",
    "build_statements",
    "default_activity_id",
    "default_actor",
    "duration",
    "registration",
]

#: Namespace of the name-based (version 5) UUIDs of statement ids and registrations.
NAMESPACE = uuid.UUID("4b1c3a52-6f0e-5d7b-9a51-6c2f1e0d8a34")

_ADL = "http://adlnet.gov/expapi/verbs/"
#: The verbs, by short name.
VERB: dict[str, str] = {
    "registered": _ADL + "registered",
    "unregistered": "http://id.tincanapi.com/verb/unregistered",
    "initialized": _ADL + "initialized",
    "progressed": _ADL + "progressed",
    "completed": _ADL + "completed",
    "attempted": _ADL + "attempted",
    "answered": _ADL + "answered",
    "passed": _ADL + "passed",
    "failed": _ADL + "failed",
    "terminated": _ADL + "terminated",
}

_ACT = "http://adlnet.gov/expapi/activities/"
#: Activity types, by kind (the task's comes from ``TASK_ACTIVITY_TYPE``).
ACTIVITY: dict[str, str] = {
    "course": _ACT + "course",
    "quiz": _ACT + "assessment",
    "question": _ACT + "cmi.interaction",
    "attempt": _ACT + "attempt",
}

#: The cmi5 progress extension (0-100).
PROGRESS_EXTENSION = "https://w3id.org/xapi/cmi5/result/extensions/progress"


def default_actor(user: Any) -> dict[str, Any]:
    """An Agent identified by an account: ``homePage`` ``ACTOR_HOME_PAGE``, ``name`` the user's pk.

    No name, email or other personal data leaves the site.
    """
    return {
        "objectType": "Agent",
        "account": {"homePage": xapi_settings.ACTOR_HOME_PAGE, "name": str(user.pk)},
    }


def default_activity_id(obj: Model) -> str:
    """``BASE_IRI/<app_label.modelname>/<pk>``, e.g. ``https://lms.example.com/testapp.lesson/3``."""
    label = obj._meta.label_lower
    return f"{xapi_settings.BASE_IRI}/{quote(label)}/{quote(str(obj.pk), safe='')}"


def registration(user_id: Any, course_id: Any) -> str:
    """``context.registration``: a UUID stable per enrollment (one per learner and course)."""
    return str(uuid.uuid5(NAMESPACE, f"{xapi_settings.BASE_IRI} {user_id} {course_id}"))


def duration(seconds: int | Decimal | None) -> str:
    """ISO 8601 duration of whole seconds, e.g. ``PT1H2M5S`` (``PT0S`` for zero)."""
    total = int(seconds or 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or total == 0 else "")


def _timestamp(value: datetime | None) -> datetime:
    return value or timezone.now()


def _hook(value: Any) -> Callable[..., Any]:
    return import_string(value) if isinstance(value, str) else value


class _Builder:
    """Statements of one event: the hooks resolved once."""

    def __init__(self, user: Any, course_id: Any, using: str) -> None:
        self.user, self.course_id, self.using = user, course_id, using
        self.actor = _hook(xapi_settings.ACTOR)(user)
        self.activity_id = _hook(xapi_settings.ACTIVITY_ID)
        self.adapter = get_content_adapter()

    def activity(self, model: Any, pk: Any, kind: str, **definition: Any) -> dict[str, Any]:
        # A row with only its primary key loaded (no query; other fields load on access).
        obj = model.from_db(self.using, [model._meta.pk.attname], [pk])
        kind_type = xapi_settings.TASK_ACTIVITY_TYPE if kind == "task" else ACTIVITY[kind]
        return {
            "objectType": "Activity",
            "id": self.activity_id(obj),
            "definition": {"type": kind_type, **definition},
        }

    def course(self) -> dict[str, Any]:
        return self.activity(self.adapter.course_model, self.course_id, "course")

    def statement(
        self,
        verb: str,
        obj: dict[str, Any],
        when: datetime | None,
        *,
        result: dict[str, Any] | None = None,
        grouping: list[dict[str, Any]] | None = None,
        key: str = "",
    ) -> dict[str, Any]:
        when = _timestamp(when)
        stamp = when.isoformat()
        name = f"{VERB[verb]} {obj['id']} {json.dumps(self.actor, sort_keys=True)} {stamp} {key}"
        context: dict[str, Any] = {"registration": registration(self.user.pk, self.course_id)}
        if xapi_settings.PLATFORM:
            context["platform"] = xapi_settings.PLATFORM
        activities: dict[str, Any] = {}
        if obj["definition"]["type"] != ACTIVITY["course"]:
            activities["parent"] = [self.course()]
        if grouping:
            activities["grouping"] = grouping
        if activities:
            context["contextActivities"] = activities
        statement: dict[str, Any] = {
            "id": str(uuid.uuid5(NAMESPACE, name)),
            "version": "1.0.3",
            "actor": self.actor,
            "verb": {"id": VERB[verb], "display": {"en-US": verb}},
            "object": obj,
            "timestamp": stamp,
            "context": context,
        }
        if result is not None:
            statement["result"] = result
        return statement


def _score(attempt: Any) -> dict[str, Any]:
    raw = attempt.score or Decimal(0)
    top = attempt.max_score or Decimal(0)
    score: dict[str, Any] = {"raw": float(raw)}
    if top > 0:
        score.update(min=0.0, max=float(top), scaled=float(max(Decimal(0), min(raw / top, 1))))
    return score


def build_statements(event: Signal, using: str, **kwargs: Any) -> list[dict[str, Any]]:
    """The statements recording ``event`` (a signal of the services) sent with ``kwargs``.

    Empty for an event that no statement records (e.g. ``quiz_attempt_submitted``,
    or a completed enrollment reopened). ``using`` is the database the change
    is written to; a few events read it (``progressed``: the course progress;
    course ``completed``: the time spent).
    """
    user = kwargs["user"]
    adapter = get_content_adapter()
    result: dict[str, Any]
    if event in (
        signals.enrollment_created,
        signals.enrollment_status_changed,
        signals.course_completed,
    ):
        enrollment = kwargs["enrollment"]
        b = _Builder(user, enrollment.course_id, using)
        if event is signals.enrollment_created:
            return [b.statement("registered", b.course(), enrollment.enrolled_at)]
        if event is signals.course_completed:
            spent = (
                get_task_progress_model()
                ._default_manager.db_manager(using)
                .filter(user=user, course=enrollment.course_id)
                .aggregate(total=Sum("time_spent"))["total"]
            )
            result = {"completion": True, "duration": duration(spent)}
            return [b.statement("completed", b.course(), enrollment.completed_at, result=result)]
        if kwargs["status"] == EnrollmentStatus.DROPPED:
            return [b.statement("unregistered", b.course(), enrollment.dropped_at)]
        if (
            kwargs["previous_status"] == EnrollmentStatus.DROPPED
            and kwargs["status"] == EnrollmentStatus.ACTIVE
        ):
            return [b.statement("registered", b.course(), enrollment.updated_at)]
        return []
    if event in (signals.task_started, signals.task_completed, signals.time_recorded):
        progress = kwargs["progress"]
        b = _Builder(user, progress.course_id, using)
        task = b.activity(adapter.task_model, progress.task_id, "task")
        if event is signals.task_started:
            return [b.statement("initialized", task, progress.started_at)]
        if event is signals.task_completed:
            result = {"completion": True}
            if progress.time_spent:
                result["duration"] = duration(progress.time_spent)
            return [b.statement("completed", task, progress.completed_at, result=result)]
        figures = helpers.course_figures(user, progress.course_id, "percentage", using=using)
        result = {
            "duration": duration(kwargs["seconds"]),
            "extensions": {PROGRESS_EXTENSION: round(figures["percentage"])},
        }
        return [b.statement("progressed", task, progress.last_activity_at, result=result)]
    if event not in (
        signals.quiz_attempt_started,
        signals.quiz_attempt_graded,
        signals.quiz_attempt_abandoned,
        signals.questions_answered,
    ):
        return []  # e.g. an override changed, an attempt regraded: no statement
    attempt = kwargs["attempt"]
    b = _Builder(user, attempt.course_id, using)
    quiz = b.activity(adapter.quiz_model, attempt.quiz_id, "quiz")
    attempt_activity = b.activity(type(attempt), attempt.pk, "attempt")
    if event is signals.quiz_attempt_started:
        return [b.statement("attempted", quiz, attempt.started_at, grouping=[attempt_activity])]
    if event is signals.quiz_attempt_graded:
        result = {
            "score": _score(attempt),
            "success": bool(attempt.passed),
            "completion": True,
            "duration": duration(attempt.time_taken),
        }
        verb = "passed" if attempt.passed else "failed"
        return [b.statement(verb, quiz, timezone.now(), result=result, grouping=[attempt_activity])]
    if event is signals.quiz_attempt_abandoned:
        result = {"completion": False, "duration": duration(attempt.time_taken)}
        return [
            b.statement(
                "terminated", quiz, timezone.now(), result=result, grouping=[attempt_activity]
            )
        ]
    if event is signals.questions_answered:
        out = []
        for response in kwargs["responses"]:
            question = b.activity(adapter.question_model, response.question_id, "question")
            answer: dict[str, Any] = {}
            if response.is_correct is not None:
                answer["success"] = bool(response.is_correct)
            if response.time_spent:
                answer["duration"] = duration(response.time_spent)
            out.append(
                b.statement(
                    "answered",
                    question,
                    response.answered_at,
                    result=answer or None,
                    grouping=[quiz, attempt_activity],
                    key=str(response.question_id),
                )
            )
        return out
    return []

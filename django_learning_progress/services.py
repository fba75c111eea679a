"""Services: the only code that changes progress state.

Every function runs in a transaction on the database the router picks for
writes to the progress models (reads that decide a write happen there too),
validates its input, leaves the data untouched when it raises, is idempotent
where a repeat is natural, and sends :mod:`~django_learning_progress.signals`
after commit only when state really changes.

Errors:

* :class:`~django.core.exceptions.ValidationError` for bad input or a
  request that the current state refuses (``code`` tells which, e.g.
  ``"not_enrolled"``, ``"max_attempts"``, ``"attempt_closed"``);
* :class:`~django.core.exceptions.PermissionDenied` when ``user`` is not the
  owner of the attempt passed, or ``by`` does not instruct the quiz's course
  (overrides and regrading).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import Case, Exists, F, Max, Model, OuterRef, Sum, Value, When
from django.db.models.functions import Coalesce
from django.dispatch import Signal
from django.utils import timezone

from django_learning_progress import _sql, helpers, signals
from django_learning_progress._expressions import AnyOf
from django_learning_progress.access import is_instructor
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.conf import app_settings
from django_learning_progress.content import get_content_adapter, to_points
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_override_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from django_learning_progress.validation import (
    check_json,
    field_error,
    find_json_problem,
    first_code,
    parse_pk,
)

logger = logging.getLogger("django_learning_progress.signals")
services_logger = logging.getLogger("django_learning_progress.services")

PERCENT = Decimal("0.01")

__all__ = [
    "MAX_EXTRA_ATTEMPTS",
    "MAX_EXTRA_TIME",
    "MAX_OVERRIDE_REASON_LENGTH",
    "REGRADE_CHUNK_SIZE",
    "RegradeSummary",
    "RegradedAttempt",
    "abandon_attempt",
    "add_time_spent",
    "answer_question",
    "answer_questions",
    "clean_quiz_override",
    "close_if_overdue",
    "close_overdue_attempts",
    "complete_enrollment",
    "complete_task",
    "drop_enrollment",
    "enroll",
    "get_or_enroll",
    "get_or_start_attempt",
    "get_or_start_task",
    "grade_response",
    "record_heartbeat",
    "regrade_quiz",
    "remove_quiz_override",
    "reopen_enrollment",
    "reset_task",
    "set_quiz_override",
    "start_attempt",
    "start_task",
    "submit_attempt",
    "update_enrollment_settings",
    "update_or_create_quiz_override",
]


# -- plumbing ----------------------------------------------------------------------


def _db() -> str:
    return router.db_for_write(get_enrollment_model())


def _objects(model: type[Model], db: str) -> Any:
    return model._default_manager.db_manager(db)


def _emit(signal: Signal, instance: Model, db: str, **kwargs: Any) -> None:
    """Send ``signal`` after the current transaction commits, robustly.

    ``state_changed`` goes first, synchronously, inside the transaction (when
    something listens: none of its cost otherwise).
    """
    sender = type(instance)
    if signals.state_changed.has_listeners(sender):
        signals.state_changed.send(sender=sender, event=signal, using=db, **kwargs)

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                logger.error(
                    "A receiver of a learning progress signal raised: %r",
                    receiver,
                    exc_info=(type(result), result, result.__traceback__),
                )

    transaction.on_commit(send, using=db)


def _attach_user(obj: Any, db: str, user: Any = None) -> Any:
    """Make ``obj.user`` available without a query through the read router."""
    field = type(obj)._meta.get_field("user")
    if user is not None and user.pk == obj.user_id:
        field.set_cached_value(obj, user)
    elif not field.is_cached(obj):
        field.set_cached_value(
            obj, get_user_model()._default_manager.db_manager(db).get(pk=obj.user_id)
        )
    return obj


def _require(obj: Any, model: type[Model], name: str) -> None:
    if not isinstance(obj, model) or obj.pk is None:
        raise field_error(
            name, f"Expected a saved {model._meta.label} instance, got {obj!r}.", "invalid"
        )


def _require_user(user: Any, name: str = "user") -> None:
    _require(user, get_user_model(), name)


def _seconds(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise field_error(name, "Must be a whole number of seconds.", "invalid")
    if value < 0:
        raise field_error(name, "Must not be negative.", "negative")
    cap = app_settings.MAX_TIME_PER_CALL
    if value > cap:
        raise field_error(name, f"Must be at most {cap} seconds per call.", "too_large")
    return value


# -- enrollments ---------------------------------------------------------------------


def _set_enrollment_status(enrollment: Any, status: str, db: str) -> None:
    previous, now = enrollment.status, timezone.now()
    enrollment.status = status
    if status == EnrollmentStatus.ACTIVE:
        enrollment.completed_at = enrollment.dropped_at = None
    elif status == EnrollmentStatus.COMPLETED:
        enrollment.completed_at = now
    else:
        enrollment.dropped_at = now
    enrollment.save(update_fields=["status", "completed_at", "dropped_at", "updated_at"])
    user = _attach_user(enrollment, db).user
    snapshot = copy.copy(enrollment)  # receivers see the enrollment as of this change
    _emit(
        signals.enrollment_status_changed,
        snapshot,
        db,
        enrollment=snapshot,
        user=user,
        previous_status=previous,
        status=status,
    )
    if status == EnrollmentStatus.COMPLETED:
        _emit(signals.course_completed, snapshot, db, enrollment=snapshot, user=user)


def _enroll(user: Any, course_id: Any, db: str) -> tuple[Any, bool]:
    """The enrollment, and whether this call created it or re-activated a dropped one."""
    objects = _objects(get_enrollment_model(), db)
    enrollment, created = objects.get_or_create(user=user, course_id=course_id)
    if created:
        _emit(signals.enrollment_created, enrollment, db, enrollment=enrollment, user=user)
        return enrollment, True
    if enrollment.status == EnrollmentStatus.DROPPED:
        enrollment = _attach_user(objects.select_for_update().get(pk=enrollment.pk), db, user)
        if enrollment.status == EnrollmentStatus.DROPPED:
            _set_enrollment_status(enrollment, EnrollmentStatus.ACTIVE, db)
            return enrollment, True
    return enrollment, False


def _lock_enrollment(enrollment: Any, db: str) -> Any:
    _require(enrollment, get_enrollment_model(), "enrollment")
    return _objects(get_enrollment_model(), db).select_for_update().get(pk=enrollment.pk)


def enroll(user: Any, course: Any) -> Any:
    """Enroll ``user`` in ``course`` and return the enrollment.

    A repeat returns the same row unchanged; a dropped enrollment is made
    ``active`` again. Safe when called concurrently: one row per (user, course).
    Sends ``enrollment_created`` or ``enrollment_status_changed``.
    """
    return get_or_enroll(user, course)[0]


def get_or_enroll(user: Any, course: Any) -> tuple[Any, bool]:
    """:func:`enroll`, returning ``(enrollment, created)``.

    ``created`` is true only for the call that created the enrollment or made
    a dropped one active again; of concurrent calls exactly one sees it.
    """
    _require_user(user)
    _require(course, get_content_adapter().course_model, "course")
    db = _db()
    with transaction.atomic(using=db):
        return _enroll(user, course.pk, db)


def drop_enrollment(enrollment: Any) -> Any:
    """Mark ``enrollment`` ``dropped`` (records are kept). Idempotent."""
    db = _db()
    with transaction.atomic(using=db):
        enrollment = _lock_enrollment(enrollment, db)
        if enrollment.status != EnrollmentStatus.DROPPED:
            _set_enrollment_status(enrollment, EnrollmentStatus.DROPPED, db)
    return enrollment


def complete_enrollment(enrollment: Any) -> Any:
    """Mark ``enrollment`` ``completed`` now, whatever the progress (an instructor's decision).

    Idempotent; a dropped enrollment cannot be completed (``code="dropped"``).
    Sends ``enrollment_status_changed`` and ``course_completed``.
    """
    db = _db()
    with transaction.atomic(using=db):
        enrollment = _lock_enrollment(enrollment, db)
        if enrollment.status == EnrollmentStatus.DROPPED:
            raise ValidationError("A dropped enrollment cannot be completed.", code="dropped")
        if enrollment.status != EnrollmentStatus.COMPLETED:
            _set_enrollment_status(enrollment, EnrollmentStatus.COMPLETED, db)
    return enrollment


def reopen_enrollment(enrollment: Any) -> Any:
    """Make a completed ``enrollment`` ``active`` again (``completed_at`` cleared).

    Idempotent for an active enrollment; a dropped one is re-activated with
    :func:`enroll` instead (``code="dropped"``). The course completes again
    when the learner next completes a task or quiz and every requirement is met.
    """
    db = _db()
    with transaction.atomic(using=db):
        enrollment = _lock_enrollment(enrollment, db)
        if enrollment.status == EnrollmentStatus.DROPPED:
            raise ValidationError(
                "A dropped enrollment is re-activated by enrolling again.", code="dropped"
            )
        if enrollment.status == EnrollmentStatus.COMPLETED:
            _set_enrollment_status(enrollment, EnrollmentStatus.ACTIVE, db)
    return enrollment


def update_enrollment_settings(enrollment: Any, settings: dict[str, Any]) -> Any:
    """Replace the enrollment's free-form ``settings`` (a JSON object)."""
    if not isinstance(settings, dict):
        raise field_error("settings", "Must be a JSON object.", "invalid")
    check_json("settings", settings)
    db = _db()
    with transaction.atomic(using=db):
        enrollment = _lock_enrollment(enrollment, db)
        enrollment.settings = settings
        enrollment.save(update_fields=["settings", "updated_at"])
    return enrollment


def _enrollment_for_work(user: Any, course_id: Any, db: str, *, lock: bool = False) -> Any:
    """The user's usable enrollment in the course, enrolling when AUTO_ENROLL is on."""
    objects = _objects(get_enrollment_model(), db)
    qs = objects.filter(user=user, course_id=course_id)
    enrollment = (qs.select_for_update() if lock else qs).first()
    if enrollment is None or enrollment.status == EnrollmentStatus.DROPPED:
        if not app_settings.AUTO_ENROLL:
            raise ValidationError("The user is not enrolled in this course.", code="not_enrolled")
        enrollment, _created = _enroll(user, course_id, db)
        if lock:
            enrollment = objects.select_for_update().get(pk=enrollment.pk)
    return enrollment


def _completion_met(user: Any, course_id: Any, db: str) -> bool:
    row = helpers.course_figures(user, course_id, "tasks_total", "tasks_completed", using=db)
    if row["tasks_total"] == 0 or row["tasks_completed"] < row["tasks_total"]:
        return False
    required = get_content_adapter().required_quizzes(course_id)
    return all(outcome.met for outcome in helpers.quiz_outcomes(user, required, using=db))


def _update_course_completion(
    user: Any, course_id: Any, db: str, *, allow_reopen: bool = False
) -> None:
    """Complete the enrollment once every requirement is met (or reopen it)."""
    enrollment = (
        _objects(get_enrollment_model(), db)
        .select_for_update()
        .filter(user=user, course_id=course_id)
        .first()
    )
    if enrollment is None or enrollment.status == EnrollmentStatus.DROPPED:
        return
    _attach_user(enrollment, db, user if isinstance(user, Model) else None)
    if enrollment.status == EnrollmentStatus.ACTIVE:
        if _completion_met(user, course_id, db):
            _set_enrollment_status(enrollment, EnrollmentStatus.COMPLETED, db)
    elif allow_reopen and not _completion_met(user, course_id, db):
        _set_enrollment_status(enrollment, EnrollmentStatus.ACTIVE, db)


# -- tasks ---------------------------------------------------------------------------


def _progress_row(user: Any, task: Any, db: str, *, lock: bool) -> Any:
    _require_user(user)
    _require(task, get_content_adapter().task_model, "task")
    course_id = get_content_adapter().get_task_course_id(task, db)
    _enrollment_for_work(user, course_id, db)
    objects = _objects(get_task_progress_model(), db)
    progress, _created = objects.get_or_create(
        user=user, task=task, defaults={"course_id": course_id}
    )
    return objects.select_for_update().get(pk=progress.pk) if lock else progress


def _mark_started(progress: Any, user: Any, db: str) -> None:
    now = timezone.now()
    progress.status = TaskStatus.IN_PROGRESS
    progress.started_at = now
    progress.last_activity_at = now
    progress.save(update_fields=["status", "started_at", "last_activity_at"])
    _emit(signals.task_started, progress, db, progress=progress, user=user)


def start_task(user: Any, task: Any) -> Any:
    """Start ``task`` for ``user`` (``in_progress``) and return its progress row.

    Idempotent. The user must be enrolled in the task's course (or
    ``AUTO_ENROLL`` on). Sends ``task_started``.
    """
    return get_or_start_task(user, task)[0]


def get_or_start_task(user: Any, task: Any) -> tuple[Any, bool]:
    """:func:`start_task`, returning ``(progress, started)``.

    ``started`` is true only for the call that moved the task out of
    ``not_started``; of concurrent calls exactly one sees it.
    """
    db = _db()
    with transaction.atomic(using=db):
        progress = _progress_row(user, task, db, lock=True)
        started = progress.status == TaskStatus.NOT_STARTED
        if started:
            _mark_started(progress, user, db)
    return progress, started


def add_time_spent(user: Any, task: Any, seconds: int) -> Any:
    """Add ``seconds`` to the time ``user`` spent on ``task``; return the progress row.

    The increment happens in the database (``time_spent = time_spent + n``),
    so concurrent calls never lose time. On a started task of an enrolled
    learner (every heartbeat after the first) it is one guarded ``UPDATE``
    that returns the row (PostgreSQL, SQLite; on MariaDB a ``SELECT``
    follows). ``seconds`` must be a whole number from 0 to
    ``LEARNING_PROGRESS["MAX_TIME_PER_CALL"]``. Starts the task if it was not
    started.
    """
    seconds = _seconds(seconds, "seconds")
    _require_user(user)
    _require(task, get_content_adapter().task_model, "task")
    db = _db()
    objects = _objects(get_task_progress_model(), db)
    # The heartbeat of an open lesson, where the task is started and the learner
    # enrolled: one UPDATE guarded by both (atomic on its own) that returns the row.
    now = timezone.now()
    with _recording(seconds, db):
        progress = _sql.add_time(user.pk, task.pk, seconds, now, db)
        if progress is NotImplemented:  # a default manager filters rows: the ORM's way
            enrolled = _objects(get_enrollment_model(), db).filter(
                user=user,
                course=OuterRef("course"),
                status__in=[EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED],
            )
            started = objects.filter(user=user, task=task).exclude(status=TaskStatus.NOT_STARTED)
            updated = started.filter(Exists(enrolled)).update(
                time_spent=F("time_spent") + seconds, last_activity_at=now
            )
            progress = objects.get(user=user, task=task) if updated else None
        if progress is not None and seconds > 0:
            _emit_time(progress, user, seconds, db)
    if progress is not None:
        return progress
    increment = {"time_spent": F("time_spent") + seconds, "last_activity_at": now}
    with transaction.atomic(using=db):
        # The first call (or one without a usable enrollment): the full path.
        progress = _progress_row(user, task, db, lock=False)
        objects.filter(pk=progress.pk).update(**increment)
        progress = objects.select_for_update().get(pk=progress.pk)
        if progress.status == TaskStatus.NOT_STARTED:
            _mark_started(progress, user, db)
        if seconds > 0:
            _emit_time(progress, user, seconds, db)
    return progress


def _recording(seconds: int, db: str) -> Any:
    """A transaction around a heartbeat's one statement when a ``state_changed``
    receiver writes with it (none otherwise: the statement is atomic on its own)."""
    if seconds > 0 and signals.state_changed.has_listeners():
        return transaction.atomic(using=db)
    return nullcontext()


def _emit_time(progress: Any, user: Any, seconds: int, db: str) -> None:
    _emit(signals.time_recorded, progress, db, progress=progress, user=user, seconds=seconds)


def record_heartbeat(user: Any, progress_id: Any, seconds: int) -> Any:
    """Add ``seconds`` to ``user``'s own started progress row ``progress_id``, in one statement.

    The heartbeat of an open task page, which knows the row's key: returns the
    updated row, or ``None`` when the row is not the user's, is not started,
    or the learner's enrollment is neither active nor completed (and when a
    default manager of the progress or enrollment model filters rows). Then
    :func:`add_time_spent` is the call to make: it handles every case. The
    increment happens in the database, so concurrent calls never lose time.
    ``seconds`` is validated as by :func:`add_time_spent`; ``time_recorded``
    is sent as by it.
    """
    seconds = _seconds(seconds, "seconds")
    _require_user(user)
    try:
        progress_id = parse_pk(get_task_progress_model(), progress_id)
    except ValueError:
        return None  # no row has such a key
    db = _db()
    with _recording(seconds, db):
        progress = _sql.add_time(user.pk, progress_id, seconds, timezone.now(), db, row=True)
        if progress is NotImplemented or progress is None:
            return None
        if seconds > 0:
            _emit_time(progress, user, seconds, db)
    return progress


def complete_task(user: Any, task: Any) -> Any:
    """Mark ``task`` completed for ``user``; complete the course when it was the last requirement.

    Idempotent. Sends ``task_completed`` (and ``task_started`` first when the
    task had not been started), then ``enrollment_status_changed`` and
    ``course_completed`` when the course completes. A task that a quiz
    completes (``adapter.task_quiz(task)``) is refused with
    ``code="completed_by_quiz"``.
    """
    db = _db()
    with transaction.atomic(using=db):
        progress = _progress_row(user, task, db, lock=True)
        if progress.status == TaskStatus.COMPLETED:
            return progress
        if get_content_adapter().task_quiz(task, using=db) is not None:
            raise field_error(
                "task", "This task is completed by meeting its quiz's rule.", "completed_by_quiz"
            )
        _complete(progress, user, db)
    return progress


def _complete(progress: Any, user: Any, db: str) -> None:
    """Complete a locked progress row, with its signals and course completion."""
    now = timezone.now()
    if progress.status == TaskStatus.NOT_STARTED:
        _mark_started(progress, user, db)
    progress.status = TaskStatus.COMPLETED
    progress.completed_at = now
    progress.last_activity_at = now
    progress.save(update_fields=["status", "completed_at", "last_activity_at"])
    _emit(signals.task_completed, progress, db, progress=progress, user=user)
    _update_course_completion(user, progress.course_id, db)


def reset_task(user: Any, task: Any, *, clear_time: bool = False) -> Any:
    """Put ``task`` back to ``not_started`` for ``user`` and return the progress row.

    ``time_spent`` is kept (it is effort that happened) unless ``clear_time``.
    When the task was completed and the course had completed, the enrollment
    becomes ``active`` again. Returns ``None`` when the user never worked on the task.
    """
    _require_user(user)
    _require(task, get_content_adapter().task_model, "task")
    db = _db()
    with transaction.atomic(using=db):
        objects = _objects(get_task_progress_model(), db)
        progress = objects.select_for_update().filter(user=user, task=task).first()
        if progress is None:
            return None
        _reset(progress, user, db, clear_time=clear_time)
    return progress


def _reset(progress: Any, user: Any, db: str, *, clear_time: bool) -> None:
    """Put a locked progress row back to ``not_started``; reopen the course if it completed."""
    was_completed = progress.status == TaskStatus.COMPLETED
    progress.status = TaskStatus.NOT_STARTED
    progress.started_at = progress.completed_at = None
    if clear_time:
        progress.time_spent = 0
    progress.save(update_fields=["status", "started_at", "completed_at", "time_spent"])
    if was_completed:
        _update_course_completion(user, progress.course_id, db, allow_reopen=True)


# -- quiz attempts --------------------------------------------------------------------


def _lock_attempt(user: Any, attempt: Any, db: str) -> Any:
    """Lock the learner's enrollment, then the attempt (the one lock order of attempt paths)."""
    if user is not None:
        _require_user(user)
    if isinstance(attempt, Model):
        _require(attempt, get_quiz_attempt_model(), "attempt")
        attempt = attempt.pk
    objects = _objects(get_quiz_attempt_model(), db)
    owner_id, course_id = objects.filter(pk=attempt).values_list("user_id", "course_id").get()
    if user is not None and owner_id != user.pk:
        raise PermissionDenied("This attempt belongs to another user.")
    list(
        _objects(get_enrollment_model(), db)
        .select_for_update()
        .filter(user=owner_id, course=course_id)
        .values_list("pk", flat=True)
    )
    return _attach_user(objects.select_for_update().get(pk=attempt), db, user)


def _overdue(attempt: Any, now: datetime) -> bool:
    if attempt.status != AttemptStatus.IN_PROGRESS or attempt.deadline_at is None:
        return False
    grace = timedelta(seconds=app_settings.DEADLINE_GRACE_SECONDS)
    return bool(now > attempt.deadline_at + grace)


def _close_if_overdue(attempt: Any, db: str, now: datetime | None = None) -> bool:
    """Close a locked attempt past its deadline by the host's policy."""
    if not _overdue(attempt, now or timezone.now()):
        return False
    if app_settings.OVERDUE_ATTEMPT_POLICY == "abandon":
        _abandon(attempt, attempt.deadline_at, db)
    else:
        _submit(attempt, db, attempt.deadline_at)
    return True


def _elapsed(attempt: Any, until: datetime) -> int:
    return max(0, int((until - attempt.started_at).total_seconds()))


def _abandon(attempt: Any, at: datetime, db: str) -> None:
    attempt.status = AttemptStatus.ABANDONED
    attempt.time_taken = _elapsed(attempt, at)
    attempt.save(update_fields=["status", "time_taken"])
    _emit(signals.quiz_attempt_abandoned, attempt, db, attempt=attempt, user=attempt.user)
    _apply_quiz_rule(attempt, db)


def _quiz_met(user: Any, quiz: Any, db: str) -> bool:
    """Whether ``user`` meets ``quiz``'s completion rule (read on ``db``)."""
    rows = get_content_adapter().quiz_model._base_manager.db_manager(db).filter(pk=quiz.pk)
    (outcome,) = helpers.quiz_outcomes(user, rows, using=db)
    return outcome.met


def _apply_quiz_rule(
    attempt: Any, db: str, *, quiz: Any = None, met_before: bool | None = None
) -> None:
    """After ``attempt`` was submitted, graded or abandoned: its quiz's task, then the course.

    The task that the quiz completes (``adapter.get_quiz_task_id()``) is
    completed when the quiz's completion rule is met. For a regrade,
    ``met_before`` says whether the rule was met before it: a regrade that
    turns it unmet reopens the task as :func:`reset_task` does, and a
    completed course that requires the quiz. Quiz and task are read with the
    base manager, so that soft-deleted content never stops grading.
    """
    adapter = get_content_adapter()
    if quiz is None:
        quiz = adapter.quiz_model._base_manager.db_manager(db).get(pk=attempt.quiz_id)
    task_id = adapter.get_quiz_task_id(quiz, db)
    user = attempt.user
    met_now: list[bool] = []

    def met() -> bool:
        if not met_now:
            met_now.append(_quiz_met(user, quiz, db))
        return met_now[0]

    def undone() -> bool:
        return bool(met_before) and not met()

    if task_id is not None:
        objects = _objects(get_task_progress_model(), db)
        progress = objects.select_for_update().filter(user=user, task=task_id).first()
        if progress is None or progress.status != TaskStatus.COMPLETED:
            if met():
                if progress is None:
                    tasks = adapter.task_model._base_manager.db_manager(db)
                    task = tasks.get(pk=task_id)
                    created, _new = objects.get_or_create(
                        user=user,
                        task=task,
                        defaults={"course_id": adapter.get_task_course_id(task, db)},
                    )
                    progress = objects.select_for_update().get(pk=created.pk)
                _complete(progress, user, db)
        elif undone():
            _reset(progress, user, db, clear_time=False)  # reopens the course too
    # Course completion, when the course requires this quiz (no query when it
    # requires none).
    required = adapter.required_quizzes(attempt.course_id).using(db).filter(pk=quiz.pk)
    if required.exists():
        _update_course_completion(user, attempt.course_id, db, allow_reopen=undone())


def _percentage_passed(
    score: Decimal, max_score: Decimal | None, pass_mark: Decimal | None
) -> tuple[Decimal, bool]:
    """The percentage of a fully graded attempt, and whether it passes ``pass_mark``."""
    max_score = max_score or Decimal(0)
    percentage = (
        min(Decimal(100), score * 100 / max_score).quantize(PERCENT, ROUND_HALF_UP)
        if max_score > 0
        else Decimal(0)
    )
    return percentage, pass_mark is None or percentage >= pass_mark


def _finish(attempt: Any, score: Decimal, db: str, *, also_save: tuple[str, ...] = ()) -> None:
    """Record the final score of a fully graded attempt and send ``quiz_attempt_graded``.

    ``also_save`` names fields the caller changed, saved in the same UPDATE.
    """
    adapter = get_content_adapter()
    # The base manager: a quiz the host has since soft-deleted is graded all the same.
    quiz = adapter.quiz_model._base_manager.db_manager(db).get(pk=attempt.quiz_id)
    percentage, passed = _percentage_passed(score, attempt.max_score, adapter.pass_mark(quiz))
    before = (attempt.status, attempt.score, attempt.percentage, attempt.passed)
    if before == (AttemptStatus.COMPLETED, score, percentage, passed):
        return  # a regrade that changes nothing
    # A regrade: was the quiz's rule met before it? (One query, on regrades only.)
    met_before = (
        _quiz_met(attempt.user, quiz, db) if attempt.status == AttemptStatus.COMPLETED else None
    )
    attempt.score = score
    attempt.percentage = percentage
    attempt.passed = passed
    attempt.status = AttemptStatus.COMPLETED
    attempt.completed_at = attempt.completed_at or timezone.now()
    attempt.save(
        update_fields=["score", "percentage", "passed", "status", "completed_at", *also_save]
    )
    _emit(signals.quiz_attempt_graded, attempt, db, attempt=attempt, user=attempt.user)
    _apply_quiz_rule(attempt, db, quiz=quiz, met_before=met_before)


def _submit(attempt: Any, db: str, at: datetime) -> None:
    """Grade every response of a locked, open attempt; a fixed number of queries."""
    adapter = get_content_adapter()
    questions = list(adapter.quiz_questions(attempt.quiz_id).using(db))
    Response = get_quiz_response_model()
    responses = {r.question_id: r for r in _objects(Response, db).filter(attempt=attempt)}
    now = timezone.now()
    score, pending, graded = Decimal(0), False, []
    for question in questions:
        response = responses.get(question.pk)
        if response is None:  # unanswered: scores 0
            continue
        grade = adapter.grade(question, response.response)
        response.is_correct = grade.is_correct
        response.points_awarded = grade.points
        response.graded_at = None if grade.needs_manual_grading else now
        response.graded_by = None
        pending = pending or grade.needs_manual_grading
        score += grade.points or 0
        graded.append(response)
    if graded:
        _sql.update_rows(graded, ["is_correct", "points_awarded", "graded_at", "graded_by"], db)
    attempt.max_score = sum((adapter.question_points(q) for q in questions), Decimal(0))
    attempt.submitted_at = at
    attempt.time_taken = _elapsed(attempt, at)
    attempt.status = AttemptStatus.SUBMITTED
    submitted = ("max_score", "submitted_at", "time_taken")
    _emit(signals.quiz_attempt_submitted, attempt, db, attempt=attempt, user=attempt.user)
    if pending:  # a "submitted" rule is met already
        attempt.save(update_fields=[*submitted, "status"])
        _apply_quiz_rule(attempt, db)
    else:  # submitted and graded at once: one UPDATE
        _finish(attempt, score, db, also_save=submitted)


def start_attempt(user: Any, quiz: Any) -> Any:
    """Start the next attempt at ``quiz`` for ``user``, or return the open one.

    While an attempt is ``in_progress`` (and not past its deadline), calling
    again returns it: starting is idempotent, so a reloaded quiz page never
    burns an attempt. Attempt numbers are 1, 2, ... without gaps, even under
    concurrent calls; past the quiz's ``max_attempts`` it raises
    ``ValidationError(code="max_attempts")``, before the quiz opens
    ``"quiz_not_open"`` and from its close time ``"quiz_closed"``. These are
    the learner's effective rules: the adapter's plus their quiz override
    (:func:`~django_learning_progress.helpers.effective_quiz_rules`).
    ``deadline_at`` is :func:`~django_learning_progress.helpers.attempt_deadline`
    with the override. Sends
    ``quiz_attempt_started`` for a new attempt.
    """
    return get_or_start_attempt(user, quiz)[0]


def get_or_start_attempt(user: Any, quiz: Any) -> tuple[Any, bool]:
    """:func:`start_attempt`, returning ``(attempt, created)``.

    ``created`` is true only for the call that created the attempt; of
    concurrent calls exactly one sees it.
    """
    _require_user(user)
    adapter = get_content_adapter()
    _require(quiz, adapter.quiz_model, "quiz")
    db = _db()
    course_id = adapter.get_quiz_course_id(quiz, db)
    objects = _objects(get_quiz_attempt_model(), db)
    attempts = objects.filter(user=user, quiz=quiz)
    while True:
        with transaction.atomic(using=db):
            # The enrollment lock serialises attempt starts of this learner in this course.
            _enrollment_for_work(user, course_id, db, lock=True)
            open_attempt = (
                attempts.filter(status=AttemptStatus.IN_PROGRESS).select_for_update().first()
            )
            if open_attempt is None:
                return _new_attempt(user, quiz, course_id, attempts, db), True
            if not _close_if_overdue(_attach_user(open_attempt, db, user), db):
                return open_attempt, False
        # The overdue attempt is closed and committed; start the next one.


def _new_attempt(user: Any, quiz: Any, course_id: Any, attempts: Any, db: str) -> Any:
    now = timezone.now()
    # The learner's override is read after the enrollment lock that
    # set_quiz_override() takes too: a start never sees half a change.
    override = helpers.get_quiz_override(user, quiz, using=db)
    rules = helpers.effective_quiz_rules(quiz, override)
    opens, closes = rules.opens_at, rules.closes_at
    if opens is not None and now < opens:
        raise field_error("quiz", f"This quiz opens at {opens.isoformat()}.", "quiz_not_open")
    if closes is not None and now >= closes:
        raise field_error("quiz", f"This quiz closed at {closes.isoformat()}.", "quiz_closed")
    last = attempts.aggregate(n=Max("attempt_number"))["n"] or 0
    max_attempts = rules.max_attempts
    if max_attempts is not None and last >= max_attempts:
        raise field_error(
            "quiz", f"No attempts left: this quiz allows {max_attempts}.", "max_attempts"
        )
    attempt = attempts.model._default_manager.db_manager(db).create(
        user=user,
        quiz=quiz,
        course_id=course_id,
        attempt_number=last + 1,
        started_at=now,
        deadline_at=helpers.attempt_deadline(quiz, now, override),
    )
    _emit(signals.quiz_attempt_started, attempt, db, attempt=attempt, user=user)
    return attempt


def answer_question(
    user: Any, attempt: Any, question: Any, response: Any, *, time_spent: int = 0
) -> Any:
    """Record ``user``'s answer to ``question`` in ``attempt``; return the response row.

    Answering again replaces the answer and adds ``time_spent``. Refused for
    a question outside the attempt's quiz (``code="foreign_question"``), an
    answer the adapter's ``validate_response()`` refuses (keyed by
    ``response``, with its code), an
    attempt that is not open (``"attempt_closed"``) or past its deadline plus
    ``DEADLINE_GRACE_SECONDS`` (``"deadline_passed"``; the attempt is then
    closed by the overdue policy), and another user's attempt
    (:class:`~django.core.exceptions.PermissionDenied`).
    """
    return answer_questions(user, attempt, [(question, response, time_spent)])[0]


def answer_questions(user: Any, attempt: Any, answers: Iterable[tuple[Any, Any, int]]) -> list[Any]:
    """Record several ``(question, response, time_spent)`` answers at once, all or nothing."""
    adapter = get_content_adapter()
    answers = list(answers)
    for question, response, time_spent in answers:
        _require(question, adapter.question_model, "question")
        check_json("response", response)
        _seconds(time_spent, "time_spent")
    if len({q.pk for q, _r, _t in answers}) != len(answers):
        raise field_error("question", "Each question may be answered once per call.", "duplicate")
    db = _db()
    with transaction.atomic(using=db):
        attempt = _lock_attempt(user, attempt, db)
        closed = _close_if_overdue(attempt, db)
        if not closed:
            return _record_answers(attempt, answers, db)
    raise ValidationError("The time for this attempt is up.", code="deadline_passed")


def _record_answers(attempt: Any, answers: list[tuple[Any, Any, int]], db: str) -> list[Any]:
    adapter = get_content_adapter()
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise ValidationError("This attempt is closed.", code="attempt_closed")
    # The quiz's own question instances (with whatever quiz_questions() prefetches):
    # one query for any number of answers, and what validate_response() receives.
    asked = [question.pk for question, _r, _t in answers]
    own = {q.pk: q for q in adapter.quiz_questions(attempt.quiz_id).using(db).filter(pk__in=asked)}
    for question, response, _time in answers:
        if question.pk not in own:
            raise field_error(
                "question", f"Question {question.pk} is not part of this quiz.", "foreign_question"
            )
        try:
            adapter.validate_response(own[question.pk], response)
        except ValidationError as exc:
            raise field_error("response", " ".join(exc.messages), first_code(exc)) from None
    objects = _objects(get_quiz_response_model(), db)
    existing = {
        r.question_id: r
        for r in objects.filter(attempt=attempt, question__in=[q.pk for q, _r, _t in answers])
    }
    now, saved, new, changed = timezone.now(), [], [], []
    for question, response, time_spent in answers:
        row = existing.get(question.pk)
        if row is None:
            row = objects.model(
                attempt=attempt,
                question=question,
                response=response,
                time_spent=time_spent,
                answered_at=now,
            )
            new.append(row)
        else:
            row.response = response
            row.time_spent += time_spent
            row.answered_at = now
            row.is_correct = row.points_awarded = row.graded_at = row.graded_by = None
            changed.append(row)
        saved.append(row)
    # Two statements for any number of answers.
    if new:
        objects.bulk_create(new)
    if changed:
        _sql.update_rows(changed, _ANSWER_FIELDS, db)
    if saved:
        _emit(
            signals.questions_answered,
            saved[0],
            db,
            responses=saved,
            attempt=attempt,
            user=attempt.user,
        )
    return saved


#: What answering again changes: the answer, and any grade it had.
_ANSWER_FIELDS = [
    "response",
    "time_spent",
    "answered_at",
    "is_correct",
    "points_awarded",
    "graded_at",
    "graded_by",
]


def submit_attempt(user: Any, attempt: Any) -> Any:
    """Submit ``attempt`` and grade it; return the attempt.

    Every response is graded through the content adapter; unanswered
    questions score 0. The attempt becomes ``completed`` with ``score``,
    ``max_score``, ``percentage``, ``passed``, ``time_taken`` and
    ``completed_at``, or ``submitted`` while responses await manual grading.
    Submitting a submitted or completed attempt returns it unchanged (so
    concurrent submits grade once). An abandoned attempt cannot be submitted.
    """
    db = _db()
    error = None
    with transaction.atomic(using=db):
        attempt = _lock_attempt(user, attempt, db)
        if _close_if_overdue(attempt, db):
            if attempt.status == AttemptStatus.ABANDONED:
                error = ValidationError("The time for this attempt is up.", code="deadline_passed")
        elif attempt.status == AttemptStatus.IN_PROGRESS:
            _submit(attempt, db, timezone.now())
        elif attempt.status == AttemptStatus.ABANDONED:
            raise ValidationError(
                "An abandoned attempt cannot be submitted.", code="attempt_closed"
            )
    if error is not None:
        raise error
    return attempt


def abandon_attempt(user: Any, attempt: Any) -> Any:
    """Abandon an open ``attempt`` (it still counts towards ``max_attempts``). Idempotent.

    An attempt already past its deadline is closed by the overdue policy instead.
    """
    db = _db()
    with transaction.atomic(using=db):
        attempt = _lock_attempt(user, attempt, db)
        if _close_if_overdue(attempt, db) or attempt.status == AttemptStatus.ABANDONED:
            return attempt
        if attempt.status != AttemptStatus.IN_PROGRESS:
            raise ValidationError("Only an open attempt can be abandoned.", code="attempt_closed")
        _abandon(attempt, timezone.now(), db)
    return attempt


def grade_response(
    grader: Any, response: Any, *, points: Any, is_correct: bool | None = None
) -> Any:
    """Grade one response by hand (an instructor's grade); return it.

    ``points`` runs from 0 to the question's points; ``is_correct`` defaults to
    full points. When the attempt has no ungraded response left it becomes
    ``completed`` with its score (``quiz_attempt_graded``); regrading a
    completed attempt updates its score and sends ``quiz_attempt_graded`` again.
    Only responses of submitted or completed attempts can be graded. Who may
    grade is the caller's decision (the REST API asks ``INSTRUCTOR_CHECK``),
    except that nobody grades their own attempt, staff included
    (:class:`~django.core.exceptions.PermissionDenied`), unless
    ``LEARNING_PROGRESS["ALLOW_SELF_GRADING"]`` is on.
    """
    _require_user(grader, "grader")
    Response = get_quiz_response_model()
    _require(response, Response, "response")
    try:
        value = to_points(points)
    except (InvalidOperation, ValueError, TypeError):
        raise field_error("points", "Must be a number, at least 0.", "invalid") from None
    if is_correct is not None and not isinstance(is_correct, bool):
        raise field_error("is_correct", "Must be true, false or null.", "invalid")
    adapter = get_content_adapter()
    db = _db()
    with transaction.atomic(using=db):
        attempt = _lock_attempt(None, response.attempt_id, db)
        if attempt.user_id == grader.pk and not app_settings.ALLOW_SELF_GRADING:
            raise PermissionDenied("Nobody may grade their own quiz attempt.")
        if attempt.status not in (AttemptStatus.SUBMITTED, AttemptStatus.COMPLETED):
            raise ValidationError("Only submitted attempts can be graded.", code="not_submitted")
        response = _objects(Response, db).select_related("question").get(pk=response.pk)
        full = adapter.question_points(response.question)
        if value > full:
            raise field_error("points", f"Must be at most {full}.", "too_large")
        response.points_awarded = value
        response.is_correct = (value == full) if is_correct is None else is_correct
        response.graded_at = timezone.now()
        response.graded_by = grader
        response.save(update_fields=["points_awarded", "is_correct", "graded_at", "graded_by"])
        responses = _objects(Response, db).filter(attempt=attempt)
        if not responses.filter(is_correct__isnull=True).exists():
            score = responses.aggregate(s=Sum("points_awarded"))["s"] or Decimal(0)
            _finish(attempt, to_points(score), db)
    return response


def close_if_overdue(attempt: Any) -> bool:
    """Close ``attempt`` if it is past its deadline (plus grace), by ``OVERDUE_ATTEMPT_POLICY``.

    ``"submit"`` grades it with the answers recorded until then (answers are
    accepted up to the deadline plus ``DEADLINE_GRACE_SECONDS``; ``submitted_at``
    is the deadline); ``"abandon"`` abandons it. Returns whether it was closed. The services
    call this on every access to an attempt; call it when you display one.
    """
    _require(attempt, get_quiz_attempt_model(), "attempt")
    if not _overdue(attempt, timezone.now()):
        return False  # as far as this copy knows; no lock taken for an attempt in time
    db = _db()
    with transaction.atomic(using=db):
        locked = _lock_attempt(None, attempt, db)
        closed = _close_if_overdue(locked, db)
    if closed:
        attempt.refresh_from_db(using=db)
    return closed


def close_overdue_attempts(*, now: datetime | None = None) -> int:
    """Close every attempt past its deadline plus grace; return how many were closed.

    What the ``close_overdue_attempts`` management command runs. Each attempt
    is closed in its own transaction, so a long run never holds many locks.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=app_settings.DEADLINE_GRACE_SECONDS)
    db = _db()
    overdue = (
        _objects(get_quiz_attempt_model(), db)
        .filter(status=AttemptStatus.IN_PROGRESS, deadline_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    closed = 0
    for pk in list(overdue):
        try:
            with transaction.atomic(using=db):
                attempt = _lock_attempt(None, pk, db)
                closed += _close_if_overdue(attempt, db, now)
        except Exception:
            # One attempt whose grading fails (host code, a deadlock) must not
            # block the others; it is tried again on the next run.
            services_logger.exception("Could not close overdue quiz attempt %s", pk)
    return closed


# -- quiz overrides -------------------------------------------------------------------

#: The most ``extra_attempts`` an override may give.
MAX_EXTRA_ATTEMPTS = 1000
#: The most ``extra_time`` an override may give.
MAX_EXTRA_TIME = timedelta(days=365)
#: The longest ``reason`` an override may carry, in characters.
MAX_OVERRIDE_REASON_LENGTH = 2000


_EARLIEST = datetime(1900, 1, 1, tzinfo=dt_timezone.utc)
_LATEST = datetime(9998, 12, 31, tzinfo=dt_timezone.utc)


def _instructed_course_id(by: Any, quiz: Any, db: str, what: str) -> Any:
    """The quiz's course id, when ``by`` instructs that course (or is staff); else ``PermissionDenied``."""
    adapter = get_content_adapter()
    course_id = adapter.get_quiz_course_id(quiz, db)
    course = adapter.course_model._base_manager.db_manager(db).filter(pk=course_id).first()
    if course is None or not is_instructor(by, course):
        raise PermissionDenied(f"Only instructors of the quiz's course may {what}.")
    return course_id


def clean_quiz_override(
    *,
    extra_attempts: Any = None,
    extra_time: Any = None,
    opens_at: Any = None,
    closes_at: Any = None,
    reason: Any = "",
) -> dict[str, Any]:
    """The values :func:`set_quiz_override` would store, by field name.

    Raises one ``ValidationError`` with an error (and its ``code``) for each
    field that is not valid; changes nothing. For forms that want the
    services' checks before they call them (the admin's does).
    """
    errors: dict[str, ValidationError] = {}

    def refuse(name: str, message: str, code: str) -> None:
        errors.setdefault(name, ValidationError(message, code=code))

    if extra_attempts is None:
        extra_attempts = 0
    elif isinstance(extra_attempts, bool) or not isinstance(extra_attempts, int):
        refuse("extra_attempts", "Must be a whole number.", "invalid")
    elif extra_attempts < 0:
        refuse("extra_attempts", "Must not be negative.", "negative")
    elif extra_attempts > MAX_EXTRA_ATTEMPTS:
        refuse("extra_attempts", f"Must be at most {MAX_EXTRA_ATTEMPTS}.", "too_large")
    if extra_time is None:
        extra_time = timedelta(0)
    elif not isinstance(extra_time, timedelta):
        refuse("extra_time", "Must be a duration (datetime.timedelta).", "invalid")
    elif extra_time < timedelta(0):
        refuse("extra_time", "Must not be negative.", "negative")
    elif extra_time > MAX_EXTRA_TIME:
        refuse("extra_time", f"Must be at most {MAX_EXTRA_TIME.days} days.", "too_large")
    for name, value in (("opens_at", opens_at), ("closes_at", closes_at)):
        if value is None:
            continue
        if not isinstance(value, datetime):
            refuse(name, "Must be a date and time (datetime.datetime).", "invalid")
        elif timezone.is_naive(value):
            refuse(name, "Must carry a time zone.", "naive")
        elif not _EARLIEST <= value <= _LATEST:  # what every database stores
            refuse(name, "Must be within the years 1900 to 9998.", "out_of_range")
    if (
        isinstance(opens_at, datetime)
        and isinstance(closes_at, datetime)
        and not ({"opens_at", "closes_at"} & errors.keys())
        and opens_at >= closes_at
    ):
        refuse("closes_at", "Must be later than opens_at.", "window_order")
    if not isinstance(reason, str):
        refuse("reason", "Must be text.", "invalid")
    elif len(reason) > MAX_OVERRIDE_REASON_LENGTH:
        refuse("reason", f"Must be at most {MAX_OVERRIDE_REASON_LENGTH} characters.", "too_large")
    else:
        problem = find_json_problem(reason, max_depth=1)
        if problem is not None:
            refuse("reason", *problem)
    if errors:
        error = ValidationError(errors)
        error.code = first_code(error)
        raise error
    return {
        "extra_attempts": extra_attempts,
        "extra_time": extra_time,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "reason": reason,
    }


def _lock_learner(user: Any, course_id: Any, db: str) -> None:
    """Lock the learner's enrollment in the course, if any: attempt starts lock it too."""
    list(
        _objects(get_enrollment_model(), db)
        .select_for_update()
        .filter(user=user, course=course_id)
        .values_list("pk", flat=True)
    )


def _extend_open_attempt(user: Any, quiz: Any, override: Any, db: str) -> Any:
    """Move the open attempt's deadline to what ``override`` allows, when that is later.

    Never earlier: a running attempt keeps the time it was given. An attempt
    already past its deadline is closed by the overdue policy first, as on
    every access. Returns the attempt when its deadline moved, else ``None``.
    """
    attempt = (
        _objects(get_quiz_attempt_model(), db)
        .select_for_update()
        .filter(user=user, quiz=quiz, status=AttemptStatus.IN_PROGRESS)
        .first()
    )
    if attempt is None or attempt.deadline_at is None:
        return None
    _attach_user(attempt, db, user)
    if _close_if_overdue(attempt, db):
        return None
    deadline = helpers.attempt_deadline(quiz, attempt.started_at, override)
    if deadline is not None and deadline <= attempt.deadline_at:
        return None
    attempt.deadline_at = deadline
    attempt.save(update_fields=["deadline_at"])
    return attempt


def set_quiz_override(
    quiz: Any,
    user: Any,
    *,
    by: Any,
    extra_attempts: int | None = None,
    extra_time: timedelta | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    reason: str = "",
) -> Any:
    """Give ``user`` an accommodation at ``quiz``, replacing any they had; return it.

    Every field is replaced: ``None`` means no change to the quiz's rule (0
    extra attempts, no extra time, the quiz's own window). ``extra_attempts``
    runs from 0 to :data:`MAX_EXTRA_ATTEMPTS`, ``extra_time`` (a
    :class:`~datetime.timedelta`) from 0 to :data:`MAX_EXTRA_TIME`;
    ``opens_at`` and ``closes_at`` are aware datetimes, ``opens_at`` earlier;
    ``reason`` is text of at most :data:`MAX_OVERRIDE_REASON_LENGTH`
    characters. Bad values raise one ``ValidationError`` with an error for
    each field.

    Only an instructor of the quiz's course (``INSTRUCTOR_CHECK``) or staff
    may set one (else :class:`~django.core.exceptions.PermissionDenied`).
    When the new rules end the learner's open attempt later than its
    deadline, the deadline moves to the new end; it never moves earlier.
    One row per (user, quiz), also under concurrent calls. Sends
    ``quiz_override_changed`` unless nothing changed.
    """
    return update_or_create_quiz_override(
        quiz,
        user,
        by=by,
        extra_attempts=extra_attempts,
        extra_time=extra_time,
        opens_at=opens_at,
        closes_at=closes_at,
        reason=reason,
    )[0]


def update_or_create_quiz_override(
    quiz: Any,
    user: Any,
    *,
    by: Any,
    extra_attempts: int | None = None,
    extra_time: timedelta | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    reason: str = "",
) -> tuple[Any, bool]:
    """:func:`set_quiz_override`, returning ``(override, created)``.

    ``created`` is true only for the call that created the row; of
    concurrent calls exactly one sees it.
    """
    adapter = get_content_adapter()
    _require(quiz, adapter.quiz_model, "quiz")
    _require_user(user)
    _require_user(by, "by")
    db = _db()
    course_id = _instructed_course_id(by, quiz, db, "give accommodations")
    values = clean_quiz_override(
        extra_attempts=extra_attempts,
        extra_time=extra_time,
        opens_at=opens_at,
        closes_at=closes_at,
        reason=reason,
    )
    objects = _objects(get_quiz_override_model(), db)
    with transaction.atomic(using=db):
        _lock_learner(user, course_id, db)
        override = objects.select_for_update().filter(user=user, quiz=quiz).first()
        action = "updated"
        if override is None:
            try:
                with transaction.atomic(using=db):
                    override = objects.create(user=user, quiz=quiz, created_by=by, **values)
                action = "created"
            except IntegrityError:  # created concurrently: replace that one
                override = objects.select_for_update().get(user=user, quiz=quiz)
        if action == "updated":
            if all(getattr(override, name) == value for name, value in values.items()):
                return override, False
            for name, value in values.items():
                setattr(override, name, value)
            override.save(update_fields=[*values, "updated_at"])
        extended = _extend_open_attempt(user, quiz, override, db)
        snapshot = copy.copy(override)
        _emit(
            signals.quiz_override_changed,
            snapshot,
            db,
            override=snapshot,
            user=user,
            by=by,
            action=action,
            extended_attempt=extended,
        )
    return override, action == "created"


def remove_quiz_override(quiz: Any, user: Any, *, by: Any) -> bool:
    """Remove ``user``'s override at ``quiz``; return whether there was one.

    The quiz's own rules apply again to new attempts; an open attempt keeps
    its deadline (a running attempt is never cut short). Permissions as for
    :func:`set_quiz_override`. Idempotent. Sends ``quiz_override_changed``
    (``action="removed"``) when it removed one.
    """
    adapter = get_content_adapter()
    _require(quiz, adapter.quiz_model, "quiz")
    _require_user(user)
    _require_user(by, "by")
    db = _db()
    course_id = _instructed_course_id(by, quiz, db, "remove accommodations")
    with transaction.atomic(using=db):
        _lock_learner(user, course_id, db)
        objects = _objects(get_quiz_override_model(), db)
        override = objects.select_for_update().filter(user=user, quiz=quiz).first()
        if override is None:
            return False
        override.delete()
        _emit(
            signals.quiz_override_changed,
            override,
            db,
            override=override,
            user=user,
            by=by,
            action="removed",
            extended_attempt=None,
        )
    return True


# -- regrading ------------------------------------------------------------------------

#: Attempts regraded per transaction by :func:`regrade_quiz`.
REGRADE_CHUNK_SIZE = 500


@dataclass(frozen=True)
class RegradedAttempt:
    """One attempt that a regrade changed (an entry of :attr:`RegradeSummary.changed`)."""

    attempt_id: Any
    user_id: Any
    score_before: Decimal | None
    score_after: Decimal | None
    percentage_before: Decimal | None
    percentage_after: Decimal | None
    passed_before: bool | None
    passed_after: bool | None
    status_before: str
    status_after: str
    #: How many of the attempt's responses got another grade.
    responses_changed: int


@dataclass
class RegradeSummary:
    """What :func:`regrade_quiz` checked and changed (or would change, for a dry run)."""

    quiz_id: Any
    dry_run: bool
    #: Submitted and completed attempts regraded.
    attempts_checked: int = 0
    #: Of those, the attempts whose grading changed.
    attempts_changed: int = 0
    #: Responses whose grade changed, over every attempt.
    responses_changed: int = 0
    #: One entry per changed attempt, in attempt id order.
    changed: list[RegradedAttempt] = field(default_factory=list)


#: The most rows one regrade UPDATE sets (a chunk's changed responses may need more than one).
_UPDATE_BATCH = 5000


def _update_by_value(
    model: type[Model], db: str, rows: list[Any], fields: list[str], **fixed: Any
) -> None:
    """Write ``fields`` of ``rows`` (model instances) as they are in memory, and ``fixed``.

    One ``UPDATE`` per :data:`_UPDATE_BATCH` rows: each field becomes a
    ``CASE`` over its distinct values (few: scores, flags, one timestamp),
    each value with the list of primary keys that take it, so building the
    statement costs Python time in proportion to the rows once, not rows
    times fields expressions as ``bulk_update()`` does. ``fixed`` values come
    first in the ``SET`` list (MariaDB assigns from left to right).
    """
    for start in range(0, len(rows), _UPDATE_BATCH):
        batch = rows[start : start + _UPDATE_BATCH]
        assignments: dict[str, Any] = dict(fixed)
        for name in fields:
            field: Any = model._meta.get_field(name)
            groups: dict[Any, list[Any]] = {}
            for row in batch:
                groups.setdefault(getattr(row, field.attname), []).append(row.pk)
            values = [(Value(value, output_field=field), pks) for value, pks in groups.items()]
            if len(values) == 1:
                assignments[name] = values[0][0]
            else:
                whens = [When(AnyOf(F("pk"), pks), then=value) for value, pks in values]
                assignments[name] = Case(*whens, output_field=field)
        keys = [row.pk for row in batch]
        _objects(model, db).filter(AnyOf(F("pk"), keys)).update(**assignments)


def regrade_quiz(
    quiz: Any,
    *,
    by: Any,
    dry_run: bool = False,
    chunk_size: int = REGRADE_CHUNK_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> RegradeSummary:
    """Grade every submitted and completed attempt at ``quiz`` again; return a summary.

    For after the host changed an answer key or a question's points. Each
    response that was graded automatically (no ``graded_by``; that includes
    responses awaiting a manual grade) goes through the adapter's
    ``grade()`` again, exactly as on submit; manual grades are kept. The
    attempt's ``max_score``, ``score``, ``percentage`` and ``passed`` are then
    computed as on submit: a regrade gives exactly the figures of grading the
    attempt from scratch. An attempt with a response left to grade by hand is
    (or becomes) ``submitted``, without a score; a submitted one whose last
    pending response is now graded automatically becomes ``completed``.

    A changed attempt keeps its previous score in ``score_before_regrade``,
    gets ``regraded_at``, and sends ``quiz_attempt_regraded`` after commit.
    When the regrade turns a learner's quiz completion rule from unmet to
    met, the quiz's task and the course complete as after a submit; from met
    to unmet (a passed attempt now fails), the quiz's task is reopened as
    :func:`reset_task` does and a completed course that requires the quiz
    becomes ``active`` again (see :doc:`/accommodations`).

    ``dry_run`` computes the same summary and changes nothing (no locks, no
    signals). Attempts are regraded in transactions of ``chunk_size``, in
    primary key order, each taking a fixed number of statements whatever its
    size, plus the task and course updates of learners whose rule flips;
    memory holds one chunk, and the summary one small record per changed
    attempt. ``progress(done, total)`` is called
    after each chunk. Only an instructor of the quiz's course or staff may
    regrade (else :class:`~django.core.exceptions.PermissionDenied`);
    ``by=None`` is a trusted caller such as the ``regrade_quiz`` command.
    """
    adapter = get_content_adapter()
    _require(quiz, adapter.quiz_model, "quiz")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise field_error("chunk_size", "Must be a whole number, at least 1.", "invalid")
    db = _db()
    if by is not None:
        _require_user(by, "by")
        _instructed_course_id(by, quiz, db, "regrade it")
    questions = list(adapter.quiz_questions(quiz.pk).using(db))
    rules = (
        sum((adapter.question_points(q) for q in questions), Decimal(0)),
        adapter.pass_mark(quiz),
    )
    graded = _objects(get_quiz_attempt_model(), db).filter(
        quiz=quiz, status__in=[AttemptStatus.SUBMITTED, AttemptStatus.COMPLETED]
    )
    total = graded.count() if progress is not None else 0
    summary = RegradeSummary(quiz_id=quiz.pk, dry_run=dry_run)
    last = None
    while True:
        page = graded if last is None else graded.filter(pk__gt=last)
        rows = list(page.order_by("pk").values_list("pk", "user_id", "course_id")[:chunk_size])
        if not rows:
            break
        last = rows[-1][0]
        if dry_run:
            _regrade_chunk(quiz, rows, questions, rules, db, summary)
        else:
            with transaction.atomic(using=db):
                _regrade_chunk(quiz, rows, questions, rules, db, summary)
        if progress is not None:
            progress(summary.attempts_checked, max(total, summary.attempts_checked))
    return summary


def _regrade_chunk(
    quiz: Any,
    rows: list[tuple[Any, Any, Any]],
    questions: list[Any],
    rules: tuple[Decimal, Decimal | None],
    db: str,
    summary: RegradeSummary,
) -> None:
    """Regrade one chunk of attempts (``(pk, user_id, course_id)`` rows)."""
    adapter = get_content_adapter()
    ids = [pk for pk, _user, _course in rows]
    attempts_qs = (
        _objects(get_quiz_attempt_model(), db)
        .filter(pk__in=ids, status__in=[AttemptStatus.SUBMITTED, AttemptStatus.COMPLETED])
        .order_by("pk")
    )
    if not summary.dry_run:
        # The lock order of every attempt path: the enrollments, then the attempts.
        list(
            _objects(get_enrollment_model(), db)
            .select_for_update()
            .filter(
                user__in={user for _pk, user, _course in rows},
                course__in={course for _pk, _user, course in rows},
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        attempts_qs = attempts_qs.select_for_update()
    attempts = list(attempts_qs)
    responses: dict[Any, dict[Any, Any]] = {}
    for response in _objects(get_quiz_response_model(), db).filter(attempt__in=ids):
        responses.setdefault(response.attempt_id, {})[response.question_id] = response
    max_score, pass_mark = rules
    now = timezone.now()
    changed_responses: list[Any] = []
    changed: list[tuple[Any, RegradedAttempt]] = []
    for attempt in attempts:
        summary.attempts_checked += 1
        mine = responses.get(attempt.pk, {})
        score, pending, regraded = Decimal(0), False, 0
        for question in questions:
            response = mine.get(question.pk)
            if response is None:  # unanswered: scores 0
                continue
            if response.graded_by_id is None:  # graded automatically: grade it again
                grade = adapter.grade(question, response.response)
                if (response.is_correct, response.points_awarded) != (
                    grade.is_correct,
                    grade.points,
                ):
                    response.is_correct = grade.is_correct
                    response.points_awarded = grade.points
                    response.graded_at = None if grade.needs_manual_grading else now
                    changed_responses.append(response)
                    regraded += 1
            pending = pending or response.is_correct is None
            score += response.points_awarded or 0
        if pending:
            after: tuple[Any, ...] = (AttemptStatus.SUBMITTED, None, max_score, None, None)
        else:
            percentage, passed = _percentage_passed(to_points(score), max_score, pass_mark)
            after = (AttemptStatus.COMPLETED, to_points(score), max_score, percentage, passed)
        before = (
            attempt.status,
            attempt.score,
            attempt.max_score,
            attempt.percentage,
            attempt.passed,
        )
        if before == after and not regraded:
            continue
        record = RegradedAttempt(
            attempt_id=attempt.pk,
            user_id=attempt.user_id,
            score_before=attempt.score,
            score_after=after[1],
            percentage_before=attempt.percentage,
            percentage_after=after[3],
            passed_before=attempt.passed,
            passed_after=after[4],
            status_before=str(attempt.status),
            status_after=str(after[0]),
            responses_changed=regraded,
        )
        attempt.score_before_regrade = attempt.score
        attempt.regraded_at = now
        attempt.status, attempt.score, attempt.max_score, attempt.percentage, attempt.passed = after
        if attempt.status == AttemptStatus.COMPLETED:
            attempt.completed_at = attempt.completed_at or now
        else:
            attempt.completed_at = None
        changed.append((attempt, record))
        summary.attempts_changed += 1
        summary.responses_changed += regraded
        summary.changed.append(record)
    if summary.dry_run or not changed:
        return
    _save_regrade(quiz, changed, changed_responses, db)


def _save_regrade(
    quiz: Any, changed: list[tuple[Any, RegradedAttempt]], responses: list[Any], db: str
) -> None:
    """Write a chunk's regraded rows, then the completion of learners whose rule flipped."""
    learners = {attempt.user_id for attempt, _record in changed}
    users = get_user_model()._default_manager.db_manager(db).in_bulk(learners)
    before = helpers.learner_quiz_outcomes(quiz, learners, using=db)
    _update_by_value(
        get_quiz_response_model(), db, responses, ["is_correct", "points_awarded", "graded_at"]
    )
    attempts = [attempt for attempt, _record in changed]
    completed = [a.pk for a in attempts if a.status == AttemptStatus.COMPLETED]
    now = attempts[0].regraded_at
    _update_by_value(
        get_quiz_attempt_model(),
        db,
        attempts,
        ["status", "score", "max_score", "percentage", "passed"],
        # The previous score, read by the UPDATE itself; first in the SET list.
        score_before_regrade=F("score"),
        regraded_at=Value(now),
        completed_at=Case(
            When(AnyOf(F("pk"), completed), then=Coalesce(F("completed_at"), Value(now))),
            default=Value(None),
            output_field=get_quiz_attempt_model()._meta.get_field("completed_at"),
        ),
    )
    after = helpers.learner_quiz_outcomes(quiz, learners, using=db)
    latest: dict[Any, Any] = {}
    for attempt, record in changed:
        _attach_user(attempt, db, users[attempt.user_id])
        latest[attempt.user_id] = attempt
        snapshot = copy.copy(attempt)
        _emit(
            signals.quiz_attempt_regraded,
            snapshot,
            db,
            attempt=snapshot,
            user=attempt.user,
            score_before=record.score_before,
            score=record.score_after,
            responses_changed=record.responses_changed,
        )
    for user_id, attempt in latest.items():
        if before[user_id].met != after[user_id].met:
            _apply_quiz_rule(attempt, db, quiz=quiz, met_before=before[user_id].met)

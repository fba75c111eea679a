"""Abstract bases of the four progress models, and of the per-learner quiz override.

Hosts that need extra fields subclass the four progress models and swap their
model in with the ``LEARNING_PROGRESS_*_MODEL`` settings (before the first
``migrate``); see :doc:`/models`. The quiz override is not swappable. Every ``related_name`` and constraint name is built from
``%(app_label)s_%(class)s`` so that two concrete subclasses never clash.
Indexes are left unnamed: Django derives a short unique name per table.

Deletion rules (``on_delete``):

* deleting a **user** deletes their progress records (erasure requests);
* deleting a **course, task, quiz or question** that has progress records is
  refused (``PROTECT``): graded attempts and recorded time are never destroyed
  as a side effect of editing content. Delete or archive the progress records
  first if that is really what you want;
* deleting an **attempt** deletes its responses;
* a **quiz override** is configuration, not progress: deleting its user or its
  quiz deletes it, and deleting the instructor who made it keeps it
  (``created_by`` becomes empty).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.conf import model_setting

_RELATED_NAME = "%(app_label)s_%(class)s_set"
_RELATED_QUERY_NAME = "%(app_label)s_%(class)s"


class AbstractCourseEnrollment(models.Model):
    """A user's enrollment in a course: one row per (user, course)."""

    Status = EnrollmentStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name=_RELATED_NAME,
        related_query_name=_RELATED_QUERY_NAME,
        verbose_name=_("user"),
        db_index=False,  # covered by the (user, course) unique constraint
    )
    course = models.ForeignKey(
        model_setting("course"),
        on_delete=models.PROTECT,
        related_name=_RELATED_NAME,
        related_query_name=_RELATED_QUERY_NAME,
        verbose_name=_("course"),
        db_index=False,  # covered by the (course, status) index
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=EnrollmentStatus.choices,
        default=EnrollmentStatus.ACTIVE,
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    dropped_at = models.DateTimeField(_("dropped at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True)

    class Meta:
        abstract = True
        verbose_name = _("course enrollment")
        verbose_name_plural = _("course enrollments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"], name="%(app_label)s_%(class)s_user_course_uniq"
            ),
        ]
        indexes = [models.Index(fields=["course", "status"])]

    def __str__(self) -> str:
        # Reads the user and the course unless loaded (the admin selects them with the row).
        return f"{self.user} in {self.course} ({self.get_status_display()})"

    def calculate_course_progress(self) -> float:
        """The learner's completion percentage in this course, 0-100 (one query).

        Same as :func:`django_learning_progress.helpers.calculate_progress_percentage`.
        """
        from django_learning_progress import helpers

        return helpers.calculate_progress_percentage(self.user_id, self.course_id)

    def get_progress_stats(self) -> dict[str, Any]:
        """``total_tasks``, ``completed``, ``in_progress``, ``not_started`` and
        ``completion_percentage`` for this learner in this course (one query)."""
        from django_learning_progress import helpers

        return helpers.get_progress_stats(self.user_id, self.course_id)


class AbstractTaskProgress(models.Model):
    """A user's progress on one task: one row per (user, task).

    ``course`` is copied from the task (through the content adapter) when the
    row is created, so that course-level figures need no join through the
    host's tables. If a host moves a task to another course it must update
    ``course`` on the task's progress rows too.
    """

    Status = TaskStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name=_RELATED_NAME,
        related_query_name=_RELATED_QUERY_NAME,
        verbose_name=_("user"),
        db_index=False,  # covered by the (user, task) unique constraint
    )
    task = models.ForeignKey(
        model_setting("task"),
        on_delete=models.PROTECT,
        related_name=_RELATED_NAME,
        related_query_name=_RELATED_QUERY_NAME,
        verbose_name=_("task"),
    )
    course = models.ForeignKey(
        model_setting("course"),
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("course"),
        db_index=False,  # covered by the (course, status) index
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    time_spent = models.PositiveBigIntegerField(
        _("time spent"), default=0, help_text=_("Whole seconds.")
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity at"), null=True, blank=True)

    class Meta:
        abstract = True
        verbose_name = _("task progress")
        verbose_name_plural = _("task progress")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "task"], name="%(app_label)s_%(class)s_user_task_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "course", "status"]),
            models.Index(fields=["course", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.task} ({self.get_status_display()})"


class AbstractQuizAttempt(models.Model):
    """One attempt by a user at a quiz.

    Attempts are numbered 1, 2, ... per (user, quiz); at most one is
    ``in_progress`` at a time. ``course`` is copied from the quiz when the
    attempt starts (see :class:`AbstractTaskProgress`).
    """

    Status = AttemptStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name=_RELATED_NAME,
        related_query_name=_RELATED_QUERY_NAME,
        verbose_name=_("user"),
        db_index=False,  # covered by the (user, quiz, attempt_number) unique constraint
    )
    quiz = models.ForeignKey(
        model_setting("quiz"),
        on_delete=models.PROTECT,
        related_name=_RELATED_NAME,
        related_query_name=_RELATED_QUERY_NAME,
        verbose_name=_("quiz"),
        db_index=False,  # covered by the (quiz, status) index
    )
    course = models.ForeignKey(
        model_setting("course"),
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("course"),
    )
    attempt_number = models.PositiveIntegerField(_("attempt number"))
    status = models.CharField(
        _("status"), max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS
    )
    score = models.DecimalField(_("score"), null=True, blank=True, max_digits=10, decimal_places=3)
    max_score = models.DecimalField(
        _("maximum score"), null=True, blank=True, max_digits=10, decimal_places=3
    )
    percentage = models.DecimalField(
        _("percentage"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    time_taken = models.PositiveIntegerField(
        _("time taken"), null=True, blank=True, help_text=_("Whole seconds.")
    )
    score_before_regrade = models.DecimalField(
        _("score before regrade"),
        null=True,
        blank=True,
        max_digits=10,
        decimal_places=3,
        help_text=_("The score before the latest regrade that changed this attempt."),
    )
    regraded_at = models.DateTimeField(
        _("regraded at"),
        null=True,
        blank=True,
        help_text=_("When a regrade of the quiz last changed this attempt."),
    )

    class Meta:
        abstract = True
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "quiz", "attempt_number"],
                name="%(app_label)s_%(class)s_number_uniq",
            ),
            models.UniqueConstraint(
                fields=["user", "quiz"],
                condition=Q(status="in_progress"),
                name="%(app_label)s_%(class)s_one_open",
            ),
            models.CheckConstraint(
                condition=Q(attempt_number__gte=1), name="%(app_label)s_%(class)s_number_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(percentage__isnull=True) | Q(percentage__gte=0, percentage__lte=100),
                name="%(app_label)s_%(class)s_percentage_range",
            ),
        ]
        indexes = [models.Index(fields=["quiz", "status"])]

    def __str__(self) -> str:
        return (
            f"{self.user}: {self.quiz}, attempt {self.attempt_number} ({self.get_status_display()})"
        )


class AbstractQuizResponse(models.Model):
    """A user's answer to one question within an attempt: one row per (attempt, question).

    ``is_correct`` and ``points_awarded`` stay ``None`` until the response is
    graded (automatically on submit, or manually).
    """

    attempt = models.ForeignKey(
        model_setting("quiz_attempt"),
        on_delete=models.CASCADE,
        related_name=_RELATED_NAME,
        related_query_name=_RELATED_QUERY_NAME,
        verbose_name=_("attempt"),
        db_index=False,  # covered by the (attempt, question) unique constraint
    )
    question = models.ForeignKey(
        model_setting("question"),
        on_delete=models.PROTECT,
        related_name=_RELATED_NAME,
        related_query_name=_RELATED_QUERY_NAME,
        verbose_name=_("question"),
    )
    response = models.JSONField(_("response"), null=True, blank=True)
    is_correct = models.BooleanField(_("correct"), null=True, blank=True)
    points_awarded = models.DecimalField(
        _("points awarded"), null=True, blank=True, max_digits=10, decimal_places=3
    )
    time_spent = models.PositiveBigIntegerField(
        _("time spent"), default=0, help_text=_("Whole seconds.")
    )
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)
    graded_at = models.DateTimeField(_("graded at"), null=True, blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="%(app_label)s_%(class)s_graded",
        related_query_name="%(app_label)s_%(class)s_graded",
        verbose_name=_("graded by"),
        help_text=_("Set when an instructor graded the response manually."),
    )

    class Meta:
        abstract = True
        verbose_name = _("quiz response")
        verbose_name_plural = _("quiz responses")
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "question"], name="%(app_label)s_%(class)s_attempt_question_uniq"
            ),
        ]

    def __str__(self) -> str:
        attempt = self.attempt
        return f"{attempt.user}: {self.question} (attempt {attempt.attempt_number})"


class AbstractQuizOverride(models.Model):
    """One learner's accommodation at one quiz: one row per (user, quiz).

    The effective rules of the quiz for the learner are the content adapter's
    rules plus the override (see
    :func:`~django_learning_progress.helpers.effective_quiz_rules`):
    ``extra_attempts`` adds to a limited number of attempts, ``extra_time`` to
    a time limit, and ``opens_at`` / ``closes_at`` replace the quiz's window
    when set (empty: no change). Write it with
    :func:`~django_learning_progress.services.set_quiz_override`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name=_RELATED_NAME,
        related_query_name=_RELATED_QUERY_NAME,
        verbose_name=_("user"),
        db_index=False,  # covered by the (user, quiz) unique constraint
    )
    quiz = models.ForeignKey(
        model_setting("quiz"),
        on_delete=models.CASCADE,
        related_name=_RELATED_NAME,
        related_query_name=_RELATED_QUERY_NAME,
        verbose_name=_("quiz"),
    )
    extra_attempts = models.PositiveIntegerField(
        _("extra attempts"),
        default=0,
        help_text=_("Added to the quiz's maximum number of attempts, when it has one."),
    )
    extra_time = models.DurationField(
        _("extra time"),
        default=timedelta(0),
        help_text=_("Added to the quiz's time limit, when it has one."),
    )
    opens_at = models.DateTimeField(
        _("opens at"), null=True, blank=True, help_text=_("Empty: the quiz's own.")
    )
    closes_at = models.DateTimeField(
        _("closes at"), null=True, blank=True, help_text=_("Empty: the quiz's own.")
    )
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="%(app_label)s_%(class)s_created",
        related_query_name="%(app_label)s_%(class)s_created",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
        verbose_name = _("quiz override")
        verbose_name_plural = _("quiz overrides")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "quiz"], name="%(app_label)s_%(class)s_user_quiz_uniq"
            ),
            models.CheckConstraint(
                condition=Q(extra_time__gte=timedelta(0)),
                name="%(app_label)s_%(class)s_extra_time_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(opens_at__lt=F("closes_at")),
                name="%(app_label)s_%(class)s_window_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.quiz_id}"

    def clean(self) -> None:
        """Refuse a window that closes before it opens (as the services do)."""
        if self.opens_at and self.closes_at and self.opens_at >= self.closes_at:
            raise ValidationError(
                {"closes_at": _("Must be later than the override's opening time.")}
            )


__all__ = [
    "AbstractCourseEnrollment",
    "AbstractQuizAttempt",
    "AbstractQuizOverride",
    "AbstractQuizResponse",
    "AbstractTaskProgress",
]

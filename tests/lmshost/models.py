"""A host LMS shaped like real ones, for ``tests/settings_lmshost.py``.

* a ``Course`` has a publishing ``status`` and instructors;
* ``LearningTask`` rows can be unpublished (``is_published``) or soft-deleted
  (``deleted_at``); the default manager, ``objects``, hides soft-deleted rows
  and ``all_objects`` shows them;
* a quiz *is* a task: ``QuizTask`` is a multi-table subclass of
  ``LearningTask``, so a quiz row is a task row with the same primary key;
* questions have ``Option`` rows, one or more marked ``is_correct``;
* ``LegacyCompletion`` is the host's own progress table from before the app,
  still installed next to the app's tables.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone


class Course(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="lms_courses_taught"
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class LiveTaskManager(models.Manager["LearningTask"]):
    """Tasks that are not soft-deleted."""

    def get_queryset(self) -> models.QuerySet["LearningTask"]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class LearningTask(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField(default=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    # The first manager declared is the model's ``_default_manager``: the app
    # (and the admin, forms, serializers) sees only live tasks.
    objects = LiveTaskManager()
    all_objects = models.Manager()  # noqa: DJ012 (ruff reads it as a field)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.title

    def soft_delete(self) -> None:
        self.deleted_at = timezone.now()
        self.save(update_fields=["deleted_at"])


class QuizTask(LearningTask):
    """A task that is a quiz: its row extends a ``LearningTask`` row."""

    class CompletionRule(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        PASSED = "passed", "Passed"
        PASSED_OR_EXHAUSTED = "passed_or_exhausted", "Passed or attempts used up"

    pass_mark = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    max_attempts = models.PositiveIntegerField(null=True, blank=True)
    time_limit = models.PositiveIntegerField(null=True, blank=True, help_text="minutes")
    completion_rule = models.CharField(
        max_length=30, choices=CompletionRule.choices, default=CompletionRule.PASSED
    )


class Question(models.Model):
    quiz = models.ForeignKey(QuizTask, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(max_length=200)
    points = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.text


class Option(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    text = models.CharField(max_length=200)
    is_correct = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text


class LegacyCompletion(models.Model):
    """The host's progress table from before the app: one row per completed task."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="legacy_completions"
    )
    task = models.ForeignKey(
        LearningTask, on_delete=models.CASCADE, related_name="legacy_completions"
    )
    completed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "task"], name="lmshost_legacy_user_task_uniq")
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} completed task {self.task_id}"

"""A host LMS's content models, deliberately shaped unlike the defaults.

* tasks reach their course through a module (``task__module__course``);
* questions carry their points in ``marks``, not ``points``;
* quizzes and questions are created in this app's *second* migration, which
  therefore declares ``run_before`` on ``learning_progress.0001_initial``;
* courses, lessons and quizzes have fields (and a property) named like every
  figure the app computes, with values that no real figure has, so that a
  query which leaks them, or clashes with them, fails the suite (third
  migration).
"""

from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import models

from django_learning_progress.mixins import LearningProgressUserMixin


class User(LearningProgressUserMixin, AbstractUser):
    """The host's custom user model, with the progress helpers."""


class FigureNamedFields(models.Model):
    """Fields named like the app's figures, holding values no figure has."""

    status = models.CharField(max_length=20, default="published")
    percentage = models.FloatField(default=-7.0)
    tasks_total = models.IntegerField(default=-7)
    tasks_completed = models.IntegerField(default=-7)
    tasks_in_progress = models.IntegerField(default=-7)
    time_spent = models.IntegerField(default=-7)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    quizzes_total = models.IntegerField(default=-7)
    quizzes_passed = models.IntegerField(default=-7)
    lp_status = models.CharField(max_length=20, default="shadow")
    lp_percentage = models.FloatField(default=-7.0)

    class Meta:
        abstract = True


class Course(FigureNamedFields):
    title = models.CharField(max_length=200)
    instructors = models.ManyToManyField(User, blank=True, related_name="teaching")
    # The host's own "next task" pointer: its column is ``next_task_id``.
    next_task = models.ForeignKey(
        "Lesson", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.title


class Lesson(FigureNamedFields):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    optional = models.BooleanField(default=False)

    class Meta:
        ordering = ["module__position", "position"]

    def __str__(self) -> str:
        return self.title


class Quiz(FigureNamedFields):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="quizzes")
    grade_highest = models.FloatField(default=-7.0)
    grade_latest = models.FloatField(default=-7.0)
    grade_first = models.FloatField(default=-7.0)
    percentage_sum = models.FloatField(default=-7.0)
    attempts_completed = models.IntegerField(default=-7)
    # Named like the override figure the quiz annotations carry.
    extra_attempts = models.IntegerField(default=-7)
    # The lesson this quiz completes (ContentAdapter.quiz_task_lookup = "lesson").
    lesson = models.ForeignKey(
        Lesson, null=True, blank=True, on_delete=models.SET_NULL, related_name="quizzes"
    )
    completion_rule = models.CharField(max_length=30, blank=True)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    title = models.CharField(max_length=200)
    max_attempts = models.PositiveIntegerField(null=True, blank=True)
    pass_mark = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    time_limit = models.PositiveIntegerField(null=True, blank=True, help_text="minutes")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def lp_grade_highest(self) -> str:
        """A read-only attribute named like an annotation the app could pick."""
        return "the host's"


class Question(models.Model):
    KIND_CHOICE = "choice"
    KIND_ESSAY = "essay"
    KIND_MULTI = "multi"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, default=KIND_CHOICE)
    answer = models.JSONField(null=True, blank=True)
    marks = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.text

    def grade_response(self, response: object) -> bool | float | None:
        if self.kind == self.KIND_ESSAY:
            return None
        if self.kind == self.KIND_MULTI:
            expected = set(self.answer or [])
            given = set(response) if isinstance(response, list) else set()
            if not expected:
                return 0.0
            return len(expected & given) / len(expected) if given <= expected else 0.0
        return response == self.answer


class Option(models.Model):
    """A choice of a multiple-choice question; the answer is an option's id."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    text = models.CharField(max_length=200)
    is_correct = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text

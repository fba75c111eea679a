"""The LMS's own content: courses, modules, lessons, quizzes and questions.

django-learning-progress tracks learners against these models (see the
``LEARNING_PROGRESS_*_MODEL`` settings). Lessons are the *tasks*; they reach
their course through a module, which ``catalog.progress.CatalogAdapter`` tells
the library.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class Course(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="courses_taught"
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
        constraints = [
            models.UniqueConstraint(
                fields=["course", "position"], name="catalog_module_course_position_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Lesson(models.Model):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    optional = models.BooleanField(
        default=False, help_text="Optional lessons do not count towards course completion."
    )

    class Meta:
        ordering = ["module__position", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["module", "position"], name="catalog_lesson_module_position_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Quiz(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="quizzes")
    title = models.CharField(max_length=200)
    max_attempts = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty or 0: unlimited attempts."
    )
    pass_mark = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="Percentage, 0-100."
    )
    time_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minutes; empty or 0: no limit."
    )

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    """One question of a quiz, graded by :meth:`grade_response`."""

    class Kind(models.TextChoices):
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
        SHORT_ANSWER = "short_answer", "Short answer"
        ESSAY = "essay", "Essay (graded by hand)"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MULTIPLE_CHOICE)
    prompt = models.TextField()
    choices = models.JSONField(
        default=list, blank=True, help_text="Multiple choice: the options, a list of strings."
    )
    correct_choice = models.PositiveIntegerField(
        null=True, blank=True, help_text="Multiple choice: index of the right option (from 0)."
    )
    accepted_answers = models.JSONField(
        default=list,
        blank=True,
        help_text="Short answer: the accepted answers (compared case-insensitively).",
    )
    points = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.prompt[:60]

    def clean(self) -> None:
        if self.kind == self.Kind.MULTIPLE_CHOICE:
            if not isinstance(self.choices, list) or len(self.choices) < 2:
                raise ValidationError({"choices": "Give at least two options."})
            if self.correct_choice is None or self.correct_choice >= len(self.choices):
                raise ValidationError({"correct_choice": "Must be the index of one option."})
        elif self.kind == self.Kind.SHORT_ANSWER and not (
            isinstance(self.accepted_answers, list) and self.accepted_answers
        ):
            raise ValidationError({"accepted_answers": "Give at least one accepted answer."})

    def grade_response(self, response: Any) -> bool | None:
        """Whether ``response`` (the learner's JSON answer) is right; ``None``: grade by hand.

        * multiple choice: the index of the chosen option (the option's text is
          accepted too);
        * short answer: a string, matched against the accepted answers ignoring
          case and surrounding whitespace;
        * essay: always ``None`` (an instructor grades it).
        """
        if self.kind == self.Kind.ESSAY:
            return None
        if self.kind == self.Kind.MULTIPLE_CHOICE:
            if self.correct_choice is None:
                return False
            if isinstance(response, int) and not isinstance(response, bool):
                return response == self.correct_choice
            if isinstance(response, str) and self.correct_choice < len(self.choices):
                return response.strip() == str(self.choices[self.correct_choice]).strip()
            return False
        if not isinstance(response, str):
            return False
        given = response.strip().casefold()
        return any(given == str(answer).strip().casefold() for answer in self.accepted_answers)

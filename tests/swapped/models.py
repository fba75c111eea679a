"""A host app that swaps in its own enrollment and attempt models."""

from django.db import models

from django_learning_progress.abstract_models import AbstractCourseEnrollment, AbstractQuizAttempt


class CohortEnrollment(AbstractCourseEnrollment):
    cohort = models.CharField(max_length=50, blank=True)

    class Meta(AbstractCourseEnrollment.Meta):
        pass


class ProctoredAttempt(AbstractQuizAttempt):
    proctor_notes = models.TextField(blank=True)

    class Meta(AbstractQuizAttempt.Meta):
        pass

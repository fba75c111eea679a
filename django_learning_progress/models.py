"""Concrete, swappable progress models, the quiz override model, and their loaders.

App code (and host code) should only use the loaders, which return the
model currently configured by the ``LEARNING_PROGRESS_*_MODEL`` settings.
:class:`QuizOverride` is not swappable.
"""

from __future__ import annotations

from django.apps import apps

from django_learning_progress.abstract_models import (
    AbstractCourseEnrollment,
    AbstractQuizAttempt,
    AbstractQuizOverride,
    AbstractQuizResponse,
    AbstractTaskProgress,
)
from django_learning_progress.conf import model_setting


class CourseEnrollment(AbstractCourseEnrollment):
    class Meta(AbstractCourseEnrollment.Meta):
        swappable = "LEARNING_PROGRESS_ENROLLMENT_MODEL"


class TaskProgress(AbstractTaskProgress):
    class Meta(AbstractTaskProgress.Meta):
        swappable = "LEARNING_PROGRESS_TASK_PROGRESS_MODEL"


class QuizAttempt(AbstractQuizAttempt):
    class Meta(AbstractQuizAttempt.Meta):
        swappable = "LEARNING_PROGRESS_QUIZ_ATTEMPT_MODEL"


class QuizResponse(AbstractQuizResponse):
    class Meta(AbstractQuizResponse.Meta):
        swappable = "LEARNING_PROGRESS_QUIZ_RESPONSE_MODEL"


class QuizOverride(AbstractQuizOverride):
    class Meta(AbstractQuizOverride.Meta):
        pass


def get_enrollment_model() -> type[AbstractCourseEnrollment]:
    """The active enrollment model (``LEARNING_PROGRESS_ENROLLMENT_MODEL``)."""
    return apps.get_model(model_setting("enrollment"), require_ready=False)


def get_task_progress_model() -> type[AbstractTaskProgress]:
    """The active task progress model (``LEARNING_PROGRESS_TASK_PROGRESS_MODEL``)."""
    return apps.get_model(model_setting("task_progress"), require_ready=False)


def get_quiz_attempt_model() -> type[AbstractQuizAttempt]:
    """The active quiz attempt model (``LEARNING_PROGRESS_QUIZ_ATTEMPT_MODEL``)."""
    return apps.get_model(model_setting("quiz_attempt"), require_ready=False)


def get_quiz_response_model() -> type[AbstractQuizResponse]:
    """The active quiz response model (``LEARNING_PROGRESS_QUIZ_RESPONSE_MODEL``)."""
    return apps.get_model(model_setting("quiz_response"), require_ready=False)


def get_quiz_override_model() -> type[AbstractQuizOverride]:
    """The quiz override model (not swappable: always :class:`QuizOverride`)."""
    return apps.get_model("learning_progress", "QuizOverride", require_ready=False)

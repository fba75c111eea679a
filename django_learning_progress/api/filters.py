"""django-filter filter sets of the REST API lists."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django_filters.fields import ModelChoiceField

from django_learning_progress.api.fields import parse_pk
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_override_model,
    get_quiz_response_model,
    get_task_progress_model,
)


def _all(model: Any) -> Any:
    return model._default_manager.all()


class _StrictModelChoiceField(ModelChoiceField):
    """Takes only keys the model could hold (see :func:`~django_learning_progress.api.fields.parse_pk`)."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            try:
                parse_pk(self.queryset.model, value)
            except ValueError:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice"
                ) from None
        return super().to_python(value)


class _KeyField(forms.Field):
    """A primary key of ``model`` by :func:`~django_learning_progress.validation.parse_pk`
    (whole numbers within the column's range), not checked to exist."""

    def __init__(self, *args: Any, model: Any = None, **kwargs: Any) -> None:
        self.model = model
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return parse_pk(self.model, value)
        except ValueError:
            raise ValidationError("Enter a whole number.", code="invalid") from None


class _ModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = _StrictModelChoiceField


class _KeyFilter(django_filters.Filter):
    field_class = _KeyField


class EnrollmentFilter(django_filters.FilterSet):
    course = _ModelChoiceFilter(queryset=_all(get_content_adapter().course_model))
    status = django_filters.ChoiceFilter(choices=EnrollmentStatus.choices)

    class Meta:
        model = get_enrollment_model()
        fields = ["course", "status"]


class TaskProgressFilter(django_filters.FilterSet):
    course = _ModelChoiceFilter(queryset=_all(get_content_adapter().course_model))
    task = _ModelChoiceFilter(queryset=_all(get_content_adapter().task_model))
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices)

    class Meta:
        model = get_task_progress_model()
        fields = ["course", "task", "status"]


class QuizAttemptFilter(django_filters.FilterSet):
    quiz = _ModelChoiceFilter(queryset=_all(get_content_adapter().quiz_model))
    course = _ModelChoiceFilter(queryset=_all(get_content_adapter().course_model))
    status = django_filters.ChoiceFilter(choices=AttemptStatus.choices)

    class Meta:
        model = get_quiz_attempt_model()
        fields = ["quiz", "course", "status"]


class QuizResponseFilter(django_filters.FilterSet):
    attempt = _KeyFilter(field_name="attempt", model=get_quiz_attempt_model())
    course = _ModelChoiceFilter(
        field_name="attempt__course", queryset=_all(get_content_adapter().course_model)
    )
    needs_grading = django_filters.BooleanFilter(
        method="filter_needs_grading",
        label="Responses of submitted attempts that await manual grading",
    )

    class Meta:
        model = get_quiz_response_model()
        fields = ["attempt", "course", "needs_grading"]

    def filter_needs_grading(self, queryset: Any, name: str, value: bool | None) -> Any:
        awaiting = Q(attempt__status=AttemptStatus.SUBMITTED, is_correct__isnull=True)
        if value is None:
            return queryset
        return queryset.filter(awaiting) if value else queryset.exclude(awaiting)


class RosterFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=EnrollmentStatus.choices)

    class Meta:
        model = get_enrollment_model()
        fields = ["status"]


class QuizOverrideFilter(django_filters.FilterSet):
    quiz = _ModelChoiceFilter(queryset=_all(get_content_adapter().quiz_model))
    user = _KeyFilter(field_name="user", model=get_user_model())
    course = _ModelChoiceFilter(
        queryset=_all(get_content_adapter().course_model), method="filter_course"
    )

    class Meta:
        model = get_quiz_override_model()
        fields = ["quiz", "user", "course"]

    def filter_course(self, queryset: Any, name: str, value: Any) -> Any:
        if value is None:
            return queryset
        quizzes = get_content_adapter().course_quizzes(value).order_by().values("pk")
        return queryset.filter(quiz__in=quizzes)

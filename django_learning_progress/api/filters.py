"""django-filter filter sets of the REST API lists."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q

from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)


def _all(model: Any) -> Any:
    return model._default_manager.all()


class EnrollmentFilter(django_filters.FilterSet):
    course = django_filters.ModelChoiceFilter(queryset=_all(get_content_adapter().course_model))
    status = django_filters.ChoiceFilter(choices=EnrollmentStatus.choices)

    class Meta:
        model = get_enrollment_model()
        fields = ["course", "status"]


class TaskProgressFilter(django_filters.FilterSet):
    course = django_filters.ModelChoiceFilter(queryset=_all(get_content_adapter().course_model))
    task = django_filters.ModelChoiceFilter(queryset=_all(get_content_adapter().task_model))
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices)

    class Meta:
        model = get_task_progress_model()
        fields = ["course", "task", "status"]


class QuizAttemptFilter(django_filters.FilterSet):
    quiz = django_filters.ModelChoiceFilter(queryset=_all(get_content_adapter().quiz_model))
    course = django_filters.ModelChoiceFilter(queryset=_all(get_content_adapter().course_model))
    status = django_filters.ChoiceFilter(choices=AttemptStatus.choices)

    class Meta:
        model = get_quiz_attempt_model()
        fields = ["quiz", "course", "status"]


class QuizResponseFilter(django_filters.FilterSet):
    attempt = django_filters.NumberFilter(field_name="attempt")
    course = django_filters.ModelChoiceFilter(
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

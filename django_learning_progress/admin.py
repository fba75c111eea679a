"""Admin for the progress models, built to stay fast on tables with millions of rows.

Relations use raw id widgets (no ``<select>`` with every user or task), lists
load their relations with ``select_related`` and skip the full ``COUNT(*)``.
The admin classes are public so that a host that swaps a model can register
its own model with them::

    from django.contrib import admin
    from django_learning_progress.admin import CourseEnrollmentAdmin
    from myapp.models import CohortEnrollment

    admin.site.register(CohortEnrollment, CourseEnrollmentAdmin)
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model

from django_learning_progress.checks import is_configured
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)


def _user_search_field() -> str:
    return f"user__{get_user_model().USERNAME_FIELD}"


class ProgressAdmin(admin.ModelAdmin):
    """Shared options: no full count, raw id widgets, user search."""

    show_full_result_count = False
    list_per_page = 50

    def get_search_fields(self, request: Any) -> list[str]:
        return [f"{_user_search_field()}__exact", *self.search_fields]


class CourseEnrollmentAdmin(ProgressAdmin):
    list_display = ["id", "user", "course", "status", "enrolled_at", "completed_at", "dropped_at"]
    list_filter = ["status"]
    list_select_related = ["user", "course"]
    raw_id_fields = ["user", "course"]
    readonly_fields = ["updated_at"]
    ordering = ["-id"]


class TaskProgressAdmin(ProgressAdmin):
    list_display = ["id", "user", "task", "course", "status", "time_spent", "last_activity_at"]
    list_filter = ["status"]
    list_select_related = ["user", "task", "course"]
    raw_id_fields = ["user", "task", "course"]
    ordering = ["-id"]


class QuizResponseInline(admin.TabularInline):
    fields = ["question", "response", "is_correct", "points_awarded", "time_spent", "answered_at"]
    raw_id_fields = ["question", "graded_by"]
    extra = 0
    show_change_link = True

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("question")


class QuizAttemptAdmin(ProgressAdmin):
    list_display = [
        "id",
        "user",
        "quiz",
        "attempt_number",
        "status",
        "percentage",
        "passed",
        "started_at",
        "completed_at",
    ]
    list_filter = ["status", "passed"]
    list_select_related = ["user", "quiz"]
    raw_id_fields = ["user", "quiz", "course"]
    inlines = [QuizResponseInline]
    ordering = ["-id"]


class QuizResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "attempt", "question", "is_correct", "points_awarded", "answered_at"]
    list_filter = ["is_correct"]
    list_select_related = ["attempt", "question"]
    raw_id_fields = ["attempt", "question", "graded_by"]
    show_full_result_count = False
    ordering = ["-id"]

    def get_search_fields(self, request: Any) -> list[str]:
        return [f"attempt__{_user_search_field()}__exact"]


def _register(model: type[Model], admin_class: type[admin.ModelAdmin]) -> None:
    # Only the library's own concrete models; a swapped-in host model is the
    # host's to register (with the classes above).
    if model._meta.app_label == "learning_progress" and not admin.site.is_registered(model):
        admin.site.register(model, admin_class)


if is_configured():
    setattr(QuizResponseInline, "model", get_quiz_response_model())  # noqa: B010
    _register(get_enrollment_model(), CourseEnrollmentAdmin)
    _register(get_task_progress_model(), TaskProgressAdmin)
    _register(get_quiz_attempt_model(), QuizAttemptAdmin)
    _register(get_quiz_response_model(), QuizResponseAdmin)

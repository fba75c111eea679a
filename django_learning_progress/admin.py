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

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from django_learning_progress import services
from django_learning_progress.access import is_instructor
from django_learning_progress.checks import is_configured
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_override_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from django_learning_progress.pages import course_page_url
from django_learning_progress.reports import course_report


def _user_search_field() -> str:
    return f"user__{get_user_model().USERNAME_FIELD}"


class ProgressAdmin(admin.ModelAdmin):
    """Shared options: no full count, raw id widgets, user search."""

    show_full_result_count = False
    list_per_page = 50

    def get_search_fields(self, request: Any) -> list[str]:
        return [f"{_user_search_field()}__exact", *self.search_fields]


def report_url(course: Any) -> str:
    """URL of the admin's progress report for ``course``."""
    opts = get_enrollment_model()._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_report", args=[getattr(course, "pk", course)]
    )


@admin.display(description=_("Progress report"))
def course_report_link(course: Any) -> str:
    """A ``list_display`` column for the host's course admin linking to the report.

    Example::

        from django_learning_progress.admin import course_report_link

        class CourseAdmin(admin.ModelAdmin):
            list_display = ["title", course_report_link]
    """
    return format_html('<a href="{}">{}</a>', report_url(course), _("Report"))


class CourseEnrollmentAdmin(ProgressAdmin):
    list_display = ["id", "user", "course", "status", "enrolled_at", "completed_at", "dropped_at"]
    list_filter = ["status"]
    list_select_related = ["user", "course"]
    raw_id_fields = ["user", "course"]
    # State changes go through the services (actions below), so signals fire
    # and completion stays consistent.
    readonly_fields = [
        "status",
        "enrolled_at",
        "completed_at",
        "dropped_at",
        "updated_at",
        "quiz_overrides",
    ]
    ordering = ["-id"]
    actions = ["complete_selected", "reopen_selected", "drop_selected"]

    @admin.display(description=_("Quiz overrides"))
    def quiz_overrides(self, enrollment: Any) -> str:
        """The learner's accommodations at the course's quizzes, each linked (one query)."""
        if enrollment.pk is None:
            return "-"
        quizzes = get_content_adapter().course_quizzes(enrollment.course_id).order_by()
        overrides = (
            get_quiz_override_model()
            ._default_manager.filter(user=enrollment.user_id, quiz__in=quizzes.values("pk"))
            .select_related("quiz")
            .order_by("pk")
        )
        rows = [(override_url(o), f"{o.quiz}: {describe_override(o)}") for o in overrides]
        if not rows:
            return "-"
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a>', rows)

    change_list_template = "learning_progress/admin/enrollment_change_list.html"

    def get_urls(self) -> list[Any]:
        opts = self.model._meta
        report = path(
            "report/<str:course_id>/",
            self.admin_site.admin_view(self.report_view),
            name=f"{opts.app_label}_{opts.model_name}_report",
        )
        return [report, *super().get_urls()]

    def report_view(self, request: HttpRequest, course_id: str) -> HttpResponse:
        """The instructor report: learners, the funnel by task, quiz statistics."""
        course_model: Any = get_content_adapter().course_model
        try:
            course = course_model._default_manager.get(pk=course_id)
        except (course_model.DoesNotExist, ValueError, ValidationError):
            raise Http404 from None
        if not is_instructor(request.user, course):
            raise PermissionDenied
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            **course_report(course),
            "opts": opts,
            "title": _("Progress report: %(course)s") % {"course": course},
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            + f"?course={course.pk}",
            # The instructor page, when the host has included the pages' URLs.
            "pages_url": course_page_url(course),
        }
        return TemplateResponse(request, "learning_progress/admin/course_report.html", context)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        course_id = request.GET.get("course__id__exact") or request.GET.get("course")
        extra_context = extra_context or {}
        if course_id:
            extra_context["course_report_url"] = report_url(course_id)
        return super().changelist_view(request, extra_context)

    def _each(self, request: HttpRequest, queryset: Any, service: Any, done: Any) -> None:
        changed = 0
        for enrollment in queryset:
            try:
                changed += service(enrollment).status != enrollment.status
            except ValidationError as exc:
                self.message_user(
                    request, f"{enrollment}: {' '.join(exc.messages)}", messages.ERROR
                )
        self.message_user(request, done % {"count": changed}, messages.SUCCESS)

    @admin.action(description=_("Mark selected enrollments completed"), permissions=["change"])
    def complete_selected(self, request: HttpRequest, queryset: Any) -> None:
        self._each(request, queryset, services.complete_enrollment, _("%(count)d completed."))

    @admin.action(description=_("Reopen selected completed enrollments"), permissions=["change"])
    def reopen_selected(self, request: HttpRequest, queryset: Any) -> None:
        self._each(request, queryset, services.reopen_enrollment, _("%(count)d reopened."))

    @admin.action(description=_("Drop selected enrollments"), permissions=["change"])
    def drop_selected(self, request: HttpRequest, queryset: Any) -> None:
        self._each(request, queryset, services.drop_enrollment, _("%(count)d dropped."))


class TaskProgressAdmin(ProgressAdmin):
    list_display = ["id", "user", "task", "course", "status", "time_spent", "last_activity_at"]
    list_filter = ["status"]
    list_select_related = ["user", "task", "course"]
    raw_id_fields = ["user", "task", "course"]
    readonly_fields = ["status", "time_spent", "started_at", "completed_at", "last_activity_at"]
    ordering = ["-id"]


class QuizResponseInline(admin.TabularInline):
    fields = ("question", "response", "is_correct", "points_awarded", "time_spent", "answered_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # answers are recorded by the services

    def get_queryset(self, request: Any) -> Any:
        # str() of a response names the attempt's learner (the inline shows it per row).
        return super().get_queryset(request).select_related("question", "attempt__user")


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
    readonly_fields = [
        "attempt_number",
        "status",
        "score",
        "max_score",
        "percentage",
        "passed",
        "started_at",
        "submitted_at",
        "completed_at",
        "deadline_at",
        "time_taken",
        "score_before_regrade",
        "regraded_at",
    ]
    inlines = [QuizResponseInline]
    ordering = ["-id"]


class QuizResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "attempt", "question", "is_correct", "points_awarded", "answered_at"]
    list_filter = ["is_correct"]
    list_select_related = ["attempt__user", "attempt__quiz", "question"]
    raw_id_fields = ["attempt", "question", "graded_by"]
    # Grade through the REST API or services.grade_response, which finish the attempt.
    readonly_fields = ["is_correct", "points_awarded", "graded_at", "graded_by", "answered_at"]
    show_full_result_count = False
    ordering = ["-id"]

    def get_search_fields(self, request: Any) -> list[str]:
        return [f"attempt__{_user_search_field()}__exact"]


def override_url(override: Any) -> str:
    """The admin change page of a quiz override, or ``""`` when the admin has none."""
    opts = override._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[override.pk])
    except NoReverseMatch:
        return ""


def describe_override(override: Any) -> str:
    """What an override changes, in a few words (``"+1 attempt, +10 min"``)."""
    parts = []
    if override.extra_attempts:
        plural = "s" if override.extra_attempts != 1 else ""
        parts.append(f"+{override.extra_attempts} attempt{plural}")
    if override.extra_time:
        minutes = override.extra_time.total_seconds() / 60
        parts.append(f"+{minutes:g} min")
    if override.opens_at:
        parts.append(f"opens {override.opens_at:%Y-%m-%d %H:%M}")
    if override.closes_at:
        parts.append(f"closes {override.closes_at:%Y-%m-%d %H:%M}")
    return ", ".join(parts) or str(_("no change"))


class QuizOverrideKindFilter(admin.SimpleListFilter):
    """Filter overrides by what they change."""

    title = _("changes")
    parameter_name = "changes"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("attempts", _("Extra attempts")),
            ("time", _("Extra time")),
            ("window", _("Own window")),
        ]

    def queryset(self, request: Any, queryset: Any) -> Any:
        if self.value() == "attempts":
            return queryset.filter(extra_attempts__gt=0)
        if self.value() == "time":
            return queryset.filter(extra_time__gt=timedelta(0))
        if self.value() == "window":
            return queryset.filter(Q(opens_at__isnull=False) | Q(closes_at__isnull=False))
        return queryset


class QuizOverrideForm(forms.ModelForm):
    """Checks the values as :func:`~django_learning_progress.services.set_quiz_override` does."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        names = ("extra_attempts", "extra_time", "opens_at", "closes_at", "reason")
        values = {name: cleaned.get(name) for name in names if name not in self.errors}
        values["reason"] = values.get("reason") or ""
        try:
            services.clean_quiz_override(**values)
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name, errors)
        return cleaned


class QuizOverrideAdmin(ProgressAdmin):
    """Learners' quiz accommodations. Saving and deleting go through the
    services: the instructor check applies, open attempts get their extra
    time, and ``quiz_override_changed`` is sent."""

    form = QuizOverrideForm
    list_display = [
        "id",
        "user",
        "quiz",
        "extra_attempts",
        "extra_time",
        "opens_at",
        "closes_at",
        "created_by",
        "updated_at",
    ]
    list_filter = [
        QuizOverrideKindFilter,
        ("quiz", admin.RelatedOnlyFieldListFilter),
        "created_at",
        "updated_at",
    ]
    list_select_related = ["user", "quiz", "created_by"]
    raw_id_fields = ["user", "quiz"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    ordering = ["-id"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        # The learner and the quiz of an existing override stay; remove it instead.
        fixed = ["user", "quiz"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        saved = services.set_quiz_override(
            obj.quiz,
            obj.user,
            by=request.user,
            extra_attempts=obj.extra_attempts,
            extra_time=obj.extra_time,
            opens_at=obj.opens_at,
            closes_at=obj.closes_at,
            reason=obj.reason,
        )
        obj.pk = saved.pk

    def delete_model(self, request: Any, obj: Any) -> None:
        services.remove_quiz_override(obj.quiz, obj.user, by=request.user)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for override in queryset.select_related("quiz", "user"):
            services.remove_quiz_override(override.quiz, override.user, by=request.user)


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
    _register(get_quiz_override_model(), QuizOverrideAdmin)

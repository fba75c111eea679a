"""The LMS's pages: the home page, a learner's course, lesson and quiz pages, and an
instructor's roster of a course.

Every change of progress goes through :mod:`django_learning_progress.services`
(enrolling, opening and completing a lesson, taking a quiz); the lesson page
also sends a heartbeat to the progress REST API while it is visible, which adds
the time the learner spends on it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog.models import Course, Lesson, Question, Quiz
from django_learning_progress import helpers, rosters, services
from django_learning_progress.access import is_instructor
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from django_learning_progress.reports import format_duration


def live_progress(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``live_progress`` is the WebSocket path when live progress is on."""
    return {"live_progress": "/ws/progress/" if settings.LMS_LIVE else None}


def home(request: HttpRequest) -> HttpResponse:
    courses = list(
        Course.objects.annotate(
            lesson_count=Count("modules__lessons", distinct=True),
            quiz_count=Count("quizzes", distinct=True),
        )
        .prefetch_related("instructors")
        .order_by("title")  # Meta.ordering does not apply to aggregating queries
    )
    context: dict[str, Any] = {
        "courses": courses,
        "enrollments": [],
        "teaching": [],
        "show_demo_logins": settings.DEBUG,
    }
    user: Any = request.user
    if user.is_authenticated:
        # One query for every course the learner is in, with progress annotated.
        enrollments = list(user.get_enrolled_courses())
        next_lessons = Lesson.objects.in_bulk(
            [e.next_task_id for e in enrollments if e.next_task_id is not None]
        )
        for enrollment in enrollments:
            enrollment.next_lesson = next_lessons.get(enrollment.next_task_id)
            enrollment.time_display = format_duration(enrollment.time_spent)
            enrollment.progress = user.get_course_progress(enrollment.course)
        context["enrollments"] = enrollments
        context["teaching"] = [
            {
                "course": course,
                "roster_url": reverse(
                    "learning_progress:course-progress", kwargs={"course_id": course.pk}
                ),
                "report_url": reverse("learning_progress_pages:course-report", args=[course.pk]),
            }
            for course in courses
            if is_instructor(user, course)
        ]
    return render(request, "catalog/home.html", context)


# -- the learner's pages -----------------------------------------------------------------


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _enrollment(user: Any, course: Course) -> Any:
    """The user's enrollment in ``course`` that is not dropped, or ``None``."""
    return (
        get_enrollment_model()
        ._default_manager.filter(user=user, course=course)
        .exclude(status=EnrollmentStatus.DROPPED)
        .first()
    )


def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A course: its lessons and quizzes, and the learner's progress in it."""
    course = get_object_or_404(Course, slug=slug)
    lessons = list(Lesson.objects.filter(module__course=course).select_related("module"))
    quizzes = list(course.quizzes.all())
    context: dict[str, Any] = {"course": course, "quizzes": quizzes, "enrollment": None}
    user: Any = request.user
    status_of: dict[Any, str] = {}
    if user.is_authenticated:
        context["enrollment"] = _enrollment(user, course)
        context["progress"] = helpers.get_course_progress(user, course)
        rows = get_task_progress_model()._default_manager.filter(user=user, task__in=lessons)
        status_of = dict(rows.values_list("task_id", "status"))
        grades = {o.quiz.pk: o for o in helpers.quiz_outcomes(user, course.quizzes.all())}
        for quiz in quizzes:
            quiz.outcome = grades.get(quiz.pk)
        context["teaches"] = is_instructor(user, course)
    modules: dict[Any, list[Lesson]] = {}
    for lesson in lessons:
        lesson.progress_status = status_of.get(lesson.pk, "not_started")
        modules.setdefault(lesson.module, []).append(lesson)
    context["modules"] = list(modules.items())
    return render(request, "catalog/course.html", context)


@require_POST
@login_required
def enroll(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    _enrollment_row, created = services.get_or_enroll(request.user, course)
    if created:
        messages.success(request, f"You are enrolled in {course}.")
    return redirect("course", slug=course.slug)


@login_required
def lesson_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A lesson: opening it starts it; the page sends a heartbeat while it is visible."""
    lesson = get_object_or_404(Lesson.objects.select_related("module__course"), pk=pk)
    course = lesson.module.course
    if _enrollment(request.user, course) is None:
        messages.info(request, "Enroll in the course to start its lessons.")
        return redirect("course", slug=course.slug)
    progress, _started = services.get_or_start_task(request.user, lesson)
    siblings = list(Lesson.objects.filter(module__course=course))
    index = next(i for i, other in enumerate(siblings) if other.pk == lesson.pk)
    context = {
        "course": course,
        "lesson": lesson,
        "task_progress": progress,
        "progress": helpers.get_course_progress(request.user, course),
        "next_lesson": siblings[index + 1] if index + 1 < len(siblings) else None,
        "heartbeat_url": reverse("learning_progress:task-progress-time", args=[progress.pk]),
        "heartbeat_seconds": settings.LMS_HEARTBEAT_SECONDS,
        "time_display": format_duration(progress.time_spent),
    }
    return render(request, "catalog/lesson.html", context)


@require_POST
@login_required
def complete_lesson(request: HttpRequest, pk: int) -> HttpResponse:
    lesson = get_object_or_404(Lesson.objects.select_related("module__course"), pk=pk)
    try:
        services.complete_task(request.user, lesson)
    except ValidationError as error:
        _errors(request, error)
        return redirect("lesson", pk=lesson.pk)
    messages.success(request, f"\u201c{lesson}\u201d is complete.")
    return redirect("course", slug=lesson.module.course.slug)


@login_required
def quiz_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A quiz: where the learner stands, and the button to start an attempt."""
    quiz = get_object_or_404(Quiz.objects.select_related("course"), pk=pk)
    status = helpers.quiz_status(request.user, quiz)
    attempts = (
        get_quiz_attempt_model()
        ._default_manager.filter(user=request.user, quiz=quiz)
        .order_by("-attempt_number")
    )
    context = {
        "quiz": quiz,
        "course": quiz.course,
        "status": status,
        "attempts": [(a, format_duration(a.time_taken)) for a in attempts],
        "attempts_left": _attempts_left(status),
        "questions": quiz.questions.count(),
    }
    return render(request, "catalog/quiz.html", context)


@require_POST
@login_required
def start_attempt(request: HttpRequest, pk: int) -> HttpResponse:
    quiz = get_object_or_404(Quiz, pk=pk)
    try:
        attempt, _created = services.get_or_start_attempt(request.user, quiz)
    except ValidationError as error:
        _errors(request, error)
        return redirect("quiz", pk=quiz.pk)
    return redirect("attempt", pk=attempt.pk)


def _attempts_left(status: Any) -> int | None:
    """Attempts the learner may still start (``None``: unlimited), from ``quiz_status()``."""
    if status.attempts_allowed is None:
        return None
    return max(0, status.attempts_allowed - status.attempts_used)


def _answer_of(question: Question, value: str) -> Any:
    """The JSON answer the quiz page's form field ``value`` stands for."""
    if question.kind == Question.Kind.MULTIPLE_CHOICE:
        return int(value) if value.isdigit() else value
    return value


@login_required
def attempt_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An attempt: the questions while it is open; the result once submitted."""
    attempt = get_object_or_404(
        get_quiz_attempt_model()._default_manager.select_related("quiz__course"),
        pk=pk,
        user=request.user,
    )
    services.close_if_overdue(attempt)
    quiz = attempt.quiz
    questions = list(quiz.questions.all())
    if request.method == "POST" and attempt.status == AttemptStatus.IN_PROGRESS:
        answers = []
        for question in questions:
            value = request.POST.get(f"q{question.pk}", "").strip()
            if value:
                answers.append((question, _answer_of(question, value), 0))
        try:
            if answers:
                services.answer_questions(request.user, attempt, answers)
            services.submit_attempt(request.user, attempt)
        except (ValidationError, PermissionDenied) as error:
            if isinstance(error, ValidationError):
                _errors(request, error)
            else:
                messages.error(request, str(error))
        return redirect("attempt", pk=attempt.pk)
    responses = {
        r.question_id: r for r in get_quiz_response_model()._default_manager.filter(attempt=attempt)
    }
    for question in questions:
        question.mine = responses.get(question.pk)
        question.options = list(enumerate(question.choices))
    status = helpers.quiz_status(request.user, quiz)
    context = {
        "attempt": attempt,
        "quiz": quiz,
        "course": quiz.course,
        "questions": questions,
        "status": status,
        "attempts_left": _attempts_left(status),
        "time_taken": format_duration(attempt.time_taken),
        "progress": helpers.get_course_progress(request.user, quiz.course),
    }
    return render(request, "catalog/attempt.html", context)


# -- the instructor's pages --------------------------------------------------------------


@login_required
def course_roster(request: HttpRequest, slug: str) -> HttpResponse:
    """Every learner's progress in a course, for its instructors; it updates live."""
    course = get_object_or_404(Course, slug=slug)
    if not is_instructor(request.user, course):
        raise PermissionDenied
    enrollments = list(rosters.course_roster(course))
    for enrollment in enrollments:
        enrollment.time_display = format_duration(enrollment.time_spent)
    return render(request, "catalog/roster.html", {"course": course, "enrollments": enrollments})

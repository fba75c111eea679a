"""The LMS's pages: a home page listing the courses and the learner's progress."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from catalog.models import Course, Lesson
from django_learning_progress.access import is_instructor


def duration(seconds: int | None) -> str:
    """``3900`` -> ``"1 h 05 min"``; ``125`` -> ``"2 min"``."""
    minutes = (seconds or 0) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


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
            enrollment.time_display = duration(enrollment.time_spent)
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

"""What a host writes without the app: per-learner loops with a count or two each.

Each function answers the same question as the operation it is compared with
(usually a subset of its figures, so the comparison flatters the naive side),
the straightforward way: a query per learner, per course or per attempt, and
read-modify-write saves.
"""

from __future__ import annotations

import csv
import statistics
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F, Max, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_learning_progress.api.pagination import ProgressPagination
from django_learning_progress.api.permissions import IsCourseInstructor
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.testapp.models import Course, Lesson, Question, Quiz

PERCENT = Decimal("0.01")
EXPORT_COLUMNS = (
    "response_id",
    "attempt_id",
    "user_id",
    "username",
    "quiz_id",
    "question_id",
    "response",
    "is_correct",
    "points_awarded",
    "time_spent",
    "answered_at",
    "graded_at",
)


def _required_ids(course_id: Any) -> list[int]:
    return list(
        Lesson.objects.filter(module__course=course_id, optional=False).values_list("pk", flat=True)
    )


def _percentage(done: int, total: int) -> float:
    return round(done * 100 / total, 2) if total else 0.0


# -- reads ----------------------------------------------------------------------------


def course_progress(user_id: Any, course_id: Any) -> dict[str, Any]:
    """One learner's progress in one course, a count at a time."""
    TaskProgress = get_task_progress_model()
    enrollment = get_enrollment_model().objects.filter(user=user_id, course=course_id).first()
    required = _required_ids(course_id)
    mine = TaskProgress.objects.filter(user=user_id, task__in=required)
    done = mine.filter(status="completed").count()
    in_progress = mine.filter(status="in_progress").count()
    totals = TaskProgress.objects.filter(user=user_id, course=course_id).aggregate(
        time=Sum("time_spent"), last=Max("last_activity_at")
    )
    completed = set(mine.filter(status="completed").values_list("task_id", flat=True))
    next_task = next((t for t in required if t not in completed), None)
    quizzes = list(Quiz.objects.filter(course=course_id))
    passed = 0
    for quiz in quizzes:
        best = (
            get_quiz_attempt_model()
            .objects.filter(user=user_id, quiz=quiz, status="completed")
            .aggregate(best=Max("percentage"))["best"]
        )
        passed += best is not None and (quiz.pass_mark is None or best >= quiz.pass_mark)
    return {
        "status": enrollment.status if enrollment else None,
        "tasks_total": len(required),
        "tasks_completed": done,
        "tasks_in_progress": in_progress,
        "percentage": _percentage(done, len(required)),
        "time_spent": totals["time"] or 0,
        "last_activity_at": totals["last"],
        "next_task_id": next_task,
        "quizzes_total": len(quizzes),
        "quizzes_passed": passed,
    }


def roster(course_id: Any) -> list[dict[str, Any]]:
    """Every learner of the course: a completed count and a time sum per learner."""
    TaskProgress = get_task_progress_model()
    required = _required_ids(course_id)
    rows = []
    enrollments = (
        get_enrollment_model()
        .objects.filter(course=course_id)
        .select_related("user")
        .order_by("pk")
    )
    for enrollment in enrollments:
        done = TaskProgress.objects.filter(
            user=enrollment.user_id, task__in=required, status="completed"
        ).count()
        time_spent = (
            TaskProgress.objects.filter(user=enrollment.user_id, course=course_id).aggregate(
                t=Sum("time_spent")
            )["t"]
            or 0
        )
        rows.append(
            {
                "enrollment": enrollment.pk,
                "username": enrollment.user.username,
                "status": enrollment.status,
                "tasks_completed": done,
                "percentage": _percentage(done, len(required)),
                "time_spent": time_spent,
            }
        )
    return rows


def my_progress(user_id: Any) -> list[dict[str, Any]]:
    """The learner's courses: count the tasks and the completed ones, course by course."""
    TaskProgress = get_task_progress_model()
    rows = []
    enrollments = (
        get_enrollment_model()
        .objects.filter(user=user_id)
        .exclude(status="dropped")
        .select_related("course")
        .order_by("-enrolled_at", "-pk")
    )
    for enrollment in enrollments:
        required = Lesson.objects.filter(module__course=enrollment.course_id, optional=False)
        total = required.count()
        done = TaskProgress.objects.filter(
            user=user_id, task__in=required, status="completed"
        ).count()
        time_spent = (
            TaskProgress.objects.filter(user=user_id, course=enrollment.course_id).aggregate(
                t=Sum("time_spent")
            )["t"]
            or 0
        )
        rows.append(
            {
                "enrollment": enrollment.pk,
                "course": enrollment.course_id,
                "title": str(enrollment.course),
                "status": enrollment.status,
                "tasks_total": total,
                "tasks_completed": done,
                "percentage": _percentage(done, total),
                "time_spent": time_spent,
            }
        )
    return rows


def quiz_analytics(quiz_id: Any) -> dict[str, Any]:
    """Mean, median, pass rate and facility: load the attempts, then each attempt's responses."""
    quiz = Quiz.objects.get(pk=quiz_id)
    questions = {q.pk: q.marks for q in Question.objects.filter(quiz=quiz)}
    attempts = list(get_quiz_attempt_model().objects.filter(quiz=quiz, status="completed"))
    points = dict.fromkeys(questions, Decimal(0))
    for attempt in attempts:
        for response in get_quiz_response_model().objects.filter(attempt=attempt):
            points[response.question_id] += response.points_awarded or 0
    percentages = [float(a.percentage) for a in attempts]
    n = len(attempts)
    return {
        "attempts": n,
        "mean_percentage": statistics.fmean(percentages) if n else None,
        "median_percentage": statistics.median(percentages) if n else None,
        "pass_rate": (
            sum(1 for a in attempts if a.percentage >= quiz.pass_mark) / n
            if n and quiz.pass_mark is not None
            else None
        ),
        "questions": [
            {"question": pk, "facility": float(points[pk] / (n * marks)) if n else None}
            for pk, marks in questions.items()
        ],
    }


def course_analytics(course_id: Any) -> dict[str, Any]:
    """Enrollment counts, inactive learners (a query per learner) and a funnel (one per task)."""
    TaskProgress = get_task_progress_model()
    enrollments = list(get_enrollment_model().objects.filter(course=course_id))
    cutoff = timezone.now() - timedelta(days=14)
    inactive = 0
    for e in enrollments:
        if e.status != "active":
            continue
        last = TaskProgress.objects.filter(user=e.user_id, course=course_id).aggregate(
            last=Max("last_activity_at")
        )["last"]
        inactive += (last or e.enrolled_at) < cutoff
    durations = sorted(
        (e.completed_at - e.enrolled_at).total_seconds()
        for e in enrollments
        if e.status == "completed" and e.completed_at
    )
    learners = [e.user_id for e in enrollments if e.status != "dropped"]
    tasks = []
    for task in _required_ids(course_id):
        rows = list(
            TaskProgress.objects.filter(
                task=task, user__in=learners, status__in=["in_progress", "completed"]
            ).values_list("status", "time_spent")
        )
        completed = sum(1 for status, _t in rows if status == "completed")
        tasks.append(
            {
                "task": task,
                "started": len(rows),
                "completed": completed,
                "completion_rate": completed / len(learners) if learners else None,
                "median_time_spent": statistics.median(t for _s, t in rows) if rows else None,
            }
        )
    return {
        "enrolled": len(enrollments),
        "completed": sum(1 for e in enrollments if e.status == "completed"),
        "dropped": sum(1 for e in enrollments if e.status == "dropped"),
        "median_time_to_complete": statistics.median(durations) if durations else None,
        "inactive_learners": inactive,
        "tasks": tasks,
    }


def export_responses(course_id: Any, path: str) -> int:
    """Every response of the course as CSV: iterate the queryset (it caches every row), write."""
    responses = (
        get_quiz_response_model()
        .objects.filter(attempt__course=course_id)
        .select_related("attempt__user")
        .order_by("pk")
    )
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for r in responses:
            writer.writerow(
                [
                    r.pk,
                    r.attempt_id,
                    r.attempt.user_id,
                    r.attempt.user.username,
                    r.attempt.quiz_id,
                    r.question_id,
                    r.response,
                    r.is_correct,
                    r.points_awarded,
                    r.time_spent,
                    r.answered_at,
                    r.graded_at,
                ]
            )
            written += 1
    return written


# -- writes ---------------------------------------------------------------------------


def add_time_spent(user_id: Any, task_id: Any, seconds: int) -> Any:
    """Read, add, save: loses time when two requests interleave."""
    progress = get_task_progress_model().objects.get(user=user_id, task=task_id)
    progress.time_spent += seconds
    progress.save()
    return progress


def submit_attempt(attempt_id: Any) -> Any:
    """Grade each response and save it, one query per question, then the attempt."""
    attempt = get_quiz_attempt_model().objects.get(pk=attempt_id)
    questions = {q.pk: q for q in Question.objects.filter(quiz=attempt.quiz_id)}
    score = Decimal(0)
    for response in get_quiz_response_model().objects.filter(attempt=attempt):
        question = questions[response.question_id]
        response.is_correct = bool(question.grade_response(response.response))
        response.points_awarded = question.marks if response.is_correct else Decimal(0)
        response.save()
        score += response.points_awarded
    attempt.max_score = sum(q.marks for q in questions.values())
    attempt.score = score
    attempt.percentage = (score * 100 / attempt.max_score).quantize(PERCENT, ROUND_HALF_UP)
    attempt.status = "completed"
    attempt.save()
    return attempt


# -- the REST equivalents -------------------------------------------------------------


class NaiveRosterView(APIView):
    """``courses/{id}/progress/`` written by hand: a page of learners, counts per learner."""

    permission_classes = [IsAuthenticated, IsCourseInstructor]

    def get_course(self) -> Any:
        if not hasattr(self, "_course"):
            self._course = get_object_or_404(Course, pk=self.kwargs["course_id"])
        return self._course

    def get(self, request: Request, course_id: Any) -> Response:
        TaskProgress = get_task_progress_model()
        course = self.get_course()
        required = _required_ids(course.pk)
        quizzes = list(Quiz.objects.filter(course=course).values_list("pk", flat=True))
        enrollments = (
            get_enrollment_model()
            .objects.filter(course=course)
            .select_related("user")
            .order_by("pk")
        )
        paginator = ProgressPagination()
        page = paginator.paginate_queryset(enrollments, request, view=self)
        data = []
        for enrollment in page or []:
            done = TaskProgress.objects.filter(
                user=enrollment.user_id, task__in=required, status="completed"
            ).count()
            totals = TaskProgress.objects.filter(user=enrollment.user_id, course=course).aggregate(
                time=Sum("time_spent"), last=Max("last_activity_at")
            )
            best = dict(
                get_quiz_attempt_model()
                .objects.filter(user=enrollment.user_id, quiz__in=quizzes, status="completed")
                .values_list("quiz")
                .annotate(best=Max("percentage"))
                .order_by()
            )
            data.append(
                {
                    "enrollment": enrollment.pk,
                    "user": enrollment.user_id,
                    "username": enrollment.user.username,
                    "status": enrollment.status,
                    "enrolled_at": enrollment.enrolled_at,
                    "completed_at": enrollment.completed_at,
                    "percentage": _percentage(done, len(required)),
                    "tasks_total": len(required),
                    "tasks_completed": done,
                    "time_spent": totals["time"] or 0,
                    "last_activity_at": totals["last"],
                    "quiz_grades": [{"quiz": q, "grade": best.get(q)} for q in quizzes],
                }
            )
        return paginator.get_paginated_response(data)


class NaiveMyProgressView(APIView):
    """``me/progress/`` written by hand: the learner's courses, counts per course."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(my_progress(request.user.pk))


class NaiveTimeSpentView(APIView):
    """``POST task-progress/{id}/time/`` written by hand, keyed by the task (``bench/heartbeat.py``).

    Get or create the learner's row, add the seconds with ``F()`` (so nothing
    is lost to a race), read the new total back and answer the row. No
    enrollment check, no signals, no ``last_activity_at``: less than the app does.
    """

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, task_id: int) -> Response:
        seconds = request.data.get("seconds") if isinstance(request.data, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            return Response({"seconds": ["A whole number of seconds."]}, status=400)

        def course() -> Any:  # only read when the row is created
            try:
                return Lesson.objects.values_list("module__course", flat=True).get(pk=task_id)
            except Lesson.DoesNotExist:
                raise Http404 from None

        TaskProgress = get_task_progress_model()
        progress, _created = TaskProgress.objects.get_or_create(
            user=request.user, task_id=task_id, defaults={"course_id": course}
        )
        TaskProgress.objects.filter(pk=progress.pk).update(time_spent=F("time_spent") + seconds)
        progress.refresh_from_db(fields=["time_spent"])
        return Response(
            {
                "id": progress.pk,
                "user": progress.user_id,
                "task": progress.task_id,
                "course": progress.course_id,
                "status": progress.status,
                "time_spent": progress.time_spent,
                "started_at": progress.started_at,
                "completed_at": progress.completed_at,
                "last_activity_at": progress.last_activity_at,
            }
        )

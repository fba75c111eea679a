"""Analytics for instructors: course outcomes and quiz item analysis.

Every figure is computed in the database with a fixed number of queries,
whatever the number of learners, attempts and questions. Medians are
``percentile_cont(0.5)`` on PostgreSQL; on other databases one extra query
fetches the sorted values and the median is taken in Python (the mean of the
two middle values for an even count, as ``percentile_cont``).

Percentages run from 0 to 100, rates from 0 to 1, times are seconds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db import connections, router
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DurationField,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from django_learning_progress import _expressions as ex
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.conf import app_settings
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)

#: Values of the ``attempts`` argument of :func:`quiz_analytics`.
ATTEMPT_SELECTIONS = ("all", "first", "last", "best")

__all__ = ["ATTEMPT_SELECTIONS", "counted_attempts", "course_analytics", "quiz_analytics"]


class Median(Aggregate):
    """``percentile_cont(0.5)``: PostgreSQL only (see :func:`_uses_sql_median`)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


def _uses_sql_median(model: Any) -> bool:
    return connections[router.db_for_read(model)].vendor == "postgresql"


def median(values: list[Any]) -> Any:
    """The median of sorted ``values`` (mean of the middle two for an even count)."""
    n = len(values)
    if n == 0:
        return None
    middle = n // 2
    if n % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


def _grouped_medians(qs: QuerySet[Any], group: str, value: str) -> dict[Any, Any]:
    """``{group: median of value}`` from one query that fetches the sorted values."""
    columns: dict[Any, list[Any]] = defaultdict(list)
    for key, item in qs.order_by(group, value).values_list(group, value):
        columns[key].append(item)
    return {key: median(items) for key, items in columns.items()}


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# -- course -------------------------------------------------------------------------


def course_analytics(course: Any) -> dict[str, Any]:
    """Outcomes of ``course``: enrollment counts and rates, time to complete,
    inactive learners, and where learners drop off (one row per required task).

    Keys: ``course``, ``enrolled``, ``active``, ``completed``, ``dropped``,
    ``completion_rate``, ``median_time_to_complete``, ``inactive_learners`` and
    ``tasks`` (each ``task``, ``started``, ``completed``, ``completion_rate``,
    ``median_time_spent``). See :doc:`/analytics` for each formula.
    """
    course_id = getattr(course, "pk", course)
    Enrollment = get_enrollment_model()
    TaskProgress = get_task_progress_model()
    sql_median = _uses_sql_median(Enrollment)

    cutoff = timezone.now() - timedelta(days=app_settings.INACTIVE_DAYS)
    enrollments = Enrollment._default_manager.filter(course=course_id)
    activity = Coalesce(
        ex.latest(
            TaskProgress._default_manager.filter(user=OuterRef("user"), course=OuterRef("course")),
            "last_activity_at",
        ),
        F("enrolled_at"),
    )
    completed = Q(status=EnrollmentStatus.COMPLETED)
    duration = F("completed_at") - F("enrolled_at")
    aggregates: dict[str, Any] = {
        "enrolled": Count("pk"),
        "active": Count("pk", filter=Q(status=EnrollmentStatus.ACTIVE)),
        "completed": Count("pk", filter=completed),
        "dropped": Count("pk", filter=Q(status=EnrollmentStatus.DROPPED)),
        "inactive_learners": Count(
            "pk", filter=Q(status=EnrollmentStatus.ACTIVE, activity__lt=cutoff)
        ),
    }
    if sql_median:
        # percentile_cont skips NULLs: only completed enrollments count.
        aggregates["median_time_to_complete"] = Median(
            Case(When(completed, then=duration), output_field=DurationField()),
            output_field=DurationField(),
        )
    totals = enrollments.annotate(activity=activity).aggregate(**aggregates)
    if sql_median:
        median_completion = totals["median_time_to_complete"]
    else:
        durations = sorted(
            (done - start).total_seconds()
            for start, done in enrollments.filter(completed, completed_at__isnull=False)
            .values_list("enrolled_at", "completed_at")
            .iterator()
            if start is not None and done is not None
        )
        median_completion = median(durations)

    # Where learners drop off: one row per required task.
    tasks = list(ex.required_tasks(course_id, 0).values_list("pk", flat=True))
    not_dropped = totals["active"] + totals["completed"]
    learners = enrollments.exclude(status=EnrollmentStatus.DROPPED).values("user")
    started = TaskProgress._default_manager.filter(
        task__in=tasks,
        user__in=learners,
        status__in=[TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED],
    )
    per_task: dict[str, Any] = {
        "started": Count("pk"),
        "completed": Count("pk", filter=Q(status=TaskStatus.COMPLETED)),
    }
    if sql_median:
        per_task["median_time_spent"] = Median("time_spent", output_field=FloatField())
    rows: dict[Any, Any] = {
        row["task"]: row for row in started.values("task").annotate(**per_task).order_by()
    }
    medians = {} if sql_median else _grouped_medians(started, "task", "time_spent")
    task_rows = []
    for task_id in tasks:
        row: dict[str, Any] = rows.get(task_id, {})
        task_median = row.get("median_time_spent") if sql_median else medians.get(task_id)
        task_rows.append(
            {
                "task": task_id,
                "started": row.get("started", 0),
                "completed": row.get("completed", 0),
                "completion_rate": _rate(row.get("completed", 0), not_dropped),
                "median_time_spent": _seconds(task_median),
            }
        )
    return {
        "course": course_id,
        "enrolled": totals["enrolled"],
        "active": totals["active"],
        "completed": totals["completed"],
        "dropped": totals["dropped"],
        "completion_rate": _rate(totals["completed"], totals["enrolled"]),
        "median_time_to_complete": _seconds(median_completion),
        "inactive_learners": totals["inactive_learners"],
        "tasks": task_rows,
    }


# -- quiz --------------------------------------------------------------------------------


def counted_attempts(quiz: Any, attempts: str = "all") -> QuerySet[Any]:
    """The completed attempts of ``quiz`` that :func:`quiz_analytics` counts.

    ``all``; or one per learner: ``first`` (lowest attempt number), ``last``
    (highest), ``best`` (highest percentage, ties to the lowest attempt number).
    """
    if attempts not in ATTEMPT_SELECTIONS:
        raise ValueError(
            f"attempts must be one of {', '.join(ATTEMPT_SELECTIONS)}, got {attempts!r}"
        )
    Attempt = get_quiz_attempt_model()
    completed = Attempt._default_manager.filter(
        quiz=getattr(quiz, "pk", quiz), status=AttemptStatus.COMPLETED
    )
    if attempts == "all":
        return completed
    ordering = {
        "first": ("attempt_number",),
        "last": ("-attempt_number",),
        "best": ("-percentage", "attempt_number"),
    }[attempts]
    chosen = completed.filter(user=OuterRef("user")).order_by(*ordering).values("pk")[:1]
    return completed.filter(pk=Subquery(chosen))


def _histogram_bins() -> list[tuple[int, int]]:
    return [(low, low + 10) for low in range(0, 100, 10)]


def _pearson(n: int, sx: float, sy: float, sxx: float, syy: float, sxy: float) -> float | None:
    vx = n * sxx - sx * sx
    vy = n * syy - sy * sy
    if vx <= 1e-12 or vy <= 1e-12:
        return None
    return (n * sxy - sx * sy) / math.sqrt(vx * vy)


def _sample_variance(n: int, total: float, squares: float) -> float:
    return (squares - total * total / n) / (n - 1)


def quiz_analytics(quiz: Any, attempts: str = "all") -> dict[str, Any]:
    """Score statistics and item analysis of ``quiz`` over completed attempts.

    ``attempts`` picks the attempts counted (see :func:`counted_attempts`);
    another value raises :class:`ValueError`. Keys: ``quiz``, ``attempts``,
    ``mean_percentage``, ``median_percentage``, ``sd_percentage``,
    ``pass_rate``, ``mean_time_taken``, ``histogram``, ``cronbach_alpha``,
    ``reliable`` and ``questions`` (each ``question``, ``facility``,
    ``discrimination``). See :doc:`/analytics` for each formula.
    """
    adapter = get_content_adapter()
    if not hasattr(quiz, "pk"):
        quiz = adapter.quiz_model._default_manager.get(pk=quiz)
    counted = counted_attempts(quiz, attempts)
    sql_median = _uses_sql_median(counted.model)
    pass_mark = adapter.pass_mark(quiz)

    percent = Cast("percentage", FloatField())
    score = Cast("score", FloatField())
    aggregates: dict[str, Any] = {
        "n": Count("pk"),
        "mean_percentage": Avg(percent),
        "percentage_sum": Sum(percent),
        "percentage_squares": Sum(percent * percent),
        "mean_time_taken": Avg(Cast("time_taken", FloatField())),
        "score_sum": Sum(score),
        "score_squares": Sum(score * score),
    }
    if pass_mark is not None:
        aggregates["passed"] = Count("pk", filter=Q(percentage__gte=pass_mark))
    for low, high in _histogram_bins():
        upper = Q(percentage__lte=high) if high == 100 else Q(percentage__lt=high)
        aggregates[f"bin_{low}"] = Count("pk", filter=Q(percentage__gte=low) & upper)
    if sql_median:
        aggregates["median_percentage"] = Median(percent, output_field=FloatField())
    totals = counted.aggregate(**aggregates)
    n = totals["n"]
    if sql_median:
        median_percentage = totals["median_percentage"]
    else:
        values = [
            float(p) for p in counted.order_by("percentage").values_list("percentage", flat=True)
        ]
        median_percentage = median(values)

    # Item analysis from per-question sums over the counted attempts' responses.
    questions = list(adapter.quiz_questions(quiz))
    points = {q.pk: float(adapter.question_points(q)) for q in questions}
    item = Cast("points_awarded", FloatField())
    sums: dict[Any, Any] = {
        row["question"]: row
        for row in get_quiz_response_model()
        ._default_manager.filter(
            # Filtering through the join lets the planner start from the
            # (quiz, status) index of the attempts.
            attempt__quiz=quiz.pk,
            attempt__status=AttemptStatus.COMPLETED,
            **({} if attempts == "all" else {"attempt__in": counted.values("pk")}),
        )
        .values("question")
        .annotate(
            sx=Sum(item),
            sxx=Sum(item * item),
            sxt=Sum(item * Cast("attempt__score", FloatField())),
        )
        .order_by()
    }
    reliable = n >= app_settings.ANALYTICS_MIN_ATTEMPTS
    st = totals["score_sum"] or 0.0
    stt = totals["score_squares"] or 0.0
    question_rows = []
    item_variances = []
    for question in questions:
        row: dict[str, Any] = sums.get(question.pk, {})
        sx = row.get("sx") or 0.0
        sxx = row.get("sxx") or 0.0
        sxt = row.get("sxt") or 0.0
        full = points[question.pk]
        facility = sx / (n * full) if n and full else None
        discrimination = None
        if reliable:
            # y = total - item:  Σy = ΣT - Σx,  Σy² = ΣT² - 2ΣxT + Σx²,  Σxy = ΣxT - Σx²
            discrimination = _pearson(n, sx, st - sx, sxx, stt - 2 * sxt + sxx, sxt - sxx)
        if n >= 2:
            item_variances.append(_sample_variance(n, sx, sxx))
        question_rows.append(
            {"question": question.pk, "facility": facility, "discrimination": discrimination}
        )
    alpha = None
    k = len(questions)
    if reliable and k >= 2 and n >= 2:
        total_variance = _sample_variance(n, st, stt)
        if total_variance > 1e-12:
            alpha = k / (k - 1) * (1 - sum(item_variances) / total_variance)
    return {
        "quiz": quiz.pk,
        "attempts": n,
        "mean_percentage": totals["mean_percentage"],
        "median_percentage": None if median_percentage is None else float(median_percentage),
        "sd_percentage": (
            math.sqrt(
                max(
                    0.0, _sample_variance(n, totals["percentage_sum"], totals["percentage_squares"])
                )
            )
            if n >= 2
            else None
        ),
        "pass_rate": _rate(totals["passed"], n) if pass_mark is not None else None,
        "mean_time_taken": totals["mean_time_taken"],
        "histogram": [
            {"from": low, "to": high, "count": totals[f"bin_{low}"]}
            for low, high in _histogram_bins()
        ],
        "cronbach_alpha": alpha,
        "reliable": reliable,
        "questions": question_rows,
    }

"""The hot queries use the progress tables' indexes (PostgreSQL, with enough rows
that the planner cares): no sequential scan of a progress table."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_learning_progress import analytics, helpers
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.testapp.models import Course, Lesson, Module, Question, Quiz

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans: PostgreSQL"),
    pytest.mark.django_db,
]

COURSES, LEARNERS_PER_COURSE, LESSONS, QUESTIONS = 40, 100, 10, 5
PROGRESS_TABLES = [
    model()._meta.db_table
    for model in (
        get_enrollment_model,
        get_task_progress_model,
        get_quiz_attempt_model,
        get_quiz_response_model,
    )
]


@pytest.fixture
def big() -> dict[str, Any]:
    """40 courses x 100 learners x 10 lessons: 40k task rows, 4k attempts, 20k responses."""
    rng = random.Random(7)
    now = timezone.now()
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"u{n}") for n in range(COURSES * LEARNERS_PER_COURSE)], batch_size=2000
    )
    users = list(User.objects.order_by("pk"))
    courses = Course.objects.bulk_create([Course(title=f"C{n}") for n in range(COURSES)])
    modules = Module.objects.bulk_create([Module(course=c, title="M") for c in courses])
    lessons = Lesson.objects.bulk_create(
        [Lesson(module=m, title=f"L{n}", position=n) for m in modules for n in range(LESSONS)]
    )
    quizzes = Quiz.objects.bulk_create([Quiz(course=c, title="Q", pass_mark=50) for c in courses])
    questions = Question.objects.bulk_create(
        [
            Question(quiz=q, text=f"q{n}", answer="a", position=n)
            for q in quizzes
            for n in range(QUESTIONS)
        ]
    )
    enrollments, progress, attempts = [], [], []
    for index, course in enumerate(courses):
        learners = users[index * LEARNERS_PER_COURSE : (index + 1) * LEARNERS_PER_COURSE]
        course_lessons = lessons[index * LESSONS : (index + 1) * LESSONS]
        for user in learners:
            done = rng.randint(0, LESSONS)
            enrollments.append(
                get_enrollment_model()(
                    user=user,
                    course=course,
                    status=EnrollmentStatus.COMPLETED
                    if done == LESSONS
                    else EnrollmentStatus.ACTIVE,
                    completed_at=now if done == LESSONS else None,
                )
            )
            for n, lesson in enumerate(course_lessons):
                progress.append(
                    get_task_progress_model()(
                        user=user,
                        task=lesson,
                        course=course,
                        status=TaskStatus.COMPLETED if n < done else TaskStatus.IN_PROGRESS,
                        time_spent=rng.randint(0, 900),
                        started_at=now - timedelta(days=2),
                        completed_at=now if n < done else None,
                        last_activity_at=now - timedelta(hours=rng.randint(0, 500)),
                    )
                )
            right = rng.randint(0, QUESTIONS)
            attempts.append(
                get_quiz_attempt_model()(
                    user=user,
                    quiz=quizzes[index],
                    course=course,
                    attempt_number=1,
                    status=AttemptStatus.COMPLETED,
                    score=Decimal(right),
                    max_score=Decimal(QUESTIONS),
                    percentage=Decimal(100 * right / QUESTIONS).quantize(Decimal("0.01")),
                    passed=right * 2 >= QUESTIONS,
                    completed_at=now,
                    time_taken=rng.randint(60, 600),
                )
            )
    get_enrollment_model().objects.bulk_create(enrollments, batch_size=5000)
    get_task_progress_model().objects.bulk_create(progress, batch_size=5000)
    saved = get_quiz_attempt_model().objects.bulk_create(attempts, batch_size=5000)
    by_quiz: dict[Any, list[Question]] = {}
    for question in questions:
        by_quiz.setdefault(question.quiz_id, []).append(question)
    responses = []
    for attempt in saved:
        for n, question in enumerate(by_quiz[attempt.quiz_id]):
            correct = n < attempt.score
            responses.append(
                get_quiz_response_model()(
                    attempt=attempt,
                    question=question,
                    response="a" if correct else "b",
                    is_correct=correct,
                    points_awarded=Decimal(1 if correct else 0),
                    graded_at=now,
                )
            )
    get_quiz_response_model().objects.bulk_create(responses, batch_size=5000)
    with connection.cursor() as cursor:
        for table in PROGRESS_TABLES:
            cursor.execute(f'ANALYZE "{table}"')
    return {
        "course": courses[17],
        "learner": users[17 * LEARNERS_PER_COURSE + 3],
        "quiz": quizzes[17],
    }


def plans(action: Callable[[], Any]) -> list[tuple[str, str]]:
    with CaptureQueriesContext(connection) as captured:
        action()
    result = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor.execute("EXPLAIN " + sql)
            result.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return result


def sequential_scans(plan: str) -> list[str]:
    scanned = re.findall(r"Seq Scan on (\w+)", plan)
    return [table for table in scanned if table in PROGRESS_TABLES]


def test_hot_queries_use_indexes(big: dict[str, Any]) -> None:
    learner, course, quiz = big["learner"], big["course"], big["quiz"]
    page = list(get_enrollment_model().objects.filter(course=course).order_by("pk")[:50])
    operations: dict[str, Callable[[], Any]] = {
        "one learner's course progress": lambda: helpers.get_course_progress(learner, course),
        "progress percentage": lambda: helpers.calculate_progress_percentage(learner, course),
        "enrolled courses": lambda: list(helpers.get_enrolled_courses(learner)),
        "course roster": lambda: list(helpers.course_roster(course)),
        "a roster page's figures": lambda: helpers.load_roster_figures(course, page),
        "a roster page's quiz grades": lambda: helpers.course_quiz_grades(
            course, [enrollment.user_id for enrollment in page]
        ),
        "latest attempt": lambda: helpers.get_latest_quiz_attempt(learner, quiz),
        "quiz grade": lambda: helpers.get_quiz_grade(learner, quiz),
    }
    for name, operation in operations.items():
        explained = plans(operation)
        assert explained, f"{name}: no query ran"
        for sql, plan in explained:
            assert sequential_scans(plan) == [], f"{name}\n{sql}\n\n{plan}"


def test_analytics_plans_are_printed(big: dict[str, Any], capsys: Any) -> None:
    """Not asserted: an aggregate over a whole quiz or course may rightly scan a
    small table; bench/ measures these at scale. The plans are printed for review."""
    for name, operation in {
        "quiz analytics": lambda: analytics.quiz_analytics(big["quiz"]),
        "course analytics": lambda: analytics.course_analytics(big["course"]),
    }.items():
        for _sql, plan in plans(operation):
            print(f"-- {name}\n{plan}\n")
    assert "Aggregate" in capsys.readouterr().out

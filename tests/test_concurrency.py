"""Races, with real threads and real transactions on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from django_learning_progress import services, signals
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_override_model,
    get_task_progress_model,
)
from tests.conftest import build_course

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks under real concurrency: PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 20


def race(action: Callable[[int], Any], threads: int = THREADS) -> tuple[list[Any], list[Exception]]:
    """Run ``action(i)`` in ``threads`` threads released at the same moment."""
    barrier = threading.Barrier(threads)
    results: list[Any] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            result = action(i)
            with lock:
                results.append(result)
        except Exception as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return results, errors


class Counter:
    def __init__(self, signal: Any) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.signal = signal

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        with self.lock:
            self.count += 1

    def __enter__(self) -> Counter:
        self.signal.connect(self, weak=False)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.signal.disconnect(self)


def test_concurrent_enrolments_leave_one_row(make_user: Any) -> None:
    tree = build_course()
    learner = make_user()
    with Counter(signals.enrollment_created) as created:
        results, errors = race(lambda i: services.enroll(learner, tree.course).pk)
    assert errors == []
    assert len(set(results)) == 1
    assert get_enrollment_model().objects.filter(user=learner).count() == 1
    assert created.count == 1


def test_concurrent_time_increments_lose_nothing(make_user: Any) -> None:
    tree = build_course()
    learner = make_user()
    services.enroll(learner, tree.course)
    lesson = tree.lessons[0]
    with Counter(signals.task_started) as started:
        _results, errors = race(lambda i: services.add_time_spent(learner, lesson, 10))
    assert errors == []
    progress = get_task_progress_model().objects.get(user=learner, task=lesson)
    assert progress.time_spent == 200
    assert started.count == 1


def test_concurrent_starts_share_one_open_attempt(make_user: Any) -> None:
    tree = build_course(max_attempts=3)
    learner = make_user()
    services.enroll(learner, tree.course)
    with Counter(signals.quiz_attempt_started) as started:
        results, errors = race(lambda i: services.start_attempt(learner, tree.quizzes[0]).pk)
    assert errors == []
    assert len(set(results)) == 1
    assert get_quiz_attempt_model().objects.count() == 1
    assert started.count == 1


def test_concurrent_attempts_are_numbered_without_gaps_and_capped(make_user: Any) -> None:
    tree = build_course(max_attempts=12)
    learner = make_user()
    services.enroll(learner, tree.course)
    quiz = tree.quizzes[0]

    def start_and_abandon(i: int) -> int:
        attempt = services.start_attempt(learner, quiz)
        services.abandon_attempt(learner, attempt)
        return attempt.attempt_number

    # Each thread keeps trying until the quiz has no attempts left.
    def until_refused(i: int) -> int:
        made = 0
        while True:
            try:
                start_and_abandon(i)
            except ValidationError as exc:
                assert exc.code == "max_attempts"
                return made
            made += 1

    _results, errors = race(until_refused)
    assert errors == []
    numbers = sorted(get_quiz_attempt_model().objects.values_list("attempt_number", flat=True))
    assert numbers == list(range(1, 13))


def test_submit_racing_submit_grades_once(make_user: Any) -> None:
    tree = build_course(pass_mark=Decimal("50"))
    learner = make_user()
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    for question in tree.questions:
        services.answer_question(learner, attempt, question, question.answer)
    with (
        Counter(signals.quiz_attempt_submitted) as submitted,
        Counter(signals.quiz_attempt_graded) as graded,
    ):
        results, errors = race(lambda i: services.submit_attempt(learner, attempt).score)
    assert errors == []
    assert set(results) == {Decimal("6.000")}
    assert (submitted.count, graded.count) == (1, 1)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.COMPLETED and attempt.percentage == 100


def test_last_tasks_completed_at_once_complete_the_course_once(make_user: Any) -> None:
    tree = build_course(modules=4, lessons_per_module=5)
    learner = make_user()
    services.enroll(learner, tree.course)
    with Counter(signals.course_completed) as completed:
        _results, errors = race(
            lambda i: services.complete_task(learner, tree.lessons[i]), threads=len(tree.lessons)
        )
    assert errors == []
    assert completed.count == 1
    enrollment = get_enrollment_model().objects.get(user=learner)
    assert enrollment.status == EnrollmentStatus.COMPLETED


@pytest.mark.parametrize("endpoint", ["enrollment-list", "task-progress-list", "quiz-attempt-list"])
def test_concurrent_identical_creates_answer_one_201(make_user: Any, endpoint: str) -> None:
    pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")
    from django.urls import reverse
    from rest_framework.test import APIClient

    tree = build_course()
    learner = make_user()
    body = {
        "enrollment-list": {"course": tree.course.pk},
        "task-progress-list": {"task": tree.lessons[0].pk},
        "quiz-attempt-list": {"quiz": tree.quizzes[0].pk},
    }[endpoint]
    if endpoint != "enrollment-list":
        services.enroll(learner, tree.course)

    def post(i: int) -> int:
        client = APIClient()
        client.force_authenticate(learner)
        return client.post(
            reverse(f"learning_progress:{endpoint}"), body, format="json"
        ).status_code

    codes, errors = race(post)
    assert errors == []
    assert sorted(codes) == [200] * (THREADS - 1) + [201]
    assert get_enrollment_model().objects.filter(user=learner).count() == 1
    assert get_task_progress_model().objects.filter(user=learner).count() == (
        endpoint == "task-progress-list"
    )
    assert get_quiz_attempt_model().objects.filter(user=learner).count() == (
        endpoint == "quiz-attempt-list"
    )


@pytest.mark.parametrize("enrolled", [True, False])
def test_concurrent_overrides_leave_one_row_created_once(make_user: Any, enrolled: bool) -> None:
    tree = build_course(max_attempts=1)
    learner, teacher = make_user(), make_user(username="teacher")
    tree.course.instructors.add(teacher)
    if enrolled:  # else no enrollment row to serialise on: the unique constraint does
        services.enroll(learner, tree.course)
    quiz = tree.quizzes[0]
    with Counter(signals.quiz_override_changed) as changed:
        results, errors = race(
            lambda i: services.update_or_create_quiz_override(
                quiz, learner, by=teacher, extra_attempts=i + 1
            )
        )
    assert errors == []
    assert sorted(created for _override, created in results) == [False] * (THREADS - 1) + [True]
    assert get_quiz_override_model().objects.filter(user=learner, quiz=quiz).count() == 1
    assert changed.count == THREADS  # every call changed the value


@pytest.mark.parametrize("round_", range(5))
def test_an_override_racing_a_start_always_reaches_the_attempt(make_user: Any, round_: int) -> None:
    tree = build_course(max_attempts=1, time_limit=60)
    learner, teacher = make_user(), make_user(username="teacher")
    tree.course.instructors.add(teacher)
    services.enroll(learner, tree.course)
    quiz = tree.quizzes[0]

    def act(i: int) -> Any:
        if i == 0:
            return services.start_attempt(learner, quiz)
        return services.set_quiz_override(
            quiz, learner, by=teacher, extra_time=timedelta(minutes=30)
        )

    _results, errors = race(act, threads=2)
    assert errors == []
    # Whichever came first, the attempt has the extra 30 minutes.
    attempt = get_quiz_attempt_model().objects.get(user=learner)
    assert attempt.deadline_at == attempt.started_at + timedelta(minutes=90)

"""Availability windows and what a learner sees of a quiz (``quiz_status``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from django_learning_progress import helpers, services
from django_learning_progress.models import get_quiz_attempt_model
from tests.conftest import CourseTree, build_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree() -> CourseTree:
    return build_course(modules=1, max_attempts=2, time_limit=60, pass_mark=Decimal(50))


@pytest.fixture
def learner(make_user: Any, tree: CourseTree) -> Any:
    user = make_user()
    services.enroll(user, tree.course)
    return user


def set_window(tree: CourseTree, opens: Any = None, closes: Any = None) -> Any:
    quiz = tree.quizzes[0]
    quiz.opens_at, quiz.closes_at = opens, closes
    quiz.save()
    return quiz


def start_refused(learner: Any, quiz: Any) -> str:
    with pytest.raises(ValidationError) as excinfo:
        services.start_attempt(learner, quiz)
    return str(excinfo.value.code)


def test_a_quiz_refuses_starts_before_it_opens_and_from_its_close(
    learner: Any, tree: CourseTree
) -> None:
    now = timezone.now()
    quiz = set_window(tree, opens=now + timedelta(hours=1))
    assert start_refused(learner, quiz) == "quiz_not_open"
    quiz = set_window(tree, closes=now - timedelta(seconds=1))
    assert start_refused(learner, quiz) == "quiz_closed"
    assert not get_quiz_attempt_model().objects.filter(user=learner).exists()
    quiz = set_window(tree, opens=now - timedelta(hours=1), closes=now + timedelta(hours=1))
    assert services.start_attempt(learner, quiz).attempt_number == 1


def test_the_deadline_is_capped_at_the_close_time(learner: Any, tree: CourseTree) -> None:
    closes = timezone.now() + timedelta(minutes=10)
    quiz = set_window(tree, closes=closes)  # the time limit is 60 minutes
    attempt = services.start_attempt(learner, quiz)
    assert attempt.deadline_at == closes
    quiz = set_window(tree, closes=timezone.now() + timedelta(days=1))
    services.abandon_attempt(learner, attempt)
    second = services.start_attempt(learner, quiz)
    assert second.deadline_at == second.started_at + timedelta(minutes=60)


def test_quiz_status_in_each_case(learner: Any, tree: CourseTree, make_user: Any) -> None:
    quiz = tree.quizzes[0]
    status = helpers.quiz_status(learner, quiz)
    assert (status.can_start, status.reason, status.attempts_used) == (True, None, 0)
    assert (status.attempts_allowed, status.time_limit) == (2, timedelta(minutes=60))
    stranger = helpers.quiz_status(make_user(), quiz)
    assert (stranger.can_start, stranger.reason) == (False, "not_enrolled")

    attempt = services.start_attempt(learner, quiz)
    status = helpers.quiz_status(learner, quiz.pk)
    assert (status.reason, status.open_attempt_id, status.deadline_at) == (
        "attempt_open",
        attempt.pk,
        attempt.deadline_at,
    )
    for question in tree.questions:
        services.answer_question(learner, attempt, question, question.answer)
    services.submit_attempt(learner, attempt)
    status = helpers.quiz_status(learner, quiz)
    assert status.can_start and (status.grade, status.passed) == (Decimal(100), True)

    now = timezone.now()
    set_window(tree, opens=now + timedelta(hours=1))
    assert helpers.quiz_status(learner, quiz.pk).reason == "quiz_not_open"
    set_window(tree, closes=now - timedelta(hours=1))
    assert helpers.quiz_status(learner, quiz.pk).reason == "quiz_closed"
    set_window(tree)
    services.abandon_attempt(learner, services.start_attempt(learner, quiz))
    status = helpers.quiz_status(learner, quiz.pk)
    assert (status.reason, status.attempts_used) == ("max_attempts", 2)


def test_an_overdue_open_attempt_is_not_offered_to_resume(learner: Any, tree: CourseTree) -> None:
    quiz = tree.quizzes[0]
    attempt = services.start_attempt(learner, quiz)
    get_quiz_attempt_model().objects.filter(pk=attempt.pk).update(
        deadline_at=timezone.now() - timedelta(minutes=1)
    )
    status = helpers.quiz_status(learner, quiz)
    assert (status.open_attempt_id, status.can_start, status.attempts_used) == (None, True, 1)


def test_quiz_status_query_count(
    learner: Any, tree: CourseTree, django_assert_max_num_queries: Any
) -> None:
    quiz = tree.quizzes[0]
    services.abandon_attempt(learner, services.start_attempt(learner, quiz))
    services.start_attempt(learner, quiz)
    with django_assert_max_num_queries(3):  # the enrollment, the override, the attempts
        helpers.quiz_status(learner, quiz)


def test_the_status_endpoint(learner: Any, tree: CourseTree) -> None:
    pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")
    from rest_framework.test import APIClient

    client = APIClient()
    quiz = tree.quizzes[0]
    url = reverse("learning_progress:quiz-status", args=[quiz.pk])
    assert client.get(url).status_code in (401, 403)
    client.force_authenticate(learner)
    data = client.get(url).json()
    assert data["can_start"] is True and data["reason"] is None
    assert (data["attempts_allowed"], data["time_limit"]) == (2, 3600)
    attempt = services.start_attempt(learner, quiz)
    data = client.get(url).json()
    assert (data["reason"], data["open_attempt"]) == ("attempt_open", attempt.pk)
    assert client.get(reverse("learning_progress:quiz-status", args=[99999])).status_code == 404
    assert client.get("/api/progress/quizzes/1.5/status/").status_code == 404

"""A regrade reopens a quiz's task only when it turns the rule from met to unmet."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings

from django_learning_progress import services
from django_learning_progress.choices import TaskStatus
from django_learning_progress.models import get_quiz_response_model, get_task_progress_model
from tests.conftest import build_course

pytestmark = pytest.mark.django_db


def attempt_with(user, tree, right):
    attempt = services.start_attempt(user, tree.quizzes[0])
    for q in tree.questions:
        services.answer_question(user, attempt, q, q.answer if right else "no")
    return services.submit_attempt(user, attempt)


@override_settings(
    LEARNING_PROGRESS={
        "CONTENT_ADAPTER": "tests.testapp.adapter.QuizTaskAdapter",
        "INSTRUCTOR_CHECK": "tests.testapp.access.teaches",
        "QUIZ_GRADE_METHOD": "latest",
    }
)
def test_a_regrade_that_raises_nothing_below_the_mark_keeps_the_task(make_user: Any) -> None:
    tree = build_course(modules=1, pass_mark=Decimal(50))
    quiz = tree.quizzes[0]
    quiz.lesson = tree.lessons[1]
    quiz.save()
    learner, teacher = make_user(), make_user()
    services.enroll(learner, tree.course)
    first = attempt_with(learner, tree, right=True)  # passes: the lesson completes
    attempt_with(learner, tree, right=False)  # a later failed attempt: lesson stays completed
    row = get_task_progress_model().objects.get(user=learner, task=tree.lessons[1])
    assert row.status == TaskStatus.COMPLETED
    # The teacher lowers one answer of the FIRST (passing) attempt a little: it still passes.
    response = get_quiz_response_model().objects.get(attempt=first, question=tree.questions[2])
    services.grade_response(teacher, response, points=Decimal("2.5"))
    first.refresh_from_db()
    assert first.passed
    row.refresh_from_db()
    # The regrade changed no outcome, yet the task is reset to not_started:
    assert row.status == TaskStatus.COMPLETED, row.status

"""Quizzes that complete tasks, per-course quiz requirements, and answer checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from django_learning_progress import helpers, services, signals
from django_learning_progress.choices import EnrollmentStatus, TaskStatus
from django_learning_progress.models import get_quiz_response_model, get_task_progress_model
from tests.conftest import CourseTree, build_course
from tests.testapp.models import Option, Question

pytestmark = pytest.mark.django_db


def use_adapter(name: str) -> Any:
    return override_settings(
        LEARNING_PROGRESS={
            "CONTENT_ADAPTER": f"tests.testapp.adapter.{name}",
            "INSTRUCTOR_CHECK": "tests.testapp.access.teaches",
        }
    )


def answer_all(user: Any, tree: CourseTree, *, right: bool) -> Any:
    attempt = services.start_attempt(user, tree.quizzes[0])
    for question in tree.questions:
        services.answer_question(user, attempt, question, question.answer if right else "no")
    return services.submit_attempt(user, attempt)


def task_status(user: Any, lesson: Any) -> str | None:
    row = get_task_progress_model().objects.filter(user=user, task=lesson).first()
    return None if row is None else row.status


def enrollment_status(user: Any, tree: CourseTree) -> str:
    return helpers.get_course_progress(user, tree.course).status or ""


@pytest.fixture
def quiz_task(make_user: Any) -> dict[str, Any]:
    """Two lessons; the quiz completes the second one."""
    tree = build_course(modules=1, pass_mark=Decimal(50))
    quiz = tree.quizzes[0]
    quiz.lesson = tree.lessons[1]
    quiz.save()
    learner = make_user()
    services.enroll(learner, tree.course)
    return {"tree": tree, "learner": learner, "lesson": tree.lessons[1]}


@use_adapter("QuizTaskAdapter")
def test_a_passed_attempt_completes_the_task_and_the_course(
    quiz_task: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    tree, learner, lesson = quiz_task["tree"], quiz_task["learner"], quiz_task["lesson"]
    services.complete_task(learner, tree.lessons[0])
    with pytest.raises(ValidationError) as excinfo:
        services.complete_task(learner, lesson)
    assert excinfo.value.code == "completed_by_quiz"
    assert task_status(learner, lesson) != TaskStatus.COMPLETED
    answer_all(learner, tree, right=False)
    assert task_status(learner, lesson) != TaskStatus.COMPLETED
    assert enrollment_status(learner, tree) == EnrollmentStatus.ACTIVE
    completed: list[Any] = []

    def receiver(sender: Any, progress: Any, **kwargs: Any) -> None:
        completed.append(progress.task_id)

    signals.task_completed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            answer_all(learner, tree, right=True)
    finally:
        signals.task_completed.disconnect(receiver)
    assert task_status(learner, lesson) == TaskStatus.COMPLETED
    assert enrollment_status(learner, tree) == EnrollmentStatus.COMPLETED
    assert completed == [lesson.pk]


@use_adapter("QuizTaskAdapter")
def test_the_api_refuses_completing_a_quiz_task(quiz_task: dict[str, Any]) -> None:
    pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")
    from django.urls import reverse
    from rest_framework.test import APIClient

    learner, lesson = quiz_task["learner"], quiz_task["lesson"]
    progress = services.start_task(learner, lesson)
    client = APIClient()
    client.force_authenticate(learner)
    response = client.post(reverse("learning_progress:task-progress-complete", args=[progress.pk]))
    assert response.status_code == 400
    assert "task" in response.json()
    assert task_status(learner, lesson) == TaskStatus.IN_PROGRESS


@use_adapter("QuizTaskAdapter")
def test_passed_or_exhausted_completes_after_the_last_failed_attempt(
    quiz_task: dict[str, Any],
) -> None:
    tree, learner, lesson = quiz_task["tree"], quiz_task["learner"], quiz_task["lesson"]
    quiz = tree.quizzes[0]
    quiz.max_attempts, quiz.completion_rule = 2, "passed_or_exhausted"
    quiz.save()
    answer_all(learner, tree, right=False)
    assert task_status(learner, lesson) is None
    attempt = services.start_attempt(learner, quiz)
    services.abandon_attempt(learner, attempt)  # the last allowed attempt, abandoned
    assert task_status(learner, lesson) == TaskStatus.COMPLETED


@use_adapter("QuizTaskAdapter")
def test_submitted_rule_completes_before_manual_grading(quiz_task: dict[str, Any]) -> None:
    tree, learner, lesson = quiz_task["tree"], quiz_task["learner"], quiz_task["lesson"]
    quiz = tree.quizzes[0]
    quiz.completion_rule = "submitted"
    quiz.save()
    Question.objects.filter(quiz=quiz).update(kind=Question.KIND_ESSAY)
    attempt = answer_all(learner, tree, right=False)
    assert attempt.status == "submitted"
    assert task_status(learner, lesson) == TaskStatus.COMPLETED


@use_adapter("QuizTaskAdapter")
def test_a_regrade_that_fails_the_quiz_reopens_the_task_and_course(
    quiz_task: dict[str, Any], make_user: Any
) -> None:
    tree, learner, lesson = quiz_task["tree"], quiz_task["learner"], quiz_task["lesson"]
    services.complete_task(learner, tree.lessons[0])
    answer_all(learner, tree, right=True)
    assert enrollment_status(learner, tree) == EnrollmentStatus.COMPLETED
    grader = make_user(is_staff=True)
    for response in get_quiz_response_model().objects.filter(attempt__user=learner):
        services.grade_response(grader, response, points=0)
    assert task_status(learner, lesson) == TaskStatus.NOT_STARTED
    assert enrollment_status(learner, tree) == EnrollmentStatus.ACTIVE


@use_adapter("RequiredQuizAdapter")
def test_required_quizzes_hold_back_course_completion(make_user: Any) -> None:
    tree = build_course(modules=1, pass_mark=Decimal(50))
    learner = make_user()
    services.enroll(learner, tree.course)
    for lesson in tree.lessons:
        services.complete_task(learner, lesson)
    progress = helpers.get_course_progress(learner, tree.course)
    assert (progress.percentage, progress.status) == (100.0, EnrollmentStatus.ACTIVE)
    assert (progress.quizzes_required, progress.quizzes_met) == (1, 0)
    answer_all(learner, tree, right=True)
    progress = helpers.get_course_progress(learner, tree.course)
    assert (progress.quizzes_required, progress.quizzes_met) == (1, 1)
    assert progress.status == EnrollmentStatus.COMPLETED


def test_without_requirements_the_figures_are_zero(make_user: Any) -> None:
    tree = build_course(modules=1)
    learner = make_user()
    progress = helpers.get_course_progress(learner, tree.course)
    assert (progress.quizzes_total, progress.quizzes_required, progress.quizzes_met) == (1, 0, 0)


# -- answer checks ---------------------------------------------------------------------


def option_quiz(questions: int) -> CourseTree:
    tree = build_course("Options", modules=1, questions=questions)
    Option.objects.bulk_create(
        Option(question=q, text=f"{q.pk}-{n}", is_correct=n == 0)
        for q in tree.questions
        for n in range(3)
    )
    return tree


def right_option(question: Any) -> int:
    return Option.objects.get(question=question, is_correct=True).pk


@use_adapter("OptionAdapter")
def test_validate_response_refuses_and_stores_nothing(make_user: Any) -> None:
    tree = option_quiz(2)
    learner = make_user()
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    first = right_option(tree.questions[0])
    with pytest.raises(ValidationError) as excinfo:  # the second answers with the first's option
        services.answer_questions(
            learner, attempt, [(tree.questions[0], first, 0), (tree.questions[1], first, 0)]
        )
    assert excinfo.value.code == "invalid_option"
    assert "response" in excinfo.value.message_dict
    assert not get_quiz_response_model().objects.filter(attempt=attempt).exists()


@use_adapter("OptionAdapter")
def test_validate_response_through_the_api(make_user: Any) -> None:
    pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")
    from django.urls import reverse
    from rest_framework.test import APIClient

    tree = option_quiz(1)
    learner = make_user()
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    client = APIClient()
    client.force_authenticate(learner)
    path = reverse("learning_progress:quiz-attempt-responses", args=[attempt.pk])
    question = tree.questions[0]
    response = client.post(path, {"question": question.pk, "response": 0}, format="json")
    assert response.status_code == 400
    assert response.json() == {"response": ["Choose one of this question's options."]}
    assert not get_quiz_response_model().objects.filter(attempt=attempt).exists()
    good = {"question": question.pk, "response": right_option(question)}
    assert client.post(path, good, format="json").status_code == 201


def _answer_and_submit_queries(
    make_user: Any, questions: int, django_assert_max_num_queries: Any
) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tree = option_quiz(questions)
    learner = make_user()
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    answers = [(q, right_option(q), 1) for q in tree.questions]
    with CaptureQueriesContext(connection) as answering:
        services.answer_questions(learner, attempt, answers)
    with CaptureQueriesContext(connection) as submitting:
        attempt = services.submit_attempt(learner, attempt)
    assert attempt.percentage == Decimal(100)
    return len(answering), len(submitting)


@use_adapter("OptionAdapter")
def test_answer_and_submit_queries_are_flat_in_the_number_of_questions(
    make_user: Any, django_assert_max_num_queries: Any
) -> None:
    small = _answer_and_submit_queries(make_user, 5, django_assert_max_num_queries)
    large = _answer_and_submit_queries(make_user, 50, django_assert_max_num_queries)
    assert large == small

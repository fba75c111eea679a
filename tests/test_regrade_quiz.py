"""Regrading a quiz after its answer key or points changed (``services.regrade_quiz``)."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_learning_progress import services, signals
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.conftest import CourseTree, build_course, progress_tables
from tests.testapp.models import Question

pytestmark = pytest.mark.django_db

# What each learner answers to Q0, Q1, Q2 (Q2 is an essay in the trees below).
ANSWERS = [
    ["a0", "a1", "essay"],
    ["a0", "b1", "essay"],
    ["b0", "b1", "essay"],
    ["b0", "a1", "essay"],
]


def make_tree(title: str, q1_answer: str) -> CourseTree:
    tree = build_course(title, modules=1, pass_mark=Decimal(50))
    tree.questions[1].answer = q1_answer
    tree.questions[1].save()
    tree.questions[2].kind = Question.KIND_ESSAY
    tree.questions[2].save()
    return tree


def take(tree: CourseTree, learners: list[Any], teacher: Any) -> list[Any]:
    """Each learner answers ``ANSWERS``; the teacher grades the essays of the first two."""
    attempts = []
    for n, learner in enumerate(learners):
        services.enroll(learner, tree.course)
        attempt = services.start_attempt(learner, tree.quizzes[0])
        services.answer_questions(
            learner, attempt, [(q, a, 0) for q, a in zip(tree.questions, ANSWERS[n], strict=True)]
        )
        services.submit_attempt(learner, attempt)
        if n < 2:
            essay = get_quiz_response_model().objects.get(
                attempt=attempt, question=tree.questions[2]
            )
            services.grade_response(teacher, essay, points=Decimal(n + 1))
        attempts.append(attempt)
    return attempts


def figures(attempt: Any) -> tuple[Any, ...]:
    attempt.refresh_from_db()
    responses = sorted(
        (r.question.position, r.is_correct, r.points_awarded, r.graded_by_id)
        for r in get_quiz_response_model().objects.filter(attempt=attempt)
    )
    return (
        attempt.status,
        attempt.score,
        attempt.max_score,
        attempt.percentage,
        attempt.passed,
        responses,
    )


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    return {
        "learners": [make_user() for _ in ANSWERS],
        "teacher": make_user(username="teacher"),
    }


def test_a_regrade_gives_the_scores_of_grading_from_scratch(
    people: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    learners, teacher = people["learners"], people["teacher"]
    regraded_tree = make_tree("Regraded", q1_answer="a1")
    regraded_tree.course.instructors.add(teacher)
    regraded = take(regraded_tree, learners, teacher)
    before = [figures(a) for a in regraded]
    completed_at = {a.pk: a.completed_at for a in regraded}

    # The key of Q1 was wrong: "b1" is right; and Q0 is worth 3 marks now.
    regraded_tree.questions[1].answer = "b1"
    regraded_tree.questions[1].save()
    regraded_tree.questions[0].marks = Decimal(3)
    regraded_tree.questions[0].save()
    # The same answers, graded from scratch with the corrected quiz.
    fresh_tree = make_tree("Fresh", q1_answer="b1")
    fresh_tree.questions[0].marks = Decimal(3)
    fresh_tree.questions[0].save()
    fresh_tree.course.instructors.add(teacher)
    fresh = take(fresh_tree, learners, teacher)

    calls: list[dict[str, Any]] = []

    def record(sender: Any, **kwargs: Any) -> None:
        calls.append(kwargs)

    signals.quiz_attempt_regraded.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            summary = services.regrade_quiz(regraded_tree.quizzes[0], by=teacher)
    finally:
        signals.quiz_attempt_regraded.disconnect(record)

    assert [figures(a)[:5] for a in regraded] == [figures(a)[:5] for a in fresh]
    # Responses: the same grades, and the essays keep the teacher's grade.
    assert [figures(a)[5] for a in regraded] == [figures(a)[5] for a in fresh]
    assert [figures(a)[5][2] for a in regraded] == [before_[5][2] for before_ in before]
    assert summary.attempts_checked == 4
    # Every attempt changed (Q0's marks); the third and fourth wait for their essay.
    assert summary.attempts_changed == 4
    # Q0 of the two who got it right (1 mark -> 3), Q1 of everyone.
    assert summary.responses_changed == 2 + 4
    assert [c.attempt_id for c in summary.changed] == [a.pk for a in regraded]
    assert [c.score_before for c in summary.changed] == [b[1] for b in before]
    assert [c.score_after for c in summary.changed] == [figures(a)[1] for a in fresh]
    # One signal per changed attempt, after commit, with the attempt's new fields.
    assert sorted(c["attempt"].pk for c in calls) == sorted(a.pk for a in regraded)
    for attempt, old in zip(regraded, before, strict=True):
        attempt.refresh_from_db()
        assert attempt.regraded_at is not None
        assert attempt.score_before_regrade == old[1]  # every attempt's own old score
    # A completed attempt keeps its completion time; one now waiting for an essay has none.
    assert [a.completed_at is not None for a in regraded] == [
        f[0] == AttemptStatus.COMPLETED for f in (figures(a) for a in regraded)
    ]
    for attempt in regraded:
        if completed_at[attempt.pk] is not None and attempt.status == AttemptStatus.COMPLETED:
            assert attempt.completed_at == completed_at[attempt.pk]
    # Regrading again changes nothing.
    again = services.regrade_quiz(regraded_tree.quizzes[0], by=teacher)
    assert (again.attempts_checked, again.attempts_changed, again.changed) == (4, 0, [])


def test_a_dry_run_changes_nothing_and_says_what_would_change(
    people: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    learners, teacher = people["learners"], people["teacher"]
    tree = make_tree("Dry", q1_answer="a1")
    tree.course.instructors.add(teacher)
    take(tree, learners, teacher)
    tree.questions[1].answer = "b1"
    tree.questions[1].save()
    tables = progress_tables()
    calls: list[Any] = []
    signals.quiz_attempt_regraded.connect(calls.append)  # type: ignore[arg-type]
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            dry = services.regrade_quiz(tree.quizzes[0], by=teacher, dry_run=True)
    finally:
        signals.quiz_attempt_regraded.disconnect(calls.append)  # type: ignore[arg-type]
    assert progress_tables() == tables
    assert callbacks == [] and calls == []
    assert dry.dry_run and (dry.attempts_checked, dry.attempts_changed) == (4, 4)
    real = services.regrade_quiz(tree.quizzes[0], by=teacher)
    assert real.changed == dry.changed
    assert (real.attempts_changed, real.responses_changed) == (4, 4)


def test_a_response_graded_by_hand_keeps_its_grade(people: dict[str, Any]) -> None:
    learner, teacher = people["learners"][0], people["teacher"]
    tree = make_tree("Manual", q1_answer="a1")
    tree.course.instructors.add(teacher)
    (attempt,) = take(tree, [learner], teacher)
    q0 = get_quiz_response_model().objects.get(attempt=attempt, question=tree.questions[0])
    services.grade_response(teacher, q0, points=Decimal("0.5"))  # a hand grade of an auto answer
    tree.questions[0].answer = "zzz"  # the key changes: the hand grade stays
    tree.questions[0].save()
    summary = services.regrade_quiz(tree.quizzes[0], by=teacher)
    q0.refresh_from_db()
    assert (q0.points_awarded, q0.graded_by_id) == (Decimal("0.5"), teacher.pk)
    assert summary.attempts_changed == 0


def test_a_pending_essay_now_graded_automatically_completes_the_attempt(
    people: dict[str, Any],
) -> None:
    learners, teacher = people["learners"], people["teacher"]
    tree = make_tree("Essay", q1_answer="a1")
    tree.course.instructors.add(teacher)
    attempts = take(tree, learners, teacher)
    attempts[2].refresh_from_db()
    assert attempts[2].status == AttemptStatus.SUBMITTED
    essay = tree.questions[2]
    essay.kind, essay.answer = Question.KIND_CHOICE, "essay"
    essay.save()
    services.regrade_quiz(tree.quizzes[0], by=teacher)
    attempts[2].refresh_from_db()
    assert attempts[2].status == AttemptStatus.COMPLETED
    assert attempts[2].score == Decimal(3)  # Q0 and Q1 wrong; the essay (3 marks) right
    assert attempts[2].completed_at is not None


@override_settings(
    LEARNING_PROGRESS={
        "CONTENT_ADAPTER": "tests.testapp.adapter.QuizTaskAdapter",
        "INSTRUCTOR_CHECK": "tests.testapp.access.teaches",
    }
)
def test_passed_to_failed_reopens_the_quiz_task_and_the_course(make_user: Any) -> None:
    tree = build_course("Flip", modules=1, lessons_per_module=1, pass_mark=Decimal(50))
    quiz = tree.quizzes[0]
    quiz.lesson = tree.lessons[0]
    quiz.save()
    learner, teacher = make_user(), make_user(username="teacher")
    tree.course.instructors.add(teacher)
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, quiz)
    for question in tree.questions:
        services.answer_question(learner, attempt, question, question.answer)
    services.submit_attempt(learner, attempt)
    lesson = get_task_progress_model().objects.get(user=learner, task=tree.lessons[0])
    enrollment = get_enrollment_model().objects.get(user=learner, course=tree.course)
    assert lesson.status == TaskStatus.COMPLETED
    assert enrollment.status == EnrollmentStatus.COMPLETED
    for question in tree.questions:  # every answer is wrong now: 0 %
        question.answer = "changed"
        question.save()
    summary = services.regrade_quiz(quiz, by=teacher)
    (change,) = summary.changed
    assert (change.passed_before, change.passed_after) == (True, False)
    lesson.refresh_from_db()
    enrollment.refresh_from_db()
    assert lesson.status == TaskStatus.NOT_STARTED
    assert enrollment.status == EnrollmentStatus.ACTIVE
    # ... and back: the answers are right again, the task and course complete again.
    for question in tree.questions:
        question.answer = f"a{question.position}"
        question.save()
    services.regrade_quiz(quiz, by=teacher)
    lesson.refresh_from_db()
    enrollment.refresh_from_db()
    assert lesson.status == TaskStatus.COMPLETED
    assert enrollment.status == EnrollmentStatus.COMPLETED


def test_only_instructors_of_the_course_and_staff_regrade(
    people: dict[str, Any], make_user: Any
) -> None:
    tree = make_tree("Perms", q1_answer="a1")
    learner = people["learners"][0]
    services.enroll(learner, tree.course)
    other = build_course("Other")
    elsewhere = make_user(username="elsewhere")
    other.course.instructors.add(elsewhere)
    for user in (learner, elsewhere):
        with pytest.raises(PermissionDenied):
            services.regrade_quiz(tree.quizzes[0], by=user)
    staff = make_user(username="staff", is_staff=True)
    assert services.regrade_quiz(tree.quizzes[0], by=staff).attempts_checked == 0
    with pytest.raises(ValidationError):
        services.regrade_quiz(tree.quizzes[0], by=staff, chunk_size=0)


def _learners_with_attempts(make_user: Any, tree: CourseTree, count: int) -> None:
    for _ in range(count):
        learner = make_user()
        services.enroll(learner, tree.course)
        attempt = services.start_attempt(learner, tree.quizzes[0])
        services.answer_questions(learner, attempt, [(q, q.answer, 0) for q in tree.questions])
        services.submit_attempt(learner, attempt)


def _regrade_queries(tree: CourseTree, teacher: Any, chunk_size: int) -> tuple[int, Any]:
    tree.questions[0].answer = "changed" if tree.questions[0].answer != "changed" else "a0"
    tree.questions[0].save()
    with CaptureQueriesContext(connection) as queries:
        summary = services.regrade_quiz(tree.quizzes[0], by=teacher, chunk_size=chunk_size)
    return len(queries), summary


def test_queries_per_chunk_do_not_grow_with_its_attempts(make_user: Any) -> None:
    teacher = make_user(username="teacher", is_staff=True)
    small, large = build_course("Small", modules=1), build_course("Large", modules=1)
    _learners_with_attempts(make_user, small, 10)
    _learners_with_attempts(make_user, large, 60)
    # No pass mark: every completed attempt passes, so no learner's rule flips.
    small_count, small_summary = _regrade_queries(small, teacher, chunk_size=100)
    large_count, large_summary = _regrade_queries(large, teacher, chunk_size=100)
    assert (small_summary.attempts_changed, large_summary.attempts_changed) == (10, 60)
    assert small_count == large_count
    # In chunks of 20, three chunks of the same cost; the fixed part (the
    # permission check, the questions) is paid once.
    chunked_count, chunked = _regrade_queries(large, teacher, chunk_size=20)
    assert chunked.attempts_changed == 60
    empty_count, _none = _regrade_queries(build_course("Empty", modules=1), teacher, 20)
    per_chunk = large_count - empty_count
    assert chunked_count == empty_count + 3 * per_chunk
    print(f"regrade queries: fixed {empty_count}, per chunk {per_chunk}")


def test_the_management_command(people: dict[str, Any]) -> None:
    learners, teacher = people["learners"], people["teacher"]
    tree = make_tree("Command", q1_answer="a1")
    tree.course.instructors.add(teacher)
    take(tree, learners, teacher)
    tree.questions[1].answer = "b1"
    tree.questions[1].save()
    out = StringIO()
    quiz_id = str(tree.quizzes[0].pk)
    call_command("regrade_quiz", quiz_id, "--dry-run", stdout=out, stderr=StringIO())
    assert "Dry run" in out.getvalue() and "4 of 4 attempts would change" in out.getvalue()
    assert not get_quiz_attempt_model().objects.filter(regraded_at__isnull=False).exists()
    out = StringIO()
    call_command("regrade_quiz", quiz_id, stdout=out, stderr=StringIO())
    assert "4 of 4 attempts changed" in out.getvalue()
    assert get_quiz_attempt_model().objects.filter(regraded_at__isnull=False).count() == 4
    for bad in ("99999", "1.5", "x"):
        with pytest.raises(CommandError):
            call_command("regrade_quiz", bad, stdout=StringIO(), stderr=StringIO())


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_draws_a_progress_bar_on_a_terminal(people: dict[str, Any]) -> None:
    learners, teacher = people["learners"], people["teacher"]
    tree = make_tree("Bar", q1_answer="a1")
    tree.course.instructors.add(teacher)
    take(tree, learners, teacher)
    err = Terminal()
    call_command(
        "regrade_quiz", str(tree.quizzes[0].pk), "--chunk-size", "3", stdout=StringIO(), stderr=err
    )
    bar = err.getvalue()
    assert "] 3/4" in bar and "] 4/4 100%" in bar and bar.endswith("\n")
    assert "[" not in call_output(tree)  # nothing of the bar without a terminal


def call_output(tree: CourseTree) -> str:
    err = StringIO()
    call_command("regrade_quiz", str(tree.quizzes[0].pk), stdout=StringIO(), stderr=err)
    return err.getvalue()

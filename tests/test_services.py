from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.dispatch import Signal
from django.test import override_settings
from django.utils import timezone

from django_learning_progress import helpers, services, signals
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.conftest import CourseTree, build_course
from tests.testapp.adapter import TestAdapter
from tests.testapp.models import Question

pytestmark = pytest.mark.django_db

# Every signal sent after commit (state_changed is sent inside the transaction).
ALL_SIGNALS = [getattr(signals, name) for name in signals.__all__ if name != "state_changed"]


@contextmanager
def capture(*wanted: Signal) -> Iterator[list[tuple[Signal, dict[str, Any]]]]:
    """Record the signals sent, in order."""
    sent: list[tuple[Signal, dict[str, Any]]] = []
    receivers = []
    for signal in wanted or ALL_SIGNALS:

        def receiver(sender: Any, signal: Signal = signal, **kwargs: Any) -> None:
            sent.append((signal, {"sender": sender, **kwargs}))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    try:
        yield sent
    finally:
        for signal, receiver in receivers:
            signal.disconnect(receiver)


def names(sent: list[tuple[Signal, dict[str, Any]]]) -> list[str]:
    by_signal = {getattr(signals, name): name for name in signals.__all__}
    return [by_signal[signal] for signal, _kwargs in sent]


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the on-commit callbacks (the signals) of a block, as a real commit would."""

    @contextmanager
    def run() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return run


@pytest.fixture
def enrolled(learner: Any, course_tree: CourseTree) -> Any:
    return services.enroll(learner, course_tree.course)


# -- enrollment ---------------------------------------------------------------------


def test_enroll_is_idempotent_and_signals_once(
    learner: Any, course_tree: CourseTree, run_on_commit: Any
) -> None:
    with capture() as sent, run_on_commit():
        first = services.enroll(learner, course_tree.course)
    with capture() as again, run_on_commit():
        second = services.enroll(learner, course_tree.course)
    assert first.pk == second.pk and second.status == EnrollmentStatus.ACTIVE
    assert names(sent) == ["enrollment_created"]
    assert sent[0][1]["sender"] is get_enrollment_model()
    assert sent[0][1]["enrollment"] == first and sent[0][1]["user"] == learner
    assert again == []
    assert get_enrollment_model().objects.count() == 1


def test_drop_and_reenroll(enrolled: Any, learner: Any, run_on_commit: Any) -> None:
    with capture() as sent, run_on_commit():
        dropped = services.drop_enrollment(enrolled)
        services.drop_enrollment(enrolled)  # idempotent
    assert dropped.status == EnrollmentStatus.DROPPED and dropped.dropped_at is not None
    assert names(sent) == ["enrollment_status_changed"]
    assert sent[0][1]["previous_status"] == "active" and sent[0][1]["status"] == "dropped"
    with capture() as sent, run_on_commit():
        again = services.enroll(learner, enrolled.course)
    assert again.pk == enrolled.pk
    assert again.status == EnrollmentStatus.ACTIVE and again.dropped_at is None
    assert names(sent) == ["enrollment_status_changed"]


def test_complete_and_reopen_enrollment(enrolled: Any, run_on_commit: Any) -> None:
    with capture() as sent, run_on_commit():
        done = services.complete_enrollment(enrolled)
        services.complete_enrollment(enrolled)
    assert done.status == EnrollmentStatus.COMPLETED and done.completed_at is not None
    assert names(sent) == ["enrollment_status_changed", "course_completed"]
    with capture() as sent, run_on_commit():
        reopened = services.reopen_enrollment(enrolled)
        services.reopen_enrollment(enrolled)
    assert reopened.status == EnrollmentStatus.ACTIVE and reopened.completed_at is None
    assert names(sent) == ["enrollment_status_changed"]


def test_dropped_enrollment_cannot_be_completed_or_reopened(enrolled: Any) -> None:
    services.drop_enrollment(enrolled)
    for action in (services.complete_enrollment, services.reopen_enrollment):
        with pytest.raises(ValidationError) as excinfo:
            action(enrolled)
        assert excinfo.value.code == "dropped"
    enrolled.refresh_from_db()
    assert enrolled.status == EnrollmentStatus.DROPPED


@pytest.mark.parametrize(
    "bad",
    [None, "1", 1, object()],
)
def test_enroll_rejects_wrong_types(learner: Any, bad: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.enroll(learner, bad)
    assert "course" in excinfo.value.message_dict
    assert not get_enrollment_model().objects.exists()


def test_enroll_rejects_unsaved_or_anonymous_users(course_tree: CourseTree) -> None:
    from django.contrib.auth.models import AnonymousUser

    for user in (AnonymousUser(), None):
        with pytest.raises(ValidationError):
            services.enroll(user, course_tree.course)
    assert not get_enrollment_model().objects.exists()


# -- tasks ----------------------------------------------------------------------------


def test_working_on_a_task_needs_an_enrollment(learner: Any, course_tree: CourseTree) -> None:
    lesson = course_tree.lessons[0]
    for action in (
        lambda: services.start_task(learner, lesson),
        lambda: services.add_time_spent(learner, lesson, 10),
        lambda: services.complete_task(learner, lesson),
    ):
        with pytest.raises(ValidationError) as excinfo:
            action()
        assert excinfo.value.code == "not_enrolled"
    assert not get_task_progress_model().objects.exists()


def test_dropped_learners_cannot_work(enrolled: Any, learner: Any, course_tree: CourseTree) -> None:
    services.drop_enrollment(enrolled)
    with pytest.raises(ValidationError):
        services.start_task(learner, course_tree.lessons[0])


@override_settings(
    LEARNING_PROGRESS={
        "CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter",
        "AUTO_ENROLL": True,
    }
)
def test_auto_enrollment(learner: Any, course_tree: CourseTree, run_on_commit: Any) -> None:
    with capture() as sent, run_on_commit():
        progress = services.start_task(learner, course_tree.lessons[0])
    assert progress.status == TaskStatus.IN_PROGRESS
    assert names(sent) == ["enrollment_created", "task_started"]
    assert get_enrollment_model().objects.get().user == learner


def test_start_task(
    enrolled: Any, learner: Any, course_tree: CourseTree, run_on_commit: Any
) -> None:
    lesson = course_tree.lessons[2]
    with capture() as sent, run_on_commit():
        progress = services.start_task(learner, lesson)
        services.start_task(learner, lesson)
    assert progress.status == TaskStatus.IN_PROGRESS
    assert progress.started_at is not None and progress.last_activity_at is not None
    assert progress.course_id == course_tree.course.pk  # copied through module__course
    assert names(sent) == ["task_started"]
    assert sent[0][1]["sender"] is get_task_progress_model()


def test_add_time_spent(
    enrolled: Any, learner: Any, course_tree: CourseTree, run_on_commit: Any
) -> None:
    lesson = course_tree.lessons[0]
    with capture() as sent, run_on_commit():
        services.add_time_spent(learner, lesson, 30)
        progress = services.add_time_spent(learner, lesson, 15)
        services.add_time_spent(learner, lesson, 0)
    assert progress.time_spent == 45 and progress.status == TaskStatus.IN_PROGRESS
    # Adding 0 seconds records nothing.
    assert names(sent) == ["task_started", "time_recorded", "time_recorded"]
    assert [kwargs["seconds"] for _s, kwargs in sent[1:]] == [30, 15]


@pytest.mark.parametrize(
    ("seconds", "code"),
    [
        (-1, "negative"),
        (3601, "too_large"),
        ("10", "invalid"),
        (1.5, "invalid"),
        (True, "invalid"),
        (None, "invalid"),
    ],
)
def test_add_time_spent_rejects_bad_values(
    enrolled: Any, learner: Any, course_tree: CourseTree, seconds: Any, code: str
) -> None:
    lesson = course_tree.lessons[0]
    services.add_time_spent(learner, lesson, 5)
    with pytest.raises(ValidationError) as excinfo:
        services.add_time_spent(learner, lesson, seconds)
    assert excinfo.value.error_dict["seconds"][0].code == code
    assert get_task_progress_model().objects.get().time_spent == 5


def test_time_cap_is_configurable(enrolled: Any, learner: Any, course_tree: CourseTree) -> None:
    with override_settings(
        LEARNING_PROGRESS={
            "CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter",
            "MAX_TIME_PER_CALL": 10,
        }
    ):
        with pytest.raises(ValidationError):
            services.add_time_spent(learner, course_tree.lessons[0], 11)
        assert services.add_time_spent(learner, course_tree.lessons[0], 10).time_spent == 10


def test_completing_every_required_task_completes_the_course_once(
    learner: Any, run_on_commit: Any
) -> None:
    tree = build_course(optional_lessons=1)
    enrollment = services.enroll(learner, tree.course)
    required = [lesson for lesson in tree.lessons if not lesson.optional]
    with capture() as sent, run_on_commit():
        for lesson in required[:-1]:
            services.complete_task(learner, lesson)
    assert "course_completed" not in names(sent)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    with capture() as sent, run_on_commit():
        progress = services.complete_task(learner, required[-1])
        services.complete_task(learner, required[-1])  # idempotent
    assert progress.status == TaskStatus.COMPLETED and progress.completed_at is not None
    assert names(sent) == [
        "task_started",
        "task_completed",
        "enrollment_status_changed",
        "course_completed",
    ]
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED and enrollment.completed_at
    assert learner.is_course_completed(tree.course)
    # The optional lesson does not matter, and completing it changes nothing.
    with capture() as sent, run_on_commit():
        services.complete_task(learner, tree.lessons[-1])
    assert names(sent) == ["task_started", "task_completed"]


def test_resetting_a_task_reopens_the_course(learner: Any, run_on_commit: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=2)
    enrollment = services.enroll(learner, tree.course)
    services.add_time_spent(learner, tree.lessons[0], 20)
    for lesson in tree.lessons:
        services.complete_task(learner, lesson)
    with capture() as sent, run_on_commit():
        progress = services.reset_task(learner, tree.lessons[0])
    assert progress.status == TaskStatus.NOT_STARTED and progress.completed_at is None
    assert progress.time_spent == 20
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE and enrollment.completed_at is None
    assert names(sent) == ["enrollment_status_changed"]
    assert services.reset_task(learner, tree.lessons[0], clear_time=True).time_spent == 0
    with capture() as sent, run_on_commit():
        services.complete_task(learner, tree.lessons[0])
    assert names(sent)[-1] == "course_completed"


def test_reset_of_an_untouched_task(enrolled: Any, learner: Any, course_tree: CourseTree) -> None:
    assert services.reset_task(learner, course_tree.lessons[0]) is None


def test_a_course_without_required_tasks_never_completes_by_itself(learner: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=0, optional_lessons=1)
    enrollment = services.enroll(learner, tree.course)
    services.complete_task(learner, tree.lessons[0])
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert learner.calculate_progress_percentage(tree.course) == 0


def test_a_raising_receiver_does_not_undo_progress(
    enrolled: Any, learner: Any, course_tree: CourseTree, run_on_commit: Any, caplog: Any
) -> None:
    calls = []

    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    def working(sender: Any, **kwargs: Any) -> None:
        calls.append(kwargs["progress"])

    signals.task_completed.connect(broken, weak=False)
    signals.task_completed.connect(working, weak=False)
    try:
        with run_on_commit():
            services.complete_task(learner, course_tree.lessons[0])
    finally:
        signals.task_completed.disconnect(broken)
        signals.task_completed.disconnect(working)
    assert get_task_progress_model().objects.get().status == TaskStatus.COMPLETED
    assert len(calls) == 1
    assert "receiver bug" in caplog.text


def test_signals_wait_for_the_commit(
    enrolled: Any, learner: Any, course_tree: CourseTree, django_capture_on_commit_callbacks: Any
) -> None:
    with capture() as sent, django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.complete_task(learner, course_tree.lessons[0])
    assert sent == [] and len(callbacks) == 2  # task_started, task_completed


# -- quiz attempts ------------------------------------------------------------------------


def test_start_attempt(
    enrolled: Any, learner: Any, course_tree: CourseTree, run_on_commit: Any
) -> None:
    quiz = course_tree.quizzes[0]
    with capture() as sent, run_on_commit():
        first = services.start_attempt(learner, quiz)
        same = services.start_attempt(learner, quiz)
    assert first.pk == same.pk and first.attempt_number == 1
    assert first.status == AttemptStatus.IN_PROGRESS and first.deadline_at is None
    assert first.course_id == course_tree.course.pk
    assert names(sent) == ["quiz_attempt_started"]
    services.submit_attempt(learner, first)
    assert services.start_attempt(learner, quiz).attempt_number == 2


def test_max_attempts(learner: Any) -> None:
    tree = build_course(max_attempts=2)
    services.enroll(learner, tree.course)
    quiz = tree.quizzes[0]
    services.submit_attempt(learner, services.start_attempt(learner, quiz))
    services.abandon_attempt(learner, services.start_attempt(learner, quiz))
    with pytest.raises(ValidationError) as excinfo:
        services.start_attempt(learner, quiz)
    assert excinfo.value.code == "max_attempts"
    assert get_quiz_attempt_model().objects.count() == 2


def test_time_limit_sets_the_deadline(learner: Any) -> None:
    tree = build_course(time_limit=15)
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    assert attempt.deadline_at - attempt.started_at == timedelta(minutes=15)


def answer_all(learner: Any, attempt: Any, questions: list[Question], right: int) -> None:
    for n, question in enumerate(questions):
        given = question.answer if n < right else "wrong"
        services.answer_question(learner, attempt, question, given, time_spent=5)


def test_submit_grades_every_response(
    enrolled: Any, learner: Any, course_tree: CourseTree, run_on_commit: Any
) -> None:
    quiz = course_tree.quizzes[0]  # questions worth 1, 2 and 3 marks
    attempt = services.start_attempt(learner, quiz)
    services.answer_question(learner, attempt, course_tree.questions[0], "a0", time_spent=4)
    services.answer_question(learner, attempt, course_tree.questions[1], "nope", time_spent=6)
    # Question 3 (3 marks) stays unanswered and scores 0.
    with capture() as sent, run_on_commit():
        graded = services.submit_attempt(learner, attempt)
        services.submit_attempt(learner, attempt)  # idempotent
    assert graded.status == AttemptStatus.COMPLETED
    assert graded.score == Decimal("1") and graded.max_score == Decimal("6")
    assert graded.percentage == Decimal("16.67") and graded.passed is True  # no pass mark
    assert graded.time_taken is not None and graded.completed_at is not None
    assert names(sent) == ["quiz_attempt_submitted", "quiz_attempt_graded"]
    rows = {r.question_id: r for r in get_quiz_response_model().objects.all()}
    assert rows[course_tree.questions[0].pk].is_correct is True
    assert rows[course_tree.questions[0].pk].points_awarded == Decimal("1")
    assert rows[course_tree.questions[1].pk].is_correct is False
    assert rows[course_tree.questions[1].pk].points_awarded == Decimal("0")
    assert course_tree.questions[2].pk not in rows


def test_pass_mark(learner: Any) -> None:
    tree = build_course(pass_mark=Decimal("50"), questions=4)  # marks 1, 2, 3, 4
    services.enroll(learner, tree.course)
    quiz = tree.quizzes[0]
    attempt = services.start_attempt(learner, quiz)
    answer_all(learner, attempt, tree.questions[3:], right=1)  # 4 of 10
    assert services.submit_attempt(learner, attempt).passed is False
    attempt = services.start_attempt(learner, quiz)
    services.answer_question(learner, attempt, tree.questions[0], "a0")
    services.answer_question(learner, attempt, tree.questions[3], "a3")  # 5 of 10: equal passes
    graded = services.submit_attempt(learner, attempt)
    assert graded.percentage == Decimal("50.00") and graded.passed is True


def test_answering_again_replaces_the_answer(
    enrolled: Any, learner: Any, course_tree: CourseTree
) -> None:
    attempt = services.start_attempt(learner, course_tree.quizzes[0])
    question = course_tree.questions[0]
    services.answer_question(learner, attempt, question, "wrong", time_spent=3)
    row = services.answer_question(learner, attempt, question, "a0", time_spent=4)
    assert row.response == "a0" and row.time_spent == 7
    assert get_quiz_response_model().objects.count() == 1
    assert services.submit_attempt(learner, attempt).score == Decimal("1")


def test_answer_refusals_change_nothing(
    enrolled: Any, learner: Any, make_user: Any, course_tree: CourseTree
) -> None:
    other_quiz_question = build_course("Other").questions[0]
    attempt = services.start_attempt(learner, course_tree.quizzes[0])
    question = course_tree.questions[0]
    with pytest.raises(ValidationError) as excinfo:
        services.answer_question(learner, attempt, other_quiz_question, "x")
    assert excinfo.value.code == "foreign_question"
    with pytest.raises(PermissionDenied):
        services.answer_question(make_user(), attempt, question, "x")
    with pytest.raises(ValidationError):
        services.answer_question(learner, attempt, question, object())
    with pytest.raises(ValidationError):
        services.answer_question(learner, attempt, question, "x", time_spent=-3)
    with pytest.raises(ValidationError):
        services.answer_question(learner, attempt, "not a question", "x")
    with pytest.raises(PermissionDenied):
        services.submit_attempt(make_user(), attempt)
    assert not get_quiz_response_model().objects.exists()
    services.submit_attempt(learner, attempt)
    with pytest.raises(ValidationError) as excinfo:
        services.answer_question(learner, attempt, question, "a0")
    assert excinfo.value.code == "attempt_closed"
    assert not get_quiz_response_model().objects.exists()


def test_answers_after_the_deadline(learner: Any) -> None:
    tree = build_course(time_limit=10)
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    services.answer_question(learner, attempt, tree.questions[0], "a0")
    get_quiz_attempt_model().objects.filter(pk=attempt.pk).update(
        deadline_at=timezone.now() - timedelta(seconds=5)
    )
    attempt.refresh_from_db()
    grace = {"CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter", "DEADLINE_GRACE_SECONDS": 60}
    with override_settings(LEARNING_PROGRESS=grace):
        services.answer_question(learner, attempt, tree.questions[1], "a1")  # within grace
    with pytest.raises(ValidationError) as excinfo:
        services.answer_question(learner, attempt, tree.questions[2], "a2")
    assert excinfo.value.code == "deadline_passed"
    attempt.refresh_from_db()
    # Default policy: submitted at the deadline with the answers given by then.
    assert attempt.status == AttemptStatus.COMPLETED and attempt.score == Decimal("3")
    assert attempt.submitted_at == attempt.deadline_at


def test_overdue_policy_abandon(learner: Any) -> None:
    tree = build_course(time_limit=10)
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    get_quiz_attempt_model().objects.filter(pk=attempt.pk).update(
        deadline_at=timezone.now() - timedelta(minutes=1)
    )
    policy = {
        "CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter",
        "OVERDUE_ATTEMPT_POLICY": "abandon",
    }
    with override_settings(LEARNING_PROGRESS=policy):
        with pytest.raises(ValidationError):
            services.submit_attempt(learner, attempt)
        attempt.refresh_from_db()
        assert attempt.status == AttemptStatus.ABANDONED
        # An overdue open attempt is closed, and a new one starts.
        assert services.start_attempt(learner, tree.quizzes[0]).attempt_number == 2


def test_close_overdue_attempts_command(make_user: Any) -> None:
    tree = build_course(time_limit=10)
    attempts = []
    for _ in range(3):
        user = make_user()
        services.enroll(user, tree.course)
        attempts.append(services.start_attempt(user, tree.quizzes[0]))
    get_quiz_attempt_model().objects.filter(pk__in=[a.pk for a in attempts[:2]]).update(
        deadline_at=timezone.now() - timedelta(minutes=1)
    )
    from io import StringIO

    out = StringIO()
    call_command("close_overdue_attempts", stdout=out)
    assert "Closed 2" in out.getvalue()
    statuses = [get_quiz_attempt_model().objects.get(pk=a.pk).status for a in attempts]
    assert statuses == [AttemptStatus.COMPLETED, AttemptStatus.COMPLETED, AttemptStatus.IN_PROGRESS]
    assert services.close_overdue_attempts() == 0


def test_manual_grading(enrolled: Any, learner: Any, make_user: Any, run_on_commit: Any) -> None:
    tree = build_course("Essays", questions=2)
    services.enroll(learner, tree.course)
    essay = tree.questions[1]
    essay.kind = Question.KIND_ESSAY
    essay.save()
    attempt = services.start_attempt(learner, tree.quizzes[0])
    services.answer_question(learner, attempt, tree.questions[0], "a0")
    services.answer_question(learner, attempt, essay, "My essay")
    with capture() as sent, run_on_commit():
        submitted = services.submit_attempt(learner, attempt)
    assert submitted.status == AttemptStatus.SUBMITTED and submitted.score is None
    assert names(sent) == ["quiz_attempt_submitted"]
    response = get_quiz_response_model().objects.get(question=essay)
    grader = make_user(is_staff=True)
    with pytest.raises(ValidationError):
        services.grade_response(grader, response, points=Decimal("2.5"))  # worth 2
    with pytest.raises(ValidationError):
        services.grade_response(grader, response, points="lots")
    with capture() as sent, run_on_commit():
        graded = services.grade_response(grader, response, points=Decimal("1.5"))
    assert graded.is_correct is False and graded.graded_by == grader
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.COMPLETED and attempt.score == Decimal("2.5")
    assert attempt.percentage == Decimal("83.33")
    assert names(sent) == ["quiz_attempt_graded"]
    # A regrade updates the score.
    services.grade_response(grader, response, points=2)
    attempt.refresh_from_db()
    assert attempt.score == Decimal("3") and attempt.percentage == Decimal("100.00")


def test_grading_an_open_attempt_is_refused(
    enrolled: Any, learner: Any, course_tree: CourseTree, make_user: Any
) -> None:
    attempt = services.start_attempt(learner, course_tree.quizzes[0])
    response = services.answer_question(learner, attempt, course_tree.questions[0], "a0")
    with pytest.raises(ValidationError) as excinfo:
        services.grade_response(make_user(is_staff=True), response, points=1)
    assert excinfo.value.code == "not_submitted"


def test_abandon(enrolled: Any, learner: Any, course_tree: CourseTree) -> None:
    attempt = services.start_attempt(learner, course_tree.quizzes[0])
    abandoned = services.abandon_attempt(learner, attempt)
    assert abandoned.status == AttemptStatus.ABANDONED
    assert services.abandon_attempt(learner, attempt).status == AttemptStatus.ABANDONED
    with pytest.raises(ValidationError):
        services.submit_attempt(learner, attempt)


@pytest.mark.parametrize(
    ("method", "expected"),
    [("highest", "66.67"), ("latest", "50.00"), ("first", "16.67"), ("average", "44.45")],
)
def test_quiz_grade_methods(learner: Any, make_user: Any, method: str, expected: str) -> None:
    tree = build_course()  # marks 1, 2, 3
    services.enroll(learner, tree.course)
    quiz = tree.quizzes[0]
    for right in (["a0"], ["a0", "x", "a2"], ["x", "x", "a2"]):  # 1/6, 4/6, 3/6
        attempt = services.start_attempt(learner, quiz)
        for question, given in zip(tree.questions, right, strict=False):
            services.answer_question(learner, attempt, question, given)
        services.submit_attempt(learner, attempt)
    options = {"CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter", "QUIZ_GRADE_METHOD": method}
    with override_settings(LEARNING_PROGRESS=options):
        assert learner.get_quiz_grade(quiz) == Decimal(expected)
        # The roster's grades (one statement for many learners) agree.
        other = make_user()
        expected_entry = {
            "quiz": quiz.pk,
            "grade": Decimal(expected),
            "passed": quiz.pass_mark is None or Decimal(expected) >= quiz.pass_mark,
        }
        roster_grades = helpers.course_quiz_grades(tree.course, [learner, other])
        assert roster_grades[learner.pk][0] == expected_entry
        assert roster_grades[other.pk][0]["grade"] is None
        # The roster page reads them in the statement of its figures when
        # every quiz is graded by its highest attempt.
        _figures, page_grades = helpers.roster_page(tree.course, [learner.pk, other.pk])
        assert page_grades == roster_grades
    assert learner.get_best_quiz_attempt(quiz).attempt_number == 2


def test_quizzes_can_be_required_for_completion(learner: Any, run_on_commit: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=1, pass_mark=Decimal("50"))
    enrollment = services.enroll(learner, tree.course)
    options = {
        "CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter",
        "REQUIRE_QUIZZES_FOR_COMPLETION": True,
    }
    with override_settings(LEARNING_PROGRESS=options):
        services.complete_task(learner, tree.lessons[0])
        enrollment.refresh_from_db()
        assert enrollment.status == EnrollmentStatus.ACTIVE
        attempt = services.start_attempt(learner, tree.quizzes[0])
        answer_all(learner, attempt, tree.questions, right=3)
        with capture() as sent, run_on_commit():
            services.submit_attempt(learner, attempt)
        assert "course_completed" in names(sent)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED


def submit_queries(make_user: Any, questions: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tree = build_course(f"Quiz of {questions}", questions=questions)
    learner = make_user()
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    services.answer_questions(
        learner, attempt, [(q, q.answer if q.position % 2 else "x", 1) for q in tree.questions]
    )
    with CaptureQueriesContext(connection) as queries:
        graded = services.submit_attempt(learner, attempt)
    assert graded.status == AttemptStatus.COMPLETED
    return len(queries)


def test_submit_costs_the_same_for_5_and_50_questions(make_user: Any) -> None:
    assert submit_queries(make_user, 5) == submit_queries(make_user, 50)


def test_an_overdue_attempt_is_closed_even_when_no_attempt_is_left(learner: Any) -> None:
    tree = build_course(time_limit=10, max_attempts=1)
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    get_quiz_attempt_model().objects.filter(pk=attempt.pk).update(
        deadline_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(ValidationError) as excinfo:
        services.start_attempt(learner, tree.quizzes[0])
    assert excinfo.value.code == "max_attempts"
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.COMPLETED


def test_close_overdue_attempts_at_a_given_time(learner: Any) -> None:
    tree = build_course(time_limit=10)
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    assert services.close_overdue_attempts(now=timezone.now() + timedelta(hours=1)) == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.COMPLETED


def test_a_failing_attempt_does_not_stop_the_overdue_run(
    make_user: Any, monkeypatch: Any, caplog: Any
) -> None:
    tree = build_course(time_limit=10)
    attempts = []
    for _ in range(2):
        user = make_user()
        services.enroll(user, tree.course)
        attempts.append(services.start_attempt(user, tree.quizzes[0]))
    real_submit = services._submit

    def flaky(attempt: Any, db: str, at: Any) -> None:
        if attempt.pk == attempts[0].pk:
            raise RuntimeError("host grading bug")
        real_submit(attempt, db, at)

    monkeypatch.setattr(services, "_submit", flaky)
    assert services.close_overdue_attempts(now=timezone.now() + timedelta(hours=1)) == 1
    assert "host grading bug" in caplog.text
    statuses = [get_quiz_attempt_model().objects.get(pk=a.pk).status for a in attempts]
    assert statuses == [AttemptStatus.IN_PROGRESS, AttemptStatus.COMPLETED]


def test_reenrolling_after_a_completed_course_does_not_complete_it_again(
    learner: Any, run_on_commit: Any
) -> None:
    tree = build_course(modules=1, lessons_per_module=1)
    enrollment = services.enroll(learner, tree.course)
    services.complete_task(learner, tree.lessons[0])
    services.drop_enrollment(enrollment)
    with capture() as sent, run_on_commit():
        again = services.enroll(learner, tree.course)
    assert again.status == EnrollmentStatus.ACTIVE and again.completed_at is None
    assert names(sent) == ["enrollment_status_changed"]
    assert sent[0][1]["enrollment"].status == EnrollmentStatus.ACTIVE


def test_a_regrade_that_changes_nothing_sends_nothing(
    learner: Any, make_user: Any, run_on_commit: Any
) -> None:
    tree = build_course("Essays", questions=1)
    Question.objects.filter(pk=tree.questions[0].pk).update(kind=Question.KIND_ESSAY)
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    response = services.answer_question(learner, attempt, tree.questions[0], "text")
    services.submit_attempt(learner, attempt)
    grader = make_user(is_staff=True)
    services.grade_response(grader, response, points=1)
    with capture() as sent, run_on_commit():
        services.grade_response(grader, response, points=1)
    assert sent == []


class JoinedRequirements(TestAdapter):
    """Required tasks selected through a many-valued join (duplicates rows)."""

    def required_tasks(self, course: Any) -> Any:
        return self.course_tasks(course).filter(module__lessons__optional=False)


def test_requirements_through_a_join_still_count_each_task_once(learner: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=4)
    enrollment = services.enroll(learner, tree.course)
    options = {"CONTENT_ADAPTER": f"{__name__}.JoinedRequirements"}
    with override_settings(LEARNING_PROGRESS=options):
        for lesson in tree.lessons[:2]:
            services.complete_task(learner, lesson)
        assert learner.calculate_progress_percentage(tree.course) == 50.0
        from django_learning_progress.helpers import course_roster

        assert course_roster(tree.course).get().percentage == 50.0
        for lesson in tree.lessons[2:]:
            services.complete_task(learner, lesson)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED


@pytest.mark.parametrize(
    "settings", [{"a\x00": 1}, {"theme": "dark\x00"}, {"nested": [{"x": ["\x00"]}]}]
)
def test_json_with_nul_is_refused_and_changes_nothing(
    enrolled: Any, learner: Any, course_tree: CourseTree, settings: dict
) -> None:
    """PostgreSQL's jsonb cannot store U+0000: a clear error on every database."""
    services.update_enrollment_settings(enrolled, {"theme": "light"})
    with pytest.raises(ValidationError) as excinfo:
        services.update_enrollment_settings(enrolled, settings)
    assert "settings" in excinfo.value.message_dict
    enrolled.refresh_from_db()
    assert enrolled.settings == {"theme": "light"}
    attempt = services.start_attempt(learner, course_tree.quizzes[0])
    with pytest.raises(ValidationError) as excinfo:
        services.answer_question(learner, attempt, course_tree.questions[0], settings)
    assert "response" in excinfo.value.message_dict
    assert not get_quiz_response_model().objects.filter(attempt=attempt).exists()

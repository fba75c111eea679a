"""Per-learner quiz overrides: extra attempts, extra time, another window."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from django_learning_progress import helpers, services, signals
from django_learning_progress.models import get_quiz_attempt_model, get_quiz_override_model
from tests.conftest import CourseTree, build_course

pytestmark = pytest.mark.django_db

LIMIT = timedelta(minutes=60)


@pytest.fixture
def tree() -> CourseTree:
    return build_course(modules=1, max_attempts=2, time_limit=60, pass_mark=Decimal(50))


@pytest.fixture
def learner(make_user: Any, tree: CourseTree) -> Any:
    user = make_user()
    services.enroll(user, tree.course)
    return user


@pytest.fixture
def teacher(make_user: Any, tree: CourseTree) -> Any:
    user = make_user(username="teacher")
    tree.course.instructors.add(user)
    return user


class Recorder:
    def __init__(self, signal: Any) -> None:
        self.signal, self.calls = signal, []

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        self.calls.append({"sender": sender, **kwargs})

    def __enter__(self) -> Recorder:
        self.signal.connect(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.signal.disconnect(self)


def use_attempt(learner: Any, quiz: Any) -> Any:
    return services.abandon_attempt(learner, services.start_attempt(learner, quiz))


def refused(learner: Any, quiz: Any) -> str:
    with pytest.raises(ValidationError) as excinfo:
        services.start_attempt(learner, quiz)
    return str(excinfo.value.code)


def test_extra_attempts_take_effect(learner: Any, teacher: Any, tree: CourseTree) -> None:
    quiz = tree.quizzes[0]
    use_attempt(learner, quiz)
    use_attempt(learner, quiz)
    assert refused(learner, quiz) == "max_attempts"
    services.set_quiz_override(quiz, learner, by=teacher, extra_attempts=1, reason="ill")
    assert helpers.quiz_status(learner, quiz).attempts_allowed == 3
    third = use_attempt(learner, quiz)
    assert third.attempt_number == 3
    assert refused(learner, quiz) == "max_attempts"
    status = helpers.quiz_status(learner, quiz)
    assert (status.can_start, status.reason, status.attempts_used) == (False, "max_attempts", 3)


def test_extra_attempts_leave_unlimited_quizzes_unlimited(
    learner: Any, teacher: Any, tree: CourseTree
) -> None:
    quiz = tree.quizzes[0]
    quiz.max_attempts = None
    quiz.save()
    services.set_quiz_override(quiz, learner, by=teacher, extra_attempts=2)
    assert helpers.quiz_status(learner, quiz).attempts_allowed is None


def test_extra_time_takes_effect_on_new_attempts(
    learner: Any, teacher: Any, tree: CourseTree
) -> None:
    quiz = tree.quizzes[0]
    services.set_quiz_override(quiz, learner, by=teacher, extra_time=timedelta(minutes=30))
    attempt = services.start_attempt(learner, quiz)
    assert attempt.deadline_at == attempt.started_at + LIMIT + timedelta(minutes=30)
    assert helpers.quiz_status(learner, quiz).time_limit == timedelta(minutes=90)


def test_extending_an_open_attempt_and_never_shortening_it(
    learner: Any, teacher: Any, tree: CourseTree, django_capture_on_commit_callbacks: Any
) -> None:
    quiz = tree.quizzes[0]
    attempt = services.start_attempt(learner, quiz)
    assert attempt.deadline_at == attempt.started_at + LIMIT
    Attempt = get_quiz_attempt_model()
    with (
        Recorder(signals.quiz_override_changed) as changes,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.set_quiz_override(quiz, learner, by=teacher, extra_time=timedelta(minutes=30))
    extended = attempt.started_at + timedelta(minutes=90)
    assert Attempt.objects.get(pk=attempt.pk).deadline_at == extended
    assert changes.calls[0]["extended_attempt"].pk == attempt.pk
    assert changes.calls[0]["action"] == "created"
    # Less extra time, then none at all: the running attempt keeps its 90 minutes.
    services.set_quiz_override(quiz, learner, by=teacher, extra_time=timedelta(minutes=5))
    assert Attempt.objects.get(pk=attempt.pk).deadline_at == extended
    assert services.remove_quiz_override(quiz, learner, by=teacher) is True
    assert Attempt.objects.get(pk=attempt.pk).deadline_at == extended
    assert helpers.quiz_status(learner, quiz).deadline_at == extended
    # An earlier close for this learner does not cut the running attempt either.
    services.set_quiz_override(
        quiz, learner, by=teacher, closes_at=timezone.now() + timedelta(minutes=1)
    )
    assert Attempt.objects.get(pk=attempt.pk).deadline_at == extended
    # The next attempt follows the rules again.
    services.remove_quiz_override(quiz, learner, by=teacher)
    services.abandon_attempt(learner, attempt)
    second = services.start_attempt(learner, quiz)
    assert second.deadline_at == second.started_at + LIMIT


def test_a_later_close_extends_an_attempt_capped_at_the_quiz_close(
    learner: Any, teacher: Any, tree: CourseTree
) -> None:
    quiz = tree.quizzes[0]
    closes = timezone.now() + timedelta(minutes=10)
    quiz.closes_at = closes
    quiz.save()
    attempt = services.start_attempt(learner, quiz)
    assert attempt.deadline_at == closes
    later = timezone.now() + timedelta(days=1)
    services.set_quiz_override(quiz, learner, by=teacher, closes_at=later)
    attempt.refresh_from_db()
    assert attempt.deadline_at == attempt.started_at + LIMIT


def test_an_overdue_attempt_is_closed_not_revived(
    learner: Any, teacher: Any, tree: CourseTree
) -> None:
    quiz = tree.quizzes[0]
    attempt = services.start_attempt(learner, quiz)
    Attempt = get_quiz_attempt_model()
    Attempt.objects.filter(pk=attempt.pk).update(
        started_at=timezone.now() - timedelta(minutes=70),
        deadline_at=timezone.now() - timedelta(minutes=10),
    )
    services.set_quiz_override(quiz, learner, by=teacher, extra_time=timedelta(minutes=30))
    attempt.refresh_from_db()
    assert attempt.status == "completed"  # the overdue policy submitted it


def test_a_window_of_its_own(learner: Any, teacher: Any, tree: CourseTree) -> None:
    quiz = tree.quizzes[0]
    now = timezone.now()
    quiz.closes_at = now - timedelta(hours=1)
    quiz.save()
    assert refused(learner, quiz) == "quiz_closed"
    services.set_quiz_override(quiz, learner, by=teacher, closes_at=now + timedelta(minutes=10))
    status = helpers.quiz_status(learner, quiz)
    assert (status.can_start, status.closes_at) == (True, now + timedelta(minutes=10))
    attempt = services.start_attempt(learner, quiz)
    assert attempt.deadline_at == now + timedelta(minutes=10)  # capped at the learner's close


def test_quiz_status_with_overrides_in_each_reason_case(
    learner: Any, teacher: Any, tree: CourseTree, make_user: Any
) -> None:
    quiz = tree.quizzes[0]
    now = timezone.now()
    stranger = make_user()
    services.set_quiz_override(quiz, stranger, by=teacher, extra_attempts=3)
    status = helpers.quiz_status(stranger, quiz)
    assert (status.reason, status.attempts_allowed) == ("not_enrolled", 5)

    services.set_quiz_override(quiz, learner, by=teacher, opens_at=now + timedelta(hours=1))
    status = helpers.quiz_status(learner, quiz)
    assert (status.reason, status.opens_at) == ("quiz_not_open", now + timedelta(hours=1))
    assert refused(learner, quiz) == "quiz_not_open"

    services.set_quiz_override(quiz, learner, by=teacher, closes_at=now - timedelta(minutes=1))
    assert helpers.quiz_status(learner, quiz).reason == "quiz_closed"
    assert refused(learner, quiz) == "quiz_closed"

    services.set_quiz_override(quiz, learner, by=teacher, extra_attempts=1)
    attempt = services.start_attempt(learner, quiz)
    status = helpers.quiz_status(learner, quiz)
    assert (status.reason, status.open_attempt_id) == ("attempt_open", attempt.pk)
    services.abandon_attempt(learner, attempt)
    use_attempt(learner, quiz)
    status = helpers.quiz_status(learner, quiz)
    assert (status.reason, status.can_start) == (None, True)  # the third, extra attempt
    use_attempt(learner, quiz)
    status = helpers.quiz_status(learner, quiz)
    assert (status.reason, status.attempts_used, status.attempts_allowed) == (
        "max_attempts",
        3,
        3,
    )


def test_quiz_status_with_an_override_in_three_queries(
    learner: Any, teacher: Any, tree: CourseTree, django_assert_num_queries: Any
) -> None:
    quiz = tree.quizzes[0]
    services.set_quiz_override(quiz, learner, by=teacher, extra_attempts=1)
    services.start_attempt(learner, quiz)
    with django_assert_num_queries(3):  # the enrollment, the override, the attempts
        helpers.quiz_status(learner, quiz)


@override_settings(
    LEARNING_PROGRESS={
        "CONTENT_ADAPTER": "tests.testapp.adapter.RequiredQuizAdapter",
        "INSTRUCTOR_CHECK": "tests.testapp.access.teaches",
    }
)
def test_extra_attempts_count_for_passed_or_exhausted(
    learner: Any, teacher: Any, tree: CourseTree
) -> None:
    quiz = tree.quizzes[0]
    quiz.completion_rule = "passed_or_exhausted"
    quiz.save()
    services.set_quiz_override(quiz, learner, by=teacher, extra_attempts=1)
    use_attempt(learner, quiz)
    use_attempt(learner, quiz)
    quizzes = type(quiz).objects.filter(pk=quiz.pk)
    (outcome,) = helpers.quiz_outcomes(learner, quizzes)
    assert not outcome.exhausted  # 2 of 3 used
    progress = helpers.get_course_progress(learner, tree.course)
    assert (progress.quizzes_required, progress.quizzes_met) == (1, 0)
    assert not helpers.learner_quiz_outcomes(quiz, [learner])[learner.pk].exhausted
    use_attempt(learner, quiz)
    (outcome,) = helpers.quiz_outcomes(learner, quizzes)
    assert outcome.exhausted and outcome.met
    assert helpers.learner_quiz_outcomes(quiz, [learner.pk])[learner.pk].met


def test_one_row_per_learner_and_quiz_replaced_whole(
    learner: Any, teacher: Any, tree: CourseTree
) -> None:
    quiz = tree.quizzes[0]
    services.set_quiz_override(
        quiz, learner, by=teacher, extra_attempts=2, extra_time=timedelta(minutes=5), reason="a"
    )
    override = services.set_quiz_override(quiz, learner, by=teacher, extra_attempts=1)
    rows = get_quiz_override_model().objects.filter(user=learner, quiz=quiz)
    assert list(rows) == [override]
    assert (override.extra_attempts, override.extra_time, override.reason) == (
        1,
        timedelta(0),
        "",
    )
    assert override.created_by == teacher


def test_signals_only_for_real_changes(
    learner: Any, teacher: Any, tree: CourseTree, django_capture_on_commit_callbacks: Any
) -> None:
    quiz = tree.quizzes[0]
    with (
        Recorder(signals.quiz_override_changed) as changes,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.set_quiz_override(quiz, learner, by=teacher, extra_attempts=1)
        services.set_quiz_override(quiz, learner, by=teacher, extra_attempts=1)  # no change
        services.set_quiz_override(quiz, learner, by=teacher, extra_attempts=2)
        assert services.remove_quiz_override(quiz, learner, by=teacher) is True
        assert services.remove_quiz_override(quiz, learner, by=teacher) is False
    assert [c["action"] for c in changes.calls] == ["created", "updated", "removed"]
    assert {c["sender"] for c in changes.calls} == {get_quiz_override_model()}
    assert all(c["user"] == learner and c["by"] == teacher for c in changes.calls)
    assert changes.calls[-1]["override"].pk is None


def test_signals_wait_for_the_commit(
    learner: Any, teacher: Any, tree: CourseTree, django_capture_on_commit_callbacks: Any
) -> None:
    with Recorder(signals.quiz_override_changed) as changes:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.set_quiz_override(tree.quizzes[0], learner, by=teacher, extra_attempts=1)
        assert changes.calls == [] and len(callbacks) == 1


def test_only_instructors_of_the_course_and_staff(
    learner: Any, teacher: Any, tree: CourseTree, make_user: Any
) -> None:
    quiz = tree.quizzes[0]
    other = build_course("Other")
    elsewhere = make_user(username="elsewhere")
    other.course.instructors.add(elsewhere)
    for user in (learner, elsewhere):
        with pytest.raises(PermissionDenied):
            services.set_quiz_override(quiz, learner, by=user, extra_attempts=5)
        with pytest.raises(PermissionDenied):
            services.remove_quiz_override(quiz, learner, by=user)
    assert not get_quiz_override_model().objects.exists()
    staff = make_user(username="staff", is_staff=True)
    services.set_quiz_override(quiz, learner, by=staff, extra_attempts=5)
    services.set_quiz_override(other.quizzes[0], learner, by=elsewhere, extra_attempts=1)
    assert get_quiz_override_model().objects.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        ({"extra_attempts": -1}, {"extra_attempts": "negative"}),
        ({"extra_attempts": True}, {"extra_attempts": "invalid"}),
        ({"extra_attempts": 1.5}, {"extra_attempts": "invalid"}),
        ({"extra_attempts": 10**9}, {"extra_attempts": "too_large"}),
        ({"extra_time": timedelta(seconds=-1)}, {"extra_time": "negative"}),
        ({"extra_time": 30}, {"extra_time": "invalid"}),
        ({"extra_time": timedelta(days=400)}, {"extra_time": "too_large"}),
        ({"opens_at": datetime(2030, 1, 1)}, {"opens_at": "naive"}),
        ({"closes_at": "2030-01-01"}, {"closes_at": "invalid"}),
        ({"reason": "a\x00b"}, {"reason": "invalid"}),
        ({"reason": "x" * 2001}, {"reason": "too_large"}),
        ({"reason": None}, {"reason": "invalid"}),
        (
            {
                "extra_attempts": -1,
                "extra_time": timedelta(seconds=-1),
                "opens_at": datetime(2030, 1, 2, tzinfo=dt_timezone.utc),
                "closes_at": datetime(2030, 1, 1, tzinfo=dt_timezone.utc),
            },
            {"extra_attempts": "negative", "extra_time": "negative", "closes_at": "window_order"},
        ),
    ],
)
def test_validation_gives_field_errors(
    learner: Any, teacher: Any, tree: CourseTree, kwargs: dict[str, Any], errors: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.set_quiz_override(tree.quizzes[0], learner, by=teacher, **kwargs)
    got = {name: e[0].code for name, e in excinfo.value.error_dict.items()}
    assert got == errors
    assert not get_quiz_override_model().objects.exists()


def test_the_override_model_refuses_a_reversed_window() -> None:
    override = get_quiz_override_model()(
        opens_at=datetime(2030, 1, 2, tzinfo=dt_timezone.utc),
        closes_at=datetime(2030, 1, 1, tzinfo=dt_timezone.utc),
    )
    with pytest.raises(ValidationError) as excinfo:
        override.clean()
    assert "closes_at" in excinfo.value.error_dict


def test_deleting_the_learner_or_the_quiz_deletes_the_override(
    learner: Any, teacher: Any, tree: CourseTree
) -> None:
    services.set_quiz_override(tree.quizzes[0], learner, by=teacher, extra_attempts=1)
    teacher.delete()
    override = get_quiz_override_model().objects.get()
    assert override.created_by is None
    learner.delete()
    assert not get_quiz_override_model().objects.exists()


def test_effective_rules_without_an_override(tree: CourseTree) -> None:
    rules = helpers.effective_quiz_rules(tree.quizzes[0])
    assert (rules.max_attempts, rules.time_limit, rules.opens_at, rules.closes_at) == (
        2,
        LIMIT,
        None,
        None,
    )

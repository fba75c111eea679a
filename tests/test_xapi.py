"""Learning records: one xAPI statement per event, in the change's own transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_learning_progress import helpers, services, signals
from django_learning_progress.models import get_quiz_response_model
from django_learning_progress.xapi.models import XapiStatement
from django_learning_progress.xapi.statements import (
    PROGRESS_EXTENSION,
    VERB,
    duration,
    registration,
)
from tests.conftest import CourseTree, build_course
from tests.xapi_support import learning_progress, validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def xapi() -> Iterator[None]:
    with override_settings(LEARNING_PROGRESS=learning_progress()):
        yield


def verbs(since: int = 0) -> list[str]:
    rows = XapiStatement.objects.order_by("created_at", "timestamp")
    return [row.verb.rsplit("/", 1)[-1] for row in rows][since:]


def statements() -> list[dict[str, Any]]:
    return [row.statement for row in XapiStatement.objects.order_by("created_at", "timestamp")]


def test_disabled_connects_nothing_and_writes_nothing(
    learner: Any, course_tree: CourseTree
) -> None:
    assert not signals.state_changed.has_listeners()
    services.enroll(learner, course_tree.course)
    services.add_time_spent(learner, course_tree.lessons[0], 30)
    assert XapiStatement.objects.count() == 0
    with override_settings(LEARNING_PROGRESS=learning_progress()):
        assert signals.state_changed.has_listeners()
    assert not signals.state_changed.has_listeners()


def test_enrollment_events(xapi: None, learner: Any, course_tree: CourseTree) -> None:
    enrollment = services.enroll(learner, course_tree.course)
    services.enroll(learner, course_tree.course)  # a repeat records nothing
    assert verbs() == ["registered"]
    services.drop_enrollment(enrollment)
    services.drop_enrollment(enrollment)
    assert verbs() == ["registered", "unregistered"]
    services.enroll(learner, course_tree.course)
    assert verbs() == ["registered", "unregistered", "registered"]
    rows = statements()
    course_iri = f"https://lms.example.com/xapi/testapp.course/{course_tree.course.pk}"
    for statement in rows:
        validate(statement)
        assert statement["object"] == {
            "objectType": "Activity",
            "id": course_iri,
            "definition": {"type": "http://adlnet.gov/expapi/activities/course"},
        }
        assert statement["actor"] == {
            "objectType": "Agent",
            "account": {"homePage": "https://lms.example.com/xapi", "name": str(learner.pk)},
        }
        assert statement["context"]["registration"] == registration(
            learner.pk, course_tree.course.pk
        )
        assert statement["context"]["platform"] == "Example LMS"
        assert statement["version"] == "1.0.3"
    assert rows[1]["verb"]["id"] == "http://id.tincanapi.com/verb/unregistered"
    assert len({s["id"] for s in rows}) == 3
    row = XapiStatement.objects.get(id=rows[0]["id"])
    assert (row.user_id, row.course_key, row.sent_at, row.attempts) == (
        learner.pk,
        str(course_tree.course.pk),
        None,
        0,
    )


def test_task_events_and_course_completion(
    xapi: None, learner: Any, course_tree: CourseTree
) -> None:
    services.enroll(learner, course_tree.course)
    lesson = course_tree.lessons[0]
    services.start_task(learner, lesson)
    services.start_task(learner, lesson)
    assert verbs(1) == ["initialized"]
    services.add_time_spent(learner, lesson, 90)
    services.add_time_spent(learner, lesson, 0)  # nothing recorded
    assert verbs(1) == ["initialized", "progressed"]
    services.complete_task(learner, lesson)
    services.complete_task(learner, lesson)
    assert verbs(1) == ["initialized", "progressed", "completed"]
    for other in course_tree.lessons[1:]:
        services.complete_task(learner, other)
    # Each remaining lesson: initialized, completed; the last one completes the course.
    assert verbs(4) == ["initialized", "completed"] * 3 + ["completed"]
    rows = statements()
    for statement in rows:
        validate(statement)
    progressed = rows[2]
    assert progressed["result"] == {"duration": "PT1M30S", "extensions": {PROGRESS_EXTENSION: 0}}
    assert (
        progressed["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/lesson"
    )
    parent = progressed["context"]["contextActivities"]["parent"]
    assert parent[0]["id"].endswith(f"/testapp.course/{course_tree.course.pk}")
    assert rows[3]["result"] == {"completion": True, "duration": "PT1M30S"}
    course_done = rows[-1]
    assert course_done["object"]["definition"]["type"].endswith("/activities/course")
    assert course_done["result"] == {"completion": True, "duration": "PT1M30S"}
    assert "contextActivities" not in course_done["context"]


def test_progress_extension_counts_completed_tasks(
    xapi: None, learner: Any, course_tree: CourseTree
) -> None:
    services.enroll(learner, course_tree.course)
    services.complete_task(learner, course_tree.lessons[0])
    services.add_time_spent(learner, course_tree.lessons[1], 5)
    progressed = statements()[-1]
    assert progressed["verb"]["id"] == VERB["progressed"]
    assert progressed["result"]["extensions"][PROGRESS_EXTENSION] == 25  # 1 of 4 lessons


def test_quiz_events(xapi: None, learner: Any) -> None:
    course_tree = build_course(pass_mark=Decimal(80))
    services.enroll(learner, course_tree.course)
    quiz, questions = course_tree.quizzes[0], course_tree.questions
    attempt = services.start_attempt(learner, quiz)
    services.start_attempt(learner, quiz)  # returns the open attempt: nothing recorded
    services.answer_questions(
        learner, attempt, [(questions[0], questions[0].answer, 12), (questions[1], "wrong", 0)]
    )
    services.submit_attempt(learner, attempt)
    services.submit_attempt(learner, attempt)
    assert verbs(1) == ["attempted", "answered", "answered", "failed"]
    rows = statements()[1:]
    for statement in rows:
        validate(statement)
    attempted, graded = rows[0], rows[3]
    # The answers of one call share their timestamp: find the first question's.
    (answered,) = [
        s for s in rows[1:3] if s["object"]["id"].endswith(f"question/{questions[0].pk}")
    ]
    assert attempted["object"]["definition"]["type"].endswith("/activities/assessment")
    grouping = attempted["context"]["contextActivities"]["grouping"]
    assert grouping[0]["definition"]["type"].endswith("/activities/attempt")
    assert answered["object"]["definition"]["type"].endswith("/activities/cmi.interaction")
    assert answered["object"]["id"].endswith(f"/testapp.question/{questions[0].pk}")
    assert answered["result"] == {"duration": "PT12S"}
    assert [
        a["definition"]["type"][-10:] for a in answered["context"]["contextActivities"]["grouping"]
    ] == [
        "assessment",
        "es/attempt",
    ]
    attempt.refresh_from_db()
    score = graded["result"]["score"]
    assert score == {
        "raw": float(attempt.score),
        "min": 0.0,
        "max": float(attempt.max_score),
        "scaled": pytest.approx(float(attempt.score / attempt.max_score)),
    }
    assert 0 <= score["scaled"] <= 1
    assert graded["result"]["success"] is False and graded["result"]["completion"] is True
    assert graded["result"]["duration"] == duration(attempt.time_taken)

    second = services.start_attempt(learner, quiz)
    services.answer_questions(learner, second, [(q, q.answer, 1) for q in questions])
    services.submit_attempt(learner, second)
    assert verbs(-5) == ["attempted", "answered", "answered", "answered", "passed"]
    passed = statements()[-1]
    validate(passed)
    assert passed["result"]["score"]["scaled"] == 1.0 and passed["result"]["success"] is True


def test_abandoned_attempt_is_terminated(xapi: None, learner: Any, course_tree: CourseTree) -> None:
    services.enroll(learner, course_tree.course)
    attempt = services.start_attempt(learner, course_tree.quizzes[0])
    services.abandon_attempt(learner, attempt)
    services.abandon_attempt(learner, attempt)
    assert verbs(1) == ["attempted", "terminated"]
    terminated = statements()[-1]
    validate(terminated)
    assert terminated["result"]["completion"] is False


def test_a_rolled_back_change_leaves_no_statement(
    xapi: None, learner: Any, course_tree: CourseTree
) -> None:
    services.enroll(learner, course_tree.course)
    before = XapiStatement.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.start_task(learner, course_tree.lessons[0])
        services.add_time_spent(learner, course_tree.lessons[0], 30)
        raise RuntimeError("the request failed later")
    assert XapiStatement.objects.count() == before
    # A service that refuses: nothing either.
    attempt = services.start_attempt(learner, course_tree.quizzes[0])
    count = XapiStatement.objects.count()
    with pytest.raises(ValidationError):
        services.answer_questions(
            learner,
            attempt,
            [(course_tree.questions[0], "a0", 1), (course_tree.questions[1], {"x": 1}, -1)],
        )
    assert XapiStatement.objects.count() == count


def test_a_failing_outbox_write_rolls_the_change_back(
    xapi: None, learner: Any, course_tree: CourseTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django_learning_progress.xapi import handlers

    def broken(*args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("cannot build")

    monkeypatch.setattr(handlers, "build_statements", broken)
    with pytest.raises(RuntimeError):
        services.enroll(learner, course_tree.course)
    assert not helpers.get_enrolled_courses(learner).exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_always_leaves_its_statement(
    xapi: None, learner: Any, course_tree: CourseTree
) -> None:
    services.enroll(learner, course_tree.course)
    lesson = course_tree.lessons[0]
    services.start_task(learner, lesson)
    services.add_time_spent(learner, lesson, 30)  # the one-UPDATE heartbeat path
    services.add_time_spent(learner, lesson, 30)
    assert verbs() == ["registered", "initialized", "progressed", "progressed"]
    with pytest.raises(RuntimeError), transaction.atomic():
        services.add_time_spent(learner, lesson, 30)
        raise RuntimeError
    assert XapiStatement.objects.count() == 4


def test_statement_ids_are_uuids_and_registration_is_per_enrollment(
    xapi: None, make_user: Any, course_tree: CourseTree
) -> None:
    ada, bob = make_user(), make_user()
    for user in (ada, bob):
        services.enroll(user, course_tree.course)
        services.start_task(user, course_tree.lessons[0])
    rows = statements()
    for statement in rows:
        assert uuid.UUID(statement["id"]).version == 5
    regs = [s["context"]["registration"] for s in rows]
    assert regs[0] == regs[1] != regs[2] == regs[3]


def test_hooks_for_actor_and_activity_ids(learner: Any, course_tree: CourseTree) -> None:
    options = learning_progress(
        ACTOR=lambda user: {"objectType": "Agent", "mbox": f"mailto:u{user.pk}@example.com"},
        ACTIVITY_ID=lambda obj: f"urn:lms:{obj._meta.model_name}:{obj.pk}",
        PLATFORM="",
    )
    with override_settings(LEARNING_PROGRESS=options):
        services.enroll(learner, course_tree.course)
    (statement,) = statements()
    validate(statement)
    assert statement["actor"]["mbox"] == f"mailto:u{learner.pk}@example.com"
    assert statement["object"]["id"] == f"urn:lms:course:{course_tree.course.pk}"
    assert "platform" not in statement["context"]


def test_durations() -> None:
    assert [duration(s) for s in (0, 5, 60, 3725, None)] == [
        "PT0S",
        "PT5S",
        "PT1M",
        "PT1H2M5S",
        "PT0S",
    ]


def _count(action: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"].upper()])


def test_queries_with_the_records_on(learner: Any, course_tree: CourseTree) -> None:
    """The heartbeat gains the course progress read and one INSERT; nothing more."""
    lesson = course_tree.lessons[0]
    services.enroll(learner, course_tree.course)
    services.start_task(learner, lesson)
    off = _count(lambda: services.add_time_spent(learner, lesson, 30))
    with override_settings(LEARNING_PROGRESS=learning_progress()):
        on = _count(lambda: services.add_time_spent(learner, lesson, 30))
        zero = _count(lambda: services.add_time_spent(learner, lesson, 0))
    assert on == off + 2
    assert zero == off


def test_system_checks() -> None:
    from django.conf import settings

    from django_learning_progress.xapi.checks import check_xapi_settings

    def ids(xapi: Any) -> list[str]:
        with override_settings(LEARNING_PROGRESS={**settings.LEARNING_PROGRESS, "XAPI": xapi}):
            return [message.id for message in check_xapi_settings()]

    assert ids({}) == []
    assert ids("on") == ["learning_progress_xapi.E001"]
    assert ids({"ENABLED": True}) == [
        "learning_progress_xapi.E002",
        "learning_progress_xapi.W001",
    ]
    assert (
        ids({"ENABLED": True, "BASE_IRI": "https://lms.example.com", "ENDPOINT": "http://lrs"})
        == []
    )


def test_the_core_checks_know_the_xapi_key() -> None:
    from django_learning_progress.checks import check_settings

    with override_settings(LEARNING_PROGRESS=learning_progress(ENDPOINT="http://lrs")):
        assert [m.id for m in check_settings() if m.id == "learning_progress.W001"] == []


def test_instructor_decisions_and_resets(xapi: None, learner: Any, course_tree: CourseTree) -> None:
    enrollment = services.enroll(learner, course_tree.course)
    services.complete_task(learner, course_tree.lessons[0])
    before = verbs()
    services.reset_task(learner, course_tree.lessons[0])  # no verb for a reset
    assert verbs() == before
    services.complete_enrollment(enrollment)
    services.complete_enrollment(enrollment)
    assert verbs(len(before)) == ["completed"]
    completed = statements()[-1]
    validate(completed)
    assert completed["object"]["definition"]["type"].endswith("/activities/course")
    services.reopen_enrollment(enrollment)  # no verb for a reopened course
    services.update_enrollment_settings(enrollment, {"theme": "dark"})  # nor for settings
    assert verbs(len(before)) == ["completed"]


def test_auto_enroll_records_the_enrollment_first(learner: Any, course_tree: CourseTree) -> None:
    options = learning_progress()
    options["AUTO_ENROLL"] = True
    with override_settings(LEARNING_PROGRESS=options):
        services.start_task(learner, course_tree.lessons[0])
    assert verbs() == ["registered", "initialized"]


def test_manual_grading_and_regrading(xapi: None, learner: Any, make_user: Any) -> None:
    from tests.testapp.models import Question

    tree = build_course("Essays", questions=2, pass_mark=Decimal(80))
    essay = tree.questions[1]
    essay.kind = Question.KIND_ESSAY
    essay.save()
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    services.answer_question(learner, attempt, tree.questions[0], "a0")
    services.answer_question(learner, attempt, essay, "My essay")
    services.submit_attempt(learner, attempt)  # awaits manual grading: no verb yet
    assert verbs(1) == ["attempted", "answered", "answered"]
    response = get_quiz_response_model().objects.get(question=essay)
    grader = make_user(is_staff=True)
    services.grade_response(grader, response, points=Decimal("0.5"))
    services.grade_response(grader, response, points=Decimal("2"))  # the regrade passes
    services.grade_response(grader, response, points=Decimal("2"))  # changes nothing
    assert verbs(4) == ["failed", "passed"]
    failed, passed = statements()[-2:]
    for statement in (failed, passed):
        validate(statement)
    assert failed["result"]["score"] == {"raw": 1.5, "min": 0.0, "max": 3.0, "scaled": 0.5}
    assert passed["result"]["score"]["scaled"] == 1.0
    assert failed["id"] != passed["id"]


@pytest.mark.parametrize(("policy", "verb"), [("abandon", "terminated"), ("submit", "passed")])
def test_overdue_attempts_are_recorded_by_policy(
    policy: str, verb: str, learner: Any, course_tree: CourseTree
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    options = learning_progress()
    options["OVERDUE_ATTEMPT_POLICY"] = policy
    with override_settings(LEARNING_PROGRESS=options):
        services.enroll(learner, course_tree.course)
        attempt = services.start_attempt(learner, course_tree.quizzes[0])
        past = timezone.now() - timedelta(hours=1)
        type(attempt).objects.filter(pk=attempt.pk).update(
            started_at=past - timedelta(minutes=5), deadline_at=past
        )
        assert services.close_overdue_attempts() == 1
    assert verbs(1) == ["attempted", verb]
    validate(statements()[-1])

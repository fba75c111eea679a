"""The learner's writes in a fixed, small number of statements.

Savepoints are left out of the counts: the test's own transaction turns the
services' transactions into savepoints, which a real request does not have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_learning_progress import services
from tests.conftest import build_course

pytestmark = pytest.mark.django_db


def statements(action: Callable[[], Any]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        action()
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"].upper()]


@pytest.fixture
def world(make_user: Any) -> dict[str, Any]:
    tree = build_course(questions=20)
    learner = make_user()
    services.enroll(learner, tree.course)
    return {"tree": tree, "learner": learner}


def test_recording_time_on_a_started_task_is_one_update(world: dict[str, Any]) -> None:
    learner, lesson = world["learner"], world["tree"].lessons[0]
    services.start_task(learner, lesson)
    sql = statements(lambda: services.add_time_spent(learner, lesson, 30))
    # UPDATE ... RETURNING; on MariaDB, which cannot return from an UPDATE, then a SELECT.
    assert len(sql) == (2 if connection.vendor == "mysql" else 1), sql
    assert sql[0].startswith("UPDATE")
    progress = services.add_time_spent(learner, lesson, 5)
    assert (progress.time_spent, progress.status) == (35, "in_progress")
    assert progress.last_activity_at is not None and progress.started_at is not None
    fresh = type(progress).objects.get(pk=progress.pk)
    assert [getattr(fresh, f.attname) for f in fresh._meta.concrete_fields] == [
        getattr(progress, f.attname) for f in progress._meta.concrete_fields
    ]


def test_recording_time_checks_the_enrollment(world: dict[str, Any]) -> None:
    learner, tree = world["learner"], world["tree"]
    progress = services.start_task(learner, tree.lessons[0])
    services.drop_enrollment(services.enroll(learner, tree.course))
    with pytest.raises(Exception) as excinfo:
        services.add_time_spent(learner, tree.lessons[0], 30)
    assert getattr(excinfo.value, "code", None) == "not_enrolled"
    progress.refresh_from_db()
    assert progress.time_spent == 0


def test_the_heartbeat_endpoint_is_one_statement(world: dict[str, Any], make_user: Any) -> None:
    pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")
    from django.urls import reverse

    APIClient = pytest.importorskip(
        "rest_framework.test", reason="the REST API needs DRF"
    ).APIClient

    learner, tree = world["learner"], world["tree"]
    progress = services.start_task(learner, tree.lessons[0])
    client = APIClient()
    client.force_authenticate(learner)
    url = reverse("learning_progress:task-progress-time", args=[progress.pk])
    sql = statements(lambda: client.post(url, {"seconds": 7}, format="json"))
    assert len(sql) == (2 if connection.vendor == "mysql" else 1), sql
    body = client.post(url, {"seconds": 3}, format="json").json()
    assert (body["id"], body["time_spent"], body["status"]) == (progress.pk, 10, "in_progress")
    # Not the learner's row: nothing changes, 404 as before (their rows only).
    other = APIClient()
    other.force_authenticate(make_user())
    assert other.post(url, {"seconds": 3}, format="json").status_code == 404
    # Not started yet: the full path starts it.
    fresh = services.start_task(learner, tree.lessons[1])
    services.reset_task(learner, tree.lessons[1])
    url = reverse("learning_progress:task-progress-time", args=[fresh.pk])
    body = client.post(url, {"seconds": 4}, format="json").json()
    assert (body["time_spent"], body["status"]) == (4, "in_progress")
    progress.refresh_from_db()
    assert progress.time_spent == 10


def test_record_heartbeat_refuses_what_it_cannot_do_in_one_statement(
    world: dict[str, Any], make_user: Any
) -> None:
    learner, tree = world["learner"], world["tree"]
    progress = services.start_task(learner, tree.lessons[0])
    assert services.record_heartbeat(make_user(), progress.pk, 5) is None
    assert services.record_heartbeat(learner, "2.0", 5) is None
    assert services.record_heartbeat(learner, 2**70, 5) is None
    assert services.record_heartbeat(learner, progress.pk, 5).time_spent == 5
    services.drop_enrollment(services.enroll(learner, tree.course))
    assert services.record_heartbeat(learner, progress.pk, 5) is None
    with pytest.raises(Exception) as excinfo:
        services.record_heartbeat(learner, progress.pk, -1)
    assert getattr(excinfo.value, "code", None) == "negative"
    progress.refresh_from_db()
    assert progress.time_spent == 5


def test_the_first_call_starts_the_task(world: dict[str, Any]) -> None:
    learner, lesson = world["learner"], world["tree"].lessons[0]
    progress = services.add_time_spent(learner, lesson, 30)
    assert (progress.status, progress.time_spent) == ("in_progress", 30)
    assert len(statements(lambda: services.add_time_spent(learner, lesson, 5))) <= 2


def test_starting_and_completing_a_task_take_a_fixed_number_of_statements(
    world: dict[str, Any],
) -> None:
    learner, lessons = world["learner"], world["tree"].lessons
    start = statements(lambda: services.start_task(learner, lessons[0]))
    assert len(start) <= 5, start
    assert len(statements(lambda: services.start_task(learner, lessons[0]))) <= 3
    complete = statements(lambda: services.complete_task(learner, lessons[0]))
    assert len(complete) <= 6, complete
    # Not started yet: the row is created and started first.
    assert len(statements(lambda: services.complete_task(learner, lessons[1]))) <= 8


def test_submitting_takes_fewer_statements_than_one_per_question(world: dict[str, Any]) -> None:
    learner, tree = world["learner"], world["tree"]
    attempt = services.start_attempt(learner, tree.quizzes[0])
    services.answer_questions(learner, attempt, [(q, q.answer, 1) for q in tree.questions])
    sql = statements(lambda: services.submit_attempt(learner, attempt))
    # Naive code issues one UPDATE per response (24 statements for 20 questions).
    assert len(sql) <= 8, sql


def test_record_heartbeat_sends_time_recorded(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from django_learning_progress import signals

    learner, lesson = world["learner"], world["tree"].lessons[0]
    progress = services.start_task(learner, lesson)
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    signals.time_recorded.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.record_heartbeat(learner, progress.pk, 12)
            services.record_heartbeat(learner, progress.pk, 0)  # nothing recorded
    finally:
        signals.time_recorded.disconnect(receiver)
    assert [(r["seconds"], r["user"], r["progress"].pk) for r in received] == [
        (12, learner, progress.pk)
    ]

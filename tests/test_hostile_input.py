"""Hostile input: every request gets a 4xx with a field error and leaves every table as it was.

Runs on each database of the matrix (SQLite, PostgreSQL, MariaDB).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")

from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from django_learning_progress import services
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from django_learning_progress.validation import check_json
from tests.conftest import build_course, progress_tables

pytestmark = pytest.mark.django_db

INT32_MAX = 2**31 - 1


def url(name: str, *args: Any) -> str:
    return reverse(f"learning_progress:{name}", args=args)


def nested(levels: int, leaf: str = "1", *, key: str | None = None) -> str:
    """JSON text of ``levels`` nested arrays (or objects with ``key``) around ``leaf``."""
    if key is None:
        return "[" * levels + leaf + "]" * levels
    return f'{{"{key}":' * levels + leaf + "}" * levels


@pytest.fixture
def world(make_user: Any) -> dict[str, Any]:
    learner = make_user(username="alice")
    tree = build_course()
    other = build_course("Other")
    enrollment = services.enroll(learner, tree.course)
    progress = services.start_task(learner, tree.lessons[0])
    attempt = services.start_attempt(learner, tree.quizzes[0])
    client = APIClient()
    client.force_authenticate(learner)
    return {
        "learner": learner,
        "tree": tree,
        "other": other,
        "enrollment": enrollment,
        "progress": progress,
        "attempt": attempt,
        "client": client,
    }


def send(world: dict[str, Any], method: str, path: str, text: str) -> Any:
    before = progress_tables()
    response = getattr(world["client"], method)(path, text, content_type="application/json")
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert progress_tables() == before
    return response


def item_errors(errors: Any, index: int) -> Any:
    """The errors of item ``index`` of a list body (DRF lists them, or keys them by index)."""
    return errors[index] if isinstance(errors, list) else errors[str(index)]


def write_endpoints(world: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, the body field that holds a value) of each write a learner makes."""
    return [
        ("post", url("enrollment-list"), "course"),
        ("patch", url("enrollment-detail", world["enrollment"].pk), "settings"),
        ("post", url("task-progress-list"), "task"),
        ("post", url("task-progress-time", world["progress"].pk), "seconds"),
        ("post", url("quiz-attempt-list"), "quiz"),
        ("post", url("quiz-attempt-responses", world["attempt"].pk), "response"),
    ]


def test_bodies_nested_past_the_parser_limit_are_400(world: dict[str, Any]) -> None:
    for method, path, _field in write_endpoints(world):
        for text in (nested(950), nested(5000), nested(950, key="a")):
            response = send(world, method, path, text)
            assert response.status_code == 400
            assert "nested" in response.content.decode()


@pytest.mark.parametrize("levels", [32, 33, 320])
def test_deep_settings_and_responses_are_field_errors(world: dict[str, Any], levels: int) -> None:
    value = nested(levels - 1, "{}", key="k")  # objects `levels` deep
    question = world["tree"].questions[0].pk
    for method, path, field, body in [
        (
            "patch",
            url("enrollment-detail", world["enrollment"].pk),
            "settings",
            f'{{"settings": {value}}}',
        ),
        (
            "post",
            url("quiz-attempt-responses", world["attempt"].pk),
            "response",
            f'{{"question": {question}, "response": {value}}}',
        ),
    ]:
        response = send(world, method, path, body)
        assert field in response.json(), response.json()


def test_the_depth_limit_itself_is_accepted(world: dict[str, Any]) -> None:
    value = json.loads(nested(30, "{}", key="k"))  # 31 objects deep, MariaDB's limit
    response = world["client"].patch(
        url("enrollment-detail", world["enrollment"].pk), {"settings": value}, format="json"
    )
    assert response.status_code == 200, response.content
    assert check_json("settings", value) == value


@pytest.mark.parametrize(
    "text",
    [
        r'"\ud800"',
        r'"\udfff tail"',
        r'{"\ud83d": 1}',
        r'"\u0000"',
        r'{"a\u0000": 1}',
        '"' + "x" * (2 * 1024 * 1024) + '"',
        "1e400",
    ],
    ids=["lone-high", "lone-low", "surrogate-key", "nul", "nul-key", "2MB", "infinity"],
)
def test_unstorable_json_values_are_field_errors(world: dict[str, Any], text: str) -> None:
    question = world["tree"].questions[0].pk
    settings_body = f'{{"settings": {{"a": {text}}}}}'
    response = send(world, "patch", url("enrollment-detail", world["enrollment"].pk), settings_body)
    assert "settings" in response.json(), response.json()
    response_body = f'{{"question": {question}, "response": {text}}}'
    path = url("quiz-attempt-responses", world["attempt"].pk)
    response = send(world, "post", path, response_body)
    assert "response" in response.json(), response.json()
    response = send(world, "post", path, f"[{response_body}]")
    assert "response" in item_errors(response.json(), 0), response.json()


def test_a_paired_surrogate_is_an_ordinary_character(world: dict[str, Any]) -> None:
    response = world["client"].patch(
        url("enrollment-detail", world["enrollment"].pk),
        r'{"settings": {"emoji": "\ud83d\ude00"}}',
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    world["enrollment"].refresh_from_db()
    assert world["enrollment"].settings == {"emoji": "\U0001f600"}


@pytest.mark.parametrize(
    "value",
    [
        "1e400",
        "-1e400",
        "2.9",
        "1.0",
        "true",
        '"\u0661"',  # ARABIC-INDIC DIGIT ONE
        '"1.5"',
        '" 1"',
        str(2**70),
        str(-(2**70)),
        '"99999999999999999999"',
        nested(30),
        '{"id": 1}',
        "null",
    ],
)
def test_ids_must_be_whole_numbers_in_range(world: dict[str, Any], value: str) -> None:
    attempt_path = url("quiz-attempt-responses", world["attempt"].pk)
    for method, path, field, body in [
        ("post", url("enrollment-list"), "course", f'{{"course": {value}}}'),
        ("post", url("task-progress-list"), "task", f'{{"task": {value}}}'),
        ("post", url("quiz-attempt-list"), "quiz", f'{{"quiz": {value}}}'),
        ("post", attempt_path, "question", f'{{"question": {value}, "response": "a0"}}'),
    ]:
        response = send(world, method, path, body)
        assert response.status_code == 400
        assert field in response.json(), (field, response.json())


@pytest.mark.parametrize("value", ["2.0", "1e1", "true", '"\u0661\u0662"', str(2**64), '"5.5"'])
def test_seconds_must_be_whole_numbers(world: dict[str, Any], value: str) -> None:
    response = send(
        world, "post", url("task-progress-time", world["progress"].pk), f'{{"seconds": {value}}}'
    )
    assert "seconds" in response.json()
    question = world["tree"].questions[0].pk
    response = send(
        world,
        "post",
        url("quiz-attempt-responses", world["attempt"].pk),
        f'{{"question": {question}, "response": "a0", "time_spent": {value}}}',
    )
    assert "time_spent" in response.json()


def test_float_ids_never_pick_a_row(world: dict[str, Any]) -> None:
    other = world["other"]
    body = f'{{"course": {other.course.pk}.9}}'
    send(world, "post", url("enrollment-list"), body)
    assert not get_enrollment_model().objects.filter(course=other.course).exists()
    question = world["tree"].questions[1].pk
    body = f'{{"question": {question}.5, "response": "a0"}}'
    send(world, "post", url("quiz-attempt-responses", world["attempt"].pk), body)


@pytest.mark.parametrize("value", ["\u0661", "1.0", "1e400", "99999999999999999999999", "-1"])
def test_url_ids_must_be_whole_numbers(world: dict[str, Any], value: str) -> None:
    client = world["client"]
    for path in [
        f"/api/progress/enrollments/{value}/",
        f"/api/progress/task-progress/{value}/time/",
        f"/api/progress/courses/{value}/progress/",
        f"/api/progress/quizzes/{value}/analytics/",
        f"/api/progress/enrollments/?course={value}",
    ]:
        response = client.get(path) if "time" not in path else client.post(path, {"seconds": 1})
        assert response.status_code in (400, 404), (path, response.status_code)


def test_time_totals_do_not_overflow_32_bits(world: dict[str, Any]) -> None:
    learner, progress, attempt = world["learner"], world["progress"], world["attempt"]
    get_task_progress_model().objects.filter(pk=progress.pk).update(time_spent=INT32_MAX)
    response = world["client"].post(
        url("task-progress-time", progress.pk), {"seconds": 3600}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["time_spent"] == INT32_MAX + 3600
    question = world["tree"].questions[0]
    row = services.answer_question(learner, attempt, question, "a0", time_spent=1)
    get_quiz_response_model().objects.filter(pk=row.pk).update(time_spent=INT32_MAX)
    row = services.answer_question(learner, attempt, question, "a0", time_spent=3600)
    assert row.time_spent == INT32_MAX + 3600
    row.refresh_from_db()
    assert row.time_spent == INT32_MAX + 3600


# -- self-grading ----------------------------------------------------------------------


@pytest.fixture
def own_response(make_user: Any) -> dict[str, Any]:
    """An instructor enrolled as a learner in their own course, with a submitted answer."""
    teacher = make_user(username="teacher", is_staff=True)
    tree = build_course("Own", questions=1)
    tree.course.instructors.add(teacher)
    services.enroll(teacher, tree.course)
    attempt = services.start_attempt(teacher, tree.quizzes[0])
    response = services.answer_question(teacher, attempt, tree.questions[0], "wrong")
    services.submit_attempt(teacher, attempt)
    return {"teacher": teacher, "response": response, "tree": tree}


def test_nobody_grades_their_own_attempt(own_response: dict[str, Any]) -> None:
    teacher, response = own_response["teacher"], own_response["response"]
    before = progress_tables()
    with pytest.raises(PermissionDenied):
        services.grade_response(teacher, response, points=1)
    assert progress_tables() == before
    client = APIClient()
    client.force_authenticate(teacher)
    answer = client.post(url("quiz-response-grade", response.pk), {"points": 1}, format="json")
    assert answer.status_code == 403, answer.content
    assert progress_tables() == before


def test_self_grading_when_the_host_allows_it(own_response: dict[str, Any]) -> None:
    with override_settings(
        LEARNING_PROGRESS={
            "CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter",
            "INSTRUCTOR_CHECK": "tests.testapp.access.teaches",
            "ALLOW_SELF_GRADING": True,
        }
    ):
        graded = services.grade_response(
            own_response["teacher"], own_response["response"], points=1
        )
    assert graded.points_awarded == Decimal(1)


# -- the services refuse the same values ----------------------------------------------------


def test_services_refuse_unstorable_json(world: dict[str, Any]) -> None:
    learner, enrollment, attempt = world["learner"], world["enrollment"], world["attempt"]
    question = world["tree"].questions[0]
    deep: Any = 1
    for _ in range(5000):  # deeper than any recursive walk could go
        deep = [deep]
    before = progress_tables()
    for value, code in [
        (deep, "too_deep"),
        ("\ud800", "invalid"),
        ({"\udc00": 1}, "invalid"),
        ("a\x00b", "invalid"),
        ("x" * 70_000, "too_large"),
        (float("inf"), "invalid"),
        ({1, 2}, "invalid"),
    ]:
        with pytest.raises(ValidationError) as excinfo:
            services.update_enrollment_settings(enrollment, {"v": value})
        assert excinfo.value.code == code
        with pytest.raises(ValidationError) as excinfo:
            services.answer_question(learner, attempt, question, value)
        assert excinfo.value.code == code
        assert "response" in excinfo.value.message_dict
    assert progress_tables() == before


def test_json_limits_follow_the_settings(world: dict[str, Any]) -> None:
    options = {
        "CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter",
        "MAX_JSON_DEPTH": 2,
        "MAX_JSON_BYTES": 10,
    }
    with override_settings(LEARNING_PROGRESS=options):
        assert check_json("v", [[1]]) == [[1]]
        with pytest.raises(ValidationError):
            check_json("v", [[[1]]])
        assert check_json("v", "12345678") == "12345678"  # 10 bytes with the quotes
        with pytest.raises(ValidationError):
            check_json("v", "123456789")

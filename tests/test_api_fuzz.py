"""Malformed bodies sent to every write endpoint: never a 500, nothing changes on a 4xx."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")

from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from django_learning_progress import services
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.conftest import build_course

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "course",
    "task",
    "quiz",
    "question",
    "response",
    "time_spent",
    "seconds",
    "points",
    "is_correct",
    "status",
    "settings",
    "user",
    "score",
]
bodies = (
    json_values
    | st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5)
    | st.lists(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4), max_size=3)
)


class RawBody:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawBody({self.text!r})"


def snapshot() -> list[Any]:
    return [
        sorted(model.objects.values_list())
        for model in (
            get_enrollment_model(),
            get_task_progress_model(),
            get_quiz_attempt_model(),
            get_quiz_response_model(),
        )
    ]


@pytest.fixture
def world(make_user: Any) -> dict[str, Any]:
    learner = make_user(username="fuzzer")
    instructor = make_user(username="teacher", is_staff=True)
    tree = build_course()
    enrollment = services.enroll(learner, tree.course)
    progress = services.start_task(learner, tree.lessons[0])
    attempt = services.start_attempt(learner, tree.quizzes[0])
    essay = build_course("Graded", questions=1)
    services.enroll(learner, essay.course)
    graded = services.start_attempt(learner, essay.quizzes[0])
    response = services.answer_question(learner, graded, essay.questions[0], "a0")
    services.submit_attempt(learner, graded)
    ns = "learning_progress"
    learner_writes = [
        ("post", reverse(f"{ns}:enrollment-list")),
        ("patch", reverse(f"{ns}:enrollment-detail", args=[enrollment.pk])),
        ("put", reverse(f"{ns}:enrollment-detail", args=[enrollment.pk])),
        ("post", reverse(f"{ns}:task-progress-list")),
        ("post", reverse(f"{ns}:task-progress-time", args=[progress.pk])),
        ("post", reverse(f"{ns}:quiz-attempt-list")),
        ("post", reverse(f"{ns}:quiz-attempt-responses", args=[attempt.pk])),
    ]
    instructor_writes = [("post", reverse(f"{ns}:quiz-response-grade", args=[response.pk]))]
    return {
        "learner": learner,
        "instructor": instructor,
        "writes": [(learner, *w) for w in learner_writes]
        + [(instructor, *w) for w in instructor_writes],
    }


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=bodies | st.text(max_size=40).map(RawBody),
    index=st.integers(min_value=0, max_value=7),
)
def test_malformed_bodies(world: dict[str, Any], body: Any, index: int) -> None:
    user, method, path = world["writes"][index]
    client = APIClient()
    client.force_authenticate(user)
    before = snapshot()
    if isinstance(body, RawBody):  # not even JSON, but labelled as JSON
        response = getattr(client, method)(path, body.text, content_type="application/json")
    else:
        response = getattr(client, method)(path, body, format="json")
    assert response.status_code < 500, (path, body, response.content)
    if 400 <= response.status_code < 500:
        assert snapshot() == before, (path, body, response.content)

"""Malformed bodies sent to every write endpoint: never a 500, nothing changes on a 4xx."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")

from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from django_learning_progress import services
from tests.conftest import build_course, progress_tables

pytestmark = pytest.mark.django_db


def deep(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


hostile = st.sampled_from(
    [
        "\ud800",  # lone surrogates
        "x\udfffy",
        "a\x00b",  # NUL
        10**400,
        -(2**63),
        2**64,
        "\u0661\u0662",  # Arabic-Indic digits
        "x" * (2 * 1024 * 1024),  # 2 MB
        float("inf"),
    ]
) | st.integers(min_value=30, max_value=600).map(deep)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | hostile,
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


RAW_BODIES = [
    "[" * 950 + "]" * 950,
    '{"a":' * 2000 + "1" + "}" * 2000,
    '{"course": 1e400}',
    '{"course": -1e400}',
    '{"task": 2.9}',
    '{"quiz": 1.5}',
    '{"question": 1.5, "response": "a0"}',
    '{"seconds": 1e400}',
    '{"settings": {"a": "\\ud800"}}',
    '{"response": "\\udc00", "question": 1}',
]


class RawBody:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawBody({self.text!r})"


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
    body=bodies | st.text(max_size=40).map(RawBody) | st.sampled_from(RAW_BODIES).map(RawBody),
    index=st.integers(min_value=0, max_value=7),
)
def test_malformed_bodies(world: dict[str, Any], body: Any, index: int) -> None:
    user, method, path = world["writes"][index]
    client = APIClient()
    client.force_authenticate(user)
    before = progress_tables()
    # As text: json.dumps escapes lone surrogates and writes NaN and Infinity,
    # which a JSON renderer would refuse to send.
    text = body.text if isinstance(body, RawBody) else json.dumps(body)
    response = getattr(client, method)(path, text, content_type="application/json")
    assert response.status_code < 500, (path, body, response.content)
    if 400 <= response.status_code < 500:
        assert progress_tables() == before, (path, body, response.content)

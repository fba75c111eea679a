"""REST API: ``quiz-overrides/`` and ``quizzes/{id}/regrade/``."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from django_learning_progress import services
from django_learning_progress.models import get_quiz_attempt_model, get_quiz_override_model
from tests.conftest import CourseTree, build_course

pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LIST = reverse("learning_progress:quiz-override-list")


def detail(pk: Any) -> str:
    return reverse("learning_progress:quiz-override-detail", args=[pk])


@pytest.fixture
def world(make_user: Any) -> dict[str, Any]:
    ours = build_course("Ours", modules=1, max_attempts=1, time_limit=30, pass_mark=Decimal(50))
    theirs = build_course("Theirs", modules=1, max_attempts=1)
    people = {
        "learner": make_user(username="lea"),
        "ines": make_user(username="ines"),
        "otto": make_user(username="otto"),
        "staff": make_user(username="staff", is_staff=True),
    }
    ours.course.instructors.add(people["ines"])
    theirs.course.instructors.add(people["otto"])
    services.enroll(people["learner"], ours.course)
    services.enroll(people["learner"], theirs.course)
    return {"ours": ours, "theirs": theirs, **people}


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(tree: CourseTree, user: Any, **values: Any) -> dict[str, Any]:
    return {"user": user.pk, "quiz": tree.quizzes[0].pk, **values}


def test_an_instructor_creates_replaces_and_removes_an_override(world: dict[str, Any]) -> None:
    ines, learner, ours = world["ines"], world["learner"], world["ours"]
    client = client_for(ines)
    response = client.post(
        LIST, body(ours, learner, extra_attempts=1, extra_time=600, reason="ill"), format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["extra_attempts"], data["extra_time"], data["reason"]) == (1, 600, "ill")
    assert (data["created_by"], data["opens_at"]) == (ines.pk, None)
    # The learner's next attempt has the extra time and the extra attempt.
    attempt = services.start_attempt(learner, ours.quizzes[0])
    assert attempt.deadline_at == attempt.started_at + timedelta(minutes=40)
    # POST again: replaced (200), one row.
    response = client.post(LIST, body(ours, learner, extra_time=1200), format="json")
    assert response.status_code == 200
    assert (response.json()["extra_attempts"], response.json()["extra_time"]) == (0, 1200)
    attempt.refresh_from_db()
    assert attempt.deadline_at == attempt.started_at + timedelta(minutes=50)  # extended
    pk = response.json()["id"]
    assert get_quiz_override_model().objects.count() == 1
    # PATCH keeps what it does not name; PUT replaces everything.
    response = client.patch(detail(pk), {"extra_attempts": 2}, format="json")
    assert response.status_code == 200
    assert (response.json()["extra_attempts"], response.json()["extra_time"]) == (2, 1200)
    response = client.put(detail(pk), {"reason": "again"}, format="json")
    assert response.status_code == 200
    assert (response.json()["extra_attempts"], response.json()["extra_time"]) == (0, 0)
    attempt.refresh_from_db()
    assert attempt.deadline_at == attempt.started_at + timedelta(minutes=50)  # never shortened
    assert client.delete(detail(pk)).status_code == 204
    assert not get_quiz_override_model().objects.exists()
    assert client.get(detail(pk)).status_code == 404


def test_lists_for_the_courses_one_teaches(world: dict[str, Any]) -> None:
    ines, otto, learner = world["ines"], world["otto"], world["learner"]
    ours, theirs = world["ours"], world["theirs"]
    mine = services.set_quiz_override(ours.quizzes[0], learner, by=ines, extra_attempts=1)
    other = services.set_quiz_override(theirs.quizzes[0], learner, by=otto, extra_attempts=1)

    def ids(client: APIClient, query: dict[str, Any]) -> list[int]:
        response = client.get(LIST, query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    ines_client = client_for(ines)
    assert ids(ines_client, {"course": ours.course.pk}) == [mine.pk]
    assert ids(ines_client, {"quiz": ours.quizzes[0].pk}) == [mine.pk]
    assert ids(ines_client, {"course": ours.course.pk, "user": learner.pk}) == [mine.pk]
    assert ids(ines_client, {"course": theirs.course.pk}) == []  # not hers: her own rows
    assert ids(ines_client, {}) == []
    # The learner sees their own accommodations, and may read each.
    learner_client = client_for(learner)
    assert sorted(ids(learner_client, {})) == sorted([mine.pk, other.pk])
    assert learner_client.get(detail(mine.pk)).status_code == 200
    assert sorted(ids(client_for(world["staff"]), {"user": learner.pk})) == sorted(
        [mine.pk, other.pk]
    )
    # Instructors reach only their own courses' overrides by id.
    assert ines_client.get(detail(other.pk)).status_code == 404
    assert ines_client.patch(detail(other.pk), {"extra_attempts": 5}).status_code == 404
    assert ines_client.delete(detail(other.pk)).status_code == 404


def test_learners_and_other_instructors_cannot_write(world: dict[str, Any]) -> None:
    ines, otto, learner, ours = world["ines"], world["otto"], world["learner"], world["ours"]
    override = services.set_quiz_override(ours.quizzes[0], learner, by=ines, extra_attempts=1)
    learner_client = client_for(learner)
    assert learner_client.post(LIST, body(ours, learner, extra_attempts=9)).status_code == 403
    assert learner_client.patch(detail(override.pk), {"extra_attempts": 9}).status_code == 403
    assert learner_client.put(detail(override.pk), {"extra_attempts": 9}).status_code == 403
    assert learner_client.delete(detail(override.pk)).status_code == 403
    assert client_for(otto).post(LIST, body(ours, learner, extra_attempts=9)).status_code == 403
    override.refresh_from_db()
    assert override.extra_attempts == 1
    anonymous = APIClient()
    assert anonymous.get(LIST).status_code in (401, 403)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"extra_attempts": -1}, "extra_attempts"),
        ({"extra_attempts": 1.5}, "extra_attempts"),
        ({"extra_attempts": "\u0661"}, "extra_attempts"),
        ({"extra_time": -5}, "extra_time"),
        ({"extra_time": 10**12}, "extra_time"),
        ({"extra_time": "PT1H"}, "extra_time"),
        ({"opens_at": "2030-01-02T00:00:00Z", "closes_at": "2030-01-01T00:00:00Z"}, "closes_at"),
        ({"opens_at": "0001-01-01T00:00:00Z"}, "opens_at"),
        ({"closes_at": "soon"}, "closes_at"),
        ({"reason": "a\x00b"}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"quiz": "1.0"}, "quiz"),
        ({"quiz": 2**70}, "quiz"),
        ({"user": "abc"}, "user"),
        ({"user": 99999}, "user"),
    ],
)
def test_hostile_values_are_field_errors(
    world: dict[str, Any], values: dict[str, Any], field: str
) -> None:
    response = client_for(world["ines"]).post(
        LIST, {**body(world["ours"], world["learner"]), **values}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not get_quiz_override_model().objects.exists()


@pytest.mark.parametrize("query", [{"quiz": "1.5"}, {"user": "x"}, {"course": "99999"}])
def test_hostile_filters_are_400(world: dict[str, Any], query: dict[str, str]) -> None:
    assert client_for(world["ines"]).get(LIST, query).status_code == 400


def test_hostile_ids_in_the_path_are_404(world: dict[str, Any]) -> None:
    client = client_for(world["ines"])
    for key in ("1.5", "\u0661", str(2**70)):
        assert client.get(f"/api/progress/quiz-overrides/{key}/").status_code == 404


def _regrade_url(quiz: Any) -> str:
    return reverse("learning_progress:quiz-regrade", args=[getattr(quiz, "pk", quiz)])


def test_the_regrade_endpoint(world: dict[str, Any]) -> None:
    ines, learner, ours = world["ines"], world["learner"], world["ours"]
    quiz = ours.quizzes[0]
    attempt = services.start_attempt(learner, quiz)
    for question in ours.questions:
        services.answer_question(learner, attempt, question, question.answer)
    services.submit_attempt(learner, attempt)
    question = ours.questions[2]
    question.answer = "changed"
    question.save()
    client = client_for(ines)
    response = client.post(_regrade_url(quiz), {"dry_run": True}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["dry_run"], data["attempts_checked"], data["attempts_changed"]) == (True, 1, 1)
    (change,) = data["changed"]
    assert (change["attempt"], change["score_before"], change["score_after"]) == (
        attempt.pk,
        "6.000",
        "3.000",
    )
    assert (change["passed_before"], change["passed_after"]) == (True, True)
    assert get_quiz_attempt_model().objects.get(pk=attempt.pk).regraded_at is None
    response = client.post(_regrade_url(quiz), {}, format="json")
    assert response.status_code == 200 and response.json()["dry_run"] is False
    regraded = get_quiz_attempt_model().objects.get(pk=attempt.pk)
    assert (regraded.score, regraded.score_before_regrade) == (Decimal(3), Decimal(6))


def test_only_instructors_of_the_course_regrade(world: dict[str, Any]) -> None:
    quiz = world["ours"].quizzes[0]
    assert client_for(world["learner"]).post(_regrade_url(quiz)).status_code == 403
    assert client_for(world["otto"]).post(_regrade_url(quiz)).status_code == 403
    assert client_for(world["staff"]).post(_regrade_url(quiz)).status_code == 200
    assert client_for(world["ines"]).post(_regrade_url(99999)).status_code == 404
    assert client_for(world["ines"]).post("/api/progress/quizzes/1.5/regrade/").status_code == 404
    for value in ("maybe", 0, "true", None):
        bad = client_for(world["ines"]).post(_regrade_url(quiz), {"dry_run": value}, format="json")
        assert bad.status_code == 400 and "dry_run" in bad.json(), value
    # A form body (the browsable API's form) is read as DRF reads it.
    form = client_for(world["ines"]).post(_regrade_url(quiz), {"dry_run": "true"})
    assert form.status_code == 200 and form.json()["dry_run"] is True

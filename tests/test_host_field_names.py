"""A host whose content models have fields named like every figure the app computes.

The test host's Course, Lesson and Quiz carry ``status``, ``percentage``,
``tasks_total``, ``time_spent``, ``next_task_id``, ``grade_highest``... (see
``tests/testapp/models.py``) with values no figure has. Every read must give
the learner's figures, never the host's fields, and never fail on the names.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from django_learning_progress import analytics, helpers, services
from django_learning_progress.admin import report_url
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.conftest import build_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user: Any) -> dict[str, Any]:
    tree = build_course(pass_mark=50)
    course = tree.course
    course.status = "archived"
    course.next_task = tree.lessons[-1]
    course.save()
    learner = make_user(username="ada")
    services.enroll(learner, course)
    services.complete_task(learner, tree.lessons[0])
    services.add_time_spent(learner, tree.lessons[1], 30)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    for question in tree.questions:
        services.answer_question(learner, attempt, question, question.answer)
    services.submit_attempt(learner, attempt)
    return {"tree": tree, "learner": learner}


def test_helpers_and_mixin_read_the_learners_figures(world: dict[str, Any]) -> None:
    tree, learner = world["tree"], world["learner"]
    progress = helpers.get_course_progress(learner, tree.course)
    assert progress.status == "active"
    assert (progress.tasks_total, progress.tasks_completed, progress.tasks_in_progress) == (4, 1, 1)
    assert progress.percentage == 25.0
    assert progress.time_spent == 30
    assert progress.next_task_id == tree.lessons[1].pk
    assert (progress.quizzes_total, progress.quizzes_passed) == (1, 1)
    assert helpers.calculate_progress_percentage(learner, tree.course) == 25.0
    assert helpers.get_progress_stats(learner, tree.course)["completed"] == 1
    assert helpers.get_quiz_grade(learner, tree.quizzes[0]) == 100
    assert learner.get_course_progress(tree.course).percentage == 25.0
    assert learner.calculate_progress_percentage(tree.course) == 25.0
    ((quiz, grade, passed),) = helpers.quiz_results(learner, tree.course.quizzes.all())
    assert (grade, passed) == (100, True)
    assert quiz.grade_highest == -7.0 and quiz.lp_grade_highest == "the host's"
    assert helpers.course_figures(learner, tree.course, "status") == {"status": "active"}


def test_rosters_and_analytics(world: dict[str, Any]) -> None:
    tree = world["tree"]
    (row,) = helpers.course_roster(tree.course)
    assert (row.tasks_completed, row.percentage, row.time_spent) == (1, 25.0, 30)
    assert analytics.course_analytics(tree.course)["enrolled"] == 1
    assert analytics.quiz_analytics(tree.quizzes[0])["attempts"] == 1


def test_api(world: dict[str, Any], make_user: Any) -> None:
    pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")
    from rest_framework.test import APIClient

    tree, learner = world["tree"], world["learner"]
    client = APIClient()
    client.force_authenticate(learner)
    (enrollment,) = client.get(reverse("learning_progress:enrollment-list")).json()["results"]
    data = client.get(
        reverse("learning_progress:enrollment-progress", args=[enrollment["id"]])
    ).json()
    assert (data["status"], data["percentage"], data["next_task"]) == (
        "active",
        25.0,
        tree.lessons[1].pk,
    )
    (mine,) = client.get(reverse("learning_progress:me-progress")).json()["results"]
    assert (mine["status"], mine["percentage"], mine["time_spent"]) == ("active", 25.0, 30)
    teacher = make_user(username="teacher")
    tree.course.instructors.add(teacher)
    client.force_authenticate(teacher)
    (row,) = client.get(reverse("learning_progress:course-progress", args=[tree.course.pk])).json()[
        "results"
    ]
    assert (row["status"], row["percentage"], row["tasks_total"]) == ("active", 25.0, 4)


def test_admin(world: dict[str, Any], admin_client: Any) -> None:
    tree = world["tree"]
    page = admin_client.get(report_url(tree.course))
    assert page.status_code == 200
    for loader in (
        get_enrollment_model,
        get_task_progress_model,
        get_quiz_attempt_model,
        get_quiz_response_model,
    ):
        opts = loader()._meta
        listing = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert listing.status_code == 200, opts.label

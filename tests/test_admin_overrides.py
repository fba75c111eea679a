"""The admin of quiz overrides, and a learner's overrides on their enrollment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from django_learning_progress import services
from django_learning_progress.models import get_enrollment_model, get_quiz_override_model
from tests.conftest import build_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_user: Any, client: Any) -> dict[str, Any]:
    tree = build_course(modules=1, max_attempts=1, time_limit=30)
    admin_user = make_user(username="root", is_staff=True, is_superuser=True)
    learner = make_user(username="lea")
    services.enroll(learner, tree.course)
    override = services.set_quiz_override(
        tree.quizzes[0], learner, by=admin_user, extra_attempts=1, extra_time=timedelta(minutes=10)
    )
    client.force_login(admin_user)
    return {"tree": tree, "learner": learner, "override": override, "client": client}


def test_the_changelist_and_its_filters(setup: dict[str, Any]) -> None:
    url = reverse("admin:learning_progress_quizoverride_changelist")
    client = setup["client"]
    for query in (
        "",
        "?changes=attempts",
        "?changes=time",
        "?changes=window",
        f"?quiz__id__exact={setup['tree'].quizzes[0].pk}",
    ):
        response = client.get(url + query)
        assert response.status_code == 200, query
    assert b"lea" in client.get(url).content
    assert b"0 quiz overrides" in client.get(url + "?changes=window").content


def test_the_enrollment_page_lists_the_learners_overrides(setup: dict[str, Any]) -> None:
    enrollment = get_enrollment_model().objects.get(user=setup["learner"])
    opts = enrollment._meta  # the host's own model when it swapped it in
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[enrollment.pk])
    content = setup["client"].get(url).content.decode()
    change = reverse("admin:learning_progress_quizoverride_change", args=[setup["override"].pk])
    assert change in content and "+1 attempt, +10 min" in content


def test_saving_and_deleting_go_through_the_services(setup: dict[str, Any]) -> None:
    client, override = setup["client"], setup["override"]
    url = reverse("admin:learning_progress_quizoverride_change", args=[override.pk])
    form = {
        "extra_attempts": "2",
        "extra_time": "00:20:00",
        "opens_at_0": "",
        "opens_at_1": "",
        "closes_at_0": "",
        "closes_at_1": "",
        "reason": "more",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content
    override.refresh_from_db()
    assert (override.extra_attempts, override.extra_time) == (2, timedelta(minutes=20))
    bad = client.post(url, {**form, "extra_time": "-00:01:00"})
    assert bad.status_code == 200 and b"Must not be negative" in bad.content
    delete = reverse("admin:learning_progress_quizoverride_delete", args=[override.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not get_quiz_override_model().objects.exists()

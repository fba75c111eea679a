from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from django_learning_progress.choices import AttemptStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.conftest import CourseTree

pytestmark = pytest.mark.django_db

MODELS = [
    get_enrollment_model,
    get_task_progress_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
]


def populate(make_user: Any, tree: CourseTree, learners: int) -> None:
    for _ in range(learners):
        user = make_user()
        get_enrollment_model().objects.create(user=user, course=tree.course)
        for lesson in tree.lessons:
            get_task_progress_model().objects.create(user=user, task=lesson, course=tree.course)
        attempt = get_quiz_attempt_model().objects.create(
            user=user,
            quiz=tree.quizzes[0],
            course=tree.course,
            attempt_number=1,
            status=AttemptStatus.COMPLETED,
        )
        for question in tree.questions:
            get_quiz_response_model().objects.create(attempt=attempt, question=question)


def changelist_url(model: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("loader", MODELS)
def test_changelist_queries_do_not_grow_with_rows(
    loader: Any,
    admin_client: Any,
    make_user: Any,
    course_tree: CourseTree,
    django_assert_max_num_queries: Any,
) -> None:
    model = loader()
    populate(make_user, course_tree, 2)
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(changelist_url(model)).status_code == 200
    populate(make_user, course_tree, 20)
    with django_assert_max_num_queries(len(few)):
        assert admin_client.get(changelist_url(model)).status_code == 200


def test_search_by_username_and_filter_by_status(
    admin_client: Any, make_user: Any, course_tree: CourseTree
) -> None:
    model = get_enrollment_model()
    populate(make_user, course_tree, 3)
    response = admin_client.get(changelist_url(model), {"q": "learner2", "status__exact": "active"})
    assert response.status_code == 200
    assert [e.user.username for e in response.context["cl"].result_list] == ["learner2"]


def test_change_pages_render(admin_client: Any, make_user: Any, course_tree: CourseTree) -> None:
    populate(make_user, course_tree, 1)
    for loader in MODELS:
        model = loader()
        obj = model.objects.first()
        url = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk]
        )
        assert admin_client.get(url).status_code == 200

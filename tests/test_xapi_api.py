"""The history endpoints: a learner's own records, and a learner's for the course's instructors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("rest_framework", reason="the REST API needs Django REST framework")

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from django_learning_progress import services
from tests.conftest import CourseTree, build_course
from tests.xapi_support import learning_progress

pytestmark = pytest.mark.django_db

PREFIX = "/api/progress/"


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def records(make_user: Any, course_tree: CourseTree) -> Iterator[dict[str, Any]]:
    ada, bob, teacher = make_user(), make_user(), make_user()
    course_tree.course.instructors.add(teacher)
    other = build_course("Other")
    with override_settings(LEARNING_PROGRESS=learning_progress()):
        for user in (ada, bob):
            services.enroll(user, course_tree.course)
            services.start_task(user, course_tree.lessons[0])
        services.enroll(ada, other.course)
        yield {"ada": ada, "bob": bob, "teacher": teacher, "other": other}


def test_my_history_newest_first(records: dict[str, Any], course_tree: CourseTree) -> None:
    answer = client_for(records["ada"]).get(PREFIX + "me/history/")
    assert answer.status_code == 200
    rows = answer.json()["results"]
    assert [r["verb"].rsplit("/", 1)[-1] for r in rows] == [
        "registered",
        "initialized",
        "registered",
    ]
    assert [r["course"] for r in rows] == [
        str(records["other"].course.pk),
        str(course_tree.course.pk),
        str(course_tree.course.pk),
    ]
    assert rows[0]["sent"] is False
    assert rows[0]["statement"]["id"] == rows[0]["id"]
    assert rows[0]["statement"]["actor"]["account"]["name"] == str(records["ada"].pk)
    timestamps = [r["timestamp"] for r in rows]
    assert timestamps == sorted(timestamps, reverse=True)
    one = client_for(records["ada"]).get(PREFIX + f"me/history/?course={course_tree.course.pk}")
    assert [r["verb"][-11:] for r in one.json()["results"]] == ["initialized", "/registered"]


def test_history_needs_a_login() -> None:
    assert APIClient().get(PREFIX + "me/history/").status_code in (401, 403)


def test_instructors_see_a_learner_of_their_course(
    records: dict[str, Any], course_tree: CourseTree
) -> None:
    url = PREFIX + f"courses/{course_tree.course.pk}/learners/{records['bob'].pk}/history/"
    answer = client_for(records["teacher"]).get(url)
    assert answer.status_code == 200
    rows = answer.json()["results"]
    assert len(rows) == 2
    assert {r["statement"]["actor"]["account"]["name"] for r in rows} == {str(records["bob"].pk)}
    # Learners see no one else's; an instructor sees nothing of another course.
    assert client_for(records["ada"]).get(url).status_code == 403
    other = PREFIX + f"courses/{records['other'].course.pk}/learners/{records['ada'].pk}/history/"
    assert client_for(records["teacher"]).get(other).status_code == 403
    missing = PREFIX + f"courses/{course_tree.course.pk}/learners/not-a-pk/history/"
    assert client_for(records["teacher"]).get(missing).status_code == 404


def test_history_query_count_is_flat(records: dict[str, Any], course_tree: CourseTree) -> None:
    ada = records["ada"]
    client = client_for(ada)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PREFIX + "me/history/").status_code == 200
        return len(captured.captured_queries)

    few = count()
    with override_settings(LEARNING_PROGRESS=learning_progress()):
        for lesson in course_tree.lessons:
            services.complete_task(ada, lesson)
    assert count() == few

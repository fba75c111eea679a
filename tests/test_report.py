from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_learning_progress import analytics, reports, services
from django_learning_progress.admin import course_report_link, report_url
from django_learning_progress.models import get_enrollment_model
from tests.conftest import CourseTree, build_course

pytestmark = pytest.mark.django_db


def populate(tree: CourseTree, make_user: Any, learners: int) -> None:
    for n in range(learners):
        user = make_user()
        services.enroll(user, tree.course)
        services.add_time_spent(user, tree.lessons[n % len(tree.lessons)], 10 + n)
        if n % 2 == 0:
            services.complete_task(user, tree.lessons[0])
        attempt = services.start_attempt(user, tree.quizzes[0])
        services.answer_question(user, attempt, tree.questions[n % 3], f"a{n % 3}")
        services.submit_attempt(user, attempt)


def test_report_page(admin_client: Any, make_user: Any, course_tree: CourseTree) -> None:
    populate(course_tree, make_user, 4)
    response = admin_client.get(report_url(course_tree.course))
    assert response.status_code == 200
    html = response.content.decode()
    outcomes = analytics.course_analytics(course_tree.course)
    assert f'data-figure="enrolled">{outcomes["enrolled"]}<' in html
    assert "Completion funnel by task" in html and "<svg" in html
    for lesson in course_tree.lessons:
        assert str(lesson) in html
    report = html[html.index('id="lp-report"') : html.index("END Content")]
    assert "<script" not in report  # readable without JavaScript
    assert "http://" not in report and "https://" not in report  # nothing fetched


def test_report_page_speaks_human_units(
    admin_client: Any, make_user: Any, course_tree: CourseTree
) -> None:
    populate(course_tree, make_user, 4)
    user = make_user()
    services.enroll(user, course_tree.course)
    services.add_time_spent(user, course_tree.lessons[0], 3600)
    services.add_time_spent(user, course_tree.lessons[0], 5 * 60)
    html = admin_client.get(report_url(course_tree.course)).content.decode()
    row = html[html.index(f'data-user="{user.pk}"') :]
    assert 'data-figure="time_spent">1 h 05 min<' in row
    assert " s</td>" not in html  # no raw seconds
    rate = analytics.quiz_analytics(course_tree.quizzes[0])["pass_rate"]
    assert f'data-figure="pass_rate">{reports.format_rate(rate)}<' in html


def test_report_page_permissions(client: Any, make_user: Any, course_tree: CourseTree) -> None:
    learner = make_user(username="nosy", is_staff=False)
    client.force_login(learner)
    response = client.get(report_url(course_tree.course))
    assert response.status_code == 302  # the admin sends non-staff to its login page
    assert client.get(report_url(999999)).status_code == 302


def test_unknown_course(admin_client: Any) -> None:
    assert admin_client.get(report_url(999999)).status_code == 404


@pytest.mark.parametrize("learners", [5, 200])
def test_report_queries_do_not_grow(
    admin_client: Any, make_user: Any, learners: int, django_assert_max_num_queries: Any
) -> None:
    tree = build_course()
    populate(tree, make_user, learners)
    admin_client.get(report_url(tree.course))  # warm the session
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(report_url(tree.course)).status_code == 200
    assert len(queries) <= 20


def test_links_from_the_admin(admin_client: Any, course_tree: CourseTree, learner: Any) -> None:
    services.enroll(learner, course_tree.course)
    opts = get_enrollment_model()._meta
    changelist = f"/admin/{opts.app_label}/{opts.model_name}/"
    filtered = admin_client.get(changelist, {"course__id__exact": course_tree.course.pk})
    assert filtered.status_code == 200
    assert report_url(course_tree.course) in filtered.content.decode()
    assert report_url(course_tree.course) not in admin_client.get(changelist).content.decode()
    assert report_url(course_tree.course) in course_report_link(course_tree.course)


def test_admin_actions_go_through_the_services(
    admin_client: Any, course_tree: CourseTree, learner: Any
) -> None:
    enrollment = services.enroll(learner, course_tree.course)
    opts = get_enrollment_model()._meta
    changelist = f"/admin/{opts.app_label}/{opts.model_name}/"
    response = admin_client.post(
        changelist, {"action": "complete_selected", "_selected_action": [enrollment.pk]}
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == "completed" and enrollment.completed_at is not None
    admin_client.post(
        changelist, {"action": "reopen_selected", "_selected_action": [enrollment.pk]}
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "active"

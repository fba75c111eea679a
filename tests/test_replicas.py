"""A host with a read replica: reads may go there, reads that decide a write may not.

The ``replica`` alias mirrors the primary (same database), so the test can
tell, per connection, which alias every query went to.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_learning_progress import analytics, helpers, services
from django_learning_progress.choices import EnrollmentStatus
from django_learning_progress.models import get_enrollment_model
from tests.conftest import build_course

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

ROUTED = override_settings(DATABASE_ROUTERS=["tests.routers.PrimaryReplicaRouter"])


@contextmanager
def queries() -> Iterator[dict[str, Any]]:
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        result: dict[str, Any] = {"primary": primary, "replica": replica}
        yield result


@ROUTED
def test_services_decide_on_the_primary(make_user: Any) -> None:
    tree = build_course(max_attempts=2, pass_mark=50)
    learner = make_user()
    with queries() as seen:
        enrollment = services.enroll(learner, tree.course)
        services.enroll(learner, tree.course)
        services.start_task(learner, tree.lessons[0])
        services.add_time_spent(learner, tree.lessons[0], 30)
        for lesson in tree.lessons:
            services.complete_task(learner, lesson)
        attempt = services.start_attempt(learner, tree.quizzes[0])
        services.answer_questions(learner, attempt, [(q, q.answer, 5) for q in tree.questions])
        services.submit_attempt(learner, attempt)
        second = services.start_attempt(learner, tree.quizzes[0])
        services.abandon_attempt(learner, second)
        services.close_overdue_attempts()
    assert len(seen["primary"]) > 0
    assert [q["sql"] for q in seen["replica"]] == []
    enrollment.refresh_from_db(using="default")
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert second.attempt_number == 2


@ROUTED
def test_helpers_and_analytics_read_from_the_replica(make_user: Any) -> None:
    tree = build_course()
    learner = make_user()
    services.enroll(learner, tree.course)
    services.complete_task(learner, tree.lessons[0])
    with queries() as seen:
        assert helpers.get_course_progress(learner, tree.course).tasks_completed == 1
        assert helpers.calculate_progress_percentage(learner, tree.course) == 25.0
        assert len(list(helpers.course_roster(tree.course))) == 1
        assert len(list(helpers.get_enrolled_courses(learner))) == 1
        # The roster page's hand-written SQL follows the router too.
        enrollments = list(get_enrollment_model().objects.using("replica").all())
        assert helpers.load_roster_figures(tree.course, enrollments)[0].tasks_completed == 1
        assert helpers.course_quiz_grades(tree.course, [learner])[learner.pk][0]["grade"] is None
        analytics.course_analytics(tree.course)
        analytics.quiz_analytics(tree.quizzes[0])
    assert [q["sql"] for q in seen["primary"]] == []
    assert len(seen["replica"]) > 0

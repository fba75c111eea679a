"""The demo data reads like a real course on the instructor report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from catalog.models import Course, Quiz
from django.db.models import Max, Min

from django_learning_progress import analytics
from django_learning_progress.choices import AttemptStatus
from django_learning_progress.models import get_enrollment_model, get_quiz_attempt_model

pytestmark = pytest.mark.django_db


def test_every_figure_on_the_report_is_plausible(seeded: dict[str, Any]) -> None:
    for course in Course.objects.all():
        outcomes = analytics.course_analytics(course)
        assert outcomes["enrolled"] >= 10, outcomes
        # Completing a course takes days, not the seconds of a seed run at one instant.
        assert outcomes["median_time_to_complete"] >= timedelta(days=1).total_seconds(), outcomes
        assert outcomes["inactive_learners"] > 0, outcomes
        for row in outcomes["tasks"]:
            if row["started"]:
                assert row["median_time_spent"] >= 4 * 60, row
    for quiz in Quiz.objects.all():
        stats = analytics.quiz_analytics(quiz)
        if stats["attempts"]:
            assert stats["mean_time_taken"] >= 60, stats
    finished = get_quiz_attempt_model()._default_manager.exclude(status=AttemptStatus.IN_PROGRESS)
    assert finished.exists()
    assert not finished.filter(time_taken__lte=0).exists()
    enrollments = get_enrollment_model()._default_manager
    spread = enrollments.aggregate(first=Min("enrolled_at"), last=Max("enrolled_at"))
    assert spread["last"] - spread["first"] >= timedelta(weeks=4)
    for enrollment in enrollments.exclude(completed_at=None):
        assert enrollment.completed_at > enrollment.enrolled_at

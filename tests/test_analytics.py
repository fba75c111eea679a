"""Analytics against small fixtures whose figures are worked out independently."""

from __future__ import annotations

import statistics
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from django_learning_progress import analytics, services
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_task_progress_model,
)
from tests.conftest import CourseTree, build_course

pytestmark = pytest.mark.django_db

ADAPTER = "tests.testapp.adapter.TestAdapter"

# Item scores (points awarded on questions worth 1, 2 and 3) of five completed attempts.
MATRIX = {
    ("ann", 1): (1, 2, 0),  # 3 of 6 = 50.00 %  (equal to the pass mark: passes)
    ("ben", 1): (1, 0, 3),  # 4 of 6 = 66.67 %
    ("cid", 1): (0, 0, 0),  # nothing answered: 0 %
    ("dee", 1): (1, 2, 3),  # 100 %
    ("ann", 2): (1, 2, 3),  # 100 %
}
TIME_TAKEN = {("ann", 1): 100, ("ben", 1): 200, ("cid", 1): 50, ("dee", 1): 300, ("ann", 2): 150}


@pytest.fixture
def graded_quiz(make_user: Any) -> CourseTree:
    tree = build_course(pass_mark=Decimal("50"))
    users: dict[str, Any] = {}
    for name, number in MATRIX:  # in attempt order per learner
        user = users.get(name) or make_user(username=name)
        if name not in users:
            users[name] = user
            services.enroll(user, tree.course)
        attempt = services.start_attempt(user, tree.quizzes[0])
        assert attempt.attempt_number == number
        for question, points in zip(tree.questions, MATRIX[name, number], strict=True):
            if name != "cid":  # cid answers nothing
                services.answer_question(
                    user, attempt, question, question.answer if points else "wrong"
                )
        services.submit_attempt(user, attempt)
        get_quiz_attempt_model().objects.filter(pk=attempt.pk).update(
            time_taken=TIME_TAKEN[name, number]
        )
    return tree


def expected_items(rows: list[tuple[int, ...]]) -> dict[str, Any]:
    totals = [sum(r) for r in rows]
    items = list(zip(*rows, strict=True))
    k = len(items)
    alpha = (
        k / (k - 1) * (1 - sum(statistics.variance(i) for i in items) / statistics.variance(totals))
    )
    discrimination = [
        statistics.correlation(list(item), [t - x for t, x in zip(totals, item, strict=True)])
        for item in items
    ]
    facility = [sum(item) / (len(rows) * full) for item, full in zip(items, (1, 2, 3), strict=True)]
    return {"alpha": alpha, "discrimination": discrimination, "facility": facility}


def test_quiz_analytics_all_attempts(graded_quiz: CourseTree) -> None:
    with override_settings(
        LEARNING_PROGRESS={"CONTENT_ADAPTER": ADAPTER, "ANALYTICS_MIN_ATTEMPTS": 5}
    ):
        result = analytics.quiz_analytics(graded_quiz.quizzes[0])
    percentages = [50.0, 66.67, 0.0, 100.0, 100.0]
    assert result["quiz"] == graded_quiz.quizzes[0].pk
    assert result["attempts"] == 5 and result["reliable"] is True
    assert result["mean_percentage"] == pytest.approx(63.334)
    assert result["median_percentage"] == pytest.approx(66.67)
    assert result["sd_percentage"] == pytest.approx(statistics.stdev(percentages))
    assert result["pass_rate"] == pytest.approx(0.8)
    assert result["mean_time_taken"] == pytest.approx(160.0)
    counts = {(b["from"], b["to"]): b["count"] for b in result["histogram"]}
    assert len(counts) == 10 and sum(counts.values()) == 5
    assert counts[0, 10] == 1 and counts[50, 60] == 1 and counts[60, 70] == 1
    assert counts[90, 100] == 2
    expected = expected_items(list(MATRIX.values()))
    assert [q["question"] for q in result["questions"]] == [q.pk for q in graded_quiz.questions]
    assert [q["facility"] for q in result["questions"]] == pytest.approx([0.8, 0.6, 0.6])
    assert [q["facility"] for q in result["questions"]] == pytest.approx(expected["facility"])
    assert [q["discrimination"] for q in result["questions"]] == pytest.approx(
        expected["discrimination"]
    )
    assert result["cronbach_alpha"] == pytest.approx(expected["alpha"])


def test_too_few_attempts_are_not_reliable(graded_quiz: CourseTree) -> None:
    result = analytics.quiz_analytics(graded_quiz.quizzes[0])  # default minimum: 10
    assert result["reliable"] is False and result["cronbach_alpha"] is None
    assert all(q["discrimination"] is None for q in result["questions"])
    assert all(q["facility"] is not None for q in result["questions"])


@pytest.mark.parametrize(
    ("attempts", "percentages"),
    [
        ("first", [50.0, 66.67, 0.0, 100.0]),
        ("last", [100.0, 66.67, 0.0, 100.0]),
        ("best", [100.0, 66.67, 0.0, 100.0]),
    ],
)
def test_one_attempt_per_learner(graded_quiz: CourseTree, attempts: str, percentages: list) -> None:
    result = analytics.quiz_analytics(graded_quiz.quizzes[0], attempts=attempts)
    assert result["attempts"] == 4
    assert result["mean_percentage"] == pytest.approx(statistics.mean(percentages))
    assert result["median_percentage"] == pytest.approx(statistics.median(percentages))


def test_best_breaks_ties_on_the_lowest_attempt(make_user: Any) -> None:
    tree = build_course()
    user = make_user()
    services.enroll(user, tree.course)
    for _ in range(2):
        attempt = services.start_attempt(user, tree.quizzes[0])
        services.answer_question(user, attempt, tree.questions[0], "a0")
        services.submit_attempt(user, attempt)
    best = analytics.counted_attempts(tree.quizzes[0], "best").get()
    assert best.attempt_number == 1


def test_unknown_attempt_selection(graded_quiz: CourseTree) -> None:
    with pytest.raises(ValueError, match="attempts must be one of"):
        analytics.quiz_analytics(graded_quiz.quizzes[0], attempts="median")


def test_a_quiz_without_attempts(course_tree: CourseTree) -> None:
    result = analytics.quiz_analytics(course_tree.quizzes[0])
    assert result["attempts"] == 0 and result["mean_percentage"] is None
    assert result["median_percentage"] is None and result["sd_percentage"] is None
    assert result["pass_rate"] is None and result["cronbach_alpha"] is None
    assert [q["facility"] for q in result["questions"]] == [None, None, None]


def test_pass_rate_needs_a_pass_mark(make_user: Any) -> None:
    tree = build_course()  # no pass mark
    user = make_user()
    services.enroll(user, tree.course)
    services.submit_attempt(user, services.start_attempt(user, tree.quizzes[0]))
    assert analytics.quiz_analytics(tree.quizzes[0])["pass_rate"] is None


# -- course -------------------------------------------------------------------------------


def set_times(
    user: Any, tree: CourseTree, *, enrolled_ago: float, completed_after: float | None
) -> None:
    enrolled_at = timezone.now() - timedelta(days=enrolled_ago)
    values: dict[str, Any] = {"enrolled_at": enrolled_at}
    if completed_after is not None:
        values["completed_at"] = enrolled_at + timedelta(seconds=completed_after)
    get_enrollment_model().objects.filter(user=user, course=tree.course).update(**values)


@pytest.fixture
def course_outcomes(make_user: Any) -> CourseTree:
    tree = build_course(optional_lessons=1)  # 4 required lessons, 1 optional
    required = [lesson for lesson in tree.lessons if not lesson.optional]
    people = {name: make_user(username=name) for name in ("p1", "p2", "p3", "p4", "p5", "p6")}
    for user in people.values():
        services.enroll(user, tree.course)
    for name, seconds in (("p1", 40), ("p2", 60)):
        services.add_time_spent(people[name], required[0], seconds)
        for lesson in required:
            services.complete_task(people[name], lesson)
    set_times(people["p1"], tree, enrolled_ago=3, completed_after=100)
    set_times(people["p2"], tree, enrolled_ago=3, completed_after=300)
    services.add_time_spent(people["p3"], required[0], 50)
    services.add_time_spent(people["p3"], required[1], 20)
    services.complete_task(people["p3"], required[1])
    set_times(people["p4"], tree, enrolled_ago=30, completed_after=None)
    services.complete_task(people["p5"], required[0])
    services.drop_enrollment(get_enrollment_model().objects.get(user=people["p5"]))
    services.add_time_spent(people["p6"], required[0], 10)
    set_times(people["p6"], tree, enrolled_ago=40, completed_after=None)
    get_task_progress_model().objects.filter(user=people["p6"]).update(
        last_activity_at=timezone.now() - timedelta(days=20)
    )
    services.complete_task(people["p3"], tree.lessons[-1])  # optional: not a row
    return tree


def test_course_analytics(course_outcomes: CourseTree) -> None:
    result = analytics.course_analytics(course_outcomes.course)
    assert result["course"] == course_outcomes.course.pk
    assert (result["enrolled"], result["active"], result["completed"], result["dropped"]) == (
        6,
        3,
        2,
        1,
    )
    assert result["completion_rate"] == pytest.approx(2 / 6)
    assert result["median_time_to_complete"] == pytest.approx(200.0)
    assert result["inactive_learners"] == 2  # p4 (never active, enrolled 30 days ago), p6
    required = [lesson.pk for lesson in course_outcomes.lessons if not lesson.optional]
    assert [row["task"] for row in result["tasks"]] == required
    assert [(r["started"], r["completed"]) for r in result["tasks"]] == [
        (4, 2),
        (3, 3),
        (2, 2),
        (2, 2),
    ]
    assert [r["completion_rate"] for r in result["tasks"]] == pytest.approx(
        [2 / 5, 3 / 5, 2 / 5, 2 / 5]
    )
    assert [r["median_time_spent"] for r in result["tasks"]] == pytest.approx([45.0, 0, 0, 0])


def test_inactivity_window_is_a_setting(course_outcomes: CourseTree) -> None:
    with override_settings(LEARNING_PROGRESS={"CONTENT_ADAPTER": ADAPTER, "INACTIVE_DAYS": 25}):
        assert analytics.course_analytics(course_outcomes.course)["inactive_learners"] == 1


def test_an_empty_course(course_tree: CourseTree) -> None:
    result = analytics.course_analytics(course_tree.course)
    assert result["enrolled"] == 0 and result["completion_rate"] is None
    assert result["median_time_to_complete"] is None
    assert all(r["started"] == 0 and r["completion_rate"] is None for r in result["tasks"])


def populate(tree: CourseTree, make_user: Any, learners: int) -> None:
    for n in range(learners):
        user = make_user()
        services.enroll(user, tree.course)
        services.add_time_spent(user, tree.lessons[n % len(tree.lessons)], 10 + n)
        if n % 3 == 0:
            services.complete_task(user, tree.lessons[0])
        attempt = services.start_attempt(user, tree.quizzes[0])
        services.answer_question(user, attempt, tree.questions[n % 3], f"a{n % 3}")
        services.submit_attempt(user, attempt)


@pytest.mark.parametrize("learners", [5, 200])
def test_query_counts_do_not_grow(
    make_user: Any, django_assert_num_queries: Any, learners: int
) -> None:
    from django.db import connection

    tree = build_course()
    populate(tree, make_user, learners)
    extra = 0 if connection.vendor == "postgresql" else 1  # the medians' sorted values
    with django_assert_num_queries(3 + 2 * extra):
        analytics.course_analytics(tree.course)
    with django_assert_num_queries(3 + extra):
        analytics.quiz_analytics(tree.quizzes[0])

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Manager
from django.utils import timezone

from django_learning_progress import _sql, helpers, services
from django_learning_progress.choices import EnrollmentStatus, TaskStatus
from django_learning_progress.helpers import CourseProgress
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_task_progress_model,
)
from tests.conftest import CourseTree, build_course
from tests.testapp.models import Lesson, Module

pytestmark = pytest.mark.django_db


def learners_with_progress(make_user: Any, tree: CourseTree, count: int, done: int = 2) -> list:
    users = []
    for _ in range(count):
        user = make_user()
        services.enroll(user, tree.course)
        for lesson in tree.lessons[:done]:
            services.complete_task(user, lesson)
        services.add_time_spent(user, tree.lessons[done % len(tree.lessons)], 30)
        users.append(user)
    return users


def test_percentage_counts_distinct_required_tasks_of_this_learner(
    make_user: Any, course_tree: CourseTree
) -> None:
    ada = make_user()
    services.enroll(ada, course_tree.course)
    services.complete_task(ada, course_tree.lessons[0])
    # Noise that a Count over a join would pick up:
    learners_with_progress(make_user, course_tree, 3, done=4)  # other learners, done
    other = build_course("Other")
    services.enroll(ada, other.course)
    for lesson in other.lessons:  # tasks outside the course
        services.complete_task(ada, lesson)
    services.add_time_spent(ada, course_tree.lessons[0], 10)  # a second touch of the same task
    assert helpers.calculate_progress_percentage(ada, course_tree.course) == 25.0
    assert ada.calculate_progress_percentage(course_tree.course) == 25.0
    enrollment = ada.get_enrolled_courses().get(course=course_tree.course)
    assert enrollment.calculate_course_progress() == 25.0
    assert enrollment.get_progress_stats() == {
        "total_tasks": 4,
        "completed": 1,
        "in_progress": 0,
        "not_started": 3,
        "completion_percentage": 25.0,
    }


def test_optional_tasks_do_not_count(learner: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=2, optional_lessons=2)
    services.enroll(learner, tree.course)
    for lesson in tree.lessons:
        if lesson.optional:
            services.complete_task(learner, lesson)
    services.complete_task(learner, tree.lessons[0])
    assert learner.calculate_progress_percentage(tree.course) == 50.0


def test_percentage_of_a_course_without_tasks_is_zero(learner: Any) -> None:
    tree = build_course(modules=0)
    services.enroll(learner, tree.course)
    progress = learner.get_course_progress(tree.course)
    assert progress.percentage == 0 and progress.tasks_total == 0 and progress.next_task is None


def test_course_progress(learner: Any, course_tree: CourseTree) -> None:
    services.enroll(learner, course_tree.course)
    services.complete_task(learner, course_tree.lessons[0])
    services.add_time_spent(learner, course_tree.lessons[1], 40)
    services.add_time_spent(learner, course_tree.lessons[0], 20)
    attempt = services.start_attempt(learner, course_tree.quizzes[0])
    services.submit_attempt(learner, attempt)
    progress = helpers.get_course_progress(learner, course_tree.course)
    assert isinstance(progress, CourseProgress)
    assert (progress.tasks_total, progress.tasks_completed, progress.tasks_in_progress) == (4, 1, 1)
    assert progress.percentage == 25.0 and progress.time_spent == 60
    assert progress.quizzes_total == 1 and progress.quizzes_passed == 1  # no pass mark
    assert progress.next_task == course_tree.lessons[1]
    assert progress.status == EnrollmentStatus.ACTIVE and progress.is_enrolled
    assert progress.completed_at is None and progress.last_activity_at is not None


def test_progress_of_a_learner_who_is_not_enrolled(learner: Any, course_tree: CourseTree) -> None:
    progress = learner.get_course_progress(course_tree.course)
    assert progress.status is None and not progress.is_enrolled
    assert progress.tasks_total == 4 and progress.tasks_completed == 0
    assert progress.next_task == course_tree.lessons[0]
    assert not learner.is_course_completed(course_tree.course)


def test_one_learners_progress_takes_at_most_two_queries(
    make_user: Any, django_assert_max_num_queries: Any
) -> None:
    tree = build_course(modules=5, lessons_per_module=10, questions=5)
    learner = learners_with_progress(make_user, tree, 1, done=20)[0]
    learners_with_progress(make_user, tree, 5)
    with django_assert_max_num_queries(2):
        progress = helpers.get_course_progress(learner, tree.course)
    assert progress.tasks_completed == 20
    with django_assert_max_num_queries(1):
        helpers.calculate_progress_percentage(learner, tree.course)
    with django_assert_max_num_queries(1):
        helpers.get_quiz_grade(learner, tree.quizzes[0])


def test_course_roster(make_user: Any, course_tree: CourseTree) -> None:
    users = learners_with_progress(make_user, course_tree, 3)
    late = make_user()
    services.enroll(late, course_tree.course)
    roster = list(helpers.course_roster(course_tree.course))
    assert [e.user for e in roster] == [*users, late]
    first = roster[0]
    assert (first.tasks_completed, first.percentage, first.time_spent) == (2, 50.0, 30)
    assert first.last_activity_at is not None
    assert (roster[-1].tasks_completed, roster[-1].percentage, roster[-1].time_spent) == (0, 0, 0)
    assert roster[-1].last_activity_at is None
    top = helpers.course_roster(course_tree.course).filter(percentage__gte=50)
    assert top.count() == 3
    ordered = helpers.course_roster(course_tree.course).order_by("percentage", "-pk")
    assert ordered.first().user == late


@pytest.mark.parametrize("learners", [2, 25])
def test_roster_queries_do_not_grow(
    make_user: Any, django_assert_max_num_queries: Any, learners: int
) -> None:
    tree = build_course(modules=3, lessons_per_module=4)
    learners_with_progress(make_user, tree, learners)
    with django_assert_max_num_queries(3):
        rows = [(e.user.username, e.percentage) for e in helpers.course_roster(tree.course)]
    assert len(rows) == learners


def test_load_roster_figures_matches_course_roster(
    make_user: Any, django_assert_num_queries: Any
) -> None:
    tree = build_course(modules=2, lessons_per_module=3, optional_lessons=2)
    learners_with_progress(make_user, tree, 4, done=3)
    optional = Lesson.objects.filter(optional=True, module__course=tree.course).first()
    keen = make_user()
    services.enroll(keen, tree.course)
    services.complete_task(keen, optional)  # optional: time and activity, no count
    services.start_task(keen, tree.lessons[0])
    services.enroll(make_user(), tree.course)  # no task rows at all
    other = build_course("Other")
    services.enroll(keen, other.course)
    services.complete_task(keen, other.lessons[0])
    Enrollment = get_enrollment_model()
    figures = [*helpers.ROSTER_FIGURES, "user_id"]
    expected = {e.pk: [getattr(e, f) for f in figures] for e in helpers.course_roster(tree.course)}
    page = list(Enrollment.objects.filter(course=tree.course).order_by("-pk")[:4])
    with django_assert_num_queries(1):
        loaded = helpers.load_roster_figures(tree.course, page)
    assert loaded == page
    assert {e.pk: [getattr(e, f) for f in figures] for e in loaded} == {
        e.pk: expected[e.pk] for e in page
    }
    assert {tuple(v[1:4]) for v in expected.values()} == {(3, 1, 50.0), (0, 1, 0.0), (0, 0, 0.0)}
    with django_assert_num_queries(0):
        assert helpers.load_roster_figures(tree.course, []) == []


@pytest.mark.parametrize("courses", [1, 8])
def test_enrolled_courses(learner: Any, django_assert_max_num_queries: Any, courses: int) -> None:
    trees = [build_course(f"Course {n}") for n in range(courses)]
    for tree in trees:
        services.enroll(learner, tree.course)
        services.complete_task(learner, tree.lessons[0])
    dropped = build_course("Dropped")
    services.drop_enrollment(services.enroll(learner, dropped.course))
    with django_assert_max_num_queries(1):
        rows = [(e.course.title, e.percentage) for e in learner.get_enrolled_courses()]
    assert sorted(rows) == sorted((t.course.title, 25.0) for t in trees)
    assert learner.get_enrolled_courses(include_dropped=True).count() == courses + 1


def test_latest_attempt_is_stable_on_ties(learner: Any, course_tree: CourseTree) -> None:
    services.enroll(learner, course_tree.course)
    other = build_course("Other")
    services.enroll(learner, other.course)
    a1 = services.start_attempt(learner, course_tree.quizzes[0])
    a2 = services.start_attempt(learner, other.quizzes[0])
    same_time = timezone.now() - timedelta(minutes=5)
    get_quiz_attempt_model().objects.update(started_at=same_time)
    assert learner.get_latest_quiz_attempt() == a2  # tie on time: higher id
    assert learner.get_latest_quiz_attempt(course_tree.quizzes[0]) == a1
    assert helpers.get_latest_quiz_attempt(learner, other.quizzes[0]) == a2


def test_no_attempts(learner: Any, course_tree: CourseTree) -> None:
    assert learner.get_latest_quiz_attempt() is None
    assert learner.get_best_quiz_attempt(course_tree.quizzes[0]) is None
    assert learner.get_quiz_grade(course_tree.quizzes[0]) is None


def test_moving_a_task_to_another_course(learner: Any, course_tree: CourseTree) -> None:
    """Counting starts from the host's tasks, so moved tasks follow their new course."""
    services.enroll(learner, course_tree.course)
    services.complete_task(learner, course_tree.lessons[0])
    other = build_course("Other", modules=1, lessons_per_module=1)
    Lesson.objects.filter(pk=course_tree.lessons[0].pk).update(module=other.modules[0])
    assert learner.calculate_progress_percentage(course_tree.course) == 0
    assert learner.calculate_progress_percentage(other.course) == 50.0
    assert get_task_progress_model().objects.get().status == TaskStatus.COMPLETED
    assert Module.objects.count() == 3


def test_quizzes_passed_follow_the_pass_mark(learner: Any) -> None:
    tree = build_course(pass_mark=Decimal("60"))
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    services.answer_question(learner, attempt, tree.questions[2], "a2")  # 3/6 = 50%
    services.submit_attempt(learner, attempt)
    assert learner.get_course_progress(tree.course).quizzes_passed == 0


def test_roster_figures_without_required_tasks(make_user: Any) -> None:
    """An adapter may answer ``none()`` for a course's required tasks."""
    tree = build_course(modules=1, lessons_per_module=2)
    learner = make_user()
    services.enroll(learner, tree.course)
    services.complete_task(learner, tree.lessons[0])
    required = _sql.compile_query(Lesson.objects.none(), "default")
    total, figures, _best = _sql.task_figures(tree.course.pk, [learner.pk], required)
    assert total == 0
    assert figures[learner.pk][:3] == (0, 0, 0)
    assert figures[learner.pk][3] is not None  # the row's activity still counts


class _CompletedOnly(Manager):
    def get_queryset(self) -> Any:
        return super().get_queryset().filter(status=TaskStatus.COMPLETED)


def test_roster_figures_read_through_a_filtering_default_manager(
    make_user: Any, monkeypatch: Any
) -> None:
    """A swapped-in model's default manager that hides rows hides them here too."""
    tree = build_course(modules=1, lessons_per_module=3)
    learner = make_user()
    services.enroll(learner, tree.course)
    services.complete_task(learner, tree.lessons[0])
    services.add_time_spent(learner, tree.lessons[1], 40)  # in progress
    lessons = Lesson.objects.filter(module__course=tree.course).values("pk")
    required = _sql.compile_query(lessons, "default")
    assert _sql.task_figures(tree.course.pk, [learner.pk], required)[1][learner.pk][:3] == (
        1,
        1,
        40,
    )
    TaskProgress = get_task_progress_model()
    manager = _CompletedOnly()
    manager.model = TaskProgress
    monkeypatch.setitem(TaskProgress._meta.__dict__, "default_manager", manager)
    total, figures, _best = _sql.task_figures(tree.course.pk, [learner.pk], required)
    assert total == 3 and figures[learner.pk][:3] == (1, 0, 0)

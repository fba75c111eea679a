"""The learner's reads: SQL compiled once per course, never a stale figure.

``get_course_progress`` and friends reuse the compiled SQL of the adapter's
per-course querysets; these tests change what is required between reads in
every way a host can (rows, the adapter's method, the adapter, a time-based
filter) and check that each read sees the change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from django_learning_progress import _batch, _compiled, _sql, helpers, services
from django_learning_progress.content import get_content_adapter
from tests.conftest import build_course
from tests.testapp.adapter import TestAdapter
from tests.testapp.models import Lesson, Quiz

pytestmark = pytest.mark.django_db


def figures(user: Any, course: Any) -> tuple[int, int, float, Any]:
    progress = helpers.get_course_progress(user, course)
    stats = helpers.get_progress_stats(user, course)
    assert stats["total_tasks"] == progress.tasks_total
    assert helpers.calculate_progress_percentage(user, course) == progress.percentage
    return (
        progress.tasks_total,
        progress.tasks_completed,
        progress.percentage,
        progress.next_task_id,
    )


def test_a_task_made_optional_between_reads(learner: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=4)
    services.enroll(learner, tree.course)
    services.complete_task(learner, tree.lessons[0])
    assert figures(learner, tree.course) == (4, 1, 25.0, tree.lessons[1].pk)
    tree.lessons[1].optional = True
    tree.lessons[1].save()
    assert figures(learner, tree.course) == (3, 1, 33.33, tree.lessons[2].pk)
    tree.lessons[1].optional = False
    tree.lessons[1].save()
    assert figures(learner, tree.course) == (4, 1, 25.0, tree.lessons[1].pk)


def test_required_tasks_replaced_between_reads(learner: Any, monkeypatch: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=4)
    services.enroll(learner, tree.course)
    services.complete_task(learner, tree.lessons[0])
    assert figures(learner, tree.course) == (4, 1, 25.0, tree.lessons[1].pk)
    first_two = [lesson.pk for lesson in tree.lessons[:2]]
    monkeypatch.setattr(
        TestAdapter,
        "required_tasks",
        lambda self, course: self.course_tasks(course).filter(pk__in=first_two),
    )
    assert figures(learner, tree.course) == (2, 1, 50.0, tree.lessons[1].pk)
    monkeypatch.undo()
    assert figures(learner, tree.course) == (4, 1, 25.0, tree.lessons[1].pk)


class NowAdapter(TestAdapter):
    """Only lessons created before now are required (a release date, in effect)."""

    released_before: Any = None

    def required_tasks(self, course: Any) -> Any:
        cutoff = timezone.now() if self.released_before is None else self.released_before
        # The host app's lessons have no release date; a datetime field stands in.
        return super().required_tasks(course).filter(enrolled_at__lte=cutoff)


def test_a_time_based_queryset_is_compiled_every_time(learner: Any) -> None:
    with override_settings(
        LEARNING_PROGRESS={"CONTENT_ADAPTER": "tests.test_learner_reads.NowAdapter"}
    ):
        tree = build_course(modules=1, lessons_per_module=2)
        Lesson.objects.filter(module__course=tree.course).update(enrolled_at=timezone.now())
        services.enroll(learner, tree.course)
        adapter = get_content_adapter()
        assert isinstance(adapter, NowAdapter)
        adapter.released_before = timezone.now() - timedelta(days=1)
        try:
            assert figures(learner, tree.course)[0] == 0
            adapter.released_before = timezone.now() + timedelta(days=1)
            assert figures(learner, tree.course)[0] == 2
        finally:
            adapter.released_before = None


def test_a_queryset_built_from_a_query_is_compiled_every_time(
    learner: Any, monkeypatch: Any
) -> None:
    tree = build_course(modules=1, lessons_per_module=3)
    services.enroll(learner, tree.course)
    chosen: list[Any] = [tree.lessons[0].pk]

    def required(self: Any, course: Any) -> Any:
        # Looks ids up in Python first: the SQL differs from call to call.
        ids = list(self.course_tasks(course).filter(pk__in=chosen).values_list("pk", flat=True))
        return self.course_tasks(course).filter(pk__in=ids)

    monkeypatch.setattr(TestAdapter, "required_tasks", required)
    assert figures(learner, tree.course)[0] == 1
    chosen.append(tree.lessons[1].pk)
    assert figures(learner, tree.course)[0] == 2


def test_the_opt_out(learner: Any, monkeypatch: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=3)
    services.enroll(learner, tree.course)
    adapter = get_content_adapter()
    monkeypatch.setattr(adapter, "reuse_course_sql", False, raising=False)
    _compiled.clear()
    figures(learner, tree.course)
    assert not any(key[0] is adapter for key in _compiled._entries)
    monkeypatch.undo()
    figures(learner, tree.course)
    assert any(key[0] is adapter for key in _compiled._entries)


def test_reusable_parameters() -> None:
    assert _compiled.reusable([1, "x", True, None, [1, 2]])
    assert not _compiled.reusable([1, timezone.now()])
    assert not _compiled.reusable([[timezone.now().date()]])
    assert not _compiled.reusable([timedelta(seconds=1)])


def test_a_setting_change_forgets_the_sql(learner: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=2)
    services.enroll(learner, tree.course)
    figures(learner, tree.course)
    assert _compiled._entries
    with override_settings(LEARNING_PROGRESS={"QUIZ_GRADE_METHOD": "latest"}):
        assert not _compiled._entries


def test_required_quizzes_switched_on_and_off_between_reads(learner: Any, monkeypatch: Any) -> None:
    """With no quiz required the quizzes are read by a simpler query; turning
    the requirement on and off between reads is seen by each read."""
    tree = build_course(modules=1, lessons_per_module=2)
    services.enroll(learner, tree.course)

    def quiz_figures() -> tuple[int, int, int]:
        progress = helpers.get_course_progress(learner, tree.course)
        return progress.quizzes_total, progress.quizzes_required, progress.quizzes_met

    assert quiz_figures() == (1, 0, 0)
    options = {
        "CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter",
        "REQUIRE_QUIZZES_FOR_COMPLETION": True,
    }
    with override_settings(LEARNING_PROGRESS=options):
        assert quiz_figures() == (1, 1, 0)
    assert quiz_figures() == (1, 0, 0)
    monkeypatch.setattr(
        TestAdapter, "required_quizzes", lambda self, course: self.course_quizzes(course)
    )
    assert quiz_figures() == (1, 1, 0)
    monkeypatch.undo()
    assert quiz_figures() == (1, 0, 0)


class RepeatingAdapter(TestAdapter):
    """``required_tasks`` through a many-valued join: a task comes once per question."""

    def required_tasks(self, course: Any) -> Any:
        return (
            super().required_tasks(course).filter(module__course__quizzes__questions__isnull=False)
        )


def test_repeated_tasks_count_once(learner: Any, make_user: Any) -> None:
    with override_settings(
        LEARNING_PROGRESS={"CONTENT_ADAPTER": "tests.test_learner_reads.RepeatingAdapter"}
    ):
        tree = build_course(modules=1, lessons_per_module=3, questions=4)
        assert get_content_adapter().required_tasks(tree.course.pk).count() == 12
        services.enroll(learner, tree.course)
        services.complete_task(learner, tree.lessons[0])
        services.start_task(learner, tree.lessons[1])
        assert figures(learner, tree.course) == (3, 1, 33.33, tree.lessons[1].pk)
        (enrollment,) = helpers.load_learner_figures(
            learner, helpers.get_enrolled_courses(learner, figures=False)
        )
        assert (enrollment.tasks_total, enrollment.tasks_completed) == (3, 1)
        assert (enrollment.tasks_in_progress, enrollment.next_task_id) == (1, tree.lessons[1].pk)


def test_load_learner_figures_matches_the_annotations(learner: Any) -> None:
    trees = [build_course(f"Course {n}", modules=2, lessons_per_module=n + 1) for n in range(4)]
    for n, tree in enumerate(trees):
        services.enroll(learner, tree.course)
        for lesson in tree.lessons[:n]:
            services.complete_task(learner, lesson)
        services.add_time_spent(learner, tree.lessons[-1], 30 + n)
    tree = trees[-1]
    tree.lessons[0].optional = True
    tree.lessons[0].save()
    annotated = list(helpers.get_enrolled_courses(learner))
    loaded = helpers.load_learner_figures(
        learner, helpers.get_enrolled_courses(learner, figures=False)
    )
    names = (
        "course_id",
        "tasks_total",
        "tasks_completed",
        "tasks_in_progress",
        "percentage",
        "time_spent",
        "last_activity_at",
        "next_task_id",
    )
    assert [[getattr(e, n) for n in names] for e in loaded] == [
        [getattr(e, n) for n in names] for e in annotated
    ]


def test_me_progress_in_two_queries_and_required_changes(
    learner: Any, django_assert_num_queries: Any
) -> None:
    test = pytest.importorskip("rest_framework.test", reason="the REST API needs DRF")
    client = test.APIClient()
    client.force_authenticate(learner)
    trees = [build_course(f"Course {n}", modules=1, lessons_per_module=2) for n in range(6)]
    for tree in trees:
        services.enroll(learner, tree.course)
    services.complete_task(learner, trees[0].lessons[0])
    url = reverse("learning_progress:me-progress")
    with django_assert_num_queries(2):
        body = client.get(url).json()
    assert body["count"] == 6
    first = next(row for row in body["results"] if row["course"] == trees[0].course.pk)
    assert (first["tasks_total"], first["tasks_completed"], first["percentage"]) == (2, 1, 50.0)
    trees[0].lessons[1].optional = True
    trees[0].lessons[1].save()
    with django_assert_num_queries(2):
        body = client.get(url, {"page_size": 4, "page": 2}).json()
    assert body["count"] == 6 and len(body["results"]) == 2
    body = client.get(url).json()
    first = next(row for row in body["results"] if row["course"] == trees[0].course.pk)
    assert (first["tasks_total"], first["tasks_completed"], first["percentage"]) == (1, 1, 100.0)


def test_one_learner_in_two_queries(
    learner: Any, make_user: Any, django_assert_num_queries: Any
) -> None:
    tree = build_course(modules=3, lessons_per_module=3, max_attempts=1)
    other = build_course("Other", modules=1, lessons_per_module=1)
    services.enroll(learner, tree.course)
    services.enroll(learner, other.course)
    teacher = make_user(username="teacher", is_staff=True)
    for course_tree in (tree, other):  # the other course's attempts must not count here
        attempt = services.start_attempt(learner, course_tree.quizzes[0])
        answers = [(q, q.answer, 5) for q in course_tree.questions]
        services.answer_questions(learner, attempt, answers)
        services.submit_attempt(learner, attempt)
    services.set_quiz_override(other.quizzes[0], learner, by=teacher, extra_attempts=2)
    helpers.get_course_progress(learner, tree.course)  # compiles
    # On PostgreSQL (psycopg 3, client-side binding) both statements travel
    # in one round trip.
    with django_assert_num_queries(1 if _sql.sends_both(connection.alias) else 2):
        progress = helpers.get_course_progress(learner, tree.course)
    assert (progress.quizzes_total, progress.quizzes_passed) == (1, 1)
    status = helpers.quiz_outcomes(learner, Quiz.objects.filter(pk=tree.quizzes[0].pk))[0]
    assert status.exhausted  # one attempt allowed, no override in this course
    with django_assert_num_queries(1):
        helpers.calculate_progress_percentage(learner, tree.course)
    assert connection.vendor  # the same counts on every database


# -- several courses' required tasks in one query (``_batch``) ----------------------------


def loaded_figures(learner: Any) -> dict[Any, tuple[Any, ...]]:
    """``{course_id: figures}`` from ``load_learner_figures``, checked against
    ``get_course_progress`` (each course's own query)."""
    names = ("tasks_total", "tasks_completed", "tasks_in_progress", "time_spent", "next_task_id")
    loaded = helpers.load_learner_figures(
        learner, helpers.get_enrolled_courses(learner, figures=False)
    )
    result = {}
    for enrollment in loaded:
        mine = tuple(getattr(enrollment, n) for n in names)
        alone = helpers.get_course_progress(learner, enrollment.course_id)
        assert mine == tuple(getattr(alone, n) for n in names)
        result[enrollment.course_id] = mine
    return result


def several_courses(learner: Any, count: int = 4) -> list[Any]:
    trees = [
        build_course(f"Course {n}", modules=2, lessons_per_module=2 + n % 2) for n in range(count)
    ]
    for n, tree in enumerate(trees):
        services.enroll(learner, tree.course)
        for lesson in tree.lessons[: n % 3]:
            services.complete_task(learner, lesson)
        services.start_task(learner, tree.lessons[-1])
    return trees


def test_one_query_reads_every_courses_required_tasks(learner: Any) -> None:
    trees = several_courses(learner)
    course_ids = [tree.course.pk for tree in trees]
    alias = "default"
    compiled = {c: helpers._required_sql(c, alias) for c in course_ids}
    batched, batch = _batch.required_tasks_of(course_ids, get_content_adapter(), compiled, alias)
    assert batched is not None and batch == course_ids
    figures_of = loaded_figures(learner)
    assert figures_of[trees[1].course.pk][:3] == (6, 1, 1)
    assert figures_of[trees[2].course.pk][:3] == (4, 2, 1)
    trees[1].lessons[0].optional = True  # completed: one fewer done
    trees[1].lessons[0].save()
    assert loaded_figures(learner)[trees[1].course.pk][:3] == (5, 0, 1)


class OneCourseDiffersAdapter(TestAdapter):
    """One course (named by ``special``) also drops its first module's tasks."""

    special: Any = None

    def required_tasks(self, course: Any) -> Any:
        qs = super().required_tasks(course)
        if course == self.special:
            qs = qs.exclude(module__position=0)
        return qs


class CourseTwiceAdapter(TestAdapter):
    """The course is used twice: a subquery excludes tasks of its quizzes' lessons."""

    def required_tasks(self, course: Any) -> Any:
        quizzes = Quiz.objects.filter(course=course, lesson__isnull=False).values("lesson")
        return super().required_tasks(course).exclude(pk__in=quizzes)


def test_a_course_whose_query_differs_is_read_by_its_own(learner: Any) -> None:
    trees = several_courses(learner)
    OneCourseDiffersAdapter.special = trees[2].course.pk
    path = "tests.test_learner_reads.OneCourseDiffersAdapter"
    with override_settings(LEARNING_PROGRESS={"CONTENT_ADAPTER": path}):
        course_ids = [tree.course.pk for tree in trees]
        compiled = {c: helpers._required_sql(c, "default") for c in course_ids}
        batched, batch = _batch.required_tasks_of(
            course_ids, get_content_adapter(), compiled, "default"
        )
        assert batched is not None and trees[2].course.pk not in batch and len(batch) == 3
        figures_of = loaded_figures(learner)
    assert figures_of[trees[2].course.pk][0] == 2  # the second module's two tasks
    assert figures_of[trees[1].course.pk][0] == 6


def test_a_course_used_twice_is_not_batched(learner: Any) -> None:
    trees = several_courses(learner, count=3)
    Quiz.objects.create(course=trees[0].course, title="Q", lesson=trees[0].lessons[0])
    path = "tests.test_learner_reads.CourseTwiceAdapter"
    with override_settings(LEARNING_PROGRESS={"CONTENT_ADAPTER": path}):
        course_ids = [tree.course.pk for tree in trees]
        compiled = {c: helpers._required_sql(c, "default") for c in course_ids}
        assert _batch.required_tasks_of(course_ids, get_content_adapter(), compiled, "default") == (
            None,
            [],
        )
        figures_of = loaded_figures(learner)
    assert figures_of[trees[0].course.pk][0] == 3  # its first lesson belongs to a quiz


def test_batched_required_tasks_replaced_between_reads(learner: Any, monkeypatch: Any) -> None:
    trees = several_courses(learner, count=3)
    before = loaded_figures(learner)
    assert [before[t.course.pk][0] for t in trees] == [4, 6, 4]
    adapter = get_content_adapter()
    original = type(adapter).required_tasks
    monkeypatch.setattr(
        type(adapter),
        "required_tasks",
        lambda self, course: original(self, course).filter(module__position=1),
    )
    after = loaded_figures(learner)
    assert [after[t.course.pk][0] for t in trees] == [2, 3, 2]

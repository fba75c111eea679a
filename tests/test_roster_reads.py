"""The roster's reads: SQL compiled once per course, never a stale figure.

``roster_page`` (behind the REST API's roster) and ``course_quiz_grades``
reuse the compiled SQL of the adapter's ``required_tasks()`` and
``course_quizzes()`` for a course; these tests change what they select
between two reads (rows, the adapter's method) and check that the second
read sees the change.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count, Manager, Sum

from django_learning_progress import _compiled, helpers, services
from django_learning_progress.models import get_enrollment_model, get_task_progress_model
from tests.conftest import build_course
from tests.testapp.adapter import TestAdapter
from tests.testapp.models import Quiz

pytestmark = pytest.mark.django_db
Enrollment = get_enrollment_model()


def page(course: Any, *users: Any) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """The roster page's figures and grades, checked against the whole roster's."""
    figures, grades = helpers.roster_page(course, [user.pk for user in users])
    roster = {e.user_id: e for e in helpers.course_roster(course)}
    for user in users:
        for name, value in figures[user.pk].items():
            assert getattr(roster[user.pk], name) == value, name
    assert grades == helpers.course_quiz_grades(course, list(users))
    return figures, grades


def test_a_task_made_optional_between_roster_reads(learner: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=4)
    services.enroll(learner, tree.course)
    services.complete_task(learner, tree.lessons[1])
    figures, _grades = page(tree.course, learner)
    assert (figures[learner.pk]["tasks_total"], figures[learner.pk]["percentage"]) == (4, 25.0)
    tree.lessons[1].optional = True
    tree.lessons[1].save()
    figures, _grades = page(tree.course, learner)
    assert (figures[learner.pk]["tasks_total"], figures[learner.pk]["tasks_completed"]) == (3, 0)


def test_required_tasks_replaced_between_roster_reads(learner: Any, monkeypatch: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=4)
    services.enroll(learner, tree.course)
    services.complete_task(learner, tree.lessons[0])
    assert page(tree.course, learner)[0][learner.pk]["tasks_total"] == 4
    first_two = [lesson.pk for lesson in tree.lessons[:2]]
    monkeypatch.setattr(
        TestAdapter,
        "required_tasks",
        lambda self, course: self.course_tasks(course).filter(pk__in=first_two),
    )
    figures, _grades = page(tree.course, learner)
    assert (figures[learner.pk]["tasks_total"], figures[learner.pk]["percentage"]) == (2, 50.0)
    monkeypatch.undo()
    assert page(tree.course, learner)[0][learner.pk]["tasks_total"] == 4


def test_a_quiz_added_between_roster_reads(learner: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=1)
    services.enroll(learner, tree.course)
    services.submit_attempt(learner, services.start_attempt(learner, tree.quizzes[0]))
    _figures, grades = page(tree.course, learner)
    assert [entry["quiz"] for entry in grades[learner.pk]] == [tree.quizzes[0].pk]
    assert any("roster-quizzes" in key for key in _compiled._entries)  # reused from here on
    # Course order is the quiz model's ordering (by title): the new one comes first.
    added = Quiz.objects.create(course=tree.course, title="A first quiz")
    _figures, grades = page(tree.course, learner)
    assert [entry["quiz"] for entry in grades[learner.pk]] == [added.pk, tree.quizzes[0].pk]
    assert grades[learner.pk][0]["grade"] is None
    added.delete()
    _figures, grades = page(tree.course, learner)
    assert [entry["quiz"] for entry in grades[learner.pk]] == [tree.quizzes[0].pk]


def test_course_quizzes_replaced_between_roster_reads(learner: Any, monkeypatch: Any) -> None:
    tree = build_course(modules=1, lessons_per_module=1)
    second = Quiz.objects.create(course=tree.course, title="Second")
    services.enroll(learner, tree.course)
    _figures, grades = page(tree.course, learner)
    assert {entry["quiz"] for entry in grades[learner.pk]} == {tree.quizzes[0].pk, second.pk}
    monkeypatch.setattr(
        TestAdapter,
        "course_quizzes",
        lambda self, course: Quiz.objects.filter(course=course, pk=second.pk),
    )
    _figures, grades = page(tree.course, learner)
    assert [entry["quiz"] for entry in grades[learner.pk]] == [second.pk]


@pytest.mark.parametrize(
    "shape",
    [
        lambda qs: qs.select_related("course"),
        lambda qs: qs.defer("title"),
        lambda qs: qs.only("pk", "pass_mark"),
    ],
    ids=["select_related", "defer", "only"],
)
def test_course_quizzes_a_raw_query_cannot_rebuild(
    learner: Any, monkeypatch: Any, shape: Any
) -> None:
    """Quizzes loaded with related rows or deferred fields come from the queryset itself."""
    tree = build_course(modules=1, lessons_per_module=1, pass_mark=50)
    services.enroll(learner, tree.course)
    attempt = services.start_attempt(learner, tree.quizzes[0])
    for question in tree.questions:
        services.answer_question(learner, attempt, question, question.answer)
    services.submit_attempt(learner, attempt)
    expected = page(tree.course, learner)[1]
    original = TestAdapter.course_quizzes
    monkeypatch.setattr(
        TestAdapter, "course_quizzes", lambda self, course: shape(original(self, course))
    )
    for _ in range(2):
        assert page(tree.course, learner)[1] == expected
    assert expected[learner.pk][0]["passed"] is True


def test_the_whole_roster_as_any_queryset(make_user: Any) -> None:
    """The figures come from a grouped subquery joined to the enrollments: the
    roster still counts, filters, orders, aggregates and nests like any queryset."""
    tree = build_course(modules=1, lessons_per_module=4)
    busy, idle, other = make_user(), make_user(), make_user()
    for user in (busy, idle):
        services.enroll(user, tree.course)
    services.complete_task(busy, tree.lessons[0])
    services.complete_task(busy, tree.lessons[1])
    services.add_time_spent(busy, tree.lessons[2], 30)
    elsewhere = build_course("Elsewhere", modules=1, lessons_per_module=1)
    services.enroll(other, elsewhere.course)
    services.complete_task(other, elsewhere.lessons[0])
    roster = helpers.course_roster(tree.course)
    assert roster.count() == 2 and roster.exists()
    assert [(e.user, e.percentage, e.time_spent) for e in roster] == [
        (busy, 50.0, 30),
        (idle, 0, 0),
    ]
    assert list(roster.filter(percentage__gt=0).values_list("user", flat=True)) == [busy.pk]
    assert list(roster.order_by("-time_spent", "pk").values_list("user", flat=True)) == [
        busy.pk,
        idle.pk,
    ]
    assert roster.filter(tasks_in_progress=1).count() == 1
    assert roster.aggregate(total=Sum("time_spent"))["total"] == 30
    by_status = (
        roster.order_by().values("status").annotate(n=Count("pk"), done=Sum("tasks_completed"))
    )
    assert [(row["n"], row["done"]) for row in by_status] == [(2, 2)]
    # Nested in another query (its aliases relabelled).
    nested = Enrollment.objects.filter(pk__in=roster.filter(percentage__gt=0).values("pk"))
    assert [e.user_id for e in nested] == [busy.pk]
    both = helpers.course_roster(elsewhere.course) | roster.filter(user=idle)
    assert {e.user_id for e in both} >= {other.pk, idle.pk}


class _NoRows(Manager):
    def get_queryset(self) -> Any:
        return super().get_queryset().none()


def test_the_whole_roster_when_the_default_manager_hides_every_row(
    make_user: Any, monkeypatch: Any
) -> None:
    tree = build_course(modules=1, lessons_per_module=2)
    learner = make_user()
    services.enroll(learner, tree.course)
    services.complete_task(learner, tree.lessons[0])
    assert [e.tasks_completed for e in helpers.course_roster(tree.course)] == [1]
    TaskProgress = get_task_progress_model()
    manager = _NoRows()
    manager.model = TaskProgress
    monkeypatch.setitem(TaskProgress._meta.__dict__, "default_manager", manager)
    roster = list(helpers.course_roster(tree.course))
    assert [(e.user_id, e.tasks_total, e.tasks_completed, e.time_spent) for e in roster] == [
        (learner.pk, 2, 0, 0)
    ]
    assert roster[0].last_activity_at is None and roster[0].percentage == 0

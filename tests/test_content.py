from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_learning_progress.content import (
    ContentAdapter,
    Grade,
    get_content_adapter,
    get_course_model,
    get_question_model,
    get_quiz_model,
    get_task_model,
)
from tests.conftest import CourseTree, build_course
from tests.testapp.models import Course, Lesson, Question, Quiz


def test_content_model_loaders_read_the_settings() -> None:
    assert get_course_model() is Course
    assert get_task_model() is Lesson
    assert get_quiz_model() is Quiz
    assert get_question_model() is Question


@pytest.mark.django_db
def test_structure_follows_the_lookups(course_tree: CourseTree) -> None:
    other = build_course("Other")
    adapter = get_content_adapter()
    assert list(adapter.course_tasks(course_tree.course)) == course_tree.lessons
    assert list(adapter.course_quizzes(course_tree.course)) == course_tree.quizzes
    assert list(adapter.quiz_questions(course_tree.quizzes[0])) == course_tree.questions
    assert not set(adapter.course_tasks(course_tree.course)) & set(other.lessons)
    lesson = Lesson.objects.get(pk=course_tree.lessons[0].pk)
    assert adapter.get_task_course_id(lesson) == course_tree.course.pk
    assert adapter.get_quiz_course_id(course_tree.quizzes[0]) == course_tree.course.pk
    assert adapter.get_question_quiz_id(course_tree.questions[0]) == course_tree.quizzes[0].pk


@pytest.mark.django_db
def test_required_tasks_default_to_every_task_and_can_be_narrowed() -> None:
    tree = build_course(optional_lessons=2)
    required = set(get_content_adapter().required_tasks(tree.course))
    assert required == {lesson for lesson in tree.lessons if not lesson.optional}
    base = ContentAdapter()
    base.task_course_lookup = "module__course"
    assert set(base.required_tasks(tree.course)) == set(tree.lessons)


def test_question_points() -> None:
    adapter = ContentAdapter()
    assert adapter.question_points(Question(marks=Decimal(5))) == 1  # no `points` field
    assert get_content_adapter().question_points(Question(marks=Decimal(5))) == 5


def test_quiz_rules_read_optional_attributes() -> None:
    adapter = ContentAdapter()
    bare = SimpleNamespace()
    assert adapter.max_attempts(bare) is None
    assert adapter.pass_mark(bare) is None
    assert adapter.time_limit(bare) is None
    quiz = Quiz(max_attempts=3, pass_mark=Decimal("60.00"), time_limit=20)
    assert adapter.max_attempts(quiz) == 3
    assert adapter.pass_mark(quiz) == Decimal("60")
    assert adapter.time_limit(quiz) == timedelta(minutes=20)
    assert adapter.max_attempts(Quiz(max_attempts=0)) is None
    assert adapter.time_limit(SimpleNamespace(time_limit=timedelta(seconds=90))) == timedelta(
        seconds=90
    )


@pytest.mark.parametrize(
    ("question", "response", "expected"),
    [
        (Question(kind="choice", answer="b", marks=Decimal(2)), "b", Grade(True, Decimal(2))),
        (Question(kind="choice", answer="b", marks=Decimal(2)), "c", Grade(False, Decimal(0))),
        (Question(kind="essay", marks=Decimal(2)), "text", Grade(None, None)),
        (
            Question(kind="multi", answer=["a", "b", "c"], marks=Decimal(3)),
            ["a", "b"],
            Grade(False, Decimal(2)),
        ),
        (
            Question(kind="multi", answer=["a", "b"], marks=Decimal(3)),
            ["a", "b"],
            Grade(True, Decimal(3)),
        ),
    ],
)
def test_grade(question: Question, response: Any, expected: Grade) -> None:
    assert get_content_adapter().grade(question, response) == expected


def test_grade_rejects_out_of_range_fractions() -> None:
    question = SimpleNamespace(grade_response=lambda response: 1.5)
    with pytest.raises(ImproperlyConfigured, match="grade_response"):
        ContentAdapter().grade(question, "x")


def test_question_without_grade_response_is_graded_manually() -> None:
    grade = ContentAdapter().grade(SimpleNamespace(), "x")
    assert grade.needs_manual_grading and grade.points is None


def test_adapter_must_subclass_content_adapter() -> None:
    with (
        override_settings(LEARNING_PROGRESS={"CONTENT_ADAPTER": "decimal.Decimal"}),
        pytest.raises(ImproperlyConfigured, match="CONTENT_ADAPTER"),
    ):
        get_content_adapter()

"""Opt-in fixtures: a small course built in the test host app's own shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    # Imported where used, so that settings without tests.testapp
    # (tests/settings_lmshost.py) can load this file.
    from tests.testapp.models import Course, Lesson, Module, Question, Quiz


@dataclass
class CourseTree:
    course: Course
    modules: list[Module] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)
    quizzes: list[Quiz] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


def build_course(
    title: str = "Django 101",
    *,
    modules: int = 2,
    lessons_per_module: int = 2,
    optional_lessons: int = 0,
    questions: int = 3,
    **quiz_options: Any,
) -> CourseTree:
    """A course with modules, lessons, one quiz and its questions."""
    from tests.testapp.models import Course, Lesson, Module, Question, Quiz

    course = Course.objects.create(title=title)
    tree = CourseTree(course=course)
    for m in range(modules):
        module = Module.objects.create(course=course, title=f"Module {m}", position=m)
        tree.modules.append(module)
        for n in range(lessons_per_module):
            tree.lessons.append(
                Lesson.objects.create(module=module, title=f"Lesson {m}.{n}", position=n)
            )
    for n in range(optional_lessons):
        tree.lessons.append(
            Lesson.objects.create(
                module=tree.modules[0], title=f"Extra {n}", position=100 + n, optional=True
            )
        )
    quiz = Quiz.objects.create(course=course, title=f"{title} quiz", **quiz_options)
    tree.quizzes.append(quiz)
    for n in range(questions):
        tree.questions.append(
            Question.objects.create(
                quiz=quiz, text=f"Q{n}", answer=f"a{n}", marks=Decimal(n + 1), position=n
            )
        )
    return tree


@pytest.fixture
def course_tree(db: None) -> CourseTree:
    return build_course()


@pytest.fixture
def make_user(db: None) -> Any:
    from django.contrib.auth import get_user_model

    counter = iter(range(1, 10_000))

    def make(**kwargs: Any) -> Any:
        n = next(counter)
        kwargs.setdefault("username", f"learner{n}")
        return get_user_model().objects.create_user(**kwargs)

    return make


@pytest.fixture
def learner(make_user: Any) -> Any:
    return make_user(username="ada")


def progress_tables() -> list[Any]:
    """Every row of the four progress tables, to compare before and after a request."""
    from django_learning_progress.models import (
        get_enrollment_model,
        get_quiz_attempt_model,
        get_quiz_response_model,
        get_task_progress_model,
    )

    return [
        sorted(loader()._default_manager.values_list())
        for loader in (
            get_enrollment_model,
            get_task_progress_model,
            get_quiz_attempt_model,
            get_quiz_response_model,
        )
    ]

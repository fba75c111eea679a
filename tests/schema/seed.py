"""Real data for the served test project, made through the services.

Two learners and an instructor. ``instructor`` teaches *Django 101* (the
host's ``INSTRUCTOR_CHECK`` is ``tests.testapp.access.teaches``: the course
lists its instructors) and is a learner in *Advanced ORM*. ``learner`` has an
active, a completed-task and a dropped enrollment, and quiz attempts in every
state: open, submitted (an essay awaiting a grade) and completed, and an
accommodation (a quiz override) in *Django 101*. ``other`` gives the
instructor a roster and a response to grade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from django_learning_progress import services
from django_learning_progress.models import get_quiz_response_model
from tests.testapp.models import Course, Lesson, Module, Question, Quiz

PASSWORDS = {"learner": "learner-pass", "instructor": "instructor-pass", "other": "other-pass"}


@dataclass
class SeededCourse:
    course: Course
    lessons: list[Lesson] = field(default_factory=list)
    quizzes: list[Quiz] = field(default_factory=list)


def _course(title: str, *, lessons: int, essay: bool = False) -> SeededCourse:
    course = Course.objects.create(title=title)
    seeded = SeededCourse(course)
    for m in range(2):
        module = Module.objects.create(course=course, title=f"{title} module {m}", position=m)
        for n in range(lessons):
            seeded.lessons.append(
                Lesson.objects.create(module=module, title=f"Lesson {m}.{n}", position=n)
            )
    Lesson.objects.create(
        module=module, title="Extra reading", position=99, optional=True
    )  # not required
    quiz = Quiz.objects.create(
        course=course, title=f"{title} quiz", pass_mark=Decimal(60), time_limit=600
    )
    for n, (kind, answer) in enumerate(
        [(Question.KIND_CHOICE, "a"), (Question.KIND_MULTI, ["x", "y"]), (Question.KIND_CHOICE, 3)]
    ):
        Question.objects.create(
            quiz=quiz, text=f"Q{n}", kind=kind, answer=answer, marks=Decimal(n + 1), position=n
        )
    seeded.quizzes.append(quiz)
    if essay:
        review = Quiz.objects.create(course=course, title=f"{title} review", max_attempts=3)
        Question.objects.create(quiz=review, text="Explain PROTECT.", kind=Question.KIND_ESSAY)
        seeded.quizzes.append(review)
    return seeded


def _answer_all(user: Any, quiz: Quiz, *, submit: bool) -> Any:
    attempt = services.start_attempt(user, quiz)
    answers = [
        (q, q.answer if q.kind != Question.KIND_ESSAY else "An essay.", 30)
        for q in quiz.questions.all()
    ]
    services.answer_questions(user, attempt, answers)
    return services.submit_attempt(user, attempt) if submit else attempt


def seed() -> dict[str, Any]:
    """Create the users, courses and progress; return the users by name."""
    user_model: Any = get_user_model()
    users = {
        name: user_model.objects.create_user(name, password=pw) for name, pw in PASSWORDS.items()
    }
    learner, instructor, other = users["learner"], users["instructor"], users["other"]

    django101 = _course("Django 101", lessons=2, essay=True)
    django101.course.instructors.add(instructor)
    # tests/schema/schemathesis.toml names them for the instructor views.
    assert django101.course.pk == 1 and django101.quizzes[0].pk == 1, "seed a fresh database"
    orm = _course("Advanced ORM", lessons=1)
    old = _course("Old course", lessons=1)

    # learner: progress in Django 101, every attempt state.
    services.enroll(learner, django101.course)
    first, second = django101.lessons[:2]
    services.start_task(learner, first)
    services.add_time_spent(learner, first, 300)
    services.complete_task(learner, first)
    services.start_task(learner, second)
    services.add_time_spent(learner, second, 120)
    quiz, review = django101.quizzes
    _answer_all(learner, quiz, submit=True)  # completed
    _answer_all(learner, review, submit=True)  # submitted, awaiting a grade
    services.enroll(learner, orm.course)
    _answer_all(learner, orm.quizzes[0], submit=False)  # open
    services.drop_enrollment(services.enroll(learner, old.course))

    # other: graded by the instructor, and one response still to grade.
    services.enroll(other, django101.course)
    services.start_task(other, django101.lessons[0])
    graded = _answer_all(other, review, submit=True)
    response = get_quiz_response_model()._default_manager.get(attempt=graded)
    services.grade_response(instructor, response, points=Decimal(1), is_correct=True)
    _answer_all(other, review, submit=True)
    abandoned = services.start_attempt(other, quiz)
    services.abandon_attempt(other, abandoned)

    # learner: extra time and an extra attempt at the Django 101 quiz (override 1).
    services.set_quiz_override(
        quiz, learner, by=instructor, extra_attempts=1, extra_time=timedelta(minutes=10)
    )

    # instructor: a learner in Advanced ORM.
    services.enroll(instructor, orm.course)
    services.start_task(instructor, orm.lessons[0])
    services.complete_task(instructor, orm.lessons[0])
    _answer_all(instructor, orm.quizzes[0], submit=True)
    return users

"""How django-learning-progress reads the host's own content models.

The host names its course, task, quiz and question models with the
``LEARNING_PROGRESS_*_MODEL`` settings, and describes how they relate with a
*content adapter*: a subclass of :class:`ContentAdapter` named by
``LEARNING_PROGRESS["CONTENT_ADAPTER"]``. Subclasses override only what
differs from the defaults documented on each member.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.module_loading import import_string

from django_learning_progress.conf import app_settings, model_setting


def get_course_model() -> type[models.Model]:
    """The model named by ``LEARNING_PROGRESS_COURSE_MODEL``."""
    return apps.get_model(model_setting("course"), require_ready=False)


def get_task_model() -> type[models.Model]:
    """The model named by ``LEARNING_PROGRESS_TASK_MODEL``."""
    return apps.get_model(model_setting("task"), require_ready=False)


def get_quiz_model() -> type[models.Model]:
    """The model named by ``LEARNING_PROGRESS_QUIZ_MODEL``."""
    return apps.get_model(model_setting("quiz"), require_ready=False)


def get_question_model() -> type[models.Model]:
    """The model named by ``LEARNING_PROGRESS_QUESTION_MODEL``."""
    return apps.get_model(model_setting("question"), require_ready=False)


@dataclass(frozen=True)
class Grade:
    """The outcome of grading one response.

    ``is_correct`` is ``None`` (and ``points`` too) when the response needs
    manual grading.
    """

    is_correct: bool | None
    points: Decimal | None

    @property
    def needs_manual_grading(self) -> bool:
        return self.is_correct is None


POINTS_QUANTUM = Decimal("0.001")


def to_points(value: Any) -> Decimal:
    """``value`` as a non-negative :class:`~decimal.Decimal` with three decimal places."""
    points = Decimal(str(value)).quantize(POINTS_QUANTUM)
    if points < 0:
        raise ValueError(f"points must not be negative, got {value!r}")
    return points


def ordered(queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """``queryset`` in its model's default ordering, then by primary key (the course order)."""
    ordering = list(queryset.model._meta.ordering or [])
    return queryset.order_by(*ordering, "pk")


def _follow_lookup(obj: models.Model, lookup: str, using: str | None = None) -> Any:
    """The primary key at the end of the relation path ``lookup`` starting at ``obj``.

    A one-step path (``"course"``) reads the foreign key column, no query. A
    longer one (``"module__course"``) takes one query, on database ``using``
    (the router's choice when ``None``) unless every hop is already loaded.
    """
    *hops, last = lookup.split("__")
    current: Any = obj
    for hop in hops:
        field = current._meta.get_field(hop)
        if not field.is_cached(current):
            manager = type(obj)._default_manager.db_manager(using)
            return manager.filter(pk=obj.pk).values_list(lookup, flat=True).get()
        current = getattr(current, hop)
        if current is None:
            return None
    return getattr(current, current._meta.get_field(last).attname)


class ContentAdapter:
    """Default description of the host's content structure.

    Every lookup is an ORM path usable in ``filter()``, so that course-level
    queries stay set-based. Override the attributes or methods that differ in
    your project::

        from django_learning_progress.content import ContentAdapter

        class MyAdapter(ContentAdapter):
            task_course_lookup = "module__course"

            def question_points(self, question):
                return question.marks
    """

    #: Path from a task to its course.
    task_course_lookup: str = "course"
    #: Path from a quiz to its course.
    quiz_course_lookup: str = "course"
    #: Path from a question to its quiz.
    question_quiz_lookup: str = "quiz"
    #: Path from a quiz to the task its outcome completes, or ``None`` when no
    #: quiz completes a task. ``"lesson"`` for a quiz with a ``lesson``
    #: foreign key; for a quiz model that is a multi-table subclass of the task
    #: model, its parent link (``"learningtask_ptr"``).
    quiz_task_lookup: str | None = None
    #: Whether the SQL of :meth:`required_tasks`, :meth:`course_quizzes` and
    #: :meth:`required_quizzes` for a course may be compiled once and reused:
    #: the rows are read afresh every time, only the SQL is kept. Reuse is
    #: skipped on its own when building the queryset runs a query or filters
    #: on a date or time (such as "now"); set this to ``False`` when your
    #: querysets depend on anything else that changes while the process runs.
    reuse_course_sql: bool = True

    # -- models -----------------------------------------------------------------

    @property
    def course_model(self) -> type[models.Model]:
        return get_course_model()

    @property
    def task_model(self) -> type[models.Model]:
        return get_task_model()

    @property
    def quiz_model(self) -> type[models.Model]:
        return get_quiz_model()

    @property
    def question_model(self) -> type[models.Model]:
        return get_question_model()

    # -- structure ---------------------------------------------------------------

    # ``course`` and ``quiz`` arguments below may be instances, primary keys or
    # query expressions such as ``OuterRef("course")``: the library builds
    # set-based queries from these querysets. Build overrides from filter()
    # lookups so that they keep working as subqueries.

    def course_tasks(self, course: Any) -> models.QuerySet[Any]:
        """All tasks of ``course``, in the task model's default ordering, then by id."""
        qs = self.task_model._default_manager.filter(**{self.task_course_lookup: course})
        return ordered(qs)

    def required_tasks(self, course: Any) -> models.QuerySet[Any]:
        """The tasks a learner must complete to complete ``course``.

        Default: every task of the course. Must return a queryset of the task
        model (it is used as a subquery).
        """
        return self.course_tasks(course)

    def course_quizzes(self, course: Any) -> models.QuerySet[Any]:
        """All quizzes of ``course``, in the quiz model's default ordering, then by id."""
        qs = self.quiz_model._default_manager.filter(**{self.quiz_course_lookup: course})
        return ordered(qs)

    def quiz_questions(self, quiz: Any) -> models.QuerySet[Any]:
        """All questions of ``quiz``, in the question model's default ordering, then by id."""
        qs = self.question_model._default_manager.filter(**{self.question_quiz_lookup: quiz})
        return ordered(qs)

    def get_task_course_id(self, task: Any, using: str | None = None) -> Any:
        """Primary key of the course ``task`` belongs to (read from database ``using``)."""
        return _follow_lookup(task, self.task_course_lookup, using)

    def get_quiz_course_id(self, quiz: Any, using: str | None = None) -> Any:
        """Primary key of the course ``quiz`` belongs to (read from database ``using``)."""
        return _follow_lookup(quiz, self.quiz_course_lookup, using)

    def get_question_quiz_id(self, question: Any, using: str | None = None) -> Any:
        """Primary key of the quiz ``question`` belongs to (read from database ``using``)."""
        return _follow_lookup(question, self.question_quiz_lookup, using)

    def task_quiz(self, task: Any, using: str | None = None) -> Any:
        """The quiz whose outcome completes ``task``, or ``None``.

        Such a task completes only through its quiz, by
        :meth:`quiz_completion_rule`: ``complete_task`` refuses it. Default:
        the quiz that :attr:`quiz_task_lookup` leads to ``task`` from (one
        query), ``None`` without a lookup (no query).
        """
        if self.quiz_task_lookup is None:
            return None
        quizzes = self.quiz_model._default_manager.db_manager(using)
        return quizzes.filter(**{self.quiz_task_lookup: task}).order_by("pk").first()

    def get_quiz_task_id(self, quiz: Any, using: str | None = None) -> Any:
        """Primary key of the task ``quiz`` completes, or ``None`` (see :meth:`task_quiz`)."""
        if self.quiz_task_lookup is None:
            return None
        return _follow_lookup(quiz, self.quiz_task_lookup, using)

    def quiz_completion_rule(self, quiz: Any) -> str:
        """When ``quiz`` counts as done, for the task it completes and for course completion.

        ``"submitted"`` (an attempt was submitted), ``"passed"`` (the quiz's
        grade passes its pass mark) or ``"passed_or_exhausted"`` (passed, or
        every allowed attempt used and closed). Default: the quiz's
        ``completion_rule`` attribute when present, else ``"passed"``.
        """
        return str(getattr(quiz, "completion_rule", None) or "passed")

    def required_quizzes(self, course: Any) -> models.QuerySet[Any]:
        """The quizzes whose completion rule must be met for ``course`` to complete.

        Default: every quiz of the course when
        ``LEARNING_PROGRESS["REQUIRE_QUIZZES_FOR_COMPLETION"]`` is on, none
        otherwise. Must return a queryset of the quiz model.
        """
        if app_settings.REQUIRE_QUIZZES_FOR_COMPLETION:
            return self.course_quizzes(course)
        return self.quiz_model._default_manager.none()

    def validate_response(self, question: Any, response: Any) -> None:
        """Refuse an answer before it is stored: raise ``ValidationError``.

        ``question`` is an instance from :meth:`quiz_questions` (so what that
        queryset prefetches is at hand); ``response`` is the JSON value as
        given, already within the JSON limits. Default: accept everything.
        """

    # -- quiz rules ----------------------------------------------------------------

    def question_points(self, question: Any) -> Decimal:
        """Points a fully correct answer to ``question`` earns.

        Default: the question's ``points`` attribute (a model field, usually)
        when it has one, else 1.
        """
        points = getattr(question, "points", None)
        return Decimal(1) if points is None else to_points(points)

    def max_attempts(self, quiz: Any) -> int | None:
        """How many attempts a learner may start; ``None`` means unlimited.

        Default: the quiz's ``max_attempts`` attribute when present and not
        empty (``0`` also means unlimited).
        """
        value = getattr(quiz, "max_attempts", None)
        return int(value) if value else None

    def pass_mark(self, quiz: Any) -> Decimal | None:
        """Percentage (0-100) needed to pass ``quiz``; ``None`` means no pass mark.

        Default: the quiz's ``pass_mark`` attribute when present. A percentage
        equal to the pass mark passes.
        """
        value = getattr(quiz, "pass_mark", None)
        return None if value is None else Decimal(str(value))

    def time_limit(self, quiz: Any) -> timedelta | None:
        """How long an attempt at ``quiz`` may last; ``None`` means no limit.

        Default: the quiz's ``time_limit`` attribute when present: a
        :class:`~datetime.timedelta` (``DurationField``) is used as it is, a
        number is read as **minutes**; empty or ``0`` means no limit.
        """
        value = getattr(quiz, "time_limit", None)
        if not value:
            return None
        if isinstance(value, timedelta):
            return value
        return timedelta(minutes=float(value))

    def quiz_opens_at(self, quiz: Any) -> datetime | None:
        """When attempts at ``quiz`` may start; ``None``: open from the start.

        Default: the quiz's ``opens_at`` attribute when present and not empty.
        """
        return getattr(quiz, "opens_at", None) or None

    def quiz_closes_at(self, quiz: Any) -> datetime | None:
        """When ``quiz`` closes: no attempt starts from then on, and an open
        attempt's deadline is at most this. ``None``: never closes.

        Default: the quiz's ``closes_at`` attribute when present and not empty.
        """
        return getattr(quiz, "closes_at", None) or None

    def grade_method(self, quiz: Any) -> str:
        """How the grade of ``quiz`` is taken over a learner's completed attempts.

        One of ``"highest"``, ``"latest"``, ``"first"`` or ``"average"``.
        Default: ``LEARNING_PROGRESS["QUIZ_GRADE_METHOD"]``; override to vary it per quiz.
        """
        return app_settings.QUIZ_GRADE_METHOD

    def grade(self, question: Any, response: Any) -> Grade:
        """Grade one ``response`` (the JSON answer as given) to ``question``.

        Default: calls ``question.grade_response(response)``, which returns

        * ``True`` / ``False``: all or none of the question's points;
        * a number from 0 to 1: that fraction of the points (``is_correct`` is
          true only for 1);
        * ``None``: the response needs manual grading.

        A question model without ``grade_response`` is graded manually.
        """
        grade_response = getattr(question, "grade_response", None)
        if grade_response is None:
            return Grade(is_correct=None, points=None)
        result = grade_response(response)
        if result is None:
            return Grade(is_correct=None, points=None)
        points = self.question_points(question)
        if isinstance(result, bool):
            return Grade(is_correct=result, points=points if result else to_points(0))
        fraction = Decimal(str(result))
        if not Decimal(0) <= fraction <= Decimal(1):
            raise ImproperlyConfigured(
                f"{type(question).__name__}.grade_response() returned {result!r}; "
                "expected True, False, None or a number from 0 to 1."
            )
        return Grade(is_correct=fraction == 1, points=to_points(points * fraction))


@functools.lru_cache(maxsize=8)
def _load_adapter(path: str) -> ContentAdapter:
    cls = import_string(path)
    if not (isinstance(cls, type) and issubclass(cls, ContentAdapter)):
        raise ImproperlyConfigured(
            f'LEARNING_PROGRESS["CONTENT_ADAPTER"] = {path!r} is not a ContentAdapter subclass.'
        )
    return cls()


def get_content_adapter() -> ContentAdapter:
    """The configured content adapter instance (``LEARNING_PROGRESS["CONTENT_ADAPTER"]``)."""
    return _load_adapter(app_settings.CONTENT_ADAPTER)

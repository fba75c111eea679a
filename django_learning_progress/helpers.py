"""Read-only progress helpers, taking the user first.

These are the functions behind :class:`~django_learning_progress.mixins.LearningProgressUserMixin`,
for hosts that cannot change their user model::

    from django_learning_progress import helpers

    helpers.calculate_progress_percentage(request.user, course)   # 62.5

Every helper answers in a fixed, small number of queries whatever the size of
the course; none of them writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import router
from django.db.models import (
    Case,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.db.models.query import EmptyQuerySet
from django.utils import timezone

from django_learning_progress import _batch, _compiled, _reads, _sql
from django_learning_progress import _expressions as ex
from django_learning_progress._reads import PERCENT
from django_learning_progress._reads import grade_over_attempts as grade_over_attempts
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus
from django_learning_progress.conf import app_settings
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_override_model,
    get_task_progress_model,
)


@dataclass
class CourseProgress:
    """One learner's progress in one course (see :func:`get_course_progress`).

    ``percentage`` is completed required tasks over required tasks, 0 to 100
    with two decimals; a course without required tasks is at 0.
    """

    course_id: Any
    status: str | None
    enrolled_at: datetime | None
    completed_at: datetime | None
    tasks_total: int
    tasks_completed: int
    tasks_in_progress: int
    percentage: float
    time_spent: int
    last_activity_at: datetime | None
    quizzes_total: int
    quizzes_passed: int
    next_task_id: Any
    #: Quizzes whose completion rule the course requires (``adapter.required_quizzes()``).
    quizzes_required: int = 0
    #: Of those, the quizzes whose rule is met.
    quizzes_met: int = 0
    _next_task: Any = field(default=None, repr=False, compare=False)

    @property
    def is_enrolled(self) -> bool:
        return self.status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)

    @property
    def is_completed(self) -> bool:
        return self.status == EnrollmentStatus.COMPLETED

    @property
    def next_task(self) -> Any:
        """The first required task (in course order) not completed yet, or ``None``.

        Loaded with one query on first access.
        """
        if self._next_task is None and self.next_task_id is not None:
            model = get_content_adapter().task_model
            self._next_task = model._default_manager.get(pk=self.next_task_id)
        return self._next_task


def round_percentage(value: float) -> float:
    """``value`` rounded half-up to two decimals, as every helper rounds percentages."""
    return float(Decimal(str(value)).quantize(PERCENT))


def course_figures(
    user: Any, course: Any, *fields: str, using: str | None = None
) -> dict[str, Any]:
    """Some of ``user``'s figures in ``course``, as a dict, in one query.

    ``fields`` are names of :class:`CourseProgress` attributes: ``tasks_total``,
    ``tasks_completed``, ``tasks_in_progress``, ``percentage`` (not rounded),
    ``time_spent``, ``last_activity_at``, ``next_task_id``, ``status``,
    ``enrolled_at``, ``completed_at``. ``using`` names the database to read
    (the read router's by default).
    """
    figures, _attempts, _extras, _rows = _learner_course(user, course, (), using)
    if "percentage" in fields:
        figures["percentage"] = _reads.percentage(
            figures["tasks_completed"], figures["tasks_total"]
        )
    return {name: figures[name] for name in fields}


def _learner_course(
    user: Any,
    course: Any,
    quiz_ids: Iterable[Any] | None,
    using: str | None,
    first: tuple[str, list[Any]] | None = None,
) -> tuple[dict[str, Any], list[tuple[Any, int, str, Any]], dict[Any, int], list[tuple[Any, ...]]]:
    """The figures of :func:`_sql.learner_course`; ``DoesNotExist`` for a missing course.

    ``quiz_ids`` ``None`` reads every attempt and override of the learner;
    ``first``, the SQL of another ``SELECT`` sent with the statement, whose
    rows come fourth.
    """
    adapter = get_content_adapter()
    course_id = _reads.pk_of(course)
    course_model: Any = adapter.course_model
    alias = using or router.db_for_read(get_task_progress_model())
    compile = _reads.compiler(alias)

    def course_row() -> QuerySet[Any]:
        manager = course_model._default_manager.db_manager(alias)
        return manager.filter(pk=course_id).order_by().values_list("pk")

    figures, attempts, extras, first_rows = _sql.learner_course(
        _reads.pk_of(user),
        course_id,
        _compiled.compiled(("course", course_id, alias), adapter, course_row, compile),
        _required_sql(course_id, alias),
        None if quiz_ids is None else list(quiz_ids),
        alias,
        first,
    )
    if figures is None:
        raise course_model.DoesNotExist(f"No course with pk {course_id!r}.")
    return figures, attempts, extras, first_rows


def _required_sql(course_id: Any, alias: str) -> tuple[str, list[Any]]:
    """The SQL of ``(pk, position)`` of the course's required tasks, each once,
    numbered in course order (compiled once per course, see ``_compiled``)."""
    adapter = get_content_adapter()

    def numbered() -> QuerySet[Any]:
        task_model: Any = adapter.task_model
        position = ex.free_names(task_model, ["position"])["position"]
        # The host's queryset may repeat a task (a many-valued join): the
        # statements count distinct ids and take a task's first position.
        return (
            adapter.required_tasks(course_id)
            .using(alias)
            .annotate(**{position: Window(RowNumber(), order_by=ex.order_of(task_model))})
            .order_by()
            .values_list("pk", position)
        )

    key = ("required", course_id, alias, _compiled.method_key(adapter, "required_tasks"))
    return _compiled.compiled(key, adapter, numbered, _reads.compiler(alias))


def calculate_progress_percentage(user: Any, course: Any) -> float:
    """Completed required tasks over required tasks of ``course``, 0-100 (one query).

    A course without required tasks is at 0.
    """
    return round_percentage(course_figures(user, course, "percentage")["percentage"])


def is_course_completed(user: Any, course: Any) -> bool:
    """Whether ``user``'s enrollment in ``course`` is ``completed`` (one query)."""
    return (
        get_enrollment_model()
        ._default_manager.filter(
            user=_reads.pk_of(user), course=_reads.pk_of(course), status=EnrollmentStatus.COMPLETED
        )
        .exists()
    )


@dataclass(frozen=True)
class QuizOutcome:
    """Where one learner stands with one quiz (see :func:`quiz_outcomes`)."""

    quiz: Any
    #: The grade by the quiz's grade method, a percentage; ``None`` without a completed attempt.
    grade: Decimal | None
    #: The grade reaches the pass mark (any completed attempt passes a quiz without one).
    passed: bool
    #: An attempt was submitted (it may still await manual grading).
    submitted: bool
    #: Every allowed attempt (the effective number, with the learner's override)
    #: is used and closed; never, for unlimited attempts.
    exhausted: bool
    #: The adapter's ``quiz_completion_rule(quiz)``.
    rule: str

    @property
    def met(self) -> bool:
        """Whether the quiz's completion rule is met."""
        if self.rule == "submitted":
            return self.submitted
        if self.rule == "passed_or_exhausted":
            return self.passed or self.exhausted
        return self.passed


def quiz_outcomes(
    user: Any, quizzes: QuerySet[Any], *, using: str | None = None
) -> list[QuizOutcome]:
    """A :class:`QuizOutcome` for each quiz of ``quizzes``, in one query.

    ``using`` names the database to read (the queryset's own by default).
    """
    adapter = get_content_adapter()
    figures = {
        **ex.quiz_grade_annotations(_reads.pk_of(user)),
        "extra_attempts": _extra_attempts(_reads.pk_of(user), OuterRef("pk")),
    }
    # Annotated under names no field or attribute of the host's quiz model has.
    alias = ex.free_names(quizzes.model, figures)
    if using is not None:
        quizzes = quizzes.using(using)
    outcomes = []
    for quiz in quizzes.annotate(**{alias[name]: figures[name] for name in figures}):
        method = adapter.grade_method(quiz)
        if method == "average":
            grade = _reads.average(
                getattr(quiz, alias["percentage_sum"]), getattr(quiz, alias["attempts_completed"])
            )
        else:
            grade = getattr(quiz, alias[f"grade_{method}"])
            grade = None if grade is None else Decimal(grade).quantize(PERCENT, ROUND_HALF_UP)
        submitted = getattr(quiz, alias["attempts_submitted"])
        closed = getattr(quiz, alias["attempts_closed"])
        extra = getattr(quiz, alias["extra_attempts"]) or 0
        outcomes.append(_outcome(quiz, grade, submitted, closed, extra))
    return outcomes


def _extra_attempts(user: Any, quiz: Any) -> Subquery:
    """The learner's override's ``extra_attempts`` at ``quiz`` (a subquery; ``None`` without one)."""
    overrides = get_quiz_override_model()._default_manager.filter(user=user, quiz=quiz)
    return Subquery(overrides.order_by().values("extra_attempts")[:1])


def _outcome(
    quiz: Any, grade: Decimal | None, submitted: int, closed: int, extra_attempts: int = 0
) -> QuizOutcome:
    """The :class:`QuizOutcome` of a grade and the numbers of submitted and closed attempts.

    ``extra_attempts`` comes from the learner's override: the allowed attempts
    are the effective ones.
    """
    adapter = get_content_adapter()
    pass_mark = adapter.pass_mark(quiz)
    allowed = adapter.max_attempts(quiz)
    if allowed is not None:
        allowed += extra_attempts
    return QuizOutcome(
        quiz=quiz,
        grade=grade,
        passed=grade is not None and (pass_mark is None or grade >= pass_mark),
        submitted=submitted > 0,
        exhausted=allowed is not None and closed >= allowed,
        rule=adapter.quiz_completion_rule(quiz),
    )


def learner_quiz_outcomes(
    quiz: Any, users: Iterable[Any], *, using: str | None = None
) -> dict[Any, QuizOutcome]:
    """``{user_id: QuizOutcome}`` at one ``quiz`` for many learners, in two queries.

    The learners' attempts at the quiz, then their overrides (for the
    effective number of attempts), whatever the number of learners: what
    :func:`quiz_outcomes` says of each learner, for a batch of them (a quiz
    regrade reads it before and after each chunk). ``using`` names the
    database to read (the read router's by default).
    """
    adapter = get_content_adapter()
    user_ids = list(dict.fromkeys(_reads.pk_of(u) for u in users))
    if not user_ids:
        return {}
    rows = (
        get_quiz_attempt_model()
        ._default_manager.db_manager(using)
        .filter(ex.AnyOf(F("user"), user_ids), quiz=_reads.pk_of(quiz))
        .values_list("user_id", "attempt_number", "status", "percentage")
    )
    mine: dict[Any, list[tuple[int, str, Any]]] = {u: [] for u in user_ids}
    for user_id, number, status, percentage in rows:
        mine[user_id].append((number, status, percentage))
    extra = dict(
        get_quiz_override_model()
        ._default_manager.db_manager(using)
        .filter(ex.AnyOf(F("user"), user_ids), quiz=_reads.pk_of(quiz))
        .values_list("user_id", "extra_attempts")
    )
    method = adapter.grade_method(quiz)
    outcomes = {}
    for user_id, attempts in mine.items():
        completed = [
            (n, p) for n, st, p in attempts if st == AttemptStatus.COMPLETED and p is not None
        ]
        submitted = sum(
            st in (AttemptStatus.SUBMITTED, AttemptStatus.COMPLETED) for _n, st, _p in attempts
        )
        closed = sum(st != AttemptStatus.IN_PROGRESS for _n, st, _p in attempts)
        grade = grade_over_attempts(method, completed)
        outcomes[user_id] = _outcome(quiz, grade, submitted, closed, extra.get(user_id, 0))
    return outcomes


def quiz_results(user: Any, quizzes: QuerySet[Any]) -> list[tuple[Any, Decimal | None, bool]]:
    """``(quiz, grade, passed)`` for each quiz of ``quizzes``, in one query.

    ``grade`` follows the quiz's grade method; ``passed`` compares it with the
    pass mark (a quiz without pass mark is passed by any completed attempt).
    """
    return [(o.quiz, o.grade, o.passed) for o in quiz_outcomes(user, quizzes)]


def get_course_progress(user: Any, course: Any) -> CourseProgress:
    """Everything about ``user``'s progress in ``course``, in two queries.

    The course's quizzes (and required quizzes), then one statement of the
    task figures, the enrollment and the learner's attempts at those
    quizzes. When the quizzes and the progress rows share a database, both
    are sent together: in one round trip on PostgreSQL with psycopg 3 and
    client-side binding (Django's default).
    """
    adapter = get_content_adapter()
    alias = router.db_for_read(get_task_progress_model())
    quiz_alias = router.db_for_read(adapter.quiz_model)
    sql, params, reader, flag, build = _course_quizzes_sql(_reads.pk_of(course), quiz_alias)
    if reader is not None and quiz_alias == alias:
        # The quizzes and the statement sent together: the statement reads
        # every attempt and override of the learner, and those at the
        # course's quizzes are kept here.
        row, attempts, extras, quiz_rows = _learner_course(user, course, None, alias, (sql, params))
        quizzes = reader.make(quiz_rows)
        keys = {quiz.pk for quiz in quizzes}
        attempts = [attempt for attempt in attempts if attempt[0] in keys]
    else:
        # The quizzes first (their keys filter the statement's attempts).
        quizzes = list(build()) if reader is None else reader.load(sql, params)
        row, attempts, extras, _rows = _learner_course(
            user, course, [quiz.pk for quiz in quizzes], alias
        )
    by_quiz: dict[Any, list[tuple[int, str, Any]]] = {}
    for quiz_id, number, status, percentage in attempts:
        by_quiz.setdefault(quiz_id, []).append((number, status, percentage))
    outcomes = []
    for quiz in quizzes:
        mine = by_quiz.get(quiz.pk, [])
        completed = [(n, p) for n, st, p in mine if st == AttemptStatus.COMPLETED]
        grade = grade_over_attempts(adapter.grade_method(quiz), completed)
        submitted = sum(
            st in (AttemptStatus.SUBMITTED, AttemptStatus.COMPLETED) for _n, st, _p in mine
        )
        closed = sum(st != AttemptStatus.IN_PROGRESS for _n, st, _p in mine)
        outcomes.append(_outcome(quiz, grade, submitted, closed, extras.get(quiz.pk) or 0))
    in_course = [o for o in outcomes if getattr(o.quiz, flag["of_course"])]
    required = [o for o in outcomes if getattr(o.quiz, flag["required"])]
    row["percentage"] = _reads.percentage(row["tasks_completed"], row["tasks_total"])
    return CourseProgress(
        course_id=_reads.pk_of(course),
        status=row["status"],
        enrolled_at=row["enrolled_at"],
        completed_at=row["completed_at"],
        tasks_total=row["tasks_total"],
        tasks_completed=row["tasks_completed"],
        tasks_in_progress=row["tasks_in_progress"],
        percentage=round_percentage(row["percentage"]),
        time_spent=row["time_spent"],
        last_activity_at=row["last_activity_at"],
        quizzes_total=len(in_course),
        quizzes_passed=sum(1 for outcome in in_course if outcome.passed),
        next_task_id=row["next_task_id"],
        quizzes_required=len(required),
        quizzes_met=sum(1 for outcome in required if outcome.met),
    )


def _course_quizzes_sql(
    course_id: Any, alias: str
) -> tuple[str, list[Any], Any, dict[str, str], Callable[[], QuerySet[Any]]]:
    """The SQL of the quizzes of the course or required by it, its reader
    (``None``: the instances need the queryset), the names of the two flags
    (1 or 0) each quiz is annotated with (``of_course`` and ``required``) and
    the function building the queryset."""
    adapter = get_content_adapter()
    quiz_model: Any = adapter.quiz_model
    flag = ex.free_names(quiz_model, ["of_course", "required"])
    manager = quiz_model._default_manager.db_manager(alias)

    def build() -> QuerySet[Any]:
        of_course = adapter.course_quizzes(course_id).order_by().values("pk")
        required_qs = adapter.required_quizzes(course_id)
        where = Q(pk__in=of_course)
        # 1 or 0: MariaDB has no boolean to cast a constant CASE result to.
        flags: dict[str, Any] = {flag["of_course"]: Value(1), flag["required"]: Value(0)}
        if not isinstance(required_qs, EmptyQuerySet):
            # Some quizzes are required (with none, the default, the course's
            # quizzes are read without the OR and the two CASE subqueries).
            required = required_qs.order_by().values("pk")
            where |= Q(pk__in=required)
            flags = {
                flag["of_course"]: Case(When(pk__in=of_course, then=Value(1)), default=Value(0)),
                flag["required"]: Case(When(pk__in=required, then=Value(1)), default=Value(0)),
            }
        return manager.filter(where).annotate(**flags).order_by("pk")

    key = (
        "quizzes",
        course_id,
        alias,
        _compiled.method_key(adapter, "course_quizzes"),
        _compiled.method_key(adapter, "required_quizzes"),
    )
    extra = [flag["of_course"], flag["required"]]
    sql, params, reader = _compiled.compiled(
        key, adapter, build, lambda qs: _sql.compile_instances(qs, extra, alias)
    )
    return sql, params, reader, flag, build


def get_progress_stats(user: Any, course: Any) -> dict[str, Any]:
    """The seed system's statistics: ``total_tasks``, ``completed``, ``in_progress``,
    ``not_started`` and ``completion_percentage`` (one query)."""
    row = course_figures(
        user, course, "tasks_total", "tasks_completed", "tasks_in_progress", "percentage"
    )
    return {
        "total_tasks": row["tasks_total"],
        "completed": row["tasks_completed"],
        "in_progress": row["tasks_in_progress"],
        "not_started": row["tasks_total"] - row["tasks_completed"] - row["tasks_in_progress"],
        "completion_percentage": round_percentage(row["percentage"]),
    }


@dataclass(frozen=True)
class QuizRules:
    """A quiz's rules for one learner: the adapter's, plus the learner's override
    (see :func:`effective_quiz_rules`)."""

    #: Attempts allowed; ``None``: unlimited.
    max_attempts: int | None
    #: How long an attempt may last; ``None``: no limit.
    time_limit: timedelta | None
    #: When attempts may start; ``None``: open from the start.
    opens_at: datetime | None
    #: When the quiz closes; ``None``: never.
    closes_at: datetime | None


def get_quiz_override(user: Any, quiz: Any, *, using: str | None = None) -> Any:
    """``user``'s :class:`~django_learning_progress.models.QuizOverride` at ``quiz``, or ``None``.

    One query, on database ``using`` (the read router's by default).
    """
    return (
        get_quiz_override_model()
        ._default_manager.db_manager(using)
        .filter(user=_reads.pk_of(user), quiz=_reads.pk_of(quiz))
        .first()
    )


def effective_quiz_rules(quiz: Any, override: Any = None) -> QuizRules:
    """The rules of ``quiz`` for a learner with ``override`` (``None``: no override). No query.

    * attempts: the adapter's ``max_attempts()`` plus ``extra_attempts``
      (unlimited stays unlimited);
    * time limit: the adapter's ``time_limit()`` plus ``extra_time`` (a quiz
      without a time limit stays without one);
    * window: the override's ``opens_at`` and ``closes_at`` where set, else
      the adapter's ``quiz_opens_at()`` and ``quiz_closes_at()``.
    """
    adapter = get_content_adapter()
    allowed, limit = adapter.max_attempts(quiz), adapter.time_limit(quiz)
    opens, closes = adapter.quiz_opens_at(quiz), adapter.quiz_closes_at(quiz)
    if override is not None:
        if allowed is not None:
            allowed += override.extra_attempts
        if limit is not None and override.extra_time:
            limit += override.extra_time
        opens = override.opens_at or opens
        closes = override.closes_at or closes
    return QuizRules(max_attempts=allowed, time_limit=limit, opens_at=opens, closes_at=closes)


def attempt_deadline(quiz: Any, started_at: datetime, override: Any = None) -> datetime | None:
    """The deadline of an attempt at ``quiz`` started at ``started_at``.

    The earlier of the start plus the time limit and the close time, as
    Moodle does; ``None`` without either. Both are the effective rules of
    :func:`effective_quiz_rules` for a learner with ``override`` (the adapter's
    own without one).
    """
    rules = effective_quiz_rules(quiz, override)
    limit, closes = rules.time_limit, rules.closes_at
    ends = [t for t in (started_at + limit if limit else None, closes) if t is not None]
    return min(ends) if ends else None


#: Why a learner cannot start an attempt now (:attr:`QuizStatus.reason`).


QUIZ_STATUS_REASONS = (
    "not_enrolled",
    "attempt_open",
    "quiz_not_open",
    "quiz_closed",
    "max_attempts",
)


@dataclass(frozen=True)
class QuizStatus:
    """Where one learner stands with one quiz, for a quiz page (see :func:`quiz_status`)."""

    quiz_id: Any
    #: Attempts started so far, abandoned ones included (they count).
    attempts_used: int
    #: Attempts allowed, with the learner's override (:func:`effective_quiz_rules`);
    #: ``None``: unlimited.
    attempts_allowed: int | None
    #: How long an attempt may last, with the override; ``None``: no limit.
    time_limit: timedelta | None
    #: When attempts may start, with the override; ``None``: open from the start.
    opens_at: datetime | None
    #: When the quiz closes, with the override; ``None``: never.
    closes_at: datetime | None
    #: The attempt in progress (and not past its deadline), if any.
    open_attempt_id: Any
    #: That attempt's deadline.
    deadline_at: datetime | None
    #: The grade by the quiz's grade method; ``None`` without a completed attempt.
    grade: Decimal | None
    passed: bool
    #: Whether starting an attempt now would create one.
    can_start: bool
    #: When ``can_start`` is false, one of :data:`QUIZ_STATUS_REASONS`.
    reason: str | None


def quiz_status(user: Any, quiz: Any) -> QuizStatus:
    """What a quiz page shows ``user`` about ``quiz``: attempts used and allowed,
    time limit, window, open attempt, grade, and whether they can start now.

    The attempts allowed, the time limit and the window are the learner's
    effective rules (:func:`effective_quiz_rules`, with their override).
    Three queries (the enrollment, the override, then the learner's
    attempts), one more when ``quiz`` is a primary key, and one to follow a
    multi-step course lookup of the quiz. ``reason`` is the first that applies of ``"not_enrolled"`` (and
    ``AUTO_ENROLL`` off), ``"attempt_open"`` (resume it: starting returns it),
    ``"quiz_not_open"``, ``"quiz_closed"`` and ``"max_attempts"``.
    """
    adapter = get_content_adapter()
    if not isinstance(quiz, adapter.quiz_model):
        quiz = adapter.quiz_model._default_manager.get(pk=quiz)
    course_id = adapter.get_quiz_course_id(quiz)
    enrolled = (
        get_enrollment_model()
        ._default_manager.filter(
            user=_reads.pk_of(user),
            course=course_id,
            status__in=[EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED],
        )
        .exists()
    )
    rules = effective_quiz_rules(quiz, get_quiz_override(user, quiz))
    attempts = list(
        get_quiz_attempt_model()
        ._default_manager.filter(user=_reads.pk_of(user), quiz=quiz.pk)
        .values_list("pk", "attempt_number", "status", "percentage", "deadline_at")
    )
    now = timezone.now()
    grace = timedelta(seconds=app_settings.DEADLINE_GRACE_SECONDS)
    open_attempt = next(
        (
            (pk, deadline)
            for pk, _n, status, _p, deadline in attempts
            if status == AttemptStatus.IN_PROGRESS and (deadline is None or now <= deadline + grace)
        ),
        (None, None),
    )
    used = max((number for _pk_, number, *_rest in attempts), default=0)
    completed = [
        (n, p)
        for _pk_, n, status, p, _d in attempts
        if status == AttemptStatus.COMPLETED and p is not None
    ]

    grade = grade_over_attempts(adapter.grade_method(quiz), completed)
    pass_mark = adapter.pass_mark(quiz)
    allowed, opens, closes = rules.max_attempts, rules.opens_at, rules.closes_at
    reasons = [
        ("not_enrolled", not enrolled and not app_settings.AUTO_ENROLL),
        ("attempt_open", open_attempt[0] is not None),
        ("quiz_not_open", opens is not None and now < opens),
        ("quiz_closed", closes is not None and now >= closes),
        ("max_attempts", allowed is not None and used >= allowed),
    ]
    reason = next((code for code, applies in reasons if applies), None)
    return QuizStatus(
        quiz_id=quiz.pk,
        attempts_used=used,
        attempts_allowed=allowed,
        time_limit=rules.time_limit,
        opens_at=opens,
        closes_at=closes,
        open_attempt_id=open_attempt[0],
        deadline_at=open_attempt[1],
        grade=grade,
        passed=grade is not None and (pass_mark is None or grade >= pass_mark),
        can_start=reason is None,
        reason=reason,
    )


def get_latest_quiz_attempt(user: Any, quiz: Any = None) -> Any:
    """The user's most recently started attempt at ``quiz`` (any quiz when ``None``).

    Ties on ``started_at`` go to the higher id, so the answer is stable.
    """
    qs = get_quiz_attempt_model()._default_manager.filter(user=_reads.pk_of(user))
    if quiz is not None:
        qs = qs.filter(quiz=_reads.pk_of(quiz))
    return qs.order_by("-started_at", "-pk").first()


def get_best_quiz_attempt(user: Any, quiz: Any) -> Any:
    """The user's completed attempt at ``quiz`` with the highest percentage.

    Ties go to the earliest attempt; ``None`` without a completed attempt.
    """
    return (
        get_quiz_attempt_model()
        ._default_manager.filter(
            user=_reads.pk_of(user), quiz=_reads.pk_of(quiz), status=AttemptStatus.COMPLETED
        )
        .order_by("-percentage", "attempt_number")
        .first()
    )


def get_quiz_grade(user: Any, quiz: Any) -> Decimal | None:
    """The user's grade for ``quiz`` (a percentage), by the quiz's grade method.

    ``highest``, ``latest``, ``first`` or ``average`` over completed attempts;
    ``None`` without a completed attempt. One query.
    """
    quizzes = get_content_adapter().quiz_model._default_manager.filter(pk=_reads.pk_of(quiz))
    results = quiz_results(user, quizzes)
    return results[0][1] if results else None


def get_enrolled_courses(
    user: Any, *, include_dropped: bool = False, figures: bool = True
) -> QuerySet[Any]:
    """The user's enrollments, with ``course`` loaded and progress annotated.

    Each enrollment carries ``tasks_total``, ``tasks_completed``,
    ``tasks_in_progress``, ``percentage``, ``time_spent``,
    ``last_activity_at`` and ``next_task_id``. One query, whatever the number
    of courses. Ordered by enrollment date, newest first.

    With ``figures=False`` the enrollments come without those annotations (a
    plain, cheap query); :func:`load_learner_figures` then sets the same
    figures on the ones you keep (a page, say) in one more query, which is
    faster than the annotations when the learner has many courses.
    """
    qs = get_enrollment_model()._default_manager.filter(user=_reads.pk_of(user))
    if not include_dropped:
        qs = qs.exclude(status=EnrollmentStatus.DROPPED)
    qs = qs.select_related("course").order_by("-enrolled_at", "-pk")
    if not figures:
        return qs
    qs = qs.annotate(**ex.progress_annotations(ex.Outer("user"), ex.Outer("course")))
    return ex.with_percentage(qs)


def load_learner_figures(user: Any, enrollments: Iterable[Any]) -> list[Any]:
    """Set the :func:`get_enrolled_courses` figures on ``enrollments`` of ``user``.

    For enrollments that you fetched and paged yourself (the REST API's
    ``me/progress/`` does): one query whatever their number, each course's
    required tasks read once, and the courses whose ``required_tasks()``
    differ only by the course read together (see the content adapter's
    documentation, "Several courses' required tasks in one query"). Returns the enrollments as a list, each with
    ``tasks_total``, ``tasks_completed``, ``tasks_in_progress``,
    ``percentage``, ``time_spent``, ``last_activity_at`` and ``next_task_id``
    set exactly as :func:`get_enrolled_courses` computes them.
    """
    enrollments = list(enrollments)
    if not enrollments:
        return enrollments
    alias = router.db_for_read(get_task_progress_model())
    course_ids = list(dict.fromkeys(e.course_id for e in enrollments))
    required = {course_id: _required_sql(course_id, alias) for course_id in course_ids}
    # The courses whose required tasks one query can read (see _batch), then
    # each other course's own query.
    adapter = get_content_adapter()
    batched, batch = _batch.required_tasks_of(course_ids, adapter, required, alias)
    parts: list[tuple[Any, tuple[str, list[Any]]]] = []
    if batched is not None:
        parts.append((None, batched))
    in_batch = set(batch)
    parts += [(c, sql) for c, sql in required.items() if c not in in_batch]
    figures = _sql.learner_courses(_reads.pk_of(user), course_ids, parts, alias)
    for enrollment in enrollments:
        total, done, started, spent, last, next_task = figures[enrollment.course_id]
        enrollment.tasks_total = total
        enrollment.tasks_completed = done
        enrollment.tasks_in_progress = started
        enrollment.percentage = _reads.percentage(done, total)
        enrollment.time_spent = spent
        enrollment.last_activity_at = last
        enrollment.next_task_id = next_task
    return enrollments


# The course-level reads live in ``rosters``; importable from here as before.
from django_learning_progress.rosters import ROSTER_FIGURES as ROSTER_FIGURES  # noqa: E402
from django_learning_progress.rosters import course_quiz_grades as course_quiz_grades  # noqa: E402
from django_learning_progress.rosters import course_roster as course_roster  # noqa: E402
from django_learning_progress.rosters import load_roster_figures as load_roster_figures  # noqa: E402
from django_learning_progress.rosters import roster_page as roster_page  # noqa: E402

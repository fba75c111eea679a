"""Set-based query expressions shared by the helpers, services, API and analytics.

Internal module. Every figure is computed from the task (or quiz) side with
subqueries, so one learner's figure counts *distinct* tasks of the course:
other learners' rows, tasks outside the course or duplicate joins cannot
move it.

A ``user`` or ``course`` argument is either a concrete value (an instance or
a primary key) or an :class:`Outer` naming a field of the row being annotated,
which is turned into a correctly nested ``OuterRef`` at each depth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import (
    Case,
    DecimalField,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import Expression, OrderBy
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import In
from django.db.models.sql.constants import LOUTER
from django.utils.datastructures import OrderedSet

from django_learning_progress.choices import AttemptStatus, TaskStatus
from django_learning_progress.content import get_content_adapter, ordered
from django_learning_progress.models import get_quiz_attempt_model, get_task_progress_model


def free_names(model: Any, names: Any) -> dict[str, str]:
    """For each of ``names``, an annotation name that is free on ``model``.

    A host's model may have a field, an attribute or a property named like any
    figure the app computes (``status``, ``percentage``, ``time_spent``...):
    annotating its querysets with those names fails, or overwrites the
    host's value. Each name gets the prefix ``lp_``, repeated until the result
    is neither a field (name or column attribute) nor an attribute of the
    model class.
    """
    taken = set()
    for field in model._meta.get_fields():
        taken.add(field.name)
        taken.add(getattr(field, "attname", field.name))
    free = {}
    for name in names:
        alias = f"lp_{name}"
        while alias in taken or hasattr(model, alias):
            alias = f"lp_{alias}"
        free[name] = alias
    return free


@dataclass(frozen=True)
class Outer:
    """A field of the outermost row, e.g. ``Outer("user")``."""

    field: str


def at(value: Any, depth: int) -> Any:
    """``value`` as seen from a subquery ``depth`` levels below the outer row."""
    if not isinstance(value, Outer):
        return value
    ref: Any = value.field
    for _ in range(depth):
        ref = OuterRef(ref)
    return ref


class AnyOf(In):
    """``field IN (v1, v2, ...)``, written ``field = ANY(%s)`` on PostgreSQL.

    Use it as an expression, e.g. ``Count("pk", filter=AnyOf(F("task"), ids))``.
    On PostgreSQL the list travels as one array parameter instead of one
    placeholder per value, so the statement text stays the same for any
    number of values (psycopg caches its parsing, and compiling it costs no
    more for 500 values than for 5). The plan is the one ``IN`` gets.
    """

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        values = OrderedSet(value for value in self.rhs if value is not None)
        if not values:
            raise EmptyResultSet
        if any(hasattr(value, "resolve_expression") for value in values):
            return self.as_sql(compiler, connection)
        field = self.lhs.output_field
        params = [field.get_db_prep_value(value, connection, prepared=True) for value in values]
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        array_type = field.cast_db_type(connection)
        return f"{lhs_sql} = ANY(%s::{array_type}[])", (*lhs_params, params)


def count(qs: QuerySet[Any]) -> Coalesce:
    """A scalar subquery counting the rows of ``qs``."""
    counted = qs.order_by().annotate(_n=Func(F("pk"), function="COUNT")).values("_n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def total(qs: QuerySet[Any], field: str) -> Coalesce:
    """A scalar subquery summing ``field`` over ``qs`` (0 when empty)."""
    summed = qs.order_by().annotate(_s=Func(F(field), function="SUM")).values("_s")
    return Coalesce(Subquery(summed, output_field=IntegerField()), 0)


def latest(qs: QuerySet[Any], field: str) -> Subquery:
    """A scalar subquery with the greatest ``field`` of ``qs`` (``None`` when empty)."""
    return Subquery(qs.order_by().annotate(_m=Func(F(field), function="MAX")).values("_m"))


def percentage(done: str, of: str) -> Case:
    """``done / of * 100`` as a float, 0 when ``of`` is 0."""
    return Case(
        When(**{of: 0}, then=Value(0.0)),
        default=Cast(F(done), FloatField()) * Value(100.0) / Cast(F(of), FloatField()),
        output_field=FloatField(),
    )


def order_of(model: Any) -> list[Any]:
    """``model``'s default ordering, then by primary key, as ``OrderBy`` expressions
    (the order of :func:`~django_learning_progress.content.ordered`)."""
    terms = []
    for item in [*(model._meta.ordering or []), "pk"]:
        if hasattr(item, "resolve_expression"):
            terms.append(item if isinstance(item, OrderBy) else item.asc())
        elif item != "?":
            name = str(item)
            terms.append(F(name[1:]).desc() if name.startswith("-") else F(name).asc())
    return terms


def required_tasks(course: Any, depth: int) -> QuerySet[Any]:
    """The course's required tasks as *distinct* task rows, in course order.

    Wrapping the adapter's queryset in ``pk__in`` keeps every count distinct
    even when a host's ``required_tasks()`` filters through a many-valued join.
    ``depth`` is how deep below the outer row this queryset runs.
    """
    adapter = get_content_adapter()
    ids = adapter.required_tasks(at(course, depth + 1)).order_by().values("pk")
    return ordered(adapter.task_model._default_manager.filter(pk__in=ids))


def progress_annotations(
    user: Any,
    course: Any,
    *,
    required_ids: list[Any] | None = None,
    next_task: bool = True,
) -> dict:
    """Annotations for a row standing for one learner in one course.

    Keys: ``tasks_total``, ``tasks_completed``, ``tasks_in_progress``,
    ``time_spent``, ``last_activity_at`` and (unless ``next_task`` is false)
    ``next_task_id``. For one known course, pass its ``required_ids``: the
    per-row subqueries then look the learner's rows up by task id alone.
    """
    TaskProgress = get_task_progress_model()

    def learner_tasks(status: str) -> QuerySet[Any]:
        required: Any = (
            required_ids
            if required_ids is not None
            else required_tasks(course, 2).order_by().values("pk")
        )
        return TaskProgress._default_manager.filter(
            user=at(user, 1), status=status, task__in=required
        )

    course_rows = TaskProgress._default_manager.filter(user=at(user, 1), course=at(course, 1))
    annotations: dict[str, Any] = {
        "tasks_total": (
            Value(len(required_ids))
            if required_ids is not None
            else count(required_tasks(course, 1))
        ),
        "tasks_completed": count(learner_tasks(TaskStatus.COMPLETED)),
        "tasks_in_progress": count(learner_tasks(TaskStatus.IN_PROGRESS)),
        "time_spent": total(course_rows, "time_spent"),
        "last_activity_at": latest(course_rows, "last_activity_at"),
    }
    if next_task:
        completed_tasks = TaskProgress._default_manager.filter(
            user=at(user, 2), status=TaskStatus.COMPLETED
        ).values("task")
        first = required_tasks(course, 1).exclude(pk__in=completed_tasks).values("pk")[:1]
        annotations["next_task_id"] = Subquery(first)
    return annotations


def with_percentage(qs: QuerySet[Any]) -> QuerySet[Any]:
    """``qs`` (annotated by :func:`progress_annotations`) with ``percentage``."""
    return qs.annotate(percentage=percentage("tasks_completed", "tasks_total"))


def quiz_grade_annotations(user: Any) -> dict:
    """Annotations for quiz rows: the learner's grade by each method.

    Keys ``grade_highest``, ``grade_latest``, ``grade_first`` (percentages
    over *completed* attempts, ``None`` when there are none),
    ``percentage_sum`` and ``attempts_completed`` (the average is their
    exact quotient, computed in Python so that every database rounds alike),
    ``attempts_submitted`` (submitted or completed) and ``attempts_closed``
    (every attempt no longer in progress, abandoned ones included).
    """
    attempts = get_quiz_attempt_model()._default_manager.filter(
        user=at(user, 1), quiz=OuterRef("pk")
    )
    completed = attempts.filter(status=AttemptStatus.COMPLETED)

    def first_by(*ordering: str) -> Subquery:
        return Subquery(completed.order_by(*ordering).values("percentage")[:1])

    summed = completed.order_by().annotate(_s=Func(F("percentage"), function="SUM"))
    return {
        "grade_highest": first_by("-percentage", "attempt_number"),
        "grade_latest": first_by("-attempt_number"),
        "grade_first": first_by("attempt_number"),
        "percentage_sum": Subquery(
            summed.values("_s"), output_field=DecimalField(max_digits=12, decimal_places=2)
        ),
        "attempts_completed": count(completed),
        "attempts_submitted": count(
            attempts.filter(status__in=[AttemptStatus.SUBMITTED, AttemptStatus.COMPLETED])
        ),
        "attempts_closed": count(attempts.exclude(status=AttemptStatus.IN_PROGRESS)),
    }


def _alias_quoter(compiler: Any) -> Any:
    """How ``compiler`` quotes a table alias: ``quote_name`` from Django 6.1,
    ``quote_name_unless_alias`` before."""
    return getattr(compiler, "quote_name", None) or compiler.quote_name_unless_alias


class GroupedJoin:
    """``LEFT OUTER JOIN (grouped subquery) alias ON alias.key = parent.column``.

    One row per key, so the join adds columns to each row of the outer
    queryset without multiplying rows or needing its own ``GROUP BY``. The
    ORM has no public way to join a subquery; this object follows the
    protocol of Django's ``Join`` (``sql.datastructures``) that
    ``Query.join()``, the compiler's ``FROM`` clause and alias relabelling
    use. Its columns are read with :class:`JoinedColumn`; see :func:`join_grouped`.

    Why: the whole-course roster grouped the join of each enrollment (with
    its user, ``select_related``) and all its learner's task rows; for 1,000
    learners at ``--scale default`` on PostgreSQL the database sorted those
    24,500 wide rows on disk to group them, 66 ms against 29 ms for grouping
    the task rows first and joining 1,000 rows (busy 2-core machine; a
    correlated subquery per figure took 52 ms). The subquery itself is the
    ORM's, compiled with the outer query.
    """

    filtered_relation = None
    nullable = True

    def __init__(
        self,
        rows: Any,
        parent_alias: str,
        column: str,
        key: str,
        table_alias: str | None = None,
        join_type: str | None = LOUTER,
    ) -> None:
        self.rows = rows  # the subquery's Query
        self.parent_alias = parent_alias
        self.column = column
        self.key = key
        self.table_name = "lp_grouped"
        self.table_alias = table_alias
        self.join_type = join_type

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        qn = connection.ops.quote_name
        try:
            sql, params = self.rows.get_compiler(connection=connection).as_sql()
        except EmptyResultSet:  # e.g. a default manager answering none(): no row joins
            pk = self.rows.get_meta().pk.column
            names = [self.key, *(n for n in self.rows.annotation_select if n != self.key)]
            columns = ", ".join(f"{qn(pk)} AS {qn(name)}" for name in names)
            sql, params = (
                f"SELECT {columns} FROM {qn(self.rows.get_meta().db_table)} WHERE 1 = 0",
                (),
            )
        # Aliases quoted as the compiler quotes them (Django 5.2 leaves the
        # aliases of a nested query, U0..., unquoted).
        quote = _alias_quoter(compiler)
        alias, parent = quote(self.table_alias), quote(self.parent_alias)
        on = f"{alias}.{qn(self.key)} = {parent}.{qn(self.column)}"
        return f"{self.join_type} ({sql}) {alias} ON ({on})", list(params)

    def relabeled_clone(self, change_map: Mapping[str, str]) -> GroupedJoin:
        return GroupedJoin(
            self.rows,
            change_map.get(self.parent_alias, self.parent_alias),
            self.column,
            self.key,
            change_map.get(self.table_alias or "", self.table_alias),
            self.join_type,
        )

    def demote(self) -> GroupedJoin:
        return self  # stays LEFT: a row without a group keeps its NULL columns

    def promote(self) -> GroupedJoin:
        return self


class JoinedColumn(Expression):
    """Column ``name`` of the :class:`GroupedJoin` at ``alias``."""

    def __init__(self, alias: str, name: str, output_field: Any) -> None:
        super().__init__(output_field=output_field)
        self.alias, self.name = alias, name

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        alias = _alias_quoter(compiler)(self.alias)
        return f"{alias}.{connection.ops.quote_name(self.name)}", ()

    def relabeled_clone(self, change_map: Mapping[str, str]) -> JoinedColumn:
        return JoinedColumn(change_map.get(self.alias, self.alias), self.name, self.output_field)

    def get_group_by_cols(self) -> list[Any]:
        return [self]


def join_grouped(
    qs: QuerySet[Any], rows: QuerySet[Any], column: str, key: str
) -> tuple[QuerySet[Any], dict[str, JoinedColumn]]:
    """``qs`` LEFT JOINed to ``rows``, a ``values(key).annotate(...)`` queryset
    (one row per ``key``), on ``qs``'s ``column`` (a field name) equal to ``key``.

    Returns the joined queryset and an expression for each annotation of
    ``rows`` (``NULL`` for a row of ``qs`` without a group), to annotate
    ``qs`` with. The database groups ``rows`` once, then joins one row per
    key, rather than grouping the join of every row of ``qs`` with its rows.
    """
    qs = qs.all()
    query = qs.query
    field: Any = qs.model._meta.get_field(column)
    join: Any = GroupedJoin(rows.query, query.get_initial_alias(), field.column, key)
    alias = query.join(join)
    columns = {
        name: JoinedColumn(alias, name, expression.output_field)
        for name, expression in rows.query.annotation_select.items()
        if name != key
    }
    return qs, columns

"""Several courses' required tasks read by one query, when that is provably the same (internal).

A learner's page of courses (``me/progress/``) needs each course's required
tasks. The adapter answers one course at a time, ``required_tasks(course)``,
and running that query once per course is what the page costs in the
database: at ``--scale default`` on PostgreSQL, twenty courses' queries in
one ``UNION ALL`` take 8.2 ms to plan and run, the same tasks read by one
query with ``course_id IN (...)`` 1.7 ms.

Most adapters select a course's tasks with one condition on the course
(``filter(module__course=course)``) and conditions that do not depend on it
(``optional=False``). For those, the query of several courses is the query of
one with that condition widened to all of them, each task tagged with its
course. :func:`required_tasks_of` builds it only when it can show that this
is what the adapter does for every course of the batch:

* the querysets of two of the courses each have, among the conditions joined
  by ``AND`` at their top level, exactly one ``column = course`` whose value is
  their course, at the same place;
* compiled, every course's query is the same SQL as the first one's with the
  same parameters but one, the course's own key at the same place;
* the queryset selects rows one by one: no ``DISTINCT``, grouping, slicing or
  set operation.

A course whose query differs in any other way is read by its own query, as
before; so is every course when the first two do not match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet, Window
from django.db.models.expressions import Col
from django.db.models.functions import RowNumber
from django.db.models.lookups import Lookup
from django.db.models.sql.where import AND

from django_learning_progress import _compiled, _sql
from django_learning_progress import _expressions as ex

Compiled = tuple[str, list[Any]]


def _course_condition(qs: QuerySet[Any], course_id: Any) -> int | None:
    """Where, among the top-level ``AND`` conditions of ``qs``, the one
    ``column = course_id`` is (``None``: none, or more than one)."""
    query = qs.query
    where = query.where
    if (
        where.connector != AND
        or where.negated
        or query.distinct
        or query.group_by is not None
        or query.combinator
        or query.low_mark
        or query.high_mark is not None
    ):
        return None
    found = [
        i
        for i, child in enumerate(where.children)
        if isinstance(child, Lookup)
        and child.lookup_name == "exact"
        and isinstance(child.lhs, Col)
        and not isinstance(child.rhs, (list, tuple, QuerySet))
        and not hasattr(child.rhs, "resolve_expression")
        and child.rhs == course_id
    ]
    return found[0] if len(found) == 1 else None


def _varying(first: Compiled, other: Compiled) -> int | None:
    """The one parameter position where two compiled queries differ (``None``:
    different SQL, or not exactly one position)."""
    if first[0] != other[0] or len(first[1]) != len(other[1]):
        return None
    differ = [i for i, (a, b) in enumerate(zip(first[1], other[1], strict=True)) if a != b]
    return differ[0] if len(differ) == 1 else None


def _same_but(first: Compiled, other: Compiled, position: int) -> bool:
    """Whether ``other`` is ``first`` with only the parameter at ``position`` changed."""
    if first[0] != other[0] or len(first[1]) != len(other[1]):
        return False
    return all(
        a == b for i, (a, b) in enumerate(zip(first[1], other[1], strict=True)) if i != position
    )


def _base(
    required: Callable[[Any], QuerySet[Any]], first: Any, second: Any, alias: str
) -> tuple[QuerySet[Any], int] | None:
    """The query of ``first`` and ``second`` together, and where its course
    condition is; ``None`` when their querysets do not have one at the same place."""
    qs_first, qs_second = required(first), required(second)
    where_at = _course_condition(qs_first, first)
    if where_at is None or _course_condition(qs_second, second) != where_at:
        return None
    qs = qs_first.using(alias).all()
    condition: Any = qs.query.where.children[where_at]
    column = condition.lhs
    qs.query.where.children[where_at] = column.get_lookup("in")(column, [first, second])
    task_model: Any = qs.model
    names = ex.free_names(task_model, ["course", "position"])
    qs = qs.annotate(
        **{
            names["course"]: column,
            names["position"]: Window(
                RowNumber(), partition_by=[column], order_by=ex.order_of(task_model)
            ),
        }
    )
    return qs.order_by().values_list(names["course"], "pk", names["position"]), where_at


def _compile_base(alias: str) -> Callable[[Any], tuple[Any, ...]]:
    def compile(base: tuple[QuerySet[Any], int] | None) -> tuple[Any, ...]:
        if base is None:
            return "", [], None
        return (*_sql.compile_query(base[0], alias), base)

    return compile


def required_tasks_of(
    course_ids: Sequence[Any], adapter: Any, compiled: dict[Any, Compiled], alias: str
) -> tuple[Compiled | None, list[Any]]:
    """The compiled SQL of one query of ``(course key, task key, position)``
    for as many of ``course_ids`` as possible, and the courses it reads.

    ``compiled[course_id]`` is the compiled SQL of each course's own query of
    ``(task key, position)`` from the adapter's ``required_tasks`` (the tasks
    numbered in course order); the positions number each course's tasks the
    same way. ``(None, [])`` when no two courses share a query.

    The query of two courses is built by the adapter and kept (``_compiled``)
    under the SQL their own queries share: later calls only widen its course
    condition to the batch.
    """
    if len(course_ids) < 2:
        return None, []
    first, second = course_ids[0], course_ids[1]
    position = _varying(compiled[first], compiled[second])
    if position is None:
        return None, []
    template_sql, template_params = compiled[first]
    others = repr([p for i, p in enumerate(template_params) if i != position])
    key = (
        "batch",
        alias,
        _compiled.method_key(adapter, "required_tasks"),
        template_sql,
        position,
        others,
    )
    *_pair, base = _compiled.compiled(
        key,
        adapter,
        lambda: _base(adapter.required_tasks, first, second, alias),
        _compile_base(alias),
    )
    if base is None:
        return None, []
    batch = [c for c in course_ids if _same_but(compiled[first], compiled[c], position)]
    qs, where_at = base
    qs = qs.all()
    column = qs.query.where.children[where_at].lhs
    qs.query.where.children[where_at] = column.get_lookup("in")(column, batch)
    return _sql.compile_query(qs, alias), batch

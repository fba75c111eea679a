"""The reads of the roster page and of one learner's course written in SQL (internal).

For one page of learners the ORM spends longer building, compiling and
reading these aggregates than the database spends running them (for 50
learners on PostgreSQL: the task figures 2.2 ms against 1.3 ms, the best
quiz grades 1.9 ms against 1.0 ms), and the roster page needs them on every
request. One statement answers both:

* tables and columns come from the models' ``_meta``, so swapped-in models
  work, and the database from the router, like any ORM read;
* the rows are the default manager's: when it adds no condition (a plain
  ``Manager``), the statement reads the table; otherwise it reads the ORM's
  SQL for a filter of the manager's queryset;
* the host's required tasks enter as the ORM's SQL for the adapter's
  queryset (the statement counts ``DISTINCT`` ids, so a task the queryset
  repeats counts once);
* values are prepared and converted by the fields and the backend, as the
  ORM does (datetimes on SQLite and MySQL, UUID keys, decimals).

The SQL is portable: ``WITH``, ``SUM(CASE ...)`` rather than ``FILTER``,
``UNION ALL``; on PostgreSQL a list of ids travels as one array parameter
(``= ANY(%s)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import F, Model, QuerySet

from django_learning_progress._expressions import AnyOf
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_task_progress_model,
)


class _Table:
    """One model's table on database ``using``, or the one the router reads it from."""

    def __init__(self, model: type[Model], using: str | None = None) -> None:
        self.model = model
        self.connection = connections[using or router.db_for_read(model)]

    def column(self, name: str) -> str:
        field: Any = self.model._meta.get_field(name)
        return self.connection.ops.quote_name(field.column)

    @property
    def plain(self) -> bool:
        """Whether the default manager reads every row (adds no condition)."""
        query = self.model._default_manager.all().query
        return not (query.where or query.annotations or query.extra)

    @property
    def name(self) -> str:
        return self.connection.ops.quote_name(self.model._meta.db_table)

    def prep(self, name: str, value: Any) -> Any:
        field: Any = self.model._meta.get_field(name)
        return field.get_db_prep_value(value, self.connection)

    def any_of(self, name: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column IN (...)``; ``column = ANY(%s)`` on PostgreSQL."""
        field: Any = self.model._meta.get_field(name)
        prepared = [field.get_db_prep_value(v, self.connection) for v in values]
        if self.connection.vendor == "postgresql":
            array_type = field.cast_db_type(self.connection)
            return f"{self.column(name)} = ANY(%s::{array_type}[])", [prepared]
        return f"{self.column(name)} IN ({', '.join(['%s'] * len(prepared))})", prepared

    def rows(
        self, columns: Sequence[str], filters: dict[str, Any], any_of: dict[str, Sequence[Any]]
    ) -> tuple[str, list[Any]]:
        """A ``SELECT`` of ``columns`` of the rows the default manager returns
        for ``filters`` (``field=value``) and ``any_of`` (``field`` in values)."""
        manager: Any = self.model._default_manager
        query = manager.all().query
        if query.where or query.annotations or query.extra:  # the manager filters
            qs = manager.filter(*(AnyOf(F(k), list(v)) for k, v in any_of.items()), **filters)
            return self.subquery(qs.values_list(*columns).order_by())
        where, params = [], []
        for name, values in any_of.items():
            sql, values_params = self.any_of(name, values)
            where.append(sql)
            params += values_params
        for name, value in filters.items():
            where.append(f"{self.column(name)} = %s")
            params.append(self.prep(name, value))
        select = ", ".join(self.column(name) for name in columns)
        return f"SELECT {select} FROM {self.name} WHERE {' AND '.join(where)}", params

    def converter(self, name: str) -> Callable[[Any], Any]:
        """What the ORM does to a value of field ``name`` read from the database."""
        field: Any = self.model._meta.get_field(name)
        col = field.get_col(self.model._meta.db_table)
        connection = self.connection
        steps = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if not steps:
            return lambda value: value

        def convert(value: Any) -> Any:
            for step in steps:
                value = step(value, col, connection)
            return value

        return convert

    def subquery(self, qs: QuerySet[Any]) -> tuple[str, list[Any]]:
        """``qs`` compiled for this table's database (a query of no rows for ``none()``)."""
        try:
            sql, params = qs.query.get_compiler(connection=self.connection).as_sql()
        except EmptyResultSet:
            pk = self.connection.ops.quote_name(qs.model._meta.pk.column)
            table = self.connection.ops.quote_name(qs.model._meta.db_table)
            selected = len(qs.query.values_select) + len(qs.query.annotation_select)
            columns = ", ".join([pk] * max(1, selected))
            return f"SELECT {columns} FROM {table} WHERE 1 = 0", []
        return sql, list(params)

    def fetch(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def task_figures(
    course_id: Any,
    user_ids: Sequence[Any],
    required: QuerySet[Any],
    best_of_quizzes: Sequence[Any] = (),
) -> tuple[int, dict[Any, tuple[int, int, int, Any]], list[tuple[Any, Any, Any]]]:
    """The number of required tasks; per learner
    ``{user_id: (completed, in_progress, time_spent, last_activity_at)}``; and,
    for ``best_of_quizzes``, ``[(user_id, quiz_id, highest percentage)]`` over
    the completed attempts (one per learner and quiz with at least one).

    One statement. The figures are over each learner's task rows whose
    ``course`` column is ``course_id``; ``completed`` and ``in_progress``
    count the rows of tasks in ``required`` (a queryset of the task model's
    primary keys). Learners without rows are missing from the dictionary.
    """
    t = _Table(get_task_progress_model())
    task_sql, params = t.subquery(required)
    rows_sql, rows_params = t.rows(
        ("user", "task", "status", "time_spent", "last_activity_at"),
        {"course": course_id},
        {"user": user_ids},
    )
    # Every row: kind, user, three counts, last activity, quiz, percentage.
    # 0: a learner's figures; 1: the number of required tasks (DISTINCT: the
    # host's queryset may repeat a task); 2: a learner's best percentage.
    ctes = [
        f"lp_required (id) AS ({task_sql})",
        f"lp_rows (user_id, task_id, status, time_spent, last_activity_at) AS ({rows_sql})",
    ]
    params += rows_params
    selects = []
    if best_of_quizzes:
        a = _Table(get_quiz_attempt_model())
        attempts_sql, attempts_params = a.rows(
            ("user", "quiz", "percentage"),
            {"status": AttemptStatus.COMPLETED.value},
            {"quiz": best_of_quizzes, "user": user_ids},
        )
        ctes.append(f"lp_attempts (user_id, quiz_id, percentage) AS ({attempts_sql})")
        params += attempts_params
        # First, so that its typed columns type the NULLs of the other rows.
        selects.append(
            "SELECT 2, user_id, 0, 0, 0, NULL, quiz_id, MAX(percentage)"
            " FROM lp_attempts GROUP BY user_id, quiz_id"
        )
    selects += [
        "SELECT 0, user_id,"
        " SUM(CASE WHEN status = %s AND lp_r.id IS NOT NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN status = %s AND lp_r.id IS NOT NULL THEN 1 ELSE 0 END),"
        " SUM(time_spent), MAX(last_activity_at), NULL, NULL"
        " FROM lp_rows LEFT JOIN (SELECT DISTINCT id FROM lp_required) lp_r"
        " ON lp_r.id = lp_rows.task_id GROUP BY user_id",
        "SELECT 1, NULL, COUNT(DISTINCT id), 0, 0, NULL, NULL, NULL FROM lp_required",
    ]
    params += [TaskStatus.COMPLETED.value, TaskStatus.IN_PROGRESS.value]
    sql = f"WITH {', '.join(ctes)} {' UNION ALL '.join(selects)}"
    user_of, last_of = t.converter("user"), t.converter("last_activity_at")
    total, figures, best = 0, {}, []
    if best_of_quizzes:
        quiz_of, percentage_of = a.converter("quiz"), a.converter("percentage")
    for kind, u, done, started, spent, last, quiz, percentage in t.fetch(sql, params):
        if kind == 0:
            figures[user_of(u)] = (int(done), int(started), int(spent or 0), last_of(last))
        elif kind == 1:
            total = int(done)
        else:
            best.append((user_of(u), quiz_of(quiz), percentage_of(percentage)))
    return total, figures, best


def learner_course(
    user_id: Any,
    course_id: Any,
    course: QuerySet[Any],
    required: QuerySet[Any],
    quiz_ids: Sequence[Any] = (),
    using: str | None = None,
) -> tuple[dict[str, Any] | None, list[tuple[Any, int, str, Any]]]:
    """One learner's figures in one course, and their attempts at ``quiz_ids``.

    ``course`` is a ``values_list(pk)`` queryset of the course (empty when it
    does not exist: the figures are then ``None``). ``required`` is a
    ``values_list(pk, position)`` queryset of the course's required tasks,
    each once, the position numbering them in course order. Returns the
    figures (``tasks_total``, ``tasks_completed``, ``tasks_in_progress``,
    ``time_spent``, ``last_activity_at``, ``next_task_id``, and the
    enrollment's ``status``, ``enrolled_at`` and ``completed_at``, ``None``
    without one) and every attempt as ``(quiz_id, attempt_number, status,
    percentage)``. One statement.

    Why SQL: built with the ORM, the same figures are nine subqueries on the
    course row whose building and compiling cost about four times what the
    database spends running them (45 ms against 10 ms for a course of 45
    required tasks at ``--scale default`` on PostgreSQL, measured on a busy
    2-core machine), more than naive code spends on nine plain queries.
    """
    t = _Table(get_task_progress_model(), using)
    e = _Table(get_enrollment_model(), using)
    course_sql, params = t.subquery(course)
    required_sql, required_params = t.subquery(required)
    # The counts follow the tasks (a task moved to another course counts there);
    # time and activity follow the rows' course column.
    mine_sql, mine_params = t.rows(("task", "status"), {"user": user_id}, {})
    rows_sql, rows_params = t.rows(
        ("time_spent", "last_activity_at"), {"user": user_id, "course": course_id}, {}
    )
    enrollment_sql, enrollment_params = e.rows(
        ("status", "enrolled_at", "completed_at"), {"user": user_id, "course": course_id}, {}
    )
    ctes = [
        f"lp_course (id) AS ({course_sql})",
        f"lp_req (id, pos) AS ({required_sql})",
        f"lp_mine (task_id, status) AS ({mine_sql})",
        "lp_rows (task_id, status) AS"
        " (SELECT task_id, status FROM lp_mine WHERE task_id IN (SELECT id FROM lp_req))",
        f"lp_time (time_spent, last_activity_at) AS ({rows_sql})",
        f"lp_enr (status, enrolled_at, completed_at) AS ({enrollment_sql})",
    ]
    params += required_params + mine_params + rows_params + enrollment_params
    done, started = TaskStatus.COMPLETED.value, TaskStatus.IN_PROGRESS.value
    counted = "SELECT COUNT(*) FROM lp_rows r JOIN lp_req q ON q.id = r.task_id WHERE r.status = %s"
    selects = [
        "SELECT 0, (SELECT COUNT(*) FROM lp_req),"
        f" ({counted}), ({counted}),"
        " (SELECT SUM(time_spent) FROM lp_time), (SELECT MAX(last_activity_at) FROM lp_time),"
        " (SELECT q.id FROM lp_req q LEFT JOIN lp_rows r ON r.task_id = q.id"
        "  WHERE r.task_id IS NULL OR r.status <> %s ORDER BY q.pos LIMIT 1),"
        " (SELECT status FROM lp_enr), (SELECT enrolled_at FROM lp_enr),"
        " (SELECT completed_at FROM lp_enr), (SELECT COUNT(*) FROM lp_course), NULL"
    ]
    select_params = [done, started, done]  # after every CTE's, in the order of the text
    if quiz_ids:
        a = _Table(get_quiz_attempt_model(), using)
        attempts_sql, attempts_params = a.rows(
            ("quiz", "attempt_number", "status", "percentage"),
            {"user": user_id},
            {"quiz": quiz_ids},
        )
        quiz_of, percent_of = a.converter("quiz"), a.converter("percentage")
        ctes.append(f"lp_att (quiz_id, num, status, percentage) AS ({attempts_sql})")
        params += attempts_params
        selects.append(
            # The quiz key has a column of its own (a UUID key cannot share one with a count).
            "SELECT 1, NULL, num, NULL, percentage, NULL, NULL, status, NULL, NULL, NULL, quiz_id"
            " FROM lp_att"
        )
    sql = f"WITH {', '.join(ctes)} {' UNION ALL '.join(selects)}"
    params += select_params
    task_of, last_of = t.converter("task"), t.converter("last_activity_at")
    enrolled_of, completed_of = e.converter("enrolled_at"), e.converter("completed_at")
    figures: dict[str, Any] | None = None
    attempts = []
    for kind, a1, a2, a3, a4, a5, a6, a7, a8, a9, exists, quiz in t.fetch(sql, params):
        if kind == 0 and exists:
            figures = {
                "tasks_total": int(a1),
                "tasks_completed": int(a2),
                "tasks_in_progress": int(a3),
                "time_spent": int(a4 or 0),
                "last_activity_at": None if a5 is None else last_of(a5),
                "next_task_id": None if a6 is None else task_of(a6),
                "status": a7,
                "enrolled_at": None if a8 is None else enrolled_of(a8),
                "completed_at": None if a9 is None else completed_of(a9),
            }
        elif kind == 1:
            attempts.append((quiz_of(quiz), int(a2), a7, None if a4 is None else percent_of(a4)))
    return figures, attempts


def add_time(user_id: Any, task_id: Any, seconds: int, at: Any, using: str) -> Any:
    """Add ``seconds`` to a started task's time and return the row; ``None`` when
    there is no started row or no usable enrollment (the caller then takes the
    full path), ``NotImplemented`` when a default manager filters rows.

    One statement on PostgreSQL and SQLite (``UPDATE ... RETURNING``); on
    MariaDB the ``UPDATE``, then the row. Why SQL: the ORM builds and compiles
    the guarded ``UPDATE`` (its ``EXISTS`` on the enrollment) on every call,
    3.1 ms of CPU against 0.7 ms for the statement itself, and cannot return
    the row, which a second ``SELECT`` then reads (measured under the
    heartbeat load test, ``bench/heartbeat.py``).
    """
    t = _Table(get_task_progress_model(), using)
    e = _Table(get_enrollment_model(), using)
    if not (t.plain and e.plain):
        return NotImplemented
    fields = list(t.model._meta.concrete_fields)
    spent, last, course = t.column("time_spent"), t.column("last_activity_at"), t.column("course")
    sql = (
        f"UPDATE {t.name} SET {spent} = {spent} + %s, {last} = %s"
        f" WHERE {t.column('user')} = %s AND {t.column('task')} = %s AND {t.column('status')} <> %s"
        f" AND EXISTS (SELECT 1 FROM {e.name} WHERE {e.column('user')} = {t.name}.{t.column('user')}"
        f" AND {e.column('course')} = {t.name}.{course} AND {e.column('status')} IN (%s, %s))"
    )
    params = [
        seconds,
        t.prep("last_activity_at", at),
        t.prep("user", user_id),
        t.prep("task", task_id),
        TaskStatus.NOT_STARTED.value,
        EnrollmentStatus.ACTIVE.value,
        EnrollmentStatus.COMPLETED.value,
    ]
    features = t.connection.features
    returning = getattr(
        features, "can_return_rows_from_update", t.connection.vendor in ("postgresql", "sqlite")
    )
    if returning:
        sql += " RETURNING " + ", ".join(t.column(f.name) for f in fields)
    with t.connection.cursor() as cursor:
        cursor.execute(sql, params)
        if not returning:
            if cursor.rowcount == 0:
                return None
            return t.model._default_manager.db_manager(using).get(user=user_id, task=task_id)
        row = cursor.fetchone()
    if row is None:
        return None
    values = [t.converter(f.name)(v) for f, v in zip(fields, row, strict=True)]
    return t.model.from_db(using, [f.attname for f in fields], values)

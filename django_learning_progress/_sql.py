"""The reads of the roster page and of one learner's course written in SQL (internal).

For one page of learners the ORM spends longer building, compiling and
reading these aggregates than the database spends running them (for 50
learners on PostgreSQL: the task figures 2.2 ms against 1.3 ms, the best
quiz grades 1.9 ms against 1.0 ms), and the roster page needs them on every
request. For one learner's course the same holds with a wider margin: the
ORM's two nested queries took 33.0 ms against 17.1 ms for the naive code's
nine plain ones (``python bench/run.py --db postgres --scale default``);
this module's statement, with the quizzes' kept SQL, takes 2.4 ms against
9.4 ms in one run of the same benchmark. One statement answers each:

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

from django_learning_progress import _compiled
from django_learning_progress._expressions import AnyOf
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_override_model,
    get_task_progress_model,
)


class _Table:
    """One model's table on database ``using``, or the one the router reads it from."""

    def __init__(self, model: type[Model], using: str | None = None) -> None:
        self.model = model
        self.alias = using or router.db_for_read(model)
        self.connection = connections[self.alias]

    def _memo(self, *key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per model, database and ``key`` (see ``_compiled.memo``)."""
        return _compiled.memo((self.model, self.alias, *key), build)

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

    def cast_type(self, name: str) -> str:
        """The type to ``CAST`` a value of field ``name`` to."""
        field: Any = self.model._meta.get_field(name)
        return str(field.cast_db_type(self.connection))

    def typed_null(self, name: str) -> str:
        """``NULL`` cast to the database type of field ``name``."""
        return self._memo("null", name, build=lambda: f"CAST(NULL AS {self.cast_type(name)})")

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
        params: list[Any] = []
        sizes = []
        for name, values in any_of.items():
            _sql, values_params = self.any_of(name, values)
            sizes.append(len(values_params))
            params += values_params
        for name, value in filters.items():
            params.append(self.prep(name, value))

        def build() -> str:
            where = [self.any_of(name, values)[0] for name, values in any_of.items()]
            where += [f"{self.column(name)} = %s" for name in filters]
            select = ", ".join(self.column(name) for name in columns)
            return f"SELECT {select} FROM {self.name} WHERE {' AND '.join(where)}"

        # The text depends on the names and on how many values each list has.
        key = ("rows", tuple(columns), tuple(filters), tuple(any_of), tuple(sizes))
        return self._memo(*key, build=build), params

    def converter(self, name: str) -> Callable[[Any], Any]:
        """What the ORM does to a value of field ``name`` read from the database."""
        return self.converter_or_none(name) or _same

    def converter_or_none(self, name: str) -> Callable[[Any], Any] | None:
        """:meth:`converter`, or ``None`` when the ORM leaves the value as it is."""
        return self._memo("converter", name, build=lambda: self._converter(name))

    def _converter(self, name: str) -> Callable[[Any], Any] | None:
        field: Any = self.model._meta.get_field(name)
        col = field.get_col(self.model._meta.db_table)
        connection = self.connection
        steps = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if not steps:
            return None

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


def _same(value: Any) -> Any:
    return value


def compile_query(qs: QuerySet[Any], using: str) -> tuple[str, list[Any]]:
    """``qs`` compiled for database ``using`` (a query of no rows for ``none()``)."""
    return _Table(qs.model, using).subquery(qs)


class InstanceReader:
    """Turns rows of a model's concrete columns, then ``extra`` annotations,
    into instances as the ORM makes them (``Model.from_db``, the fields'
    converters), the annotations set as attributes.

    Kept with compiled SQL across threads: it holds no connection.
    """

    def __init__(self, model: Any, using: str, extra: Sequence[str]) -> None:
        t = _Table(model, using)
        fields = list(model._meta.concrete_fields)
        self.model, self.using, self.extra = model, using, list(extra)
        self.attnames = [field.attname for field in fields]
        self.size = len(fields)
        steps = [(i, t.converter_or_none(f.name)) for i, f in enumerate(fields)]
        self.converters = [(i, step) for i, step in steps if step is not None]

    def make(self, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """The instances of ``rows``."""
        instances = []
        size, extra = self.size, self.extra
        for row in rows:
            values = list(row[:size])
            for i, convert in self.converters:
                values[i] = convert(values[i])
            instance = self.model.from_db(self.using, self.attnames, values)
            for name, value in zip(extra, row[size:], strict=True):
                setattr(instance, name, value)
            instances.append(instance)
        return instances

    def load(self, sql: str, params: list[Any]) -> list[Any]:
        """The instances of the rows ``sql`` selects, on the calling thread's connection."""
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, params)
            return self.make(cursor.fetchall())


def compile_instances(
    qs: QuerySet[Any], extra: Sequence[str], using: str
) -> tuple[str, list[Any], InstanceReader | None]:
    """``qs`` compiled to read its instances in its order, each with the
    annotations named by ``extra``, and the :class:`InstanceReader` of its
    rows (``reader.load(sql, params)`` reads them).

    The reader is ``None`` (and the SQL that of ``qs`` as it is) when the
    instances need more than the model's columns and ``extra``: related rows
    (``select_related``), deferred fields, other annotations or extra
    selects, or rows that are not instances (``values()``).

    Why: the SQL is kept with the reader (``_compiled``), so reading a
    course's quizzes neither builds nor compiles a queryset, and the rows
    become instances by ``Model.from_db`` as the ORM makes them, without the
    column matching of ``RawQuerySet`` (0.5 ms a call at ``--scale default``).
    """
    query = qs.query
    if (
        query.select_related
        or query.deferred_loading != (frozenset(), True)
        or set(query.annotation_select) - set(extra)
        or query.extra_select
        or query.values_select
    ):
        return (*compile_query(qs, using), None)
    reader = InstanceReader(qs.model, using, extra)
    sql, params = compile_query(qs.values_list(*reader.attnames, *extra), using)
    return sql, params, reader


def task_figures(
    course_id: Any,
    user_ids: Sequence[Any],
    required: tuple[str, list[Any]],
    best_of_quizzes: Sequence[Any] = (),
    using: str | None = None,
) -> tuple[int, dict[Any, tuple[int, int, int, Any]], list[tuple[Any, Any, Any]]]:
    """The number of required tasks; per learner
    ``{user_id: (completed, in_progress, time_spent, last_activity_at)}``; and,
    for ``best_of_quizzes``, ``[(user_id, quiz_id, highest percentage)]`` over
    the completed attempts (one per learner and quiz with at least one).

    One statement. The figures are over each learner's task rows whose
    ``course`` column is ``course_id``; ``completed`` and ``in_progress``
    count the rows of tasks in ``required``, the SQL of a query of the task
    model's primary keys (compiled for database ``using``, the router's for
    the progress rows by default). Learners without rows are missing from the
    dictionary.
    """
    t = _Table(get_task_progress_model(), using)
    task_sql, params = required[0], list(required[1])
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
        a = _Table(get_quiz_attempt_model(), using)
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
    course: tuple[str, list[Any]],
    required: tuple[str, list[Any]],
    quiz_ids: Sequence[Any] | None = (),
    using: str | None = None,
    first: tuple[str, list[Any]] | None = None,
) -> tuple[
    dict[str, Any] | None, list[tuple[Any, int, str, Any]], dict[Any, int], list[tuple[Any, ...]]
]:
    """One learner's figures in one course, their attempts at ``quiz_ids`` and the
    extra attempts their quiz overrides give them there (``{quiz_id: extra}``).

    ``course`` is the SQL of a query selecting the course's key (no row when
    it does not exist: the figures are then ``None``). ``required`` is the SQL
    of a query of the course's required tasks as ``(pk, position)``, each task
    once, the position numbering them in course order. Returns the figures
    (``tasks_total``, ``tasks_completed``, ``tasks_in_progress``,
    ``time_spent``, ``last_activity_at``, ``next_task_id``, and the
    enrollment's ``status``, ``enrolled_at`` and ``completed_at``, ``None``
    without one) and every attempt as ``(quiz_id, attempt_number, status,
    percentage)``. One statement. ``quiz_ids`` ``None`` reads every attempt
    and override of the learner. With ``first``, the SQL of another
    ``SELECT``, both are sent together (:func:`fetch_both`) and its rows come
    fourth (an empty list without it).

    Why SQL: the statement is a ``UNION ALL`` of plain indexed reads (the
    required tasks, the learner's rows of those tasks, their time in the
    course, the enrollment, the attempts) that the database plans in 0.4 ms
    and runs in 0.4 ms; the counting is done here. Built with the ORM, the same
    figures are nine subqueries whose building and compiling cost about four
    times what the database spends running them (45 ms against 10 ms for a
    course of 45 required tasks at ``--scale default`` on PostgreSQL, busy
    2-core machine), more than naive code spends on nine plain queries, and an
    aggregating form of the statement took 0.9 ms to plan.
    """
    t = _Table(get_task_progress_model(), using)
    e = _Table(get_enrollment_model(), using)
    a = _Table(get_quiz_attempt_model(), using)
    course_sql, params = course
    required_sql, required_params = required
    # The counts follow the tasks (a task moved to another course counts there);
    # time and activity follow the rows' course column.
    mine_sql, mine_params = t.rows(("task", "status"), {"user": user_id}, {})
    time_sql, time_params = t.rows(
        ("time_spent", "last_activity_at"), {"user": user_id, "course": course_id}, {}
    )
    enrollment_sql, enrollment_params = e.rows(
        ("status", "enrolled_at", "completed_at"), {"user": user_id, "course": course_id}, {}
    )
    # Columns: kind, task, quiz, status, number, percentage, moment, moment.
    # The first branch types them (PostgreSQL types a UNION pairwise, left first).
    typed_quiz, typed_pct, typed_at, typed_done = (
        table.typed_null(name)
        for table, name in (
            (a, "quiz"),
            (a, "percentage"),
            (t, "last_activity_at"),
            (e, "completed_at"),
        )
    )
    ctes = [
        f"lp_req (id, pos) AS ({required_sql})",
        f"lp_mine (task_id, status) AS ({mine_sql})",
        f"lp_time (time_spent, last_activity_at) AS ({time_sql})",
        f"lp_enr (status, enrolled_at, completed_at) AS ({enrollment_sql})",
        f"lp_course (id) AS ({course_sql})",
    ]
    params = required_params + mine_params + time_params + enrollment_params + params
    # Each CTE is read once, so PostgreSQL plans it inline. The first branch:
    # each required task with the learner's status of it (NULL: no row).
    selects = [
        f"SELECT 0, lp_req.id, {typed_quiz}, lp_mine.status, lp_req.pos, {typed_pct},"
        f" {typed_at}, {typed_done}"
        " FROM lp_req LEFT JOIN lp_mine ON lp_mine.task_id = lp_req.id",
        "SELECT 2, NULL, NULL, NULL, SUM(time_spent), NULL, MAX(last_activity_at), NULL"
        " FROM lp_time",
        "SELECT 3, NULL, NULL, status, NULL, NULL, enrolled_at, completed_at FROM lp_enr",
        "SELECT 4, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM lp_course",
    ]
    if quiz_ids is None or quiz_ids:
        # ``None``: every attempt and override of the learner (the caller
        # keeps those at its quizzes), so that the statement needs no key.
        of_quizzes = {} if quiz_ids is None else {"quiz": quiz_ids}
        attempts_sql, attempts_params = a.rows(
            ("quiz", "attempt_number", "status", "percentage"), {"user": user_id}, of_quizzes
        )
        o = _Table(get_quiz_override_model(), using)
        overrides_sql, overrides_params = o.rows(
            ("quiz", "extra_attempts"), {"user": user_id}, of_quizzes
        )
        ctes.append(f"lp_att (quiz_id, num, status, percentage) AS ({attempts_sql})")
        ctes.append(f"lp_ovr (quiz_id, extra) AS ({overrides_sql})")
        params += attempts_params + overrides_params
        selects.append("SELECT 5, NULL, quiz_id, status, num, percentage, NULL, NULL FROM lp_att")
        selects.append("SELECT 6, NULL, quiz_id, NULL, extra, NULL, NULL, NULL FROM lp_ovr")
    sql = f"WITH {', '.join(ctes)} {' UNION ALL '.join(selects)}"
    task_of, quiz_of = t.converter("task"), a.converter("quiz")
    last_of, percent_of = t.converter("last_activity_at"), a.converter("percentage")
    enrolled_of, completed_of = e.converter("enrolled_at"), e.converter("completed_at")
    required_at: dict[Any, int] = {}
    status_of: dict[Any, str] = {}
    spent, last, enrollment, exists = 0, None, None, False
    attempts = []
    extras: dict[Any, int] = {}
    first_rows: list[tuple[Any, ...]] = []
    if first is None:
        rows = t.fetch(sql, params)
    else:
        first_rows, rows = fetch_both(t.alias, first, (sql, params))
    for kind, task, quiz, status, number, pct, at, done in rows:
        if kind == 0:
            key, position = task_of(task), int(number)
            required_at[key] = min(position, required_at.get(key, position))
            if status is not None:
                status_of[key] = status
        elif kind == 2:
            spent, last = int(number or 0), None if at is None else last_of(at)
        elif kind == 3:
            enrollment = (
                status,
                None if at is None else enrolled_of(at),
                None if done is None else completed_of(done),
            )
        elif kind == 4:
            exists = True
        elif kind == 5:
            attempts.append(
                (quiz_of(quiz), int(number), status, None if pct is None else percent_of(pct))
            )
        else:
            extras[quiz_of(quiz)] = int(number or 0)
    if not exists:
        return None, attempts, extras, first_rows
    done_status, started_status = TaskStatus.COMPLETED.value, TaskStatus.IN_PROGRESS.value
    statuses = [status_of.get(task) for task in required_at]
    todo = [task for task in required_at if status_of.get(task) != done_status]
    status, enrolled_at, completed_at = enrollment or (None, None, None)
    figures = {
        "tasks_total": len(required_at),
        "tasks_completed": statuses.count(done_status),
        "tasks_in_progress": statuses.count(started_status),
        "time_spent": spent,
        "last_activity_at": last,
        "next_task_id": min(todo, key=required_at.__getitem__) if todo else None,
        "status": status,
        "enrolled_at": enrolled_at,
        "completed_at": completed_at,
    }
    return figures, attempts, extras, first_rows


def sends_both(using: str) -> bool:
    """Whether :func:`fetch_both` sends its two statements in one round trip on
    database ``using``: PostgreSQL through psycopg 3 with client-side binding."""
    connection: Any = connections[using]
    return (
        connection.vendor == "postgresql"
        and not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding")
        and getattr(connection.Database, "__name__", "") == "psycopg"
    )


def fetch_both(
    using: str, first: tuple[str, list[Any]], second: tuple[str, list[Any]]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of two ``SELECT`` statements, in one round trip where the
    driver can send both at once.

    Why: on PostgreSQL through psycopg 3 with client-side binding (Django's
    default), both statements travel in one ``execute()`` and their results
    come back one after the other (``nextset()``); a round trip is a large
    part of one learner's progress read. Elsewhere, or with server-side
    binding, the two statements run one after the other.
    """
    connection: Any = connections[using]
    with connection.cursor() as cursor:
        if sends_both(using):
            cursor.execute(f"{first[0]}; {second[0]}", [*first[1], *second[1]])
            rows = cursor.fetchall()
            if not cursor.nextset():
                raise RuntimeError("the second statement returned no result")
            return rows, cursor.fetchall()
        cursor.execute(*first)
        rows = cursor.fetchall()
        cursor.execute(*second)
        return rows, cursor.fetchall()


def learner_courses(
    user_id: Any,
    course_ids: Sequence[Any],
    required: Sequence[tuple[Any, tuple[str, list[Any]]]],
    using: str | None = None,
) -> dict[Any, tuple[int, int, int, int, Any, Any]]:
    """One learner's figures in several courses: ``{course_id: (tasks_total,
    tasks_completed, tasks_in_progress, time_spent, last_activity_at,
    next_task_id)}``, one statement.

    ``required`` lists ``(course key, SQL)``: the SQL of a query of that
    course's required tasks as ``(pk, position)`` (see :func:`learner_course`),
    or, with ``None`` for the key, of several courses' required tasks as
    ``(course key, pk, position)`` (see ``_batch``). Every course of
    ``course_ids`` is in the result.

    Why SQL: the ORM form (:func:`~django_learning_progress.helpers.get_enrolled_courses`)
    is one row per enrollment with correlated subqueries that run the host's
    required-task query four times per course (30 ms for 20 courses at
    ``--scale default`` on PostgreSQL); here each course's query runs once, from
    SQL compiled once per course (``_compiled``), and one ``GROUP BY`` counts.
    With the courses whose queries differ only by the course read by one
    query (``_batch``), the statement takes 3.6 ms for 20 courses, against
    10 ms with one query per course.
    """
    t = _Table(get_task_progress_model(), using)
    e = _Table(get_enrollment_model(), using)
    course_type = e.cast_type("course")
    parts, params = [], []
    for n, (course_id, (sql, sql_params)) in enumerate(required):
        if course_id is None:
            parts.append(f"SELECT lp_r{n}.* FROM ({sql}) lp_r{n}")
            params += sql_params
        else:
            parts.append(f"SELECT CAST(%s AS {course_type}), lp_r{n}.* FROM ({sql}) lp_r{n}")
            params += [e.prep("course", course_id), *sql_params]
    mine_sql, mine_params = t.rows(("task", "status"), {"user": user_id}, {})
    time_sql, time_params = t.rows(
        ("course", "time_spent", "last_activity_at"), {"user": user_id}, {"course": course_ids}
    )
    params += mine_params + time_params
    done, started = TaskStatus.COMPLETED.value, TaskStatus.IN_PROGRESS.value
    ctes = [
        f"lp_req (course_id, id, pos) AS ({' UNION ALL '.join(parts)})",
        f"lp_mine (task_id, status) AS ({mine_sql})",
        f"lp_time (course_id, time_spent, last_activity_at) AS ({time_sql})",
        "lp_fig (course_id, id, pos, status) AS (SELECT r.course_id, r.id, r.pos, m.status"
        " FROM lp_req r LEFT JOIN lp_mine m ON m.task_id = r.id)",
    ]
    # Columns: kind, course, three counts, time, next task, last activity; the
    # first branch types them (PostgreSQL types a UNION pairwise, left first).
    selects = [
        "SELECT 0, course_id, COUNT(DISTINCT id),"
        " COUNT(DISTINCT CASE WHEN status = %s THEN id END),"
        " COUNT(DISTINCT CASE WHEN status = %s THEN id END),"
        f" {t.typed_null('time_spent')},"
        f" {t.typed_null('task')}, {t.typed_null('last_activity_at')}"
        " FROM lp_fig GROUP BY course_id",
        "SELECT 1, course_id, NULL, NULL, NULL, NULL, id, NULL FROM"
        " (SELECT course_id, id, ROW_NUMBER() OVER (PARTITION BY course_id ORDER BY pos) AS lp_n"
        "  FROM lp_fig WHERE status IS NULL OR status <> %s) lp_next WHERE lp_n = 1",
        "SELECT 2, course_id, NULL, NULL, NULL, SUM(time_spent), NULL, MAX(last_activity_at)"
        " FROM lp_time GROUP BY course_id",
    ]
    params += [done, started, done]
    sql = f"WITH {', '.join(ctes)} {' UNION ALL '.join(selects)}"
    course_of, task_of = e.converter("course"), t.converter("task")
    last_of = t.converter("last_activity_at")
    figures: dict[Any, list[Any]] = {
        course_id: [0, 0, 0, 0, None, None] for course_id in course_ids
    }
    for kind, course, total, completed, started_n, spent, task, last in t.fetch(sql, params):
        row = figures[course_of(course)]
        if kind == 0:
            row[0:3] = int(total), int(completed or 0), int(started_n or 0)
        elif kind == 1:
            row[5] = task_of(task)
        else:
            row[3], row[4] = int(spent or 0), None if last is None else last_of(last)
    return {course_id: tuple(row) for course_id, row in figures.items()}


def update_rows(objs: Sequence[Model], fields: Sequence[str], using: str) -> None:
    """Save ``fields`` of ``objs`` (instances of one model) as ``bulk_update`` does.

    One ``UPDATE`` per batch, ``SET column = CASE pk WHEN ... END`` built as
    text. Why SQL: ``bulk_update`` builds and resolves a ``Case`` of ``When``
    expressions per field and row; for the 20 responses of a submitted attempt
    that was two thirds of ``submit_attempt``'s Python time at ``--scale
    default`` on PostgreSQL (2.4 of 3.7 s over 30 submits, under the profiler).
    When the model's default manager filters rows, ``bulk_update`` is used.
    """
    if not objs:
        return
    model = type(objs[0])
    t = _Table(model, using)
    if not t.plain:
        model._default_manager.db_manager(using).bulk_update(objs, fields)
        return
    connection = t.connection
    meta = model._meta
    pk: Any = meta.pk
    concrete: list[Any] = [meta.get_field(name) for name in fields]
    cast = connection.features.requires_casted_case_in_updates
    batch = max(1, connection.ops.bulk_batch_size(["pk", "pk", *fields], objs))
    pk_column = connection.ops.quote_name(pk.column)
    for start in range(0, len(objs), batch):
        chunk = objs[start : start + batch]
        keys = [pk.get_db_prep_value(obj.pk, connection) for obj in chunk]
        sets, params = [], []
        for field in concrete:
            whens = " ".join(["WHEN %s THEN %s"] * len(chunk))
            case = f"CASE {pk_column} {whens} END"
            if cast:
                case = f"CAST({case} AS {t.cast_type(field.name)})"
            sets.append(f"{connection.ops.quote_name(field.column)} = {case}")
            for key, obj in zip(keys, chunk, strict=True):
                value: Any = getattr(obj, field.attname)
                params += [key, field.get_db_prep_save(value, connection)]
        marks = ", ".join(["%s"] * len(chunk))
        sql = f"UPDATE {t.name} SET {', '.join(sets)} WHERE {pk_column} IN ({marks})"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *keys])


def add_time(
    user_id: Any, task_id: Any, seconds: int, at: Any, using: str, *, row: bool = False
) -> Any:
    """Add ``seconds`` to a started task's time and return the row; ``None`` when
    there is no started row or no usable enrollment (the caller then takes the
    full path), ``NotImplemented`` when a default manager filters rows. With
    ``row=True``, ``task_id`` is the primary key of the progress row instead.

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
    key = t.model._meta.pk.name if row else "task"
    spent, last, course = t.column("time_spent"), t.column("last_activity_at"), t.column("course")
    sql = (
        f"UPDATE {t.name} SET {spent} = {spent} + %s, {last} = %s"
        f" WHERE {t.column('user')} = %s AND {t.column(key)} = %s AND {t.column('status')} <> %s"
        f" AND EXISTS (SELECT 1 FROM {e.name} WHERE {e.column('user')} = {t.name}.{t.column('user')}"
        f" AND {e.column('course')} = {t.name}.{course} AND {e.column('status')} IN (%s, %s))"
    )
    params = [
        seconds,
        t.prep("last_activity_at", at),
        t.prep("user", user_id),
        t.prep(key, task_id),
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
            return t.model._default_manager.db_manager(using).get(user=user_id, **{key: task_id})
        found = cursor.fetchone()
    if found is None:
        return None
    values = [t.converter(f.name)(v) for f, v in zip(fields, found, strict=True)]
    return t.model.from_db(using, [f.attname for f in fields], values)

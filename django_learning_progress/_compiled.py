"""The SQL of the content adapter's per-course querysets, compiled once and reused (internal).

One learner's figures in one course are a few simple indexed reads; what costs
is building and compiling the host's querysets for them on every call
(``required_tasks(course)``, ``course_quizzes(course)``...): at ``--scale
default`` on PostgreSQL, 2.3 ms of Python per call against 1.0 ms for running
both statements. The *rows* those querysets select change all the time (a task
made optional, a quiz added), but their *SQL* for a given course does not:
the database reads the current rows each time the SQL runs. So the SQL is kept,
per adapter, course, database and adapter method, and only the learner's
values change between calls. No figure is ever read from a cache.

The SQL is kept only when reusing it is safe:

* building and compiling the queryset ran no query (a host that looks rows up
  in Python to decide what the queryset is, gets a fresh queryset every call);
* building it twice gives the same SQL and parameters, and it compares with no
  date, time or duration (a queryset filtering on "now" or "today", such as a
  release date, is compiled afresh every call);
* the adapter's ``reuse_course_sql`` is true (the opt-out for querysets that
  depend on anything else that changes while the process runs);
* the entry is keyed on the adapter instance and on the function of the
  method that built it, so replacing a method (a subclass, a patch) or the
  adapter (a changed setting) never reuses the old SQL. Any ``setting_changed``
  clears everything.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, time, timedelta
from typing import Any

from django.core.signals import setting_changed
from django.db import connections
from django.db.models import Lookup, QuerySet, Value
from django.db.models.sql import Query
from django.dispatch import receiver
from django.utils.tree import Node

#: How many compiled statements are kept (least recently used go first).
MAX_ENTRIES = 4096

_lock = threading.Lock()
_entries: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
_MOMENTS = (date, time, timedelta)
#: Texts and functions that depend only on models, settings and the database
#: (a table's SQL, a column's converters), built once: see :func:`memo`.
_memo: dict[tuple[Any, ...], Any] = {}


def memo(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """``build()``, once per ``key`` until the next ``setting_changed``.

    For values that follow from code and settings only (the SQL text of a
    select on one of the app's tables, the converters of a column), never
    from rows. ``key`` names the models and the database alias it depends on.
    """
    try:
        return _memo[key]
    except KeyError:
        value = _memo[key] = build()
        return value


def method_key(adapter: Any, name: str) -> Any:
    """What identifies the code of ``adapter.name``: its function."""
    method = getattr(adapter, name)
    return getattr(method, "__func__", method)


@contextmanager
def _counting() -> Iterator[list[int]]:
    executed: list[int] = []

    def wrapper(execute: Any, sql: Any, params: Any, many: Any, context: Any) -> Any:
        executed.append(1)
        return execute(sql, params, many, context)

    with ExitStack() as stack:
        for connection in connections.all():
            stack.enter_context(connection.execute_wrapper(wrapper))
        yield executed


def reusable(params: list[Any]) -> bool:
    """Whether no parameter is a date, time or duration."""
    for value in params:
        if isinstance(value, (list, tuple)):
            if not reusable(list(value)):
                return False
        elif isinstance(value, _MOMENTS):
            return False
    return True


def has_moment(node: Any, depth: int = 0) -> bool:
    """Whether a queryset, query or expression compares with a date, time or duration.

    Looked for in the query rather than in the compiled parameters, which some
    backends turn into strings.
    """
    if depth > 50:
        return True  # too deep to tell: do not reuse
    if isinstance(node, _MOMENTS):
        return True
    if isinstance(node, (list, tuple, set, frozenset)):
        return any(has_moment(item, depth + 1) for item in node)
    if isinstance(node, QuerySet):
        return has_moment(node.query, depth + 1)
    if isinstance(node, Query):
        parts = [node.where, *node.annotations.values()]
        return any(has_moment(part, depth + 1) for part in parts)
    if isinstance(node, Node):
        return has_moment(node.children, depth + 1)
    if isinstance(node, Lookup):
        return has_moment(node.lhs, depth + 1) or has_moment(node.rhs, depth + 1)
    if isinstance(node, Value):
        return has_moment(node.value, depth + 1)
    if hasattr(node, "get_source_expressions"):
        return has_moment(node.get_source_expressions(), depth + 1)
    return False


def compiled(
    key: tuple[Any, ...],
    adapter: Any,
    build: Callable[[], Any],
    compile: Callable[[Any], tuple[Any, ...]],
) -> Any:
    """``compile(build())``, from the store when ``key`` was compiled before.

    ``key`` names the course, the database and the adapter methods ``build``
    calls (:func:`method_key`); ``adapter`` is the content adapter.
    ``compile`` returns ``(sql, params, *more)``: what else it returns (how
    to read the rows, say) is kept with the SQL; the parameters come back as
    a new list each time.
    """
    full_key = (adapter, *key)
    with _lock:
        hit = _entries.get(full_key)
        if hit is not None:
            _entries.move_to_end(full_key)
            return (hit[0], list(hit[1]), *hit[2:])
    with _counting() as executed:
        qs = build()
        sql, params, *more = compile(qs)
        # Built twice: a queryset that depends on the moment (or on a counter)
        # compiles differently each time.
        again = compile(build())
    if (
        not executed
        and getattr(adapter, "reuse_course_sql", True)
        and (sql, list(params)) == (again[0], list(again[1]))
        and reusable(params)
        and not has_moment(qs)
    ):
        with _lock:
            _entries[full_key] = (sql, list(params), *more)
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return (sql, list(params), *more)


def clear() -> None:
    """Forget every compiled statement and every memoized text."""
    with _lock:
        _entries.clear()
        _memo.clear()


@receiver(setting_changed)
def _setting_changed(**kwargs: Any) -> None:
    clear()

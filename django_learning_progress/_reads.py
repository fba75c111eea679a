"""What the learner reads (``helpers``) and the course-level reads (``rosters``) share (internal)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet

from django_learning_progress import _compiled, _sql
from django_learning_progress.content import get_content_adapter

PERCENT = Decimal("0.01")


def pk_of(obj: Any) -> Any:
    return getattr(obj, "pk", obj)


def compiler(alias: str) -> Callable[[QuerySet[Any]], tuple[str, list[Any]]]:
    """A function compiling a queryset for database ``alias``."""
    return lambda qs: _sql.compile_query(qs, alias)


def grade_over_attempts(method: str, attempts: list[tuple[int, Decimal]]) -> Decimal | None:
    """A quiz grade from ``(attempt_number, percentage)`` pairs of completed attempts.

    ``highest``, ``latest`` (highest number), ``first`` (lowest number) or
    ``average``; ``None`` for no attempts. The Python twin of the SQL used by
    :func:`quiz_results`.
    """
    if not attempts:
        return None
    if method == "highest":
        grade = max(p for _n, p in attempts)
    elif method == "latest":
        grade = max(attempts)[1]
    elif method == "first":
        grade = min(attempts)[1]
    else:
        return average(sum((Decimal(p) for _n, p in attempts), Decimal(0)), len(attempts))
    return Decimal(grade).quantize(PERCENT, ROUND_HALF_UP)


def average(total: Any, count: int) -> Decimal | None:
    """Mean percentage, exact, rounded half up to two decimals."""
    if not count:
        return None
    return (Decimal(total) / count).quantize(PERCENT, ROUND_HALF_UP)


def instances(
    key: tuple[Any, ...], build: Callable[[], QuerySet[Any]], alias: str, extra: Sequence[str] = ()
) -> list[Any]:
    """The instances of ``build()``, each with its annotations ``extra``, in its order.

    The queryset's SQL is compiled once under ``key`` (see ``_compiled``) and
    its rows made into instances by ``Model.from_db``; a queryset whose
    instances need more than its columns (``select_related``, deferred fields,
    other annotations) is read as a queryset every time.
    """
    adapter = get_content_adapter()
    sql, params, reader = _compiled.compiled(
        key, adapter, build, lambda qs: _sql.compile_instances(qs, extra, alias)
    )
    return list(build()) if reader is None else reader.load(sql, params)


def percentage(done: int, total: int) -> float:
    """``percentage`` of :func:`course_roster`, by the same float arithmetic as its SQL."""
    return float(done) * 100.0 / float(total) if total else 0.0

"""A course's progress, task progress, attempts or responses as CSV or JSON Lines.

The one place that knows the export formats: the ``export_progress``
management command and the instructor pages' download
(:mod:`django_learning_progress.pages`) both write through it, so both give
the same bytes. Rows are read in chunks and written as they are read, so
memory stays flat in the number of rows on every supported database (see
:func:`reading_method`)::

    from django_learning_progress import exports

    export = exports.EXPORTS["progress"](course.pk)
    with open("progress.csv", "w", encoding="utf-8", newline="") as out:
        exports.write_rows(export, "csv", out)

    # or as text chunks, for a streaming HTTP response:
    for text in exports.stream_export(export, "jsonl"):
        ...
"""

from __future__ import annotations

import csv
import importlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import QuerySet

from django_learning_progress import helpers, rosters
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)

#: The exports, by name: ``--what`` of the command, ``?what=`` of the download.
WHAT = ("progress", "tasks", "attempts", "responses")
#: The formats: CSV with a header row, or JSON Lines (one object per line).
FORMATS = ("csv", "jsonl")
#: Rows fetched from the database at a time.
DEFAULT_CHUNK_SIZE = 2000

#: How each export names its rows in the summary line (singular, plural).
NOUNS = {
    "progress": ("enrollment", "enrollments"),
    "tasks": ("task progress row", "task progress rows"),
    "attempts": ("attempt", "attempts"),
    "responses": ("response", "responses"),
}


class Writable(Protocol):
    """Anything with a ``write(text)`` method: a text file, ``io.StringIO``."""

    def write(self, text: str, /) -> Any: ...


@dataclass(frozen=True)
class Export:
    """What to export: column names and the queryset that yields them.

    ``rows`` is a ``values_list()`` queryset ordered by primary key whose
    first column is that primary key (keyset paging relies on both).
    ``total`` holds the same rows, to count (for the progress bar). ``json_columns``
    hold JSON values; ``converters`` rewrite a column's raw value first.
    """

    columns: tuple[str, ...]
    rows: QuerySet[Any, tuple[Any, ...]]
    total: QuerySet[Any]
    json_columns: frozenset[str] = frozenset()
    converters: dict[str, Callable[[Any], Any]] = field(default_factory=dict)


def _username_lookup(prefix: str) -> str:
    return f"{prefix}__{get_user_model().USERNAME_FIELD}"


def _round_percentage(value: Any) -> float | None:
    return None if value is None else helpers.round_percentage(value)


def progress_export(course_pk: Any) -> Export:
    """One row per enrollment in the course, from :func:`~django_learning_progress.rosters.course_roster`."""
    lookups = {
        "enrollment_id": "pk",
        "user_id": "user_id",
        "username": _username_lookup("user"),
        "status": "status",
        "enrolled_at": "enrolled_at",
        "completed_at": "completed_at",
        "percentage": "percentage",
        "tasks_completed": "tasks_completed",
        "tasks_total": "tasks_total",
        "time_spent": "time_spent",
        "last_activity_at": "last_activity_at",
        # Added for import_progress (a round trip needs them); hosts read by name.
        "course_id": "course_id",
        "dropped_at": "dropped_at",
        "settings": "settings",
    }
    roster = rosters.course_roster(course_pk).order_by("pk")
    return Export(
        columns=tuple(lookups),
        rows=roster.values_list(*lookups.values()),
        total=get_enrollment_model()._default_manager.filter(course=course_pk),
        json_columns=frozenset({"settings"}),
        converters={"percentage": _round_percentage},
    )


def tasks_export(course_pk: Any) -> Export:
    """One row per task progress row in the course."""
    lookups = {
        "task_progress_id": "pk",
        "user_id": "user_id",
        "username": _username_lookup("user"),
        "task_id": "task_id",
        "course_id": "course_id",
        "status": "status",
        "time_spent": "time_spent",
        "started_at": "started_at",
        "completed_at": "completed_at",
        "last_activity_at": "last_activity_at",
    }
    rows = get_task_progress_model()._default_manager.filter(course=course_pk)
    return Export(
        columns=tuple(lookups),
        rows=rows.order_by("pk").values_list(*lookups.values()),
        total=rows,
    )


def attempts_export(course_pk: Any) -> Export:
    """One row per quiz attempt in the course."""
    lookups = {
        "attempt_id": "pk",
        "user_id": "user_id",
        "username": _username_lookup("user"),
        "quiz_id": "quiz_id",
        "attempt_number": "attempt_number",
        "status": "status",
        "score": "score",
        "max_score": "max_score",
        "percentage": "percentage",
        "passed": "passed",
        "started_at": "started_at",
        "submitted_at": "submitted_at",
        "completed_at": "completed_at",
        "deadline_at": "deadline_at",
        "time_taken": "time_taken",
    }
    attempts = get_quiz_attempt_model()._default_manager.filter(course=course_pk)
    return Export(
        columns=tuple(lookups),
        rows=attempts.order_by("pk").values_list(*lookups.values()),
        total=attempts,
    )


def responses_export(course_pk: Any) -> Export:
    """One row per quiz response in the course (through the attempt's ``course``)."""
    lookups = {
        "response_id": "pk",
        "attempt_id": "attempt_id",
        "user_id": "attempt__user_id",
        "username": _username_lookup("attempt__user"),
        "quiz_id": "attempt__quiz_id",
        "question_id": "question_id",
        "response": "response",
        "is_correct": "is_correct",
        "points_awarded": "points_awarded",
        "time_spent": "time_spent",
        "answered_at": "answered_at",
        "graded_at": "graded_at",
        # Added for import_progress: the attempt by its natural key, and the grader.
        "attempt_number": "attempt__attempt_number",
        "graded_by": _username_lookup("graded_by"),
    }
    responses = get_quiz_response_model()._default_manager.filter(attempt__course=course_pk)
    return Export(
        columns=tuple(lookups),
        rows=responses.order_by("pk").values_list(*lookups.values()),
        total=responses,
        json_columns=frozenset({"response"}),
    )


EXPORTS: dict[str, Callable[[Any], Export]] = {
    "progress": progress_export,
    "tasks": tasks_export,
    "attempts": attempts_export,
    "responses": responses_export,
}


# -- values ------------------------------------------------------------------------

Encoder = Callable[[Any], Any]


def _dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def jsonl_value(value: Any) -> Any:
    """A value JSON can hold: ISO 8601 for dates and times, exact strings for decimals."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def csv_value(value: Any) -> Any:
    """A CSV cell: empty for ``None``, ``true``/``false``, else as in JSON Lines."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return jsonl_value(value)


def csv_json_value(value: Any) -> str:
    """A CSV cell for a JSON column: the value as JSON text, empty for ``None``."""
    return "" if value is None else _dump_json(value)


def _as_is(value: Any) -> Any:
    return value


ENCODERS: dict[tuple[str, bool], Encoder] = {
    # (format, is a JSON column): encoder
    ("csv", False): csv_value,
    ("csv", True): csv_json_value,
    ("jsonl", False): jsonl_value,
    ("jsonl", True): _as_is,
}


def _encoder(fmt: str, is_json: bool, convert: Encoder | None) -> Encoder:
    encode = ENCODERS[fmt, is_json]
    if convert is None:
        return encode
    return lambda value: encode(convert(value))


# -- reading -------------------------------------------------------------------------


def reading_method(alias: str) -> str:
    """How to read rows from the database ``alias`` with flat memory.

    * ``"iterator"``: ``QuerySet.iterator()``, a server-side cursor on
      PostgreSQL, chunked fetches on SQLite and Oracle;
    * ``"unbuffered"``: MySQL and MariaDB, whose Django cursor (mysqlclient's
      default) loads the whole result set into memory on the first fetch: one
      query through mysqlclient's unbuffered ``SSCursor`` instead;
    * ``"pages"``: PostgreSQL with ``DISABLE_SERVER_SIDE_CURSORS``, whose
      client cursor loads everything too: keyset pages, one query per chunk.
    """
    connection = connections[alias]
    if connection.vendor == "mysql":
        return "unbuffered"
    if connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS", False):
        return "pages"
    return "iterator"


def _unbuffered(rows: QuerySet[Any, tuple[Any, ...]], chunk_size: int) -> Iterator[tuple[Any, ...]]:
    """``rows`` through an unbuffered mysqlclient cursor, converted as Django would."""
    cursor_class = importlib.import_module("MySQLdb.cursors").SSCursor
    compiler = rows.query.get_compiler(using=rows.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return
    connection = connections[rows.db]
    connection.ensure_connection()
    cursor = connection.connection.cursor(cursor_class)
    try:
        cursor.execute(sql, params)

        def chunks() -> Iterator[Any]:
            # Like Django's own cursor_iter(): drop columns added only for ordering.
            width = compiler.col_count if compiler.has_extra_select else None
            while chunk := cursor.fetchmany(chunk_size):
                yield chunk if width is None else [row[:width] for row in chunk]

        yield from compiler.results_iter(chunks(), tuple_expected=True)
    finally:
        cursor.close()  # reads what is left: the connection is usable again


def _pages(rows: QuerySet[Any, tuple[Any, ...]], chunk_size: int) -> Iterator[tuple[Any, ...]]:
    """``rows`` in keyset pages: ``pk > last ORDER BY pk LIMIT chunk_size``."""
    page = rows
    while True:
        chunk = list(page[:chunk_size])
        full, last = len(chunk) == chunk_size, chunk[-1][0] if chunk else None
        yield from chunk
        del chunk  # before the next page is read
        if not full:
            return
        page = rows.filter(pk__gt=last)


def iter_rows(rows: QuerySet[Any, tuple[Any, ...]], chunk_size: int) -> Iterator[tuple[Any, ...]]:
    """The rows of ``rows``, read ``chunk_size`` at a time (see :func:`reading_method`).

    Memory holds about one chunk (two, briefly, while the next one is read),
    whatever the number of rows. ``rows`` must be ordered by primary key and
    start with it, for the keyset pages.
    """
    method = reading_method(rows.db)
    if method == "unbuffered":
        return _unbuffered(rows, chunk_size)
    if method == "pages":
        return _pages(rows, chunk_size)
    return rows.iterator(chunk_size=chunk_size)


# -- writing -------------------------------------------------------------------------


class RowWriter:
    """Writes a header (CSV) and rows to ``out`` in the format ``fmt`` (``"csv"`` or ``"jsonl"``)."""

    def __init__(self, out: Writable, fmt: str, export: Export) -> None:
        self.out = out
        self.columns = export.columns
        self.encoders = tuple(
            _encoder(fmt, column in export.json_columns, export.converters.get(column))
            for column in export.columns
        )
        self.csv = csv.writer(out) if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writerow(self.columns)

    def write(self, row: tuple[Any, ...]) -> None:
        values = [encode(v) for encode, v in zip(self.encoders, row, strict=True)]
        if self.csv is not None:
            self.csv.writerow(values)
        else:
            record = dict(zip(self.columns, values, strict=True))
            self.out.write(_dump_json(record) + "\n")


#: The ``Content-Type`` of each format, for a download.
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
}

#: Text gathered before :func:`stream_export` yields it (about 64 KiB).
STREAM_BUFFER = 64 * 1024


def export_filename(course_pk: Any, what: str, fmt: str) -> str:
    """A file name for an export: ``course-42-progress.csv``.

    Characters other than ASCII letters, digits, ``-`` and ``_`` in the
    course's key become ``_``, so the name is safe in a header and on disk.
    """
    key = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in str(course_pk))
    return f"course-{key}-{what}.{fmt}"


def write_rows(
    export: Export,
    fmt: str,
    out: Writable,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> int:
    """Write every row of ``export`` to ``out`` in ``fmt``; return how many.

    Rows are read ``chunk_size`` at a time (:func:`iter_rows`).
    """
    writer = RowWriter(out, fmt, export)
    written = 0
    for row in iter_rows(export.rows, chunk_size):
        writer.write(row)
        written += 1
    return written


def stream_export(export: Export, fmt: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[str]:
    """The text of ``export`` in ``fmt``, in pieces of about 64 KiB, read as it is yielded.

    Joined, the pieces are exactly what :func:`write_rows` writes. The rows
    are read inside a transaction (so that PostgreSQL's server-side cursor
    streams them), which ends when the generator is exhausted or closed: give
    it to ``StreamingHttpResponse``, which closes it.
    """
    buffer = io.StringIO()
    with transaction.atomic(using=export.rows.db):
        writer = RowWriter(buffer, fmt, export)
        for row in iter_rows(export.rows, chunk_size):
            writer.write(row)
            if buffer.tell() >= STREAM_BUFFER:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    text = buffer.getvalue()
    if text:
        yield text

"""``export_progress``: stream one course's progress, tasks, attempts or responses as CSV or JSON Lines.

Rows are written as they are read, in chunks, so memory stays flat in the
number of rows, on every supported database (see :func:`reading_method`).
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import connections, transaction
from django.db.models import QuerySet

from django_learning_progress import helpers
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)

WHAT = ("progress", "tasks", "attempts", "responses")
FORMATS = ("csv", "jsonl")
DEFAULT_CHUNK_SIZE = 2000

#: How each export names its rows in the summary line (singular, plural).
NOUNS = {
    "progress": ("enrollment", "enrollments"),
    "tasks": ("task progress row", "task progress rows"),
    "attempts": ("attempt", "attempts"),
    "responses": ("response", "responses"),
}


class _Writable(Protocol):
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
    """One row per enrollment in the course, from :func:`~django_learning_progress.helpers.course_roster`."""
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
    roster = helpers.course_roster(course_pk).order_by("pk")
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


class _StdoutSink:
    """Raw text to the command's stdout, without the wrapper's line endings."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(text, ending="")
        return len(text)


def _point_at_null_device(stream: OutputWrapper) -> None:
    """Send what is left in ``stream``'s buffer to the null device, not to a closed pipe.

    Otherwise the interpreter's final flush of ``sys.stdout`` fails again at exit.
    """
    with contextlib.suppress(AttributeError, OSError, ValueError):
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)


class RowWriter:
    """Writes a header (CSV) and rows to ``out`` in the chosen format."""

    def __init__(self, out: _Writable, fmt: str, export: Export) -> None:
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


def _existing_mode(target: Path) -> int | None:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return None


def check_output_path(path: str) -> None:
    """Refuse an output path that cannot be written, before anything is read or written."""
    target = Path(path)
    directory = target.parent
    if not directory.is_dir():
        raise CommandError(f"Cannot write {path}: directory {directory} does not exist.")
    if target.is_dir():
        raise CommandError(f"Cannot write {path}: it is a directory.")
    if target.exists() and not os.access(target, os.W_OK):
        raise CommandError(f"Cannot write {path}: permission denied.")
    if not target.exists() and not os.access(directory, os.W_OK | os.X_OK):
        raise CommandError(f"Cannot write {path}: directory {directory} is not writable.")


@contextlib.contextmanager
def open_output(path: str) -> Iterator[_Writable]:
    """A UTF-8 text file that appears at ``path`` only once the export succeeds.

    Rows go to a temporary file next to ``path``, renamed over it at the end,
    so a failed or interrupted export leaves no partial file and an existing
    file untouched. The file gets the mode ``open()`` would give it. A path
    that exists but is not a regular file (``/dev/stdout``, a FIFO) is
    written in place.
    """
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        try:
            special = open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}.") from exc
        with special:
            yield special
        return
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        # 0o666 through the umask, as open() does; O_BINARY: newlines are Python's business.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(temporary, flags, 0o666)
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror}.") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        mode = _existing_mode(target)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


# -- progress bar --------------------------------------------------------------------------


def _unstyled(text: str) -> str:
    return text


class ProgressBar:
    """A one-line bar on a terminal, redrawn in place.

    With ``shared`` (the rows go to the same terminal), the bar is erased
    before rows are written again so that it never ends up inside the data.
    """

    width = 30

    def __init__(
        self, stderr: OutputWrapper, stdout: OutputWrapper, total: int, *, shared: bool
    ) -> None:
        self.stderr = stderr
        self.stdout = stdout
        self.total = total
        self.shared = shared
        self.visible = False
        self.drawn = -1

    def _put(self, text: str) -> None:
        self.stderr.write(text, style_func=_unstyled, ending="")
        self.stderr.flush()

    def draw(self, done: int) -> None:
        if self.shared:
            self.stdout.flush()
        fraction = min(done / self.total, 1.0) if self.total else 1.0
        filled = round(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        self._put(f"\r[{bar}] {done}/{self.total} {fraction:4.0%}")
        self.visible, self.drawn = True, done

    def hide(self) -> None:
        if self.visible:
            self._put("\r\x1b[K")
            self.visible = False

    def finish(self, done: int) -> None:
        if self.shared:
            self.hide()
        else:
            if self.drawn != done:
                self.draw(done)
            self._put("\n")
            self.visible = False


# -- command -------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Export one course's learner progress, task progress, quiz attempts or quiz responses as CSV "
        "or JSON Lines, to a file or stdout. Rows are streamed in chunks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("course_id", metavar="COURSE_ID", help="Primary key of the course.")
        parser.add_argument(
            "--what",
            required=True,
            choices=WHAT,
            help="progress: one row per enrollment; tasks: one per task progress row; "
            "attempts: one per quiz attempt; "
            "responses: one per answered question.",
        )
        parser.add_argument(
            "--format",
            dest="format",
            choices=FORMATS,
            default="csv",
            help="csv (with a header row, the default) or jsonl (one JSON object per line).",
        )
        parser.add_argument(
            "--output",
            metavar="PATH",
            help="Write to this file (replaced when the export succeeds) instead of stdout.",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            metavar="N",
            help=f"Rows fetched from the database at a time (default {DEFAULT_CHUNK_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        course_id, what, fmt = options["course_id"], options["what"], options["format"]
        output, chunk_size = options["output"], options["chunk_size"]
        # call_command() passes optional keyword arguments around argparse: check again.
        if what not in WHAT:
            raise CommandError(f"--what must be one of {', '.join(WHAT)}, got {what!r}.")
        if fmt not in FORMATS:
            raise CommandError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise CommandError(
                f"--chunk-size must be a whole number of at least 1, got {chunk_size!r}."
            )
        if output is not None:
            check_output_path(output)
        course_pk = self.course_pk(course_id)

        stderr_tty = self.stderr.isatty()
        stdout_tty = output is None and self.stdout.isatty()
        show_bar = stderr_tty and (output is not None or stdout_tty)

        export = EXPORTS[what](course_pk)
        # In a transaction, PostgreSQL's server-side cursor is not WITH HOLD:
        # rows stream as they are read instead of being stored at commit.
        with transaction.atomic(using=export.rows.db):
            bar = None
            if show_bar:
                bar = ProgressBar(self.stderr, self.stdout, export.total.count(), shared=stdout_tty)
            if output is None:
                try:
                    written = self.write_rows(
                        export, fmt, _StdoutSink(self.stdout), chunk_size, bar
                    )
                    self.stdout.flush()
                except BrokenPipeError:  # e.g. `| head`: the reader went away
                    _point_at_null_device(self.stdout)
                    raise CommandError("Stopped: stdout was closed (broken pipe).") from None
            else:
                with open_output(output) as out:
                    written = self.write_rows(export, fmt, out, chunk_size, bar)
        if stderr_tty:
            noun = NOUNS[what][written != 1]
            where = output if output is not None else "stdout"
            self.stderr.write(
                f"Exported {written} {noun} of course {course_pk} to {where}.",
                style_func=self.style.SUCCESS,
            )

    def course_pk(self, course_id: str) -> Any:
        """The primary key of the course ``course_id`` names, or a :class:`CommandError`."""
        course_model = get_content_adapter().course_model
        try:
            pk = (
                course_model._default_manager.filter(pk=course_id)
                .values_list("pk", flat=True)
                .first()
            )
        except (ValueError, TypeError, OverflowError, ValidationError):
            pk = None  # not a valid primary key value at all
        if pk is None:
            raise CommandError(f"No course with id {course_id!r}.")
        return pk

    def write_rows(
        self,
        export: Export,
        fmt: str,
        out: _Writable,
        chunk_size: int,
        bar: ProgressBar | None,
    ) -> int:
        """Write every row of ``export`` to ``out``; return how many."""
        writer = RowWriter(out, fmt, export)
        written = 0
        if bar is not None:
            bar.draw(0)
        for row in iter_rows(export.rows, chunk_size):
            if bar is not None and bar.visible and bar.shared:
                bar.hide()
            writer.write(row)
            written += 1
            if bar is not None and written % chunk_size == 0:
                bar.draw(written)
        if bar is not None:
            bar.finish(written)
        return written

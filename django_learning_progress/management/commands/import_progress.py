"""``import_progress``: read what ``export_progress`` writes back into the progress tables.

Users are identified by their ``USERNAME_FIELD``, content by primary key, and
rows by their natural keys: (user, course) for enrollments, (user, task) for
task progress, (user, quiz, attempt number) for attempts and (attempt,
question) for responses. Row ids of the source database are ignored.

The command reads its files twice: first it validates every row (nothing is
written when one is invalid, unless ``--skip-invalid``), then it writes them
in batches, in one transaction. Memory holds one batch of rows plus the
natural keys seen so far, whatever the size of the files.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, models, router, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from django_learning_progress import signals, validation
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.content import get_content_adapter
from django_learning_progress.exports import FORMATS
from django_learning_progress.management.commands.export_progress import ProgressBar
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from django_learning_progress.validation import check_json

logger = logging.getLogger("django_learning_progress.signals")

#: The kinds of file, in the order they are written (each needs the ones before).
KINDS = ("progress", "tasks", "attempts", "responses")
DEFAULT_BATCH_SIZE = 1000
#: Errors listed in the message of a refused import (all are counted).
MAX_LISTED_ERRORS = 50

#: A column that tells the kind of a file, checked in this order.
KIND_MARKERS = (
    ("question_id", "responses"),
    ("task_id", "tasks"),
    ("attempt_number", "attempts"),
    ("enrolled_at", "progress"),
)

NOUNS = {
    "progress": "enrollments",
    "tasks": "task progress rows",
    "attempts": "attempts",
    "responses": "responses",
}


@dataclass(frozen=True)
class Column:
    """A column the import reads.

    ``role`` is ``"user"`` (a username), ``"course"``, ``"task"``, ``"quiz"``,
    ``"question"`` (a content primary key) or ``"field"`` (a value of the model
    field ``field``). Columns not ``required`` may be left out of a file: their
    field then takes its default (empty, ``0``, ``{}``).
    """

    name: str
    role: str
    field: str = ""
    required: bool = False


def _field(name: str, *, required: bool = False) -> Column:
    return Column(name, "field", name, required)


USERNAME = Column("username", "user", required=True)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "progress": (
        USERNAME,
        Column("course_id", "course", required=True),
        _field("status", required=True),
        _field("enrolled_at", required=True),
        _field("completed_at"),
        _field("dropped_at"),
        _field("settings"),
    ),
    "tasks": (
        USERNAME,
        Column("task_id", "task", required=True),
        Column("course_id", "course"),
        _field("status", required=True),
        _field("time_spent"),
        _field("started_at"),
        _field("completed_at"),
        _field("last_activity_at"),
    ),
    "attempts": (
        USERNAME,
        Column("quiz_id", "quiz", required=True),
        _field("attempt_number", required=True),
        _field("status", required=True),
        _field("score"),
        _field("max_score"),
        _field("percentage"),
        _field("passed"),
        _field("started_at", required=True),
        _field("submitted_at"),
        _field("completed_at"),
        _field("deadline_at"),
        _field("time_taken"),
    ),
    "responses": (
        USERNAME,
        Column("quiz_id", "quiz", required=True),
        Column("attempt_number", "number", required=True),
        Column("question_id", "question", required=True),
        _field("response"),
        _field("is_correct"),
        _field("points_awarded"),
        _field("time_spent"),
        _field("answered_at", required=True),
        _field("graded_at"),
        Column("graded_by", "user", "graded_by"),
    ),
}


def _models() -> dict[str, Any]:
    return {
        "progress": get_enrollment_model(),
        "tasks": get_task_progress_model(),
        "attempts": get_quiz_attempt_model(),
        "responses": get_quiz_response_model(),
    }


def model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The concrete field ``name`` (or attname, ``course_id``) of ``model``."""
    found = model._meta.get_field(name)
    assert isinstance(found, models.Field)
    return found


class RowError(Exception):
    """One invalid value: ``field`` is the column (or ``"(row)"``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# -- reading files -------------------------------------------------------------------------


@dataclass
class Source:
    """One input file: its path, format, kind and columns (from the header)."""

    path: str
    fmt: str
    kind: str
    columns: tuple[str, ...]


def detect_format(path: str, forced: str | None) -> str:
    """``csv`` or ``jsonl``: ``forced``, else from the extension, else from the first character."""
    if forced:
        return forced
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    with open(path, encoding="utf-8-sig") as stream:
        start = stream.read(1024).lstrip()
    return "jsonl" if start.startswith("{") else "csv"


def detect_kind(columns: tuple[str, ...]) -> str | None:
    """The kind of file whose columns are ``columns`` (see :data:`KIND_MARKERS`)."""
    for marker, kind in KIND_MARKERS:
        if marker in columns:
            return kind
    return None


@contextlib.contextmanager
def read_rows(path: str, fmt: str) -> Iterator[tuple[tuple[str, ...], Iterator[tuple[int, Any]]]]:
    """The columns of the file and its rows as ``(line, dict or RowError)``.

    CSV: the header gives the columns; a row's line is where it starts.
    JSON Lines: the keys of the first object give the columns.
    """
    with open(path, encoding="utf-8-sig", newline="") as stream:
        if fmt == "csv":
            reader = csv.reader(stream, strict=True)
            try:
                header = tuple(next(reader, ()))
            except csv.Error as exc:
                raise CommandError(f"{path}:1: (header): not valid CSV: {exc}") from None

            def csv_rows() -> Iterator[tuple[int, Any]]:
                while True:
                    line = reader.line_num + 1
                    try:
                        cells = next(reader)
                    except StopIteration:
                        return
                    except csv.Error as exc:
                        yield line, RowError("(row)", f"not valid CSV: {exc}")
                        return
                    if not cells:
                        continue
                    if len(cells) != len(header):
                        yield (
                            line,
                            RowError("(row)", f"{len(cells)} cells for {len(header)} columns"),
                        )
                        continue
                    yield line, dict(zip(header, cells, strict=True))

            yield header, csv_rows()
            return

        def jsonl_rows() -> Iterator[tuple[int, Any]]:
            for number, text in enumerate(stream, start=1):
                if not text.strip():
                    continue
                try:
                    record = json.loads(text)
                except ValueError as exc:
                    yield number, RowError("(row)", f"not valid JSON: {exc}")
                    continue
                if not isinstance(record, dict):
                    yield number, RowError("(row)", "must be a JSON object")
                    continue
                yield number, record

        rows = jsonl_rows()
        head: list[tuple[int, Any]] = []  # up to the first object, whose keys are the columns
        for item in rows:
            head.append(item)
            if isinstance(item[1], dict):
                break
        columns = tuple(head[-1][1]) if head and isinstance(head[-1][1], dict) else ()

        def all_rows() -> Iterator[tuple[int, Any]]:
            yield from head
            yield from rows

        yield columns, all_rows()


def batches(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` in lists of ``size``."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- values ---------------------------------------------------------------------------------

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_TRUE, _FALSE = ("true", "True", "1"), ("false", "False", "0")


def _empty(raw: Any, fmt: str) -> bool:
    return raw is None or (fmt == "csv" and raw == "")


def _messages(error: ValidationError) -> str:
    return " ".join(str(m) for m in error.messages)


def parse_value(model_field: models.Field[Any, Any], raw: Any, fmt: str) -> Any:
    """The value of ``model_field`` that the cell ``raw`` holds, or a ``ValueError``."""
    name = model_field.name
    if _empty(raw, fmt):
        if model_field.null:
            return None
        raise ValueError("must not be empty")
    if isinstance(model_field, models.JSONField):
        value = raw
        if fmt == "csv":
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise ValueError(f"not valid JSON: {exc}") from None
        try:
            check_json(name, value)
        except ValidationError as exc:
            raise ValueError(_messages(exc)) from None
        if name == "settings" and not isinstance(value, dict):
            raise ValueError("must be a JSON object")
        return value
    if isinstance(model_field, models.BooleanField):
        if isinstance(raw, bool):
            return raw
        if fmt == "csv" and raw in _TRUE:
            return True
        if fmt == "csv" and raw in _FALSE:
            return False
        raise ValueError(f"must be true or false, not {raw!r}")
    if isinstance(model_field, models.DateTimeField):
        if not isinstance(raw, str):
            raise ValueError("must be an ISO 8601 date and time")
        try:
            value = parse_datetime(raw.strip())
        except ValueError as exc:
            raise ValueError(f"not a valid date and time: {exc}") from None
        if value is None:
            raise ValueError(f"not an ISO 8601 date and time: {raw!r}")
        if settings.USE_TZ and timezone.is_naive(value):
            raise ValueError(f"must include a UTC offset: {raw!r}")
        return value
    if isinstance(model_field, models.DecimalField):
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise ValueError("must be a decimal number")
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {raw!r}") from None
        if not value.is_finite():
            raise ValueError(f"not a finite number: {raw!r}")
    elif isinstance(model_field, models.IntegerField):
        if isinstance(raw, bool) or not (
            isinstance(raw, int) or (isinstance(raw, str) and _INTEGER.match(raw.strip()))
        ):
            raise ValueError(f"must be a whole number, not {raw!r}")
        value = int(raw)
    elif isinstance(model_field, models.CharField):
        if not isinstance(raw, str):
            raise ValueError("must be a string")
        value = raw
    else:  # pragma: no cover - every imported field is one of the above
        value = model_field.to_python(raw)
    if model_field.choices and value not in {c for c, _label in model_field.flatchoices}:
        allowed = ", ".join(str(c) for c, _label in model_field.flatchoices)
        raise ValueError(f"{value!r} is not one of {allowed}")
    try:
        model_field.run_validators(value)
    except ValidationError as exc:
        raise ValueError(_messages(exc)) from None
    return value


def parse_pk(model: type[models.Model], raw: Any, fmt: str) -> Any:
    """The primary key value ``raw`` names (not checked to exist), or a ``ValueError``."""
    if _empty(raw, fmt) or isinstance(raw, bool):
        raise ValueError("must not be empty" if _empty(raw, fmt) else f"not an id: {raw!r}")
    try:
        value = model._meta.pk.to_python(raw)
    except (ValidationError, ValueError, TypeError):
        raise ValueError(f"not an id: {raw!r}") from None
    if isinstance(value, int) and not (
        isinstance(raw, int) or (isinstance(raw, str) and _INTEGER.match(raw.strip()))
    ):
        raise ValueError(f"not an id: {raw!r}")
    if isinstance(value, int):
        try:
            validation.parse_pk(model, value)  # within the column's range
        except ValueError:
            raise ValueError(f"not an id: {raw!r} (out of range)") from None
    return value


# -- cleaning rows --------------------------------------------------------------------------


@dataclass
class Record:
    """One valid row: where it came from, its natural key and the values to store."""

    path: str
    line: int
    key: tuple[Any, ...]
    values: dict[str, Any]
    user_id: Any = None
    course_id: Any = None


@dataclass
class Problem:
    """An invalid row, as ``FILE:LINE: field: message``."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


class Cleaner:
    """Turns a batch of raw rows of one kind into :class:`Record` objects and :class:`Problem` objects.

    Per batch it runs a fixed number of queries (users, content), whatever
    the number of rows.
    """

    def __init__(self, kind: str, db: str) -> None:
        self.kind = kind
        self.db = db
        self.model = _models()[kind]
        self.attempt_model = get_quiz_attempt_model()
        self.adapter = get_content_adapter()
        self.content = {
            "course": self.adapter.course_model,
            "task": self.adapter.task_model,
            "quiz": self.adapter.quiz_model,
            "question": self.adapter.question_model,
        }

    def clean(
        self, source: Source, batch: list[tuple[int, Any]]
    ) -> tuple[list[Record], list[Problem]]:
        problems: list[Problem] = []
        parsed: list[tuple[int, dict[str, Any]]] = []
        columns = [c for c in COLUMNS[self.kind] if c.name in source.columns]
        absent = [c for c in COLUMNS[self.kind] if c.name not in source.columns]
        for line, raw in batch:
            if isinstance(raw, RowError):
                problems.append(Problem(source.path, line, raw.field, raw.message))
                continue
            row: dict[str, Any] = {}
            bad = False
            for column in columns:
                try:
                    row[column.name] = self.parse(column, raw.get(column.name), source.fmt)
                except ValueError as exc:
                    problems.append(Problem(source.path, line, column.name, str(exc)))
                    bad = True
            for column in absent:
                if column.role == "field":
                    row[column.name] = self.model._meta.get_field(column.field).get_default()
                else:
                    row[column.name] = None
            if not bad:
                parsed.append((line, row))
        lookups = self.lookups([row for _line, row in parsed])
        records = []
        for line, row in parsed:
            try:
                records.append(self.record(source.path, line, row, lookups))
            except RowError as exc:
                problems.append(Problem(source.path, line, exc.field, exc.message))
        return records, problems

    def parse(self, column: Column, raw: Any, fmt: str) -> Any:
        if column.role == "user":
            if _empty(raw, fmt):
                if column.required:
                    raise ValueError("must not be empty")
                return None
            if not isinstance(raw, str):
                raise ValueError("must be a string")
            return raw
        if column.role in self.content:
            return parse_pk(self.content[column.role], raw, fmt)
        if column.role == "number":
            return parse_value(model_field(self.attempt_model, "attempt_number"), raw, fmt)
        return parse_value(model_field(self.model, column.field), raw, fmt)

    def lookups(self, rows: list[dict[str, Any]]) -> dict[str, dict[Any, Any]]:
        """Users by username and content by id, one query each, for ``rows``."""
        result: dict[str, dict[Any, Any]] = {}
        user_model = get_user_model()
        names = {
            row[c.name]
            for row in rows
            for c in COLUMNS[self.kind]
            if c.role == "user" and row[c.name] is not None
        }
        if names:
            name_field = user_model.USERNAME_FIELD
            result["user"] = dict(
                user_model._default_manager.using(self.db)
                .filter(**{f"{name_field}__in": names})
                .values_list(name_field, "pk")
            )
        parents = {
            "course": None,
            "task": self.adapter.task_course_lookup,
            "quiz": self.adapter.quiz_course_lookup,
            "question": self.adapter.question_quiz_lookup,
        }
        for role, model in self.content.items():
            ids = {
                row[c.name]
                for row in rows
                for c in COLUMNS[self.kind]
                if c.role == role and row[c.name] is not None
            }
            if not ids:
                continue
            queryset = model._default_manager.using(self.db).filter(pk__in=ids)
            parent = parents[role]
            if parent is None:
                result[role] = {pk: pk for pk in queryset.values_list("pk", flat=True)}
            else:
                result[role] = dict(queryset.values_list("pk", parent))
        return result

    def record(
        self, path: str, line: int, row: dict[str, Any], lookups: dict[str, dict[Any, Any]]
    ) -> Record:
        users = lookups.get("user", {})

        def user(column: str) -> Any:
            name = row[column]
            if name is None:
                return None
            if name not in users:
                raise RowError(column, f"no user {name!r}")
            return users[name]

        def content(column: str, role: str) -> Any:
            pk = row[column]
            if pk not in lookups.get(role, {}):
                raise RowError(column, f"no {role} with id {pk!r}")
            return lookups[role][pk]

        user_id = user("username")
        values = {c.field: row[c.name] for c in COLUMNS[self.kind] if c.role == "field" and c.field}
        kind = self.kind
        if kind == "progress":
            course_id = content("course_id", "course")
            check_enrollment_dates(values)
            return Record(path, line, (user_id, row["course_id"]), values, user_id, course_id)
        if kind == "tasks":
            course_id = content("task_id", "task")
            if row["course_id"] is not None:
                content("course_id", "course")
                if row["course_id"] != course_id:
                    raise RowError(
                        "course_id", f"task {row['task_id']!r} belongs to course {course_id!r}"
                    )
            check_task_dates(values)
            values["course_id"] = course_id
            return Record(path, line, (user_id, row["task_id"]), values, user_id, course_id)
        if kind == "attempts":
            course_id = content("quiz_id", "quiz")
            check_attempt(values)
            values["course_id"] = course_id
            key = (user_id, row["quiz_id"], values["attempt_number"])
            return Record(path, line, key, values, user_id, course_id)
        content("quiz_id", "quiz")
        quiz_id = content("question_id", "question")
        if quiz_id != row["quiz_id"]:
            raise RowError(
                "question_id",
                f"question {row['question_id']!r} belongs to quiz {quiz_id!r}, "
                f"not {row['quiz_id']!r}",
            )
        values["graded_by_id"] = user("graded_by")
        response_key = (user_id, row["quiz_id"], row["attempt_number"], row["question_id"])
        return Record(path, line, response_key, values, user_id)


def check_enrollment_dates(values: dict[str, Any]) -> None:
    """The dates an enrollment's status implies, as the services set them."""
    status = values["status"]
    if status == EnrollmentStatus.ACTIVE:
        for name in ("completed_at", "dropped_at"):
            if values.get(name) is not None:
                raise RowError(name, "must be empty for an active enrollment")
    elif status == EnrollmentStatus.COMPLETED:
        if values.get("completed_at") is None:
            raise RowError("completed_at", "required for a completed enrollment")
        if values.get("dropped_at") is not None:
            raise RowError("dropped_at", "must be empty for a completed enrollment")
    elif values.get("dropped_at") is None:
        raise RowError("dropped_at", "required for a dropped enrollment")


def check_task_dates(values: dict[str, Any]) -> None:
    """The dates a task's status implies, as the services set them."""
    status = values["status"]
    if status == TaskStatus.NOT_STARTED:
        for name in ("started_at", "completed_at"):
            if values.get(name) is not None:
                raise RowError(name, "must be empty for a task not started")
        return
    if values.get("started_at") is None:
        raise RowError("started_at", f"required for a task {status}")
    if status == TaskStatus.COMPLETED and values.get("completed_at") is None:
        raise RowError("completed_at", "required for a completed task")
    if status == TaskStatus.IN_PROGRESS and values.get("completed_at") is not None:
        raise RowError("completed_at", "must be empty for a task in progress")


def check_attempt(values: dict[str, Any]) -> None:
    """The constraints of the attempt model and what its status implies."""
    if values["attempt_number"] < 1:
        raise RowError("attempt_number", "must be at least 1")
    percentage = values.get("percentage")
    if percentage is not None and not Decimal(0) <= percentage <= Decimal(100):
        raise RowError("percentage", "must be from 0 to 100")
    status = values["status"]
    if status == AttemptStatus.IN_PROGRESS:
        for name in ("submitted_at", "completed_at"):
            if values.get(name) is not None:
                raise RowError(name, "must be empty for an attempt in progress")
    elif status == AttemptStatus.COMPLETED:
        for name in ("completed_at", "score", "percentage", "passed"):
            if values.get(name) is None:
                raise RowError(name, "required for a completed attempt")


# -- checks across rows ---------------------------------------------------------------------


@dataclass
class Seen:
    """Natural keys of the valid rows read so far, for the checks across rows and files."""

    keys: dict[str, dict[tuple[Any, ...], str]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    #: (user, quiz) of each attempt in progress: (path, line, attempt number).
    open_attempts: dict[tuple[Any, Any], tuple[str, int, Any]] = field(default_factory=dict)


def check_across(
    kind: str, records: list[Record], seen: Seen, db: str
) -> tuple[list[Record], list[Problem]]:
    """Duplicates, and rows that need another row (enrollment, attempt) that is missing."""
    problems: list[Problem] = []
    kept: list[Record] = []
    needs: dict[int, tuple[Any, ...]] = {}
    for record in records:
        where = f"{record.path}:{record.line}"
        first = seen.keys[kind].get(record.key)
        if first is not None:
            problems.append(
                Problem(record.path, record.line, "(row)", f"same {_key_text(kind)} as {first}")
            )
            continue
        if kind == "attempts" and record.values["status"] == AttemptStatus.IN_PROGRESS:
            pair = record.key[:2]
            other = seen.open_attempts.get(pair)
            if other is not None:
                problems.append(
                    Problem(
                        record.path,
                        record.line,
                        "status",
                        f"a second attempt in progress at this quiz (first: {other[0]}:{other[1]})",
                    )
                )
                continue
            seen.open_attempts[pair] = (record.path, record.line, record.key[2])
        seen.keys[kind][record.key] = where
        kept.append(record)
        if kind in ("tasks", "attempts"):
            needs[id(record)] = (record.user_id, record.course_id)
        elif kind == "responses":
            needs[id(record)] = record.key[:3]
    if not needs:
        return kept, problems
    needed = set(needs.values())
    if kind == "responses":
        have = set(seen.keys["attempts"]) & needed
        missing = needed - have
        if missing:
            have |= set(
                get_quiz_attempt_model()
                ._default_manager.using(db)
                .filter(user_id__in={k[0] for k in missing}, quiz_id__in={k[1] for k in missing})
                .values_list("user_id", "quiz_id", "attempt_number")
            )
    else:
        have = set(seen.keys["progress"]) & needed
        missing = needed - have
        if missing:
            have |= set(
                get_enrollment_model()
                ._default_manager.using(db)
                .filter(user_id__in={k[0] for k in missing}, course_id__in={k[1] for k in missing})
                .values_list("user_id", "course_id")
            )
    result = []
    for record in kept:
        if needs[id(record)] in have:
            result.append(record)
            continue
        seen.keys[kind].pop(record.key, None)
        if kind == "responses":
            message = "no such attempt in the files or the database"
            problems.append(Problem(record.path, record.line, "attempt_number", message))
        else:
            message = "not enrolled in the course: import a progress row for the enrollment"
            problems.append(Problem(record.path, record.line, "username", message))
    return result, problems


def _key_text(kind: str) -> str:
    return {
        "progress": "username and course_id",
        "tasks": "username and task_id",
        "attempts": "username, quiz_id and attempt_number",
        "responses": "username, quiz_id, attempt_number and question_id",
    }[kind]


def check_open_attempts_in_database(seen: Seen, db: str) -> list[Problem]:
    """An attempt in progress in the files while another one is open in the database."""
    problems = []
    pairs = list(seen.open_attempts.items())  # (user, quiz): (path, line, number)
    model = get_quiz_attempt_model()
    for chunk in batches(iter(pairs), DEFAULT_BATCH_SIZE):
        wanted = dict(chunk)
        rows = (
            model._default_manager.using(db)
            .filter(
                status=AttemptStatus.IN_PROGRESS,
                user_id__in={pair[0] for pair in wanted},
                quiz_id__in={pair[1] for pair in wanted},
            )
            .values_list("user_id", "quiz_id", "attempt_number")
        )
        for user_id, quiz_id, number in rows:
            pair = (user_id, quiz_id)
            if pair not in wanted or wanted[pair][2] == number:
                continue
            if (user_id, quiz_id, number) in seen.keys["attempts"]:
                continue  # the files give that attempt another status
            path, line, own = wanted[pair]
            seen.keys["attempts"].pop((user_id, quiz_id, own), None)  # its responses fail too
            problems.append(
                Problem(
                    path,
                    line,
                    "status",
                    f"attempt {number} of this user at this quiz is in progress in the database",
                )
            )
    return problems


# -- writing --------------------------------------------------------------------------------


def _same(model_field: models.Field[Any, Any], old: Any, new: Any) -> bool:
    if isinstance(model_field, models.JSONField):
        return bool(json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True))
    return bool(old == new)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


Pending = list[tuple[Signal, type[models.Model], dict[str, Any]]]


class Writer:
    """Upserts batches of records by natural key: compare first, write only what changed."""

    def __init__(self, kind: str, db: str, batch_size: int, send_signals: bool) -> None:
        self.kind = kind
        self.db = db
        self.batch_size = batch_size
        self.send_signals = send_signals
        self.model = _models()[kind]
        self.objects = self.model._default_manager.db_manager(db)
        self.counts = Counts()
        self.pending: Pending = []

    def existing(self, records: list[Record]) -> dict[tuple[Any, ...], Any]:
        kind = self.kind
        if kind == "progress":
            rows = self.objects.filter(
                user_id__in={r.key[0] for r in records}, course_id__in={r.key[1] for r in records}
            )
            return {(o.user_id, o.course_id): o for o in rows}
        if kind == "tasks":
            rows = self.objects.filter(
                user_id__in={r.key[0] for r in records}, task_id__in={r.key[1] for r in records}
            )
            return {(o.user_id, o.task_id): o for o in rows}
        if kind == "attempts":
            rows = self.objects.filter(
                user_id__in={r.key[0] for r in records}, quiz_id__in={r.key[1] for r in records}
            )
            return {(o.user_id, o.quiz_id, o.attempt_number): o for o in rows}
        rows = self.objects.filter(
            attempt_id__in={r.values["attempt_id"] for r in records},
            question_id__in={r.key[3] for r in records},
        )
        return {(o.attempt_id, o.question_id): o for o in rows}

    def key_values(self, record: Record) -> dict[str, Any]:
        """The fields of a new row that its natural key gives."""
        if self.kind == "responses":
            return {"question_id": record.key[3]}
        other = {"progress": "course_id", "tasks": "task_id", "attempts": "quiz_id"}[self.kind]
        return {"user_id": record.user_id, other: record.key[1]}

    def attach_attempts(self, records: list[Record]) -> None:
        """Set ``attempt_id`` on response records, from (user, quiz, attempt number)."""
        attempts = (
            get_quiz_attempt_model()
            ._default_manager.using(self.db)
            .filter(
                user_id__in={r.key[0] for r in records}, quiz_id__in={r.key[1] for r in records}
            )
            .values_list("user_id", "quiz_id", "attempt_number", "pk")
        )
        ids = {(u, q, n): pk for u, q, n, pk in attempts}
        for record in records:
            record.values["attempt_id"] = ids[record.key[:3]]

    def write(self, records: list[Record]) -> list[Record]:
        """Write ``records``; return the ones put off (see :meth:`put_off`)."""
        if not records:
            return []
        if self.kind == "responses":
            self.attach_attempts(records)
        existing = self.existing(records)
        records, later = self.put_off(records, existing)
        if not records:
            return later
        names = list(records[0].values)
        fields = {name: model_field(self.model, name) for name in names}
        changed, created, events = [], [], []
        now = timezone.now()
        for record in records:
            key = (
                (record.values["attempt_id"], record.key[3])
                if self.kind == "responses"
                else record.key
            )
            obj = existing.get(key)
            if obj is None:
                obj = self.model(**record.values, **self.key_values(record))
                created.append(obj)
                events.append((obj, None))
                continue
            before = copy.copy(obj)
            differs = False
            for name, stored in fields.items():
                new = record.values[name]
                if not _same(stored, getattr(obj, stored.attname), new):
                    setattr(obj, stored.attname, new)
                    differs = True
            if differs:
                if self.kind == "progress":
                    obj.updated_at = now
                changed.append(obj)
                events.append((obj, before))
            else:
                self.counts.unchanged += 1
        if changed:
            update = [f.name for f in fields.values()]
            if self.kind == "progress":
                update.append("updated_at")
            self.objects.bulk_update(changed, update, batch_size=self.batch_size)
            self.counts.updated += len(changed)
        if created:
            self.objects.bulk_create(created, batch_size=self.batch_size)
            self.counts.created += len(created)
        if self.send_signals:
            self.collect_signals(events)
        return later

    def put_off(
        self, records: list[Record], existing: dict[Any, Any]
    ) -> tuple[list[Record], list[Record]]:
        """``(now, later)``: a new attempt in progress waits while the database holds
        another open attempt at the quiz, which the files close (validation made
        sure), so that one open attempt per learner and quiz holds at every write."""
        if self.kind != "attempts":
            return records, []
        open_now = {
            (o.user_id, o.quiz_id)
            for o in existing.values()
            if o.status == AttemptStatus.IN_PROGRESS
        }
        now: list[Record] = []
        later: list[Record] = []
        for record in records:
            waits = (
                record.values.get("status") == AttemptStatus.IN_PROGRESS
                and record.key not in existing
                and record.key[:2] in open_now
            )
            (later if waits else now).append(record)
        return now, later

    def collect_signals(self, events: list[tuple[Any, Any]]) -> None:
        """The signals the services send for these changes (``before`` is ``None`` when new)."""
        if self.kind == "responses":
            return  # the services send none for responses
        if any(obj.pk is None for obj, _before in events):
            self.reload_pks([obj for obj, _before in events])
        users = (
            get_user_model()
            ._default_manager.using(self.db)
            .in_bulk({obj.user_id for obj, _before in events})
        )
        sender = self.model
        for obj, before in events:
            user = users[obj.user_id]
            for signal, kwargs in signals_for(self.kind, obj, before):
                instance = copy.copy(obj)
                arguments = {**kwargs, "user": user}
                for name in ("enrollment", "progress", "attempt"):
                    if name in arguments:
                        arguments[name] = instance
                self.pending.append((signal, sender, arguments))

    def reload_pks(self, objs: list[Any]) -> None:
        """Primary keys of rows created by a database that does not return them."""
        fresh = self.existing(
            [Record("", 0, _natural_key(self.kind, obj), {}, obj.user_id) for obj in objs]
        )
        for obj in objs:
            if obj.pk is None:
                obj.pk = fresh[_natural_key(self.kind, obj)].pk


def _natural_key(kind: str, obj: Any) -> tuple[Any, ...]:
    if kind == "progress":
        return (obj.user_id, obj.course_id)
    if kind == "tasks":
        return (obj.user_id, obj.task_id)
    return (obj.user_id, obj.quiz_id, obj.attempt_number)


def signals_for(kind: str, obj: Any, before: Any) -> list[tuple[Signal, dict[str, Any]]]:
    """What the services would have sent on the way from ``before`` (``None``: new) to ``obj``."""
    sent: list[tuple[Signal, dict[str, Any]]] = []
    if kind == "progress":
        previous = EnrollmentStatus.ACTIVE if before is None else before.status
        if before is None:
            sent.append((signals.enrollment_created, {"enrollment": obj}))
        if obj.status != previous:
            sent.append(
                (
                    signals.enrollment_status_changed,
                    {"enrollment": obj, "previous_status": previous, "status": obj.status},
                )
            )
            if obj.status == EnrollmentStatus.COMPLETED:
                sent.append((signals.course_completed, {"enrollment": obj}))
    elif kind == "tasks":
        previous = TaskStatus.NOT_STARTED if before is None else before.status
        if previous == TaskStatus.NOT_STARTED and obj.status != TaskStatus.NOT_STARTED:
            sent.append((signals.task_started, {"progress": obj}))
        if previous != TaskStatus.COMPLETED and obj.status == TaskStatus.COMPLETED:
            sent.append((signals.task_completed, {"progress": obj}))
    elif kind == "attempts":
        previous = None if before is None else before.status
        if before is None:
            sent.append((signals.quiz_attempt_started, {"attempt": obj}))
        closed = (AttemptStatus.SUBMITTED, AttemptStatus.COMPLETED)
        if obj.status in closed and previous not in closed:
            sent.append((signals.quiz_attempt_submitted, {"attempt": obj}))
        if obj.status == AttemptStatus.COMPLETED and (
            previous != AttemptStatus.COMPLETED
            or (before.score, before.percentage, before.passed)
            != (obj.score, obj.percentage, obj.passed)
        ):
            sent.append((signals.quiz_attempt_graded, {"attempt": obj}))
    return sent


def send_pending(pending: Pending) -> None:
    """Send the collected signals robustly, logging receivers that raise (as the services do)."""
    for signal, sender, kwargs in pending:
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                logger.error(
                    "A receiver of a learning progress signal raised: %r",
                    receiver,
                    exc_info=(type(result), result, result.__traceback__),
                )


# -- command --------------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Import learner progress, task progress, quiz attempts and quiz responses from files "
        "written by export_progress (CSV or JSON Lines). Every row is validated first; "
        "nothing is written when one is invalid, unless --skip-invalid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="Files to import.")
        parser.add_argument(
            "--what",
            choices=KINDS,
            help="The kind of every file (default: told by each file's columns).",
        )
        parser.add_argument(
            "--format",
            dest="format",
            choices=FORMATS,
            help="The format of every file (default: from the extension, .csv or .jsonl).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            metavar="N",
            help=f"Rows validated and written at a time (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid rows and report the invalid ones, instead of importing nothing.",
        )
        parser.add_argument(
            "--signals",
            action="store_true",
            help="Send the signals the services would send for the changes (after commit).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size, what, fmt = options["batch_size"], options["what"], options["format"]
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise CommandError(
                f"--batch-size must be a whole number of at least 1, got {batch_size!r}."
            )
        if what is not None and what not in KINDS:
            raise CommandError(f"--what must be one of {', '.join(KINDS)}, got {what!r}.")
        if fmt is not None and fmt not in FORMATS:
            raise CommandError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
        db = router.db_for_write(get_enrollment_model())
        sources = self.sources(options["files"], what, fmt)

        problems, total = self.validate(sources, db, batch_size)
        if problems and not options["skip_invalid"]:
            listed = "\n".join(str(p) for p in problems[:MAX_LISTED_ERRORS])
            more = len(problems) - MAX_LISTED_ERRORS
            tail = f"\n... and {more} more." if more > 0 else ""
            raise CommandError(
                f"Nothing imported: {len(problems)} invalid "
                f"{'row' if len(problems) == 1 else 'rows'}.\n{listed}{tail}"
            )
        invalid = {(p.path, p.line) for p in problems}
        for problem in problems:
            self.stderr.write(f"Skipped {problem}")

        bar = ProgressBar(self.stderr, self.stdout, total, shared=False)
        show_bar = self.stderr.isatty()
        writers = {kind: Writer(kind, db, batch_size, options["signals"]) for kind in KINDS}
        try:
            with transaction.atomic(using=db):
                done = 0
                if show_bar:
                    bar.draw(0)
                for kind in KINDS:
                    cleaner = Cleaner(kind, db)
                    # New attempts in progress where the database has another open one
                    # (that these files close) are written after every other attempt.
                    open_attempts: list[Record] = []
                    for source in (s for s in sources if s.kind == kind):
                        with read_rows(source.path, source.fmt) as (_columns, rows):
                            for batch in batches(rows, batch_size):
                                records, again = cleaner.clean(source, batch)
                                if any((p.path, p.line) not in invalid for p in again):
                                    raise CommandError(
                                        "Nothing imported: the database changed during the "
                                        f"import ({again[0]}). Run the command again."
                                    )
                                records = [r for r in records if (r.path, r.line) not in invalid]
                                open_attempts += writers[kind].write(records)
                                done += len(records)
                                if show_bar:
                                    bar.draw(done)
                    for chunk in batches(iter(open_attempts), batch_size):
                        writers[kind].write(chunk)
                        done += len(chunk)
                pending = [event for kind in KINDS for event in writers[kind].pending]
                if pending:
                    transaction.on_commit(lambda: send_pending(pending), using=db)
        except DatabaseError as exc:
            raise CommandError(f"Nothing imported: the database refused a write: {exc}") from exc
        if show_bar:
            bar.finish(done)
        for kind in KINDS:
            if any(s.kind == kind for s in sources):
                counts = writers[kind].counts
                self.stdout.write(
                    f"{NOUNS[kind].capitalize()}: {counts.created} created, "
                    f"{counts.updated} updated, {counts.unchanged} unchanged."
                )
        if problems:
            self.stdout.write(
                f"Skipped {len(problems)} invalid {'row' if len(problems) == 1 else 'rows'}."
            )

    def sources(self, paths: list[str], what: str | None, fmt: str | None) -> list[Source]:
        """Each file with its format and kind; a :class:`CommandError` for one that cannot be read."""
        sources = []
        for path in paths:
            try:
                file_format = detect_format(path, fmt)
                with read_rows(path, file_format) as (columns, _rows):
                    pass
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None
            except UnicodeDecodeError as exc:
                raise CommandError(f"Cannot read {path}: not UTF-8 ({exc.reason}).") from None
            if not columns and not what:
                continue  # an empty file: nothing to import
            kind = what or detect_kind(columns)
            if kind is None:
                raise CommandError(
                    f"{path}:1: (header): cannot tell what the file holds; "
                    "expected the columns of an export_progress file, or give --what."
                )
            if columns:
                missing = [c.name for c in COLUMNS[kind] if c.required and c.name not in columns]
                if missing:
                    raise CommandError(
                        f"{path}:1: (header): missing {', '.join(missing)} for --what {kind}."
                    )
            sources.append(Source(path, file_format, kind, columns))
        return sources

    def validate(
        self, sources: list[Source], db: str, batch_size: int
    ) -> tuple[list[Problem], int]:
        """Every problem in the files, and the number of valid rows."""
        problems: list[Problem] = []
        seen = Seen()
        valid = 0
        for kind in KINDS:
            cleaner = Cleaner(kind, db)
            for source in (s for s in sources if s.kind == kind):
                try:
                    with read_rows(source.path, source.fmt) as (_columns, rows):
                        for batch in batches(rows, batch_size):
                            records, found = cleaner.clean(source, batch)
                            problems.extend(found)
                            records, found = check_across(kind, records, seen, db)
                            problems.extend(found)
                            valid += len(records)
                except UnicodeDecodeError as exc:
                    raise CommandError(
                        f"Cannot read {source.path}: not UTF-8 ({exc.reason})."
                    ) from None
            if kind == "attempts":
                found = check_open_attempts_in_database(seen, db)
                problems.extend(found)
                valid -= len(found)
        problems.sort(key=lambda p: (p.path, p.line))
        return problems, valid

"""The ``export_progress`` management command."""

from __future__ import annotations

import csv
import io
import json
import os
import tracemalloc
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_learning_progress import exports, helpers, services
from django_learning_progress.choices import AttemptStatus
from django_learning_progress.management.commands import export_progress
from django_learning_progress.models import (
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.conftest import CourseTree, build_course
from tests.testapp.models import Question, Quiz

pytestmark = pytest.mark.django_db

COLUMNS = {
    "progress": [
        "enrollment_id",
        "user_id",
        "username",
        "status",
        "enrolled_at",
        "completed_at",
        "percentage",
        "tasks_completed",
        "tasks_total",
        "time_spent",
        "last_activity_at",
        "course_id",
        "dropped_at",
        "settings",
    ],
    "tasks": [
        "task_progress_id",
        "user_id",
        "username",
        "task_id",
        "course_id",
        "status",
        "time_spent",
        "started_at",
        "completed_at",
        "last_activity_at",
    ],
    "attempts": [
        "attempt_id",
        "user_id",
        "username",
        "quiz_id",
        "attempt_number",
        "status",
        "score",
        "max_score",
        "percentage",
        "passed",
        "started_at",
        "submitted_at",
        "completed_at",
        "deadline_at",
        "time_taken",
    ],
    "responses": [
        "response_id",
        "attempt_id",
        "user_id",
        "username",
        "quiz_id",
        "question_id",
        "response",
        "is_correct",
        "points_awarded",
        "time_spent",
        "answered_at",
        "graded_at",
        "attempt_number",
        "graded_by",
    ],
}
TRICKY_ANSWER = 'wrong, "quoted"\nsecond line, é ✓'


@dataclass
class Data:
    tree: CourseTree
    learners: list[Any]

    @property
    def course_id(self) -> str:
        return str(self.tree.course.pk)


@pytest.fixture
def data(make_user: Any) -> Data:
    """Three learners in a three-lesson course, with attempts, plus another course."""
    tree = build_course(modules=1, lessons_per_module=3)
    q0, q1, q2 = tree.questions
    ada = make_user(username="ada")
    bob = make_user(username='bob, "the builder"')
    cy = make_user(username="cy")

    services.enroll(ada, tree.course)
    services.complete_task(ada, tree.lessons[0])
    services.add_time_spent(ada, tree.lessons[1], 45)
    attempt = services.start_attempt(ada, tree.quizzes[0])
    services.answer_question(ada, attempt, q0, "a0", time_spent=5)
    services.answer_question(ada, attempt, q1, TRICKY_ANSWER, time_spent=7)
    services.submit_attempt(ada, attempt)

    services.enroll(bob, tree.course)
    attempt = services.start_attempt(bob, tree.quizzes[0])
    services.answer_question(bob, attempt, q2, {"picked": [1, 2], "note": None})

    services.drop_enrollment(services.enroll(cy, tree.course))

    other = build_course("Other")  # noise that must stay out of the export
    services.enroll(ada, other.course)
    services.complete_task(ada, other.lessons[0])
    attempt = services.start_attempt(ada, other.quizzes[0])
    services.answer_question(ada, attempt, other.questions[0], "a0")
    return Data(tree=tree, learners=[ada, bob, cy])


def run(*args: str, stdout: Any = None, stderr: Any = None, **options: Any) -> tuple[str, str]:
    """Run the command; return what it wrote to stdout and to stderr."""
    out = io.StringIO() if stdout is None else stdout
    err = io.StringIO() if stderr is None else stderr
    call_command("export_progress", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """A stream that says it is a terminal."""
    stream = io.StringIO()
    monkeypatch.setattr(stream, "isatty", lambda: True)
    return stream


# -- expected rows, built from the helpers and the models -------------------------------


def expected(what: str, course: Any) -> list[dict[str, Any]]:
    if what == "progress":
        return [
            {
                "enrollment_id": e.pk,
                "user_id": e.user_id,
                "username": e.user.get_username(),
                "status": e.status,
                "enrolled_at": e.enrolled_at,
                "completed_at": e.completed_at,
                "percentage": helpers.calculate_progress_percentage(e.user, course),
                "tasks_completed": e.tasks_completed,
                "tasks_total": e.tasks_total,
                "time_spent": e.time_spent,
                "last_activity_at": e.last_activity_at,
                "course_id": e.course_id,
                "dropped_at": e.dropped_at,
                "settings": e.settings,
            }
            for e in helpers.course_roster(course)
        ]
    if what == "tasks":
        rows = get_task_progress_model()._default_manager.filter(course=course)
        return [
            {
                "task_progress_id": p.pk,
                "user_id": p.user_id,
                "username": p.user.get_username(),
                "task_id": p.task_id,
                "course_id": p.course_id,
                "status": p.status,
                "time_spent": p.time_spent,
                "started_at": p.started_at,
                "completed_at": p.completed_at,
                "last_activity_at": p.last_activity_at,
            }
            for p in rows.select_related("user").order_by("pk")
        ]
    if what == "attempts":
        attempts = (
            get_quiz_attempt_model()._default_manager.filter(course=course).select_related("user")
        )
        return [
            {
                "attempt_id": a.pk,
                "user_id": a.user_id,
                "username": a.user.get_username(),
                "quiz_id": a.quiz_id,
                "attempt_number": a.attempt_number,
                "status": a.status,
                "score": a.score,
                "max_score": a.max_score,
                "percentage": a.percentage,
                "passed": a.passed,
                "started_at": a.started_at,
                "submitted_at": a.submitted_at,
                "completed_at": a.completed_at,
                "deadline_at": a.deadline_at,
                "time_taken": a.time_taken,
            }
            for a in attempts.order_by("pk")
        ]
    responses = get_quiz_response_model()._default_manager.filter(attempt__course=course)
    return [
        {
            "response_id": r.pk,
            "attempt_id": r.attempt_id,
            "user_id": r.attempt.user_id,
            "username": r.attempt.user.get_username(),
            "quiz_id": r.attempt.quiz_id,
            "question_id": r.question_id,
            "response": r.response,
            "is_correct": r.is_correct,
            "points_awarded": r.points_awarded,
            "time_spent": r.time_spent,
            "answered_at": r.answered_at,
            "graded_at": r.graded_at,
            "attempt_number": r.attempt.attempt_number,
            "graded_by": r.graded_by.get_username() if r.graded_by else None,
        }
        for r in responses.select_related("attempt__user", "graded_by").order_by("pk")
    ]


def as_json(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def as_csv(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in ("response", "settings"):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(as_json(value))


def read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def read_jsonl(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


# -- content ----------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["progress", "tasks", "attempts", "responses"])
def test_csv(data: Data, what: str) -> None:
    out, err = run(data.course_id, what=what)
    header, rows = read_csv(out)
    assert header == COLUMNS[what]
    want = expected(what, data.tree.course)
    assert rows == [{c: as_csv(c, v) for c, v in row.items()} for row in want]
    assert err == ""


@pytest.mark.parametrize("what", ["progress", "tasks", "attempts", "responses"])
def test_jsonl(data: Data, what: str) -> None:
    out, err = run(data.course_id, what=what, format="jsonl")
    rows = read_jsonl(out)
    want = expected(what, data.tree.course)
    assert [list(row) for row in rows] == [COLUMNS[what]] * len(want)
    assert rows == [{c: as_json(v) for c, v in row.items()} for row in want]
    assert err == ""


def test_expected_rows_cover_the_interesting_cases(data: Data) -> None:
    """Guard the fixture: the comparisons above see every kind of value."""
    progress = expected("progress", data.tree.course)
    assert [r["status"] for r in progress] == ["active", "active", "dropped"]
    assert progress[0]["percentage"] == 33.33  # one of three lessons, rounded
    assert progress[0]["time_spent"] == 45 and progress[0]["last_activity_at"] is not None
    attempts = expected("attempts", data.tree.course)
    assert [a["status"] for a in attempts] == [AttemptStatus.COMPLETED, AttemptStatus.IN_PROGRESS]
    assert attempts[0]["score"] == Decimal("1.000") and attempts[0]["passed"] is True
    assert attempts[1]["score"] is None and attempts[1]["passed"] is None
    responses = expected("responses", data.tree.course)
    assert [r["response"] for r in responses] == [
        "a0",
        TRICKY_ANSWER,
        {"picked": [1, 2], "note": None},
    ]
    assert [r["is_correct"] for r in responses] == [True, False, None]


def test_value_encoding(data: Data) -> None:
    """Exact decimals as strings, ISO 8601 datetimes, JSON responses, empty or null for None."""
    out, _err = run(data.course_id, what="attempts")
    _header, (done, open_) = read_csv(out)
    assert done["score"] == "1.000" and done["max_score"] == "6.000"
    assert done["percentage"] == "16.67" and done["passed"] == "true"
    assert datetime.fromisoformat(done["started_at"]).utcoffset() is not None
    assert open_["score"] == "" and open_["passed"] == "" and open_["completed_at"] == ""

    out, _err = run(data.course_id, what="attempts", format="jsonl")
    done_json, open_json = read_jsonl(out)
    assert done_json["score"] == "1.000" and done_json["percentage"] == "16.67"
    assert done_json["passed"] is True and open_json["passed"] is None
    assert open_json["score"] is None and isinstance(done_json["time_taken"], int)

    out, _err = run(data.course_id, what="responses")
    _header, rows = read_csv(out)
    assert [json.loads(r["response"]) for r in rows] == [
        "a0",
        TRICKY_ANSWER,
        {"picked": [1, 2], "note": None},
    ]
    assert rows[0]["points_awarded"] == "1.000" and rows[2]["points_awarded"] == ""

    out, _err = run(data.course_id, what="progress", format="jsonl")
    ada = read_jsonl(out)[0]
    assert ada["percentage"] == 33.33 and ada["tasks_total"] == 3 and ada["completed_at"] is None


def test_empty_course_has_a_header_only(make_user: Any) -> None:
    tree = build_course("Empty")
    for what in COLUMNS:
        out, _err = run(str(tree.course.pk), what=what)
        assert read_csv(out) == (COLUMNS[what], [])
        out, _err = run(str(tree.course.pk), what=what, format="jsonl")
        assert out == ""


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_output_file(data: Data, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"responses.{fmt}"
    out, err = run(data.course_id, "--what=responses", f"--format={fmt}", f"--output={path}")
    assert out == "" and err == ""
    stdout_export, _err = run(data.course_id, what="responses", format=fmt)
    assert path.read_bytes().decode("utf-8") == stdout_export  # CRLF kept in CSV
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left


def test_output_file_replaces_an_existing_file_and_keeps_its_mode(
    data: Data, tmp_path: Path
) -> None:
    path = tmp_path / "attempts.csv"
    path.write_text("old contents that are longer than nothing\n" * 100)
    path.chmod(0o640)
    run(data.course_id, what="attempts", output=str(path))
    header, rows = read_csv(path.read_text(encoding="utf-8"))
    assert header == COLUMNS["attempts"] and len(rows) == 2
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(not os.path.exists(os.devnull), reason="needs a null device")
def test_output_to_a_device_is_written_in_place(data: Data) -> None:
    out, err = run(data.course_id, what="responses", output=os.devnull)
    assert out == "" and err == ""


def test_failed_export_leaves_an_existing_file_untouched(
    data: Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "responses.csv"
    path.write_text("previous export\n")
    real_write = export_progress.RowWriter.write
    calls = []

    def fail_on_second_row(self: export_progress.RowWriter, row: tuple[Any, ...]) -> None:
        calls.append(row)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        real_write(self, row)

    monkeypatch.setattr(export_progress.RowWriter, "write", fail_on_second_row)
    with pytest.raises(RuntimeError):
        run(data.course_id, what="responses", output=str(path))
    assert path.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["responses.csv"]


# -- bad arguments ------------------------------------------------------------------------


@pytest.mark.parametrize("course_id", ["999999", "abc", "", "1.5", "-1", "9" * 30])
def test_unknown_or_malformed_course(data: Data, tmp_path: Path, course_id: str) -> None:
    path = tmp_path / "out.csv"
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"No course with id"):
        run(course_id, what="progress", output=str(path), stdout=out, stderr=err)
    assert not path.exists() and out.getvalue() == "" and err.getvalue() == ""


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        ((), {"what": "grades"}, "invalid choice: 'grades'"),
        (("--what", "grades"), {}, "invalid choice: 'grades'"),
        ((), {}, "the following arguments are required: --what"),
        (("--what", "progress", "--format", "xlsx"), {}, "invalid choice: 'xlsx'"),
        ((), {"what": "progress", "format": "xlsx"}, "--format must be one of csv, jsonl"),
        (("--what", "progress", "--chunk-size", "0"), {}, "--chunk-size must be"),
        (("--what", "progress", "--chunk-size", "-5"), {}, "--chunk-size must be"),
        (("--what", "progress", "--chunk-size", "many"), {}, "invalid int value: 'many'"),
        ((), {"what": "progress", "chunk_size": 0}, "--chunk-size must be"),
        ((), {"what": "progress", "chunk_size": "10"}, "--chunk-size must be"),
    ],
)
def test_bad_arguments(
    data: Data, tmp_path: Path, args: tuple[str, ...], options: dict[str, Any], message: str
) -> None:
    path = tmp_path / "out.csv"
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run(data.course_id, *args, output=str(path), stdout=out, stderr=err, **options)
    assert not path.exists() and out.getvalue() == "" and err.getvalue() == ""


def test_output_directory_must_exist(data: Data, tmp_path: Path) -> None:
    path = tmp_path / "missing" / "out.csv"
    with pytest.raises(CommandError, match=r"directory .*missing does not exist"):
        run(data.course_id, what="progress", output=str(path))
    assert list(tmp_path.iterdir()) == []


def test_output_must_not_be_a_directory(data: Data, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="is a directory"):
        run(data.course_id, what="progress", output=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write anywhere"
)
def test_unwritable_output(data: Data, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "existing.csv").write_text("keep\n")
    (tmp_path / "readonly.csv").write_text("keep\n")
    (tmp_path / "readonly.csv").chmod(0o444)
    locked.chmod(0o555)
    try:
        for path in (locked / "new.csv", tmp_path / "readonly.csv"):
            with pytest.raises(CommandError, match="Cannot write"):
                run(data.course_id, what="progress", output=str(path))
        assert sorted(p.name for p in locked.iterdir()) == ["existing.csv"]
        assert (tmp_path / "readonly.csv").read_text() == "keep\n"
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize(
    ("existing", "message"), [(True, "permission denied"), (False, "is not writable")]
)
def test_unwritable_output_by_permissions(
    data: Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool, message: str
) -> None:
    """What the test above checks for real, for users (root) that may write anywhere."""
    path = tmp_path / "out.csv"
    if existing:
        path.write_text("keep\n")
    monkeypatch.setattr(export_progress.os, "access", lambda *args, **kwargs: False)
    with pytest.raises(CommandError, match=message):
        run(data.course_id, what="progress", output=str(path))
    assert [p.name for p in tmp_path.iterdir()] == (["out.csv"] if existing else [])


def test_unwritable_output_via_a_failing_open(
    data: Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the user's privileges, an OSError on open is a CommandError."""

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(export_progress.os, "open", refuse)
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"Cannot write .*: Permission denied"):
        run(data.course_id, what="progress", output=str(tmp_path / "out.csv"), stdout=out)
    assert list(tmp_path.iterdir()) == [] and out.getvalue() == ""


class ClosedPipe(io.StringIO):
    """A reader that goes away after the first write, like ``| head -1``."""

    def write(self, text: str) -> int:
        if self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_broken_pipe_is_a_command_error(data: Data) -> None:
    with pytest.raises(CommandError, match="stdout was closed"):
        run(data.course_id, what="responses", stdout=ClosedPipe())


# -- terminal output ------------------------------------------------------------------------


def count_queries(queries: CaptureQueriesContext) -> int:
    return sum(1 for q in queries.captured_queries if "COUNT(" in q["sql"].upper())


def test_nothing_on_stderr_and_no_count_when_not_a_terminal(data: Data, tmp_path: Path) -> None:
    with CaptureQueriesContext(connection) as queries:
        out, err = run(data.course_id, what="responses", output=str(tmp_path / "r.csv"))
    assert out == "" and err == ""
    assert count_queries(queries) == 0


def test_progress_bar_when_writing_a_file_from_a_terminal(
    data: Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.csv"
    with CaptureQueriesContext(connection) as queries:
        out, err = run(
            data.course_id,
            what="responses",
            output=str(path),
            chunk_size=1,
            stderr=terminal(monkeypatch),
        )
    assert count_queries(queries) == 1  # the total, for the bar
    assert out == ""
    assert err.startswith("\r[------------------------------] 0/3")
    assert "\r[##########--------------------] 1/3  33%" in err
    assert "\r[##############################] 3/3 100%\n" in err
    assert err.endswith(f"Exported 3 responses of course {data.course_id} to {path}.\n")
    assert len(read_csv(path.read_text(encoding="utf-8"))[1]) == 3


def test_progress_bar_beside_data_on_the_same_terminal(
    data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, _err = run(data.course_id, what="responses")
    stdout, stderr = terminal(monkeypatch), terminal(monkeypatch)
    out, err = run(data.course_id, what="responses", chunk_size=2, stdout=stdout, stderr=stderr)
    assert out == plain  # stdout holds the data and nothing else
    assert "] 2/3" in err and "\x1b[K" in err  # drawn, then erased before more rows
    assert err.endswith(f"Exported 3 responses of course {data.course_id} to stdout.\n")


def test_no_bar_when_stdout_is_piped_from_a_terminal(
    data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, _err = run(data.course_id, what="attempts")
    with CaptureQueriesContext(connection) as queries:
        out, err = run(data.course_id, what="attempts", stderr=terminal(monkeypatch))
    assert out == plain
    assert err == f"Exported 2 attempts of course {data.course_id} to stdout.\n"
    assert count_queries(queries) == 0


# -- scale ---------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["progress", "tasks", "attempts", "responses"])
def test_query_count_does_not_grow_with_rows(make_user: Any, what: str) -> None:
    tree = build_course(modules=1, lessons_per_module=2, questions=2)

    def add_learners(n: int) -> None:
        for _ in range(n):
            user = make_user()
            services.enroll(user, tree.course)
            services.complete_task(user, tree.lessons[0])
            attempt = services.start_attempt(user, tree.quizzes[0])
            services.answer_question(user, attempt, tree.questions[0], "a0")
            services.answer_question(user, attempt, tree.questions[1], "no")
            services.submit_attempt(user, attempt)

    def queries_for_export() -> int:
        with CaptureQueriesContext(connection) as queries:
            run(str(tree.course.pk), what=what, chunk_size=100)
        return len(queries)

    add_learners(1)
    few = queries_for_export()
    add_learners(9)
    assert queries_for_export() == few


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 100])
def test_keyset_pages_give_the_same_rows(
    data: Data, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    """The keyset pages (PostgreSQL without server-side cursors) lose and repeat nothing."""
    streamed = {what: run(data.course_id, what=what)[0] for what in COLUMNS}
    monkeypatch.setattr(exports, "reading_method", lambda alias: "pages")
    for what in COLUMNS:
        with CaptureQueriesContext(connection) as queries:
            paged, _err = run(data.course_id, what=what, chunk_size=chunk_size)
        assert paged == streamed[what]
        if what == "responses":  # one query per page; the last one is not full
            table = get_quiz_response_model()._meta.db_table
            pages = len(read_csv(paged)[1]) // chunk_size + 1
            assert sum(table in q["sql"] for q in queries.captured_queries) == pages


def add_responses(quiz: Quiz, questions: list[Question], user: Any, attempts: int) -> None:
    """``attempts`` completed attempts at ``quiz``, each answering every question (bulk)."""
    Attempt, Response = get_quiz_attempt_model(), get_quiz_response_model()
    now = timezone.now()
    first = Attempt._default_manager.filter(user=user, quiz=quiz).count() + 1
    numbers = range(first, first + attempts)
    Attempt._default_manager.bulk_create(
        Attempt(
            user=user,
            quiz=quiz,
            course_id=quiz.course_id,
            attempt_number=n,
            status=AttemptStatus.COMPLETED,
            score=Decimal("75.500"),
            max_score=Decimal("100.000"),
            percentage=Decimal("75.50"),
            passed=True,
            started_at=now,
            submitted_at=now,
            completed_at=now,
            time_taken=60,
        )
        for n in numbers
    )
    ids = Attempt._default_manager.filter(
        user=user, quiz=quiz, attempt_number__in=numbers
    ).values_list("pk", flat=True)
    Response._default_manager.bulk_create(
        (
            Response(
                attempt_id=attempt_id,
                question=question,
                response={"choice": f"option {question.pk}", "comment": "é" * 20},
                is_correct=True,
                points_awarded=Decimal("1.500"),
                time_spent=12,
                answered_at=now,
                graded_at=now,
            )
            for attempt_id in ids
            for question in questions
        ),
        batch_size=1000,
    )


def peak_memory(course_id: str, path: Path) -> int:
    """Peak traced memory (bytes) while exporting the course's responses to ``path``.

    Chunks of 500 rows, so that both sizes below span several chunks: the
    database layer briefly holds two chunks when it fetches the next one.
    """
    tracemalloc.start()
    try:
        run(course_id, what="responses", format="jsonl", output=str(path), chunk_size=500)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_is_flat_in_the_number_of_rows(make_user: Any, tmp_path: Path) -> None:
    tree = build_course("Big", modules=0, questions=0)
    quiz = tree.quizzes[0]
    Question.objects.bulk_create(
        Question(quiz=quiz, text=f"Q{n}", answer=f"a{n}", position=n) for n in range(100)
    )
    questions = list(Question.objects.filter(quiz=quiz))
    user = make_user()
    course_id, path = str(tree.course.pk), tmp_path / "responses.jsonl"

    add_responses(quiz, questions, user, attempts=20)  # 2,000 rows
    run(course_id, what="responses", output=str(path))  # warm up imports and caches
    small = peak_memory(course_id, path)
    assert sum(1 for _line in path.open(encoding="utf-8")) == 2_000

    add_responses(quiz, questions, user, attempts=180)  # 20,000 rows
    large = peak_memory(course_id, path)
    assert sum(1 for _line in path.open(encoding="utf-8")) == 20_000

    assert large < 2 * small, f"peak {large} bytes for 20,000 rows, {small} for 2,000"

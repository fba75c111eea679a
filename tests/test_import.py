"""The ``import_progress`` management command."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_learning_progress import services, signals
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.conftest import CourseTree, build_course
from tests.testapp.models import Question

pytestmark = pytest.mark.django_db

KINDS = ("progress", "tasks", "attempts", "responses")
#: Ids of the source database's own rows: they differ after an import.
ROW_IDS = {"enrollment_id", "task_progress_id", "attempt_id", "response_id"}
TRICKY = 'wrong, "quoted"\nsecond line, é ✓'


@dataclass
class Site:
    tree: CourseTree
    other: CourseTree
    learners: list[Any]
    teacher: Any


@pytest.fixture
def site(make_user: Any) -> Site:
    """Two courses with progress of every kind and status."""
    tree = build_course(modules=1, lessons_per_module=2)
    q0, q1, q2 = tree.questions
    q1.kind = Question.KIND_ESSAY
    q1.save()
    ada, bob, cy, dee = (make_user(username=n) for n in ("ada", 'bob, "b"', "cy", "dée"))
    teacher = make_user(username="teacher")

    enrollment = services.enroll(ada, tree.course)
    services.update_enrollment_settings(enrollment, {"theme": "dark", "z": [1, {"a": None}]})
    services.add_time_spent(ada, tree.lessons[0], 30)
    services.complete_task(ada, tree.lessons[0])
    attempt = services.start_attempt(ada, tree.quizzes[0])
    services.answer_question(ada, attempt, q0, "a0", time_spent=4)
    services.answer_question(ada, attempt, q1, TRICKY)
    services.submit_attempt(ada, attempt)  # submitted: the essay awaits grading
    response = get_quiz_response_model()._default_manager.get(attempt=attempt, question=q1)
    services.grade_response(teacher, response, points=Decimal("1.5"))  # completed
    attempt = services.start_attempt(ada, tree.quizzes[0])  # #2, left open
    services.answer_question(ada, attempt, q2, {"picked": [1, 2], "note": None})

    services.enroll(bob, tree.course)
    services.complete_task(bob, tree.lessons[0])
    services.complete_task(bob, tree.lessons[1])  # the course completes
    attempt = services.start_attempt(bob, tree.quizzes[0])
    services.abandon_attempt(bob, attempt)
    attempt = services.start_attempt(bob, tree.quizzes[0])
    services.answer_question(bob, attempt, q1, "essay")
    services.submit_attempt(bob, attempt)  # submitted, ungraded

    services.drop_enrollment(services.enroll(cy, tree.course))
    services.add_time_spent(ada, tree.lessons[1], 10)
    services.reset_task(ada, tree.lessons[1])  # a not_started row, with time spent

    other = build_course("Other")
    services.enroll(dee, other.course)
    services.start_task(dee, other.lessons[0])
    return Site(tree=tree, other=other, learners=[ada, bob, cy, dee], teacher=teacher)


def export(course: Any, what: str, fmt: str, path: Path) -> Path:
    call_command(
        "export_progress",
        str(course.pk),
        what=what,
        format=fmt,
        output=str(path),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return path


def export_all(site: Site, fmt: str, directory: Path) -> list[Path]:
    directory.mkdir(exist_ok=True)
    return [
        export(tree.course, what, fmt, directory / f"{tree.course.pk}-{what}.{fmt}")
        for tree in (site.tree, site.other)
        for what in KINDS
    ]


def run(*files: Any, **options: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_progress", *map(str, files), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def flush() -> None:
    """Empty the progress tables (users and content stay)."""
    for model in (
        get_quiz_response_model(),
        get_quiz_attempt_model(),
        get_task_progress_model(),
        get_enrollment_model(),
    ):
        model._default_manager.all().delete()


def snapshot(*, with_ids: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Every progress row, by natural key order; without ids (and updated_at) if asked."""
    tables = {
        "progress": (get_enrollment_model(), ("user_id", "course_id")),
        "tasks": (get_task_progress_model(), ("user_id", "task_id")),
        "attempts": (get_quiz_attempt_model(), ("user_id", "quiz_id", "attempt_number")),
        "responses": (
            get_quiz_response_model(),
            ("attempt__user_id", "attempt__quiz_id", "attempt__attempt_number", "question_id"),
        ),
    }
    result = {}
    for kind, (model, order) in tables.items():
        rows = list(model._default_manager.order_by(*order).values())
        if not with_ids:
            for row in rows:
                for name in ("id", "attempt_id", "updated_at"):
                    row.pop(name, None)
        result[kind] = rows
    return result


def masked(path: Path, fmt: str) -> list[dict[str, Any]]:
    """The rows of an export, without the source database's row ids."""
    text = path.read_text(encoding="utf-8")
    if fmt == "csv":
        rows: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(text, newline="")))
    else:
        rows = [json.loads(line) for line in text.splitlines()]
    return [{k: v for k, v in row.items() if k not in ROW_IDS} for row in rows]


# -- round trip -------------------------------------------------------------------------


def test_fixture_covers_every_status(site: Site) -> None:
    data = snapshot()
    assert {r["status"] for r in data["progress"]} == set(EnrollmentStatus.values)
    assert {r["status"] for r in data["tasks"]} == set(TaskStatus.values)
    assert {r["status"] for r in data["attempts"]} == set(AttemptStatus.values)
    assert any(r["graded_by_id"] == site.teacher.pk for r in data["responses"])


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_round_trip(site: Site, fmt: str, tmp_path: Path) -> None:
    before = export_all(site, fmt, tmp_path / "before")
    rows_before = snapshot(with_ids=False)
    flush()
    out, err = run(*reversed(before))  # the order of the files does not matter
    assert err == ""
    assert "Enrollments: 4 created, 0 updated, 0 unchanged." in out
    assert snapshot(with_ids=False) == rows_before
    after = export_all(site, fmt, tmp_path / "after")
    for old, new in zip(before, after, strict=True):
        assert masked(new, fmt) == masked(old, fmt), old.name
        if fmt == "csv":  # same columns, in the same order
            assert new.read_text().splitlines()[0] == old.read_text().splitlines()[0]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_second_run_changes_nothing(site: Site, fmt: str, tmp_path: Path) -> None:
    files = export_all(site, fmt, tmp_path)
    flush()
    run(*files)
    first = snapshot()
    out, _err = run(*files)
    assert snapshot() == first  # ids and updated_at included
    assert " 0 created, 0 updated" in out and "created, 0 updated" in out
    assert "Responses: 0 created, 0 updated, 4 unchanged." in out


def test_importing_into_the_source_database_changes_nothing(site: Site, tmp_path: Path) -> None:
    files = export_all(site, "csv", tmp_path)
    first = snapshot()
    run(*files)
    assert snapshot() == first


def test_import_updates_changed_rows(site: Site, tmp_path: Path) -> None:
    files = export_all(site, "jsonl", tmp_path)
    path = files[0]  # the first course's progress
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0]["settings"] = {"theme": "light"}
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    enrollment = get_enrollment_model()._default_manager.get(
        user=site.learners[0], course=site.tree.course
    )
    out, _err = run(path)
    assert "Enrollments: 0 created, 1 updated, 2 unchanged." in out
    enrollment_after = get_enrollment_model()._default_manager.get(pk=enrollment.pk)
    assert enrollment_after.settings == {"theme": "light"}
    assert enrollment_after.updated_at > enrollment.updated_at


# -- invalid files -------------------------------------------------------------------------

PROGRESS_HEADER = "username,course_id,status,enrolled_at,completed_at,dropped_at,settings\n"
NOW = "2025-03-01T09:30:00+00:00"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_invalid_rows_refuse_the_whole_import(site: Site, tmp_path: Path) -> None:
    flush()
    course, other = site.tree.course.pk, site.other.course.pk
    lesson, quiz = site.tree.lessons[0].pk, site.tree.quizzes[0].pk
    progress = write(
        tmp_path / "p.csv",
        PROGRESS_HEADER
        + f"ada,{course},active,{NOW},,,{{}}\n"  # line 2: valid
        + f"nobody,{course},active,{NOW},,,{{}}\n"  # 3
        + f"cy,{course},gone,{NOW},,,{{}}\n"  # 4
        + f"cy,{other},active,yesterday,,,{{}}\n"  # 5
        + f"ada,{course},active,{NOW},,,{{}}\n"  # 6: duplicate of line 2
        + f"teacher,{course},completed,{NOW},,,{{}}\n"  # 7
        + f"dée,{course},active,{NOW},,,{{}}\n"  # 8: valid
        + f'cy,{course},active,{NOW},,,"[1]"\n',  # 9
    )
    tasks = write(
        tmp_path / "t.jsonl",
        json.dumps({"username": "ada", "task_id": lesson, "status": "completed"})  # 1
        + "\n"
        + json.dumps({"username": "cy", "task_id": lesson, "status": "not_started"})  # 2
        + "\nnot json\n",  # 3
    )
    attempts = write(
        tmp_path / "a.csv",
        "username,quiz_id,attempt_number,status,started_at,percentage\n"
        f"ada,{quiz},1,in_progress,{NOW},\n"  # 2
        f"ada,{quiz},1,abandoned,{NOW},\n"  # 3: same number
        f"ada,{quiz},2,in_progress,{NOW},\n"  # 4: a second open attempt
        f"dée,{quiz},1,abandoned,{NOW},100.5\n",  # 5
    )
    responses = write(
        tmp_path / "r.csv",
        "username,quiz_id,attempt_number,question_id,response,answered_at\n"
        f'ada,{quiz},1,{site.other.questions[0].pk},"""x""",{NOW}\n'  # 2: foreign question
        f'ada,{quiz},7,{site.tree.questions[0].pk},"""x""",{NOW}\n'  # 3: no such attempt
        f"ada,{quiz},1,{site.tree.questions[0].pk},{{bad,{NOW}\n",  # 4
    )
    with pytest.raises(CommandError) as caught:
        run(progress, tasks, attempts, responses)
    message = str(caught.value)
    expected = [
        f"{progress}:3: username: no user 'nobody'",
        f"{progress}:4: status: 'gone' is not one of active, completed, dropped",
        f"{progress}:5: enrolled_at: not an ISO 8601 date and time: 'yesterday'",
        f"{progress}:6: (row): same username and course_id as {progress}:2",
        f"{progress}:7: completed_at: required for a completed enrollment",
        f"{progress}:9: settings: must be a JSON object",
        f"{tasks}:1: started_at: required for a task completed",
        f"{tasks}:2: username: not enrolled in the course",
        f"{tasks}:3: (row): not valid JSON",
        f"{attempts}:3: (row): same username, quiz_id and attempt_number as {attempts}:2",
        f"{attempts}:4: status: a second attempt in progress at this quiz (first: {attempts}:2)",
        f"{attempts}:5: percentage: must be from 0 to 100",
        f"{responses}:2: question_id: question {site.other.questions[0].pk} belongs to quiz",
        f"{responses}:3: attempt_number: no such attempt in the files or the database",
        f"{responses}:4: response: not valid JSON",
    ]
    for line in expected:
        assert line in message
    assert message.startswith(f"Nothing imported: {len(expected)} invalid rows.")
    assert snapshot() == {kind: [] for kind in KINDS}


def test_skip_invalid_imports_the_rest_and_reports(site: Site, tmp_path: Path) -> None:
    flush()
    course = site.tree.course.pk
    progress = write(
        tmp_path / "p.csv",
        PROGRESS_HEADER
        + f"ada,{course},active,{NOW},,,{{}}\n"
        + f"nobody,{course},active,{NOW},,,{{}}\n"
        + f"cy,{course},dropped,{NOW},,{NOW},{{}}\n",
    )
    out, err = run(progress, skip_invalid=True)
    assert err == f"Skipped {progress}:3: username: no user 'nobody'\n"
    assert "Enrollments: 2 created, 0 updated, 0 unchanged." in out
    assert "Skipped 1 invalid row." in out
    rows = get_enrollment_model()._default_manager.order_by("pk")
    assert [(e.user.username, e.status) for e in rows] == [("ada", "active"), ("cy", "dropped")]


def test_rows_of_a_skipped_enrollment_are_skipped_too(site: Site, tmp_path: Path) -> None:
    flush()
    course, lesson = site.tree.course.pk, site.tree.lessons[0].pk
    progress = write(tmp_path / "p.csv", PROGRESS_HEADER + f"ada,{course},active,never,,,{{}}\n")
    tasks = write(
        tmp_path / "t.csv",
        f"username,task_id,status,started_at\nada,{lesson},in_progress,{NOW}\n",
    )
    _out, err = run(progress, tasks, skip_invalid=True)
    assert f"{tasks}:2: username: not enrolled in the course" in err
    assert snapshot()["tasks"] == []


def test_an_open_attempt_in_the_database_blocks_another(site: Site, tmp_path: Path) -> None:
    quiz = site.tree.quizzes[0].pk  # ada's attempt 2 is open in the database
    attempts = write(
        tmp_path / "a.csv",
        f"username,quiz_id,attempt_number,status,started_at\nada,{quiz},3,in_progress,{NOW}\n",
    )
    with pytest.raises(CommandError, match=r"a\.csv:2: status: attempt 2 of this user"):
        run(attempts)


def test_task_of_another_course(site: Site, tmp_path: Path) -> None:
    lesson = site.tree.lessons[0].pk
    tasks = write(
        tmp_path / "t.csv",
        "username,task_id,course_id,status\n"
        f"ada,{lesson},{site.other.course.pk},not_started\n"
        f"ada,999999,{site.tree.course.pk},not_started\n",
    )
    with pytest.raises(CommandError) as caught:
        run(tasks)
    assert f"t.csv:2: course_id: task {lesson} belongs to course {site.tree.course.pk}" in str(
        caught.value
    )
    assert "t.csv:3: task_id: no task with id 999999" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("a,b\n1,2\n", {}, r"x\.csv:1: \(header\): cannot tell what the file holds"),
        ("username,task_id\nada,1\n", {}, r"x\.csv:1: \(header\): missing status for --what tasks"),
        ("username,status\n", {"what": "tasks"}, r"missing task_id for --what tasks"),
        ("", {"batch_size": 0}, r"--batch-size must be"),
        ("", {"what": "grades"}, r"--what must be one of"),
    ],
)
def test_bad_files_and_arguments(
    site: Site, tmp_path: Path, text: str, options: dict[str, Any], message: str
) -> None:
    path = write(tmp_path / "x.csv", text)
    with pytest.raises(CommandError, match=message):
        run(path, **options)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.csv"):
        run(tmp_path / "missing.csv")


def test_kind_and_format_given_explicitly(site: Site, tmp_path: Path) -> None:
    path = export(site.tree.course, "progress", "jsonl", tmp_path / "progress.txt")
    flush()
    out, _err = run(path, what="progress", format="jsonl")
    assert "Enrollments: 3 created" in out


# -- signals -------------------------------------------------------------------------------

ALL_SIGNALS = [
    "enrollment_created",
    "enrollment_status_changed",
    "course_completed",
    "task_started",
    "task_completed",
    "quiz_attempt_started",
    "quiz_attempt_submitted",
    "quiz_attempt_graded",
]


@pytest.fixture
def received() -> Any:
    got: list[tuple[str, Any, dict[str, Any]]] = []
    receivers = []
    for name in ALL_SIGNALS:

        def receiver(sender: Any, name: str = name, **kwargs: Any) -> None:
            got.append((name, sender, kwargs))

        getattr(signals, name).connect(receiver, weak=False)
        receivers.append((name, receiver))
    yield got
    for name, receiver in receivers:
        getattr(signals, name).disconnect(receiver)


def test_no_signals_by_default(
    site: Site, tmp_path: Path, received: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    files = export_all(site, "csv", tmp_path)
    flush()
    with django_capture_on_commit_callbacks(execute=True):
        run(*files)
    assert received == []


def test_signals_when_asked_after_commit(
    site: Site, tmp_path: Path, received: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    files = export_all(site, "csv", tmp_path)
    flush()
    with django_capture_on_commit_callbacks() as callbacks:
        run(*files, signals=True)
    assert received == []  # nothing before the commit
    for callback in callbacks:
        callback()
    names = [name for name, _sender, _kwargs in received]
    assert names.count("enrollment_created") == 4
    assert names.count("enrollment_status_changed") == 2  # bob completed, cy dropped
    assert names.count("course_completed") == 1
    assert names.count("task_started") == 4  # every task row not in not_started
    assert names.count("task_completed") == 3
    assert names.count("quiz_attempt_started") == 4
    assert names.count("quiz_attempt_submitted") == 2  # ada #1 (completed), bob #2
    assert names.count("quiz_attempt_graded") == 1
    sender_of = {name: sender for name, sender, _kwargs in received}
    assert sender_of["enrollment_created"] is get_enrollment_model()
    assert sender_of["task_completed"] is get_task_progress_model()
    assert sender_of["quiz_attempt_graded"] is get_quiz_attempt_model()
    completed = next(kw for name, _s, kw in received if name == "course_completed")
    assert completed["user"] == site.learners[1]
    assert completed["enrollment"].pk is not None
    assert completed["enrollment"].status == EnrollmentStatus.COMPLETED

    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run(*files, signals=True)  # nothing changes: nothing is sent
    assert received == []


# -- queries -------------------------------------------------------------------------------


def many(make_user: Any, tree: CourseTree, count: int) -> None:
    """``count`` learners, each enrolled with a completed task, an attempt and a response."""
    now = timezone.now()
    users = [make_user(username=f"bulk{count}-{n}") for n in range(count)]
    get_enrollment_model()._default_manager.bulk_create(
        get_enrollment_model()(user=u, course=tree.course, enrolled_at=now) for u in users
    )
    get_task_progress_model()._default_manager.bulk_create(
        get_task_progress_model()(
            user=u,
            task=tree.lessons[0],
            course=tree.course,
            status=TaskStatus.COMPLETED,
            started_at=now,
            completed_at=now,
        )
        for u in users
    )
    quiz = tree.quizzes[0]
    get_quiz_attempt_model()._default_manager.bulk_create(
        get_quiz_attempt_model()(user=u, quiz=quiz, course=tree.course, attempt_number=1)
        for u in users
    )
    attempts = get_quiz_attempt_model()._default_manager.filter(quiz=quiz)
    get_quiz_response_model()._default_manager.bulk_create(
        get_quiz_response_model()(attempt=a, question=tree.questions[0], response="a0")
        for a in attempts
    )


def test_query_count_does_not_grow_with_rows(
    make_user: Any, tmp_path: Path, django_assert_max_num_queries: Any
) -> None:
    small, large = build_course("Small"), build_course("Large")
    many(make_user, small, 10)
    many(make_user, large, 100)
    files = {
        tree.course.pk: [
            export(tree.course, what, "csv", tmp_path / f"{tree.course.pk}-{what}.csv")
            for what in KINDS
        ]
        for tree in (small, large)
    }
    flush()
    with CaptureQueriesContext(connection) as queries:
        run(*files[small.course.pk])
    assert get_quiz_response_model()._default_manager.count() == 10
    # A few more at most: SQLite splits a statement of more than 999 parameters
    # (Django 5.2); a query per row would be 90 more.
    with django_assert_max_num_queries(len(queries) + 4):
        run(*files[large.course.pk])
    assert get_quiz_response_model()._default_manager.count() == 110


def test_progress_bar_on_a_terminal(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = export_all(site, "csv", tmp_path)
    flush()
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(err, "isatty", lambda: True)
    call_command("import_progress", *map(str, files), batch_size=5, stdout=out, stderr=err)
    assert err.getvalue().startswith("\r[------------------------------] 0/17")
    assert "] 3/17" in err.getvalue()  # drawn after each batch (3 enrollments)
    assert err.getvalue().endswith("\r[##############################] 17/17 100%\n")
    assert "Responses: 4 created" in out.getvalue()  # the summary stays on stdout


def test_json_values_obey_the_app_limits(site: Site, tmp_path: Path) -> None:
    course = site.tree.course.pk
    deep: Any = 1
    for _level in range(40):
        deep = [deep]
    progress = write(
        tmp_path / "p.jsonl",
        json.dumps(
            {
                "username": "ada",
                "course_id": course,
                "status": "active",
                "enrolled_at": NOW,
                "settings": {"x": "nul\u0000"},
            }
        )
        + "\n"
        + json.dumps(
            {
                "username": "cy",
                "course_id": course,
                "status": "active",
                "enrolled_at": NOW,
                "settings": {"x": deep},
            }
        )
        + "\n",
    )
    with pytest.raises(CommandError) as caught:
        run(progress)
    assert f"{progress}:1: settings: Must not contain the NUL character" in str(caught.value)
    assert f"{progress}:2: settings: Must not be nested deeper than" in str(caught.value)

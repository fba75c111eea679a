from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from django_learning_progress.checks import check_settings
from django_learning_progress.content import ContentAdapter

ROOT = Path(__file__).resolve().parent.parent


class WrongLookups(ContentAdapter):
    task_course_lookup = "course"  # lessons reach their course through module
    quiz_course_lookup = "title"
    question_quiz_lookup = "quiz__course"


def ids(messages: list) -> list[str]:
    return [m.id for m in messages]


def test_valid_configuration_passes() -> None:
    assert check_settings() == []


def test_missing_setting_is_named() -> None:
    with override_settings():
        from django.conf import settings

        del settings.LEARNING_PROGRESS_QUIZ_MODEL
        messages = check_settings()
    assert ids(messages) == ["learning_progress.E001"]
    assert "LEARNING_PROGRESS_QUIZ_MODEL" in messages[0].msg


def test_malformed_setting() -> None:
    with override_settings(LEARNING_PROGRESS_COURSE_MODEL="Course"):
        messages = check_settings()
    assert ids(messages) == ["learning_progress.E002"]
    assert "LEARNING_PROGRESS_COURSE_MODEL" in messages[0].msg


def test_model_not_installed() -> None:
    with override_settings(LEARNING_PROGRESS_QUESTION_MODEL="testapp.Nope"):
        messages = check_settings()
    assert ids(messages) == ["learning_progress.E003"]
    assert "LEARNING_PROGRESS_QUESTION_MODEL" in messages[0].msg


@pytest.mark.parametrize("path", ["tests.testapp.adapter.Missing", "decimal.Decimal"])
def test_bad_adapter(path: str) -> None:
    with override_settings(LEARNING_PROGRESS={"CONTENT_ADAPTER": path}):
        messages = check_settings()
    assert ids(messages) == ["learning_progress.E004"]
    assert "CONTENT_ADAPTER" in messages[0].msg


def test_lookups_that_do_not_resolve() -> None:
    with override_settings(LEARNING_PROGRESS={"CONTENT_ADAPTER": f"{__name__}.WrongLookups"}):
        messages = check_settings()
    assert ids(messages) == ["learning_progress.E005"] * 3
    text = "\n".join(m.msg for m in messages)
    assert "task_course_lookup" in text and "LEARNING_PROGRESS_TASK_MODEL" in text
    assert "Lesson has no field 'course'" in text
    assert "Quiz.title is not a relation" in text
    assert "leads to testapp.Course, not testapp.Quiz" in text


def test_swapped_model_must_subclass_the_abstract_base() -> None:
    with override_settings(LEARNING_PROGRESS_TASK_PROGRESS_MODEL="testapp.Course"):
        messages = check_settings()
    assert ids(messages) == ["learning_progress.E006"]
    assert "LEARNING_PROGRESS_TASK_PROGRESS_MODEL" in messages[0].msg


def test_options_must_be_a_dict_and_unknown_keys_warn() -> None:
    with override_settings(LEARNING_PROGRESS=["CONTENT_ADAPTER"]):
        assert ids(check_settings()) == ["learning_progress.E007"]
    adapter = "tests.testapp.adapter.TestAdapter"
    with override_settings(LEARNING_PROGRESS={"CONTENT_ADAPTER": adapter, "CONTENT_ADAPTR": "x"}):
        messages = check_settings()
    assert ids(messages) == ["learning_progress.W001"]
    assert "CONTENT_ADAPTR" in messages[0].msg


def run_check(tmp_path: Path, settings_text: str) -> tuple[int, str]:
    """``manage.py check`` in a subprocess with settings written to ``tmp_path``."""
    (tmp_path / "check_settings.py").write_text(
        "from tests.settings import *  # noqa: F403\n" + settings_text
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "check_settings",
        "DB_BACKEND": "sqlite",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def test_broken_configuration_is_reported_by_check_not_at_import(tmp_path: Path) -> None:
    code, output = run_check(
        tmp_path,
        "del LEARNING_PROGRESS_QUIZ_MODEL\n"
        "LEARNING_PROGRESS_TASK_MODEL = 'testapp.Nope'\n"
        "LEARNING_PROGRESS = {'CONTENT_ADAPTER': 'tests.testapp.adapter.Missing'}\n",
    )
    assert code != 0
    assert "Traceback" not in output, output
    assert "learning_progress.E001" in output and "LEARNING_PROGRESS_QUIZ_MODEL" in output
    assert "learning_progress.E003" in output and "LEARNING_PROGRESS_TASK_MODEL" in output
    assert "learning_progress.E004" in output


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("LEARNING_PROGRESS_QUESTION_MODEL", None, "learning_progress.E001"),
        ("LEARNING_PROGRESS_QUESTION_MODEL", "testapp.Nope", "learning_progress.E003"),
        ("LEARNING_PROGRESS_ENROLLMENT_MODEL", "nope.Model", "learning_progress.E003"),
    ],
)
def test_admin_does_not_hide_the_checks(
    tmp_path: Path, setting: str, value: str | None, code: str
) -> None:
    """With django.contrib.admin installed, wrong settings still reach our checks."""
    assignment = f"del {setting}" if value is None else f"{setting} = {value!r}"
    returncode, output = run_check(tmp_path, assignment + "\n")
    assert returncode != 0
    assert "Traceback" not in output, output
    assert code in output and setting in output


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("AUTO_ENROLL", "yes"),
        ("MAX_TIME_PER_CALL", 0),
        ("REQUIRE_QUIZZES_FOR_COMPLETION", 1),
        ("QUIZ_GRADE_METHOD", "best"),
        ("OVERDUE_ATTEMPT_POLICY", "delete"),
        ("DEADLINE_GRACE_SECONDS", -1),
        ("INSTRUCTOR_CHECK", "tests.testapp.access.nobody"),
        ("API_PAGE_SIZE", "50"),
    ],
)
def test_bad_option_values(key: str, value: object) -> None:
    options = {"CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter", key: value}
    with override_settings(LEARNING_PROGRESS=options):
        messages = check_settings()
    assert ids(messages) == ["learning_progress.E008"]
    assert key in messages[0].msg

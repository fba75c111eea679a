from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import CreateModel

import django_learning_progress

MIGRATIONS = Path(django_learning_progress.__file__).parent / "migrations"


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits 1 on changes
    assert "No changes detected" in out.getvalue()


def test_shipped_migrations_name_no_host_app() -> None:
    for path in MIGRATIONS.glob("0*.py"):
        text = path.read_text()
        assert "testapp" not in text and "swapped" not in text, path.name


@pytest.mark.django_db
def test_initial_migration_carries_the_swappable_options() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    migration = loader.get_migration("learning_progress", "0001_initial")
    options = {
        op.name: op.options.get("swappable")
        for op in migration.operations
        if isinstance(op, CreateModel)
    }
    assert options == {
        "CourseEnrollment": "LEARNING_PROGRESS_ENROLLMENT_MODEL",
        "TaskProgress": "LEARNING_PROGRESS_TASK_PROGRESS_MODEL",
        "QuizAttempt": "LEARNING_PROGRESS_QUIZ_ATTEMPT_MODEL",
        "QuizResponse": "LEARNING_PROGRESS_QUIZ_RESPONSE_MODEL",
    }
    source = (MIGRATIONS / "0001_initial.py").read_text()
    for setting in (
        "AUTH_USER_MODEL",
        "LEARNING_PROGRESS_COURSE_MODEL",
        "LEARNING_PROGRESS_TASK_MODEL",
        "LEARNING_PROGRESS_QUIZ_MODEL",
        "LEARNING_PROGRESS_QUESTION_MODEL",
    ):
        assert f"migrations.swappable_dependency(settings.{setting})" in source


@pytest.mark.django_db
def test_content_models_created_in_a_later_host_migration_come_first() -> None:
    # The test host app creates its quiz and question models in 0002, which
    # declares run_before on learning_progress.0001_initial (see the docs).
    loader = MigrationLoader(connection)
    plan = loader.graph.forwards_plan(("learning_progress", "0001_initial"))
    assert ("testapp", "0002_quiz_question") in plan
    assert plan.index(("testapp", "0002_quiz_question")) < plan.index(
        ("learning_progress", "0001_initial")
    )

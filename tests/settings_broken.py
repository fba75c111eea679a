"""Settings with the quiz model missing and a bad adapter (checked by tests/test_checks.py)."""

from tests.settings import *  # noqa: F403

del LEARNING_PROGRESS_QUIZ_MODEL  # noqa: F821
LEARNING_PROGRESS_TASK_MODEL = "testapp.Nope"
LEARNING_PROGRESS = {"CONTENT_ADAPTER": "tests.testapp.adapter.Missing"}

"""An import that closes an open attempt and opens the next, in any batch size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from django_learning_progress import services
from django_learning_progress.choices import AttemptStatus
from django_learning_progress.models import get_quiz_attempt_model
from tests.conftest import build_course

pytestmark = pytest.mark.django_db

HEADER = "username,quiz_id,attempt_number,status,score,max_score,percentage,passed,started_at,completed_at"


@pytest.mark.parametrize("batch_size", ["1000", "1"])
def test_import_closes_the_open_attempt_and_opens_the_next(
    make_user: Any, tmp_path: Path, batch_size
) -> None:
    ada = make_user(username="ada")
    tree = build_course()
    quiz = tree.quizzes[0]
    services.enroll(ada, tree.course)
    services.start_attempt(ada, quiz)  # attempt 1, in progress in the database
    path = tmp_path / "attempts.csv"
    path.write_text(
        HEADER + "\n"
        f"ada,{quiz.pk},2,in_progress,,,,,2024-01-02T00:00:00+00:00,\n"
        f"ada,{quiz.pk},1,completed,1,6,16.67,false,2024-01-01T00:00:00+00:00,2024-01-01T01:00:00+00:00\n"
    )
    # Validation accepts the file (attempt 1 is closed by the file itself) ...
    call_command("import_progress", str(path), "--batch-size", batch_size)
    statuses = dict(
        get_quiz_attempt_model().objects.filter(user=ada).values_list("attempt_number", "status")
    )
    assert statuses == {1: AttemptStatus.COMPLETED, 2: AttemptStatus.IN_PROGRESS}

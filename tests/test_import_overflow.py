"""import_progress reports an out-of-range id as a row error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import build_course

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "what,header,row",
    [
        (
            "progress",
            "username,course_id,status,enrolled_at",
            "ada,99999999999999999999,active,2024-01-01T00:00:00+00:00",
        ),
        ("tasks", "username,task_id,status", "ada,99999999999999999999,not_started"),
    ],
)
def test_import_out_of_range_id_is_a_row_error(
    make_user: Any, tmp_path: Path, what, header, row
) -> None:
    make_user(username="ada")
    build_course()
    path = tmp_path / "in.csv"
    path.write_text(header + "\n" + row + "\n")
    with pytest.raises(CommandError):
        call_command("import_progress", str(path))

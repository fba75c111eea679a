from __future__ import annotations

from io import StringIO

import pytest

pytest.importorskip("drf_spectacular", reason="the schema test needs drf-spectacular")

import yaml
from django.core.management import call_command


def test_openapi_schema_is_complete_and_valid() -> None:
    out = StringIO()
    # --validate checks the schema against the OpenAPI 3 specification;
    # --fail-on-warn turns every unresolved view, field or type into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    paths = schema["paths"]
    for expected in [
        "/api/progress/enrollments/",
        "/api/progress/enrollments/{id}/",
        "/api/progress/enrollments/{id}/progress/",
        "/api/progress/task-progress/",
        "/api/progress/task-progress/{id}/time/",
        "/api/progress/task-progress/{id}/complete/",
        "/api/progress/quiz-attempts/",
        "/api/progress/quiz-attempts/{id}/responses/",
        "/api/progress/quiz-attempts/{id}/submit/",
        "/api/progress/quiz-responses/",
        "/api/progress/quiz-responses/{id}/grade/",
        "/api/progress/courses/{course_id}/progress/",
        "/api/progress/me/progress/",
        "/api/progress/courses/{course_id}/analytics/",
        "/api/progress/quizzes/{quiz_id}/analytics/",
    ]:
        assert expected in paths, expected
    time_body = paths["/api/progress/task-progress/{id}/time/"]["post"]["requestBody"]
    assert "TimeSpent" in str(time_body)
    for path in ("courses/{course_id}/progress/", "me/progress/", "enrollments/"):
        listing = paths[f"/api/progress/{path}"]["get"]
        assert "Paginated" in str(listing["responses"]["200"]), path
        assert "page" in [p["name"] for p in listing["parameters"]], path

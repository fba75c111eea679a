from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest

pytest.importorskip("drf_spectacular", reason="the schema test needs drf-spectacular")

import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from django_learning_progress.api._schema import ProgressAutoSchema, plain_text
from django_learning_progress.api.views import ProgressViewSet

PREFIX = "/api/progress/"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path.removeprefix(PREFIX)): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_schema(response: dict[str, Any]) -> Any:
    return response["content"]["application/json"]["schema"]


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
        "/api/progress/quizzes/{quiz_id}/status/",
        "/api/progress/quizzes/{quiz_id}/regrade/",
        "/api/progress/quiz-overrides/",
        "/api/progress/quiz-overrides/{id}/",
    ]:
        assert expected in paths, expected
    time_body = paths["/api/progress/task-progress/{id}/time/"]["post"]["requestBody"]
    assert "TimeSpent" in str(time_body)
    for path in ("courses/{course_id}/progress/", "me/progress/", "enrollments/"):
        listing = paths[f"/api/progress/{path}"]["get"]
        assert "Paginated" in str(listing["responses"]["200"]), path
        assert "page" in [p["name"] for p in listing["parameters"]], path


# What each operation can answer: 400 for a body or query parameters, 401/403
# when authentication is needed, 404 for an object in the path or a paginated list.
LIST = {"200", "400", "401", "403", "404"}
OBJECT = {"200", "401", "403", "404"}
ACTION = {"200", "400", "401", "403", "404"}
CREATE = {"200", "201", "400", "401", "403"}
EXPECTED_CODES = {
    ("GET", ""): {"200"},
    ("GET", "enrollments/"): LIST,
    ("POST", "enrollments/"): CREATE,
    ("GET", "enrollments/{id}/"): OBJECT,
    ("PUT", "enrollments/{id}/"): ACTION,
    ("PATCH", "enrollments/{id}/"): ACTION,
    ("GET", "enrollments/{id}/progress/"): OBJECT,
    ("GET", "task-progress/"): LIST,
    ("POST", "task-progress/"): CREATE,
    ("GET", "task-progress/{id}/"): OBJECT,
    ("POST", "task-progress/{id}/time/"): ACTION,
    ("POST", "task-progress/{id}/complete/"): ACTION,
    ("GET", "quiz-attempts/"): LIST,
    ("POST", "quiz-attempts/"): CREATE,
    ("GET", "quiz-attempts/{id}/"): OBJECT,
    ("POST", "quiz-attempts/{id}/responses/"): {"201", "400", "401", "403", "404"},
    ("POST", "quiz-attempts/{id}/submit/"): ACTION,
    ("POST", "quiz-attempts/{id}/abandon/"): ACTION,
    ("GET", "quiz-responses/"): LIST,
    ("GET", "quiz-responses/{id}/"): OBJECT,
    ("POST", "quiz-responses/{id}/grade/"): ACTION,
    ("GET", "courses/{course_id}/progress/"): LIST,
    ("GET", "courses/{course_id}/analytics/"): OBJECT,
    ("GET", "quizzes/{quiz_id}/analytics/"): {"200", "400", "401", "403", "404"},
    ("GET", "quizzes/{quiz_id}/status/"): {"200", "401", "403", "404"},
    ("POST", "quizzes/{quiz_id}/regrade/"): ACTION,
    ("GET", "quiz-overrides/"): LIST,
    ("POST", "quiz-overrides/"): CREATE,
    ("GET", "quiz-overrides/{id}/"): OBJECT,
    ("PUT", "quiz-overrides/{id}/"): ACTION,
    ("PATCH", "quiz-overrides/{id}/"): ACTION,
    ("DELETE", "quiz-overrides/{id}/"): {"204", "401", "403", "404"},
    ("GET", "me/progress/"): LIST,
    # The learning records (django_learning_progress.xapi is installed in the tests).
    ("GET", "me/history/"): LIST,
    ("GET", "courses/{course_id}/learners/{user_id}/history/"): LIST,
}


def test_every_operation_documents_every_status_code_it_answers(schema: dict[str, Any]) -> None:
    found = {key: set(op["responses"]) for key, op in operations(schema).items()}
    assert found == EXPECTED_CODES


def test_error_responses_have_the_error_shapes(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert components["ErrorDetail"]["required"] == ["detail"]
    assert components["ErrorDetail"]["properties"]["detail"] == {"type": "string"}
    assert components["FieldErrors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    assert ref("FieldErrors") in components["ValidationError"]["anyOf"]
    assert ref("ErrorDetail") in components["ValidationError"]["anyOf"]
    for (method, path), operation in operations(schema).items():
        responses = operation["responses"]
        for code in ("401", "403", "404"):
            if code in responses:
                assert json_schema(responses[code]) == ref("ErrorDetail"), (method, path, code)
        if "400" in responses:
            expected = "ListValidationError" if path.endswith("}/responses/") else "ValidationError"
            assert json_schema(responses["400"]) == ref(expected), (method, path)


def test_answers_take_and_return_one_object_or_a_list(schema: dict[str, Any]) -> None:
    operation = operations(schema)[("POST", "quiz-attempts/{id}/responses/")]
    components = schema["components"]["schemas"]
    body = json_schema(operation["requestBody"])
    assert components[body["$ref"].rsplit("/", 1)[-1]]["oneOf"] == [
        ref("Answer"),
        {"type": "array", "items": ref("Answer")},
    ]
    answer = json_schema(operation["responses"]["201"])
    assert components[answer["$ref"].rsplit("/", 1)[-1]]["oneOf"] == [
        ref("QuizResponse"),
        {"type": "array", "items": ref("QuizResponse")},
    ]
    assert [p["in"] for p in operation["parameters"]] == ["path"]


def test_only_lists_take_filters_and_pagination(schema: dict[str, Any]) -> None:
    for (method, path), operation in operations(schema).items():
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if "{" in path and path not in (
            "courses/{course_id}/progress/",
            "courses/{course_id}/learners/{user_id}/history/",
        ):
            # a detail view or an @action: quiz analytics has its one parameter
            assert query <= {"attempts"}, (method, path, query)
        if method != "GET":
            assert not query, (method, path, query)


def test_enrollment_update_answers_with_the_enrollment(schema: dict[str, Any]) -> None:
    ops = operations(schema)
    components = schema["components"]["schemas"]
    assert json_schema(ops[("PUT", "enrollments/{id}/")]["requestBody"]) == ref("EnrollmentUpdate")
    assert json_schema(ops[("PATCH", "enrollments/{id}/")]["requestBody"]) == ref(
        "PatchedEnrollmentUpdate"
    )
    for method in ("PUT", "PATCH"):
        assert json_schema(ops[(method, "enrollments/{id}/")]["responses"]["200"]) == ref(
            "Enrollment"
        )
    assert components["EnrollmentStatusEnum"]["enum"] == ["active", "completed", "dropped"]
    assert components["EnrollmentUpdateStatusEnum"]["enum"] == ["dropped"]
    assert components["Enrollment"]["properties"]["status"]["allOf"] == [
        ref("EnrollmentStatusEnum")
    ]


def test_create_or_return_endpoints_document_200_and_201(schema: dict[str, Any]) -> None:
    ops = operations(schema)
    for path, component in [
        ("enrollments/", "Enrollment"),
        ("task-progress/", "TaskProgress"),
        ("quiz-attempts/", "QuizAttemptDetail"),
        ("quiz-overrides/", "QuizOverride"),
    ]:
        responses = ops[("POST", path)]["responses"]
        assert json_schema(responses["200"]) == json_schema(responses["201"]) == ref(component)
    assert ProgressViewSet.create_may_return_existing


def test_nullable_fields_and_stored_enums(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name in ("CourseProgress", "MyCourse"):
        assert components[name]["properties"]["next_task"]["nullable"] is True, name
    progress = components["CourseProgress"]["properties"]
    assert progress["status"]["nullable"] is True
    assert ref("EnrollmentStatusEnum") in progress["status"]["oneOf"]
    for field in ("enrolled_at", "completed_at", "last_activity_at"):
        assert progress[field]["nullable"] is True, field
    for name in ("MyCourse", "RosterEntry"):
        assert components[name]["properties"]["status"] == ref("EnrollmentStatusEnum"), name
    assert components["QuizGrade"]["properties"]["grade"]["nullable"] is True
    for name, fields in [
        ("CourseAnalytics", ["completion_rate", "median_time_to_complete"]),
        ("TaskFunnel", ["completion_rate", "median_time_spent"]),
        ("QuizAnalytics", ["mean_percentage", "median_percentage", "sd_percentage"]),
        ("QuizAnalytics", ["pass_rate", "mean_time_taken", "cronbach_alpha"]),
        ("Item", ["facility", "discrimination"]),
    ]:
        for field in fields:
            assert components[name]["properties"][field]["nullable"] is True, (name, field)
    assert components["AttemptStatusEnum"]["enum"] == [
        "in_progress",
        "submitted",
        "completed",
        "abandoned",
    ]
    assert components["TaskStatusEnum"]["enum"] == ["not_started", "in_progress", "completed"]
    assert components["TimeSpent"]["properties"]["seconds"]["maximum"] == 3600
    assert components["Answer"]["properties"]["time_spent"]["maximum"] == 3600


def _descriptions(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "description" and isinstance(v, str)]
        return found + [d for v in node.values() for d in _descriptions(v)]
    if isinstance(node, list):
        return [d for v in node for d in _descriptions(v)]
    return []


def test_no_description_carries_sphinx_markup(schema: dict[str, Any]) -> None:
    descriptions = _descriptions(schema)
    assert len(descriptions) > 50
    for description in descriptions:
        for markup in (":func:", ":class:", ":mod:", ":data:", "``"):
            assert markup not in description, description
    analytics = operations(schema)[("GET", "courses/{course_id}/analytics/")]
    assert analytics["description"].endswith("`course_analytics`.")


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("``POST {course}`` enrolls", "`POST {course}` enrolls"),
        (":func:`~django_learning_progress.analytics.course_analytics`", "`course_analytics`"),
        (
            ":class:`django_learning_progress.helpers.CourseProgress`",
            "`django_learning_progress.helpers.CourseProgress`",
        ),
        (":ref:`the roster <api-roster>`", "`the roster`"),
        (":py:meth:`~a.B.c` and ``x``", "`c` and `x`"),
        ("* `active` - Active", "* `active` - Active"),
    ],
)
def test_plain_text(text: str, plain: str) -> None:
    assert plain_text(text) == plain


def test_page_parameters_are_bounded(schema: dict[str, Any]) -> None:
    for (_method, path), operation in operations(schema).items():
        parameters = {p["name"]: p for p in operation.get("parameters", [])}
        if "page_size" in parameters:
            assert parameters["page_size"]["schema"] == {
                "type": "integer",
                "minimum": 1,
                "maximum": 500,
            }, path
            assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}, path


def test_filters_allow_an_empty_value(schema: dict[str, Any]) -> None:
    parameters = operations(schema)[("GET", "quiz-attempts/")]["parameters"]
    flags = {p["name"]: p.get("allowEmptyValue", False) for p in parameters}
    assert flags == {
        "course": True,
        "ordering": True,
        "page": False,
        "page_size": False,
        "quiz": True,
        "status": True,
    }


def test_views_use_the_progress_schema_whatever_the_host_setting() -> None:
    from django_learning_progress.api import views
    from django_learning_progress.api.root import ApiRootView

    for view in (
        views.EnrollmentViewSet,
        views.QuizResponseViewSet,
        views.CourseProgressView,
        views.QuizAnalyticsView,
        views.MyProgressView,
        ApiRootView,
    ):
        assert isinstance(view.schema, ProgressAutoSchema), view


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["null", "0", "-1", "501", "1.5", " 2", "", "١٢", "99999999999"])
def test_an_invalid_page_size_is_a_field_error(make_user: Any, value: str) -> None:
    client = APIClient()
    client.force_authenticate(make_user())
    response = client.get(reverse("learning_progress:enrollment-list"), {"page_size": value})
    assert response.status_code == 400
    assert response.json() == {"page_size": ["A whole number from 1 to 500 is required."]}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["1", "500"])
def test_a_valid_page_size_is_used(make_user: Any, value: str) -> None:
    client = APIClient()
    client.force_authenticate(make_user())
    response = client.get(reverse("learning_progress:me-progress"), {"page_size": value})
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_root_view_links_every_endpoint() -> None:
    response = APIClient().get(PREFIX, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    links = response.json()
    base = "http://testserver" + PREFIX
    assert links["me-progress"] == base + "me/progress/"
    assert links["enrollments"] == base + "enrollments/"
    assert links["course-progress"] == base + "courses/{course_id}/progress/"
    assert links["quiz-analytics"] == base + "quizzes/{quiz_id}/analytics/"
    assert links["quiz-status"] == base + "quizzes/{quiz_id}/status/"
    assert links["quiz-regrade"] == base + "quizzes/{quiz_id}/regrade/"
    assert links["quiz-overrides"] == base + "quiz-overrides/"
    assert links["quiz-attempt-responses"] == base + "quiz-attempts/{id}/responses/"
    # every operation of the schema is behind one of the links
    templates = {re.sub(r"\{\w+\}", "{}", link.removeprefix(base)) for link in links.values()}
    for _, path in EXPECTED_CODES:
        if path:
            assert re.sub(r"\{\w+\}", "{}", path) in templates, path
    assert reverse("learning_progress:api-root") == PREFIX


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_paths_under_the_api_answer_json_404(make_user: Any, method: str) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(make_user())
    response = getattr(client, method)(PREFIX + "quiz-attempts/0.5/submit/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}

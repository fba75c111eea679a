from __future__ import annotations

import zoneinfo
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.test import APIClient

from django_learning_progress import services
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.conftest import CourseTree, build_course
from tests.testapp.models import Question

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(f"learning_progress:{name}", args=args)


@pytest.fixture
def people(make_user: Any, course_tree: CourseTree) -> dict[str, Any]:
    people = {
        "ada": make_user(username="ada"),
        "bob": make_user(username="bob"),
        "ines": make_user(username="ines"),
        "staff": make_user(username="staff", is_staff=True),
    }
    course_tree.course.instructors.add(people["ines"])
    return people


def client_for(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def ada(people: dict[str, Any]) -> APIClient:
    return client_for(people["ada"])


@pytest.fixture
def bob(people: dict[str, Any]) -> APIClient:
    return client_for(people["bob"])


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# -- anonymous ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "enrollment-list", ()),
        ("post", "enrollment-list", ()),
        ("get", "task-progress-list", ()),
        ("post", "task-progress-time", (1,)),
        ("get", "quiz-attempt-list", ()),
        ("post", "quiz-attempt-submit", (1,)),
        ("get", "quiz-response-list", ()),
        ("post", "quiz-response-grade", (1,)),
        ("get", "course-progress", (1,)),
        ("get", "me-progress", ()),
    ],
)
def test_anonymous_requests_are_refused(method: str, name: str, args: tuple) -> None:
    response = getattr(client_for(), method)(url(name, *args), {}, format="json")
    assert response.status_code in (401, 403)


# -- enrollments ----------------------------------------------------------------------


def test_enroll_and_repeat(ada: APIClient, people: dict, course_tree: CourseTree) -> None:
    course = course_tree.course.pk
    first = ada.post(url("enrollment-list"), {"course": course, "user": people["bob"].pk})
    assert first.status_code == 201, first.content
    assert first.json()["user"] == people["ada"].pk and first.json()["status"] == "active"
    again = ada.post(url("enrollment-list"), {"course": course})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert get_enrollment_model().objects.count() == 1


def test_enrollment_errors(ada: APIClient) -> None:
    response = ada.post(url("enrollment-list"), {"course": 999999})
    assert response.status_code == 400 and "course" in response.json()
    response = ada.post(url("enrollment-list"), {}, format="json")
    assert response.status_code == 400 and "course" in response.json()


def test_learners_see_only_their_enrollments(
    ada: APIClient, bob: APIClient, people: dict, course_tree: CourseTree
) -> None:
    mine = services.enroll(people["ada"], course_tree.course)
    services.enroll(people["bob"], course_tree.course)
    assert [e["id"] for e in results(ada.get(url("enrollment-list")))] == [mine.pk]
    assert ada.get(url("enrollment-detail", mine.pk)).status_code == 200
    assert bob.get(url("enrollment-detail", mine.pk)).status_code == 404
    assert bob.patch(url("enrollment-detail", mine.pk), {"status": "dropped"}).status_code == 404
    assert bob.get(url("enrollment-progress", mine.pk)).status_code == 404
    staff = client_for(people["staff"])
    assert len(results(staff.get(url("enrollment-list")))) == 2


def test_drop_enrollment(ada: APIClient, people: dict, course_tree: CourseTree) -> None:
    enrollment = services.enroll(people["ada"], course_tree.course)
    detail = url("enrollment-detail", enrollment.pk)
    refused = ada.patch(detail, {"status": "completed"}, format="json")
    assert refused.status_code == 400 and "status" in refused.json()
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    response = ada.patch(detail, {"status": "dropped", "settings": {"email": False}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "dropped" and response.json()["settings"] == {
        "email": False
    }
    assert ada.patch(detail, {"settings": [1]}, format="json").status_code == 400


def test_enrollment_progress(ada: APIClient, people: dict, course_tree: CourseTree) -> None:
    enrollment = services.enroll(people["ada"], course_tree.course)
    services.complete_task(people["ada"], course_tree.lessons[0])
    data = ada.get(url("enrollment-progress", enrollment.pk)).json()
    assert data["percentage"] == 25.0 and data["tasks_completed"] == 1
    assert data["tasks_total"] == 4 and data["next_task"] == course_tree.lessons[1].pk
    assert data["course"] == course_tree.course.pk and data["quizzes_total"] == 1


# -- task progress ---------------------------------------------------------------------


def test_task_journey(
    ada: APIClient, bob: APIClient, people: dict, course_tree: CourseTree
) -> None:
    lesson = course_tree.lessons[0]
    refused = ada.post(url("task-progress-list"), {"task": lesson.pk})
    assert refused.status_code == 400  # not enrolled
    services.enroll(people["ada"], course_tree.course)
    started = ada.post(url("task-progress-list"), {"task": lesson.pk})
    assert started.status_code == 201 and started.json()["status"] == "in_progress"
    pk = started.json()["id"]
    timed = ada.post(url("task-progress-time", pk), {"seconds": 30}, format="json")
    assert timed.status_code == 200 and timed.json()["time_spent"] == 30
    for bad in ({"seconds": -5}, {"seconds": 3601}, {"seconds": "ten"}, {}):
        response = ada.post(url("task-progress-time", pk), bad, format="json")
        assert response.status_code == 400 and "seconds" in response.json()
    assert bob.post(url("task-progress-time", pk), {"seconds": 5}).status_code == 404
    done = ada.post(url("task-progress-complete", pk))
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert get_task_progress_model().objects.get().time_spent == 30
    staff = client_for(people["staff"])
    assert staff.get(url("task-progress-detail", pk)).status_code == 200
    assert staff.post(url("task-progress-time", pk), {"seconds": 5}).status_code == 403


def test_task_progress_filters(ada: APIClient, people: dict, course_tree: CourseTree) -> None:
    other = build_course("Other")
    for tree in (course_tree, other):
        services.enroll(people["ada"], tree.course)
        services.start_task(people["ada"], tree.lessons[0])
    services.complete_task(people["ada"], other.lessons[1])
    listing = url("task-progress-list")
    assert len(results(ada.get(listing))) == 3
    assert len(results(ada.get(listing, {"course": other.course.pk}))) == 2
    assert len(results(ada.get(listing, {"status": "completed"}))) == 1
    assert len(results(ada.get(listing, {"task": course_tree.lessons[0].pk}))) == 1
    assert ada.get(listing, {"status": "nope"}).status_code == 400


# -- quizzes ------------------------------------------------------------------------------


def test_quiz_journey(
    ada: APIClient, bob: APIClient, people: dict, course_tree: CourseTree
) -> None:
    services.enroll(people["ada"], course_tree.course)
    quiz = course_tree.quizzes[0]
    started = ada.post(url("quiz-attempt-list"), {"quiz": quiz.pk})
    assert started.status_code == 201, started.content
    attempt = started.json()
    assert attempt["attempt_number"] == 1 and attempt["responses"] == []
    again = ada.post(url("quiz-attempt-list"), {"quiz": quiz.pk})
    assert again.status_code == 200 and again.json()["id"] == attempt["id"]
    answers = url("quiz-attempt-responses", attempt["id"])
    q0, q1, _q2 = course_tree.questions
    one = ada.post(answers, {"question": q0.pk, "response": "a0", "time_spent": 7}, format="json")
    assert one.status_code == 201, one.content
    assert one.json()["is_correct"] is None and one.json()["points_awarded"] is None
    many = ada.post(
        answers,
        [{"question": q1.pk, "response": "wrong"}, {"question": q0.pk, "response": "a0"}],
        format="json",
    )
    assert many.status_code == 201 and len(many.json()) == 2
    foreign = build_course("Other").questions[0]
    refused = ada.post(answers, {"question": foreign.pk, "response": "x"}, format="json")
    assert refused.status_code == 400 and "question" in refused.json()
    assert bob.post(answers, {"question": q0.pk, "response": "x"}, format="json").status_code == 404
    assert bob.post(url("quiz-attempt-submit", attempt["id"])).status_code == 404
    detail = ada.get(url("quiz-attempt-detail", attempt["id"])).json()
    assert all(r["is_correct"] is None for r in detail["responses"])
    submitted = ada.post(url("quiz-attempt-submit", attempt["id"]))
    assert submitted.status_code == 200
    graded = submitted.json()
    assert graded["status"] == "completed" and graded["score"] == "1.000"
    assert graded["percentage"] == "16.67" and graded["passed"] is True
    assert {r["question"]: r["is_correct"] for r in graded["responses"]} == {
        q0.pk: True,
        q1.pk: False,
    }
    closed = ada.post(answers, {"question": q0.pk, "response": "a0"}, format="json")
    assert closed.status_code == 400
    listed = results(ada.get(url("quiz-attempt-list"), {"quiz": quiz.pk, "status": "completed"}))
    assert [a["id"] for a in listed] == [attempt["id"]]
    assert results(bob.get(url("quiz-attempt-list"))) == []


def test_attempt_limits_and_abandon(ada: APIClient, people: dict) -> None:
    tree = build_course(max_attempts=1)
    services.enroll(people["ada"], tree.course)
    attempt = ada.post(url("quiz-attempt-list"), {"quiz": tree.quizzes[0].pk}).json()
    abandoned = ada.post(url("quiz-attempt-abandon", attempt["id"]))
    assert abandoned.status_code == 200 and abandoned.json()["status"] == "abandoned"
    refused = ada.post(url("quiz-attempt-list"), {"quiz": tree.quizzes[0].pk})
    assert refused.status_code == 400 and "quiz" in refused.json()


def test_read_only_fields_cannot_be_written(
    ada: APIClient, people: dict, course_tree: CourseTree
) -> None:
    services.enroll(people["ada"], course_tree.course)
    response = ada.post(
        url("quiz-attempt-list"),
        {
            "quiz": course_tree.quizzes[0].pk,
            "user": people["bob"].pk,
            "score": "99",
            "attempt_number": 7,
            "percentage": "100",
            "passed": True,
            "status": "completed",
        },
        format="json",
    )
    assert response.status_code == 201
    attempt = get_quiz_attempt_model().objects.get()
    assert (attempt.user, attempt.attempt_number, attempt.score) == (people["ada"], 1, None)
    assert attempt.status == AttemptStatus.IN_PROGRESS and attempt.passed is None


def essay_attempt(people: dict) -> tuple[CourseTree, Any]:
    tree = build_course("Essays", questions=1)
    tree.course.instructors.add(people["ines"])
    Question.objects.filter(pk=tree.questions[0].pk).update(kind=Question.KIND_ESSAY)
    services.enroll(people["ada"], tree.course)
    attempt = services.start_attempt(people["ada"], tree.quizzes[0])
    services.answer_question(people["ada"], attempt, tree.questions[0], "essay")
    services.submit_attempt(people["ada"], attempt)
    return tree, attempt


def test_manual_grading(ada: APIClient, bob: APIClient, people: dict) -> None:
    _tree, attempt = essay_attempt(people)
    response = get_quiz_response_model().objects.get()
    grade = url("quiz-response-grade", response.pk)
    assert ada.post(grade, {"points": "1"}, format="json").status_code == 403
    assert bob.post(grade, {"points": "1"}, format="json").status_code == 404
    ines = client_for(people["ines"])
    bad = ines.post(grade, {"points": "-1"}, format="json")
    assert bad.status_code == 400 and "points" in bad.json()
    too_many = ines.post(grade, {"points": "5"}, format="json")
    assert too_many.status_code == 400 and "points" in too_many.json()
    graded = ines.post(grade, {"points": "0.5"}, format="json")
    assert graded.status_code == 200, graded.content
    assert graded.json()["points_awarded"] == "0.500" and graded.json()["is_correct"] is False
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.COMPLETED and attempt.percentage == Decimal("50.00")
    staff = client_for(people["staff"])
    assert staff.post(grade, {"points": "1", "is_correct": True}, format="json").status_code == 200
    listed = results(ada.get(url("quiz-response-list"), {"attempt": attempt.pk}))
    assert [r["id"] for r in listed] == [response.pk]
    assert results(bob.get(url("quiz-response-list"))) == []


# -- instructors' and learners' progress views ----------------------------------------------


def test_course_progress(people: dict, course_tree: CourseTree, make_user: Any) -> None:
    for name in ("ada", "bob"):
        services.enroll(people[name], course_tree.course)
    services.complete_task(people["ada"], course_tree.lessons[0])
    services.add_time_spent(people["bob"], course_tree.lessons[1], 90)
    attempt = services.start_attempt(people["ada"], course_tree.quizzes[0])
    services.answer_question(people["ada"], attempt, course_tree.questions[2], "a2")
    services.submit_attempt(people["ada"], attempt)
    services.drop_enrollment(services.enroll(make_user(), course_tree.course))
    roster = url("course-progress", course_tree.course.pk)
    assert client_for(people["ada"]).get(roster).status_code == 403
    ines = client_for(people["ines"])
    rows = results(ines.get(roster))
    assert [r["username"] for r in rows][:2] == ["ada", "bob"] and len(rows) == 3
    ada_row = rows[0]
    assert ada_row["percentage"] == 25.0 and ada_row["tasks_completed"] == 1
    assert ada_row["quiz_grades"] == [
        {"quiz": course_tree.quizzes[0].pk, "grade": "50.00", "passed": True}
    ]
    assert rows[1]["time_spent"] == 90 and rows[1]["quiz_grades"][0]["grade"] is None
    by_time = results(ines.get(roster, {"ordering": "-time_spent"}))
    assert by_time[0]["username"] == "bob"
    active = results(ines.get(roster, {"status": "active"}))
    assert len(active) == 2
    staff = client_for(people["staff"])
    assert staff.get(roster).status_code == 200
    assert staff.get(url("course-progress", 999999)).status_code == 404
    assert staff.get(url("course-progress", "not-a-pk")).status_code == 404


def test_roster_figures_do_not_depend_on_the_ordering(
    people: dict, make_user: Any, course_tree: CourseTree
) -> None:
    """Enrollment-column orderings page first and compute the page's figures;
    figure orderings rank in the database. Both give every learner the same row."""
    learners = [make_user() for _ in range(5)]
    for n, user in enumerate(learners):
        services.enroll(user, course_tree.course)
        for lesson in course_tree.lessons[:n]:
            services.complete_task(user, lesson)
        if n % 2:
            services.add_time_spent(user, course_tree.lessons[-1], 10 * n)
    services.drop_enrollment(services.enroll(make_user(), course_tree.course))
    other = build_course("Other")
    services.enroll(learners[0], other.course)
    services.complete_task(learners[0], other.lessons[0])  # another course: no effect
    roster = url("course-progress", course_tree.course.pk)
    ines = client_for(people["ines"])

    def by_enrollment(params: dict) -> list[dict]:
        return sorted(results(ines.get(roster, params)), key=lambda row: row["enrollment"])

    plain = by_enrollment({})
    assert [row["tasks_completed"] for row in plain] == [0, 1, 2, 3, 4, 0]
    assert [row["time_spent"] for row in plain] == [0, 10, 0, 30, 0, 0]
    for ordering in ("-percentage", "time_spent", "-last_activity_at", "-enrolled_at", "user"):
        assert by_enrollment({"ordering": ordering}) == plain, ordering
    assert by_enrollment({"status": "active", "ordering": "-percentage"}) == plain[:4]
    top = results(ines.get(roster, {"ordering": "-percentage", "page_size": 2}))
    assert [row["percentage"] for row in top] == [100.0, 75.0]


def test_roster_datetimes_follow_the_current_time_zone(
    people: dict, course_tree: CourseTree
) -> None:
    services.enroll(people["ada"], course_tree.course)
    services.complete_task(people["ada"], course_tree.lessons[0])
    enrollment = get_enrollment_model().objects.get(user=people["ada"])
    last = get_task_progress_model().objects.get(user=people["ada"]).last_activity_at
    field = serializers.DateTimeField()
    roster = url("course-progress", course_tree.course.pk)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Kolkata")):
        row = results(client_for(people["ines"]).get(roster))[0]
        assert row["enrolled_at"] == field.to_representation(enrollment.enrolled_at)
        assert row["last_activity_at"] == field.to_representation(last)
    assert row["enrolled_at"].endswith("+05:30")
    utc_row = results(client_for(people["ines"]).get(roster))[0]
    assert utc_row["enrolled_at"] == field.to_representation(enrollment.enrolled_at)
    assert utc_row["enrolled_at"].endswith("Z")


def test_roster_with_the_hosts_pagination(
    people: dict, course_tree: CourseTree, settings: Any
) -> None:
    for name in ("ada", "bob"):
        services.enroll(people[name], course_tree.course)
    settings.REST_FRAMEWORK = {
        **getattr(settings, "REST_FRAMEWORK", {}),
        "DEFAULT_PAGINATION_CLASS": "tests.test_api.OnePerPage",
    }
    roster = url("course-progress", course_tree.course.pk)
    ines = client_for(people["ines"])
    first = ines.get(roster).json()
    second = ines.get(roster, {"offset": 1}).json()
    assert first["count"] == 2 and [r["username"] for r in first["results"]] == ["ada"]
    assert [r["username"] for r in second["results"]] == ["bob"]
    by_user = ines.get(roster, {"ordering": "-user"}).json()
    assert [r["username"] for r in by_user["results"]] == ["bob"]
    by_figure = ines.get(roster, {"ordering": "-percentage,-user"}).json()
    assert [r["username"] for r in by_figure["results"]] == ["bob"]


def test_me_progress(ada: APIClient, people: dict, course_tree: CourseTree) -> None:
    services.enroll(people["ada"], course_tree.course)
    services.complete_task(people["ada"], course_tree.lessons[0])
    rows = results(ada.get(url("me-progress")))
    assert len(rows) == 1
    assert rows[0]["course"] == course_tree.course.pk and rows[0]["percentage"] == 25.0
    assert rows[0]["title"] == str(course_tree.course)
    assert results(client_for(people["bob"]).get(url("me-progress"))) == []


class OnePerPage(LimitOffsetPagination):
    default_limit = 1


def test_host_pagination_settings_are_respected(
    ada: APIClient, people: dict, settings: Any
) -> None:
    for n in range(3):
        services.enroll(people["ada"], build_course(f"C{n}").course)
    assert len(results(ada.get(url("enrollment-list"), {"page_size": 2}))) == 2
    settings.REST_FRAMEWORK = {
        **getattr(settings, "REST_FRAMEWORK", {}),
        "DEFAULT_PAGINATION_CLASS": "tests.test_api.OnePerPage",
    }
    page = ada.get(url("enrollment-list")).json()
    assert page["count"] == 3 and len(page["results"]) == 1 and "next" in page


# -- query counts -----------------------------------------------------------------------


def populate(people: dict, tree: CourseTree, make_user: Any, learners: int) -> None:
    for n in range(learners):
        user = people["ada"] if n == 0 else make_user()
        services.enroll(user, tree.course)
        services.complete_task(user, tree.lessons[0])
        attempt = services.start_attempt(user, tree.quizzes[0])
        services.answer_question(user, attempt, tree.questions[0], "a0")
        services.submit_attempt(user, attempt)
    for n in range(learners - 1):  # ada's own rows grow too
        other = build_course(f"Extra {n}", modules=1, lessons_per_module=1, questions=1)
        services.enroll(people["ada"], other.course)
        services.complete_task(people["ada"], other.lessons[0])
        attempt = services.start_attempt(people["ada"], other.quizzes[0])
        services.answer_question(people["ada"], attempt, other.questions[0], "a0")
        services.submit_attempt(people["ada"], attempt)


LISTS = [
    ("ada", "enrollment-list", False, {}),
    ("ada", "task-progress-list", False, {}),
    ("ada", "quiz-attempt-list", False, {}),
    ("ada", "quiz-response-list", False, {}),
    ("ada", "me-progress", False, {}),
    ("ines", "course-progress", True, {}),
    ("ines", "course-progress", True, {"ordering": "-percentage"}),
]


def list_queries(
    people: dict, who: str, name: str, per_course: bool, course: Any, params: dict
) -> tuple[int, int]:
    client = client_for(people[who])
    target = url(name, course.pk) if per_course else url(name)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(target, {"page_size": 100, **params})
    return len(queries), len(results(response))


@pytest.mark.parametrize(("who", "name", "per_course", "params"), LISTS)
def test_list_query_counts_do_not_grow(
    people: dict, make_user: Any, who: str, name: str, per_course: bool, params: dict
) -> None:
    small = build_course("Small")
    small.course.instructors.add(people["ines"])
    populate(people, small, make_user, 1)
    few, rows_few = list_queries(people, who, name, per_course, small.course, params)
    big = build_course("Big")
    big.course.instructors.add(people["ines"])
    populate(people, big, make_user, 50)
    many, rows_many = list_queries(people, who, name, per_course, big.course, params)
    assert rows_many >= 50 > rows_few
    assert many == few


# -- analytics ----------------------------------------------------------------------------


def test_course_analytics_endpoint(people: dict, course_tree: CourseTree) -> None:
    from django_learning_progress import analytics

    services.enroll(people["ada"], course_tree.course)
    services.complete_task(people["ada"], course_tree.lessons[0])
    target = url("course-analytics", course_tree.course.pk)
    assert client_for().get(target).status_code in (401, 403)
    assert client_for(people["ada"]).get(target).status_code == 403
    for who in ("ines", "staff"):
        response = client_for(people[who]).get(target)
        assert response.status_code == 200
        assert response.json() == analytics.course_analytics(course_tree.course)
    assert client_for(people["staff"]).get(url("course-analytics", 0)).status_code == 404


def test_quiz_analytics_endpoint(people: dict, course_tree: CourseTree) -> None:
    from django_learning_progress import analytics

    services.enroll(people["ada"], course_tree.course)
    attempt = services.start_attempt(people["ada"], course_tree.quizzes[0])
    services.answer_question(people["ada"], attempt, course_tree.questions[0], "a0")
    services.submit_attempt(people["ada"], attempt)
    quiz = course_tree.quizzes[0]
    target = url("quiz-analytics", quiz.pk)
    assert client_for(people["ada"]).get(target).status_code == 403
    assert client_for(people["bob"]).get(target).status_code == 403
    ines = client_for(people["ines"])
    for attempts in ("all", "first", "last", "best"):
        response = ines.get(target, {"attempts": attempts})
        assert response.status_code == 200
        assert response.json() == analytics.quiz_analytics(quiz, attempts=attempts)
    bad = ines.get(target, {"attempts": "median"})
    assert bad.status_code == 400 and "attempts" in bad.json()
    assert ines.get(url("quiz-analytics", 0)).status_code == 404


def test_instructors_list_their_courses_rows(people: dict) -> None:
    _tree, attempt = essay_attempt(people)
    course = attempt.course_id
    ines = client_for(people["ines"])
    assert results(ines.get(url("quiz-response-list"))) == []  # nothing of her own
    awaiting = results(
        ines.get(url("quiz-response-list"), {"course": course, "needs_grading": True})
    )
    assert [r["attempt"] for r in awaiting] == [attempt.pk]
    attempts = results(ines.get(url("quiz-attempt-list"), {"course": course}))
    assert [a["id"] for a in attempts] == [attempt.pk]
    assert len(results(ines.get(url("enrollment-list"), {"course": course}))) == 1
    # Not her course: only her own rows, i.e. none.
    other = build_course("Elsewhere")
    assert results(ines.get(url("quiz-attempt-list"), {"course": other.course.pk})) == []
    bob = client_for(people["bob"])
    assert results(bob.get(url("quiz-response-list"), {"course": course})) == []
    response_id = awaiting[0]["id"]
    graded = ines.post(url("quiz-response-grade", response_id), {"points": "1"}, format="json")
    assert graded.status_code == 200
    left = ines.get(url("quiz-response-list"), {"course": course, "needs_grading": True})
    assert results(left) == []


def test_answering_a_question_twice_in_one_request(
    ada: APIClient, people: dict, course_tree: CourseTree
) -> None:
    services.enroll(people["ada"], course_tree.course)
    attempt = services.start_attempt(people["ada"], course_tree.quizzes[0])
    q0 = course_tree.questions[0]
    response = ada.post(
        url("quiz-attempt-responses", attempt.pk),
        [{"question": q0.pk, "response": "a0"}, {"question": q0.pk, "response": "b"}],
        format="json",
    )
    assert response.status_code == 400 and "question" in response.json()
    assert not get_quiz_response_model().objects.exists()


def test_every_endpoint_refuses_anonymous_and_other_learners(
    people: dict, course_tree: CourseTree
) -> None:
    """One row of each kind owned by ada; anonymous gets 401/403, bob gets 404."""
    enrollment = services.enroll(people["ada"], course_tree.course)
    progress = services.start_task(people["ada"], course_tree.lessons[0])
    attempt = services.start_attempt(people["ada"], course_tree.quizzes[0])
    response = services.answer_question(people["ada"], attempt, course_tree.questions[0], "a0")
    owned = [
        ("get", "enrollment-detail", enrollment.pk),
        ("patch", "enrollment-detail", enrollment.pk),
        ("put", "enrollment-detail", enrollment.pk),
        ("get", "enrollment-progress", enrollment.pk),
        ("get", "task-progress-detail", progress.pk),
        ("post", "task-progress-time", progress.pk),
        ("post", "task-progress-complete", progress.pk),
        ("get", "quiz-attempt-detail", attempt.pk),
        ("post", "quiz-attempt-responses", attempt.pk),
        ("post", "quiz-attempt-submit", attempt.pk),
        ("post", "quiz-attempt-abandon", attempt.pk),
        ("get", "quiz-response-detail", response.pk),
        ("post", "quiz-response-grade", response.pk),
    ]
    bob = client_for(people["bob"])
    for method, name, pk in owned:
        target = url(name, pk)
        assert getattr(client_for(), method)(target, {}, format="json").status_code in (401, 403)
        assert getattr(bob, method)(target, {}, format="json").status_code == 404, name
    for name in ("course-progress", "course-analytics"):
        assert client_for().get(url(name, course_tree.course.pk)).status_code in (401, 403)
        assert bob.get(url(name, course_tree.course.pk)).status_code == 403
    quiz_analytics = url("quiz-analytics", course_tree.quizzes[0].pk)
    assert client_for().get(quiz_analytics).status_code in (401, 403)
    # Nothing changed for ada.
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_reading_an_overdue_attempt_closes_it(ada: APIClient, people: dict) -> None:
    from datetime import timedelta

    from django.utils import timezone

    tree = build_course(time_limit=10)
    services.enroll(people["ada"], tree.course)
    attempt = services.start_attempt(people["ada"], tree.quizzes[0])
    assert ada.get(url("quiz-attempt-detail", attempt.pk)).json()["status"] == "in_progress"
    get_quiz_attempt_model().objects.filter(pk=attempt.pk).update(
        deadline_at=timezone.now() - timedelta(minutes=1)
    )
    data = ada.get(url("quiz-attempt-detail", attempt.pk)).json()
    assert data["status"] == "completed" and data["submitted_at"] is not None

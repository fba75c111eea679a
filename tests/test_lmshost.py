"""The app on a host shaped like a real LMS (``tests/lmshost``).

Run with ``DJANGO_SETTINGS_MODULE=tests.settings_lmshost`` (tox envs ``lmshost``
and ``lmshost-postgres``); skipped under the other settings. The host has
Django's own user model, a ``Course`` with a publishing ``status``, a
``QuizTask`` that is a multi-table subclass of ``LearningTask``, unpublished
and soft-deleted tasks, options with ``is_correct``, and its old progress
table (``LegacyCompletion``) still installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_learning_progress import analytics, helpers, services
from django_learning_progress.choices import EnrollmentStatus, TaskStatus
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import get_quiz_response_model, get_task_progress_model

LMSHOST = getattr(settings, "LEARNING_PROGRESS_TASK_MODEL", None) == "lmshost.LearningTask"

pytestmark = [
    pytest.mark.skipif(
        not LMSHOST, reason="needs DJANGO_SETTINGS_MODULE=tests.settings_lmshost (tox -e lmshost)"
    ),
    pytest.mark.django_db,
]

if LMSHOST:  # the host app is installed only under tests.settings_lmshost
    from tests.lmshost.models import (
        Course,
        LearningTask,
        LegacyCompletion,
        Option,
        Question,
        QuizTask,
    )


# -- the host's content -------------------------------------------------------------


@dataclass
class Catalog:
    course: Any
    intro: Any  # published
    draft: Any  # unpublished
    removed: Any  # soft-deleted
    quiz: Any  # a QuizTask: a task that its quiz completes
    outro: Any  # published
    questions: list[Any] = field(default_factory=list)

    @property
    def required(self) -> list[Any]:
        return [self.intro, self.quiz, self.outro]


def add_questions(quiz: Any, count: int) -> list[Any]:
    """``count`` questions worth 1 point, each with a right and two wrong options."""
    questions = Question.objects.bulk_create(
        Question(quiz=quiz, text=f"Q{n}", points=Decimal(1), position=n) for n in range(count)
    )
    Option.objects.bulk_create(
        Option(question=question, text=text, is_correct=text == "right")
        for question in questions
        for text in ("right", "wrong", "also wrong")
    )
    return questions


def build_catalog(title: str = "Django for LMSs", **quiz_fields: Any) -> Catalog:
    course = Course.objects.create(title=title, status=Course.Status.PUBLISHED)
    quiz_fields.setdefault("pass_mark", Decimal(50))
    catalog = Catalog(
        course=course,
        intro=LearningTask.objects.create(course=course, title="Intro", position=1),
        draft=LearningTask.objects.create(
            course=course, title="Coming soon", position=2, is_published=False
        ),
        removed=LearningTask.objects.create(course=course, title="Old lesson", position=3),
        quiz=QuizTask.objects.create(course=course, title="Check", position=4, **quiz_fields),
        outro=LearningTask.objects.create(course=course, title="Outro", position=5),
    )
    catalog.removed.soft_delete()
    catalog.questions = add_questions(catalog.quiz, 2)
    return catalog


def option(question: Any, *, right: bool) -> int:
    return next(o.pk for o in question.options.all() if o.is_correct == right)


def take_quiz(user: Any, quiz: Any, *, right: bool) -> Any:
    attempt = services.start_attempt(user, quiz)
    answers = [(q, option(q, right=right), 0) for q in Question.objects.filter(quiz=quiz)]
    services.answer_questions(user, attempt, answers)
    return services.submit_attempt(user, attempt)


def task_status(user: Any, task: Any) -> str | None:
    row = get_task_progress_model().objects.filter(user=user, task=task.pk).first()
    return None if row is None else row.status


def api_client(user: Any) -> Any:
    pytest.importorskip("rest_framework", reason="the REST API needs the [drf] extra")
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def catalog(db: None) -> Catalog:
    return build_catalog()


@pytest.fixture
def enrolled(catalog: Catalog, make_user: Any) -> Any:
    learner = make_user()
    services.enroll(learner, catalog.course)
    return learner


# -- the host is a valid one -----------------------------------------------------------


def test_check_is_clean() -> None:
    out = StringIO()
    call_command("check", databases=["default"], stdout=out)
    assert "no issues" in out.getvalue()


def test_the_models_and_migrations_agree() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # SystemExit if not
    assert "No changes detected" in out.getvalue()


def test_the_quiz_migration_runs_before_the_apps_first() -> None:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    plan = loader.graph.forwards_plan(("learning_progress", "0001_initial"))
    assert ("lmshost", "0002_quiztask_question_option") in plan


def test_the_soft_delete_manager_is_the_default(catalog: Catalog) -> None:
    assert LearningTask._default_manager.name == "objects"
    assert QuizTask._default_manager.name == "objects"
    assert not LearningTask.objects.filter(pk=catalog.removed.pk).exists()
    assert LearningTask.all_objects.filter(pk=catalog.removed.pk).exists()


def test_a_quiz_task_is_one_of_the_required_tasks(catalog: Catalog) -> None:
    adapter = get_content_adapter()
    required = list(adapter.required_tasks(catalog.course).values_list("pk", flat=True))
    assert required == [t.pk for t in catalog.required]
    # The parent link is the quiz's task; a task row finds its quiz.
    assert adapter.get_quiz_task_id(catalog.quiz) == catalog.quiz.pk
    task_row = LearningTask.objects.get(pk=catalog.quiz.pk)
    assert adapter.task_quiz(task_row) == catalog.quiz
    assert adapter.task_quiz(catalog.intro) is None
    assert list(adapter.course_quizzes(catalog.course)) == [catalog.quiz]


# -- quizzes that complete tasks ---------------------------------------------------------


def test_a_passed_attempt_completes_the_quiz_task_and_the_course(
    catalog: Catalog, enrolled: Any
) -> None:
    services.complete_task(enrolled, catalog.intro)
    services.complete_task(enrolled, catalog.outro)
    assert helpers.calculate_progress_percentage(enrolled, catalog.course) == pytest.approx(66.67)

    failed = take_quiz(enrolled, catalog.quiz, right=False)
    assert failed.passed is False
    assert task_status(enrolled, catalog.quiz) is None
    assert not helpers.is_course_completed(enrolled, catalog.course)

    passed = take_quiz(enrolled, catalog.quiz, right=True)
    assert passed.passed is True
    assert task_status(enrolled, catalog.quiz) == TaskStatus.COMPLETED
    progress = helpers.get_course_progress(enrolled, catalog.course)
    assert (progress.status, progress.tasks_total, progress.percentage) == (
        EnrollmentStatus.COMPLETED,
        3,
        100.0,
    )
    # The course's own ``status`` field is the host's and is left alone.
    catalog.course.refresh_from_db()
    assert catalog.course.status == Course.Status.PUBLISHED
    (row,) = helpers.get_enrolled_courses(enrolled)
    assert (row.course.status, row.status) == ("published", EnrollmentStatus.COMPLETED)


def test_complete_task_on_a_quiz_task_is_refused(catalog: Catalog, enrolled: Any) -> None:
    # Whether the caller holds the QuizTask or its LearningTask row.
    for task in (catalog.quiz, LearningTask.objects.get(pk=catalog.quiz.pk)):
        with pytest.raises(ValidationError) as excinfo:
            services.complete_task(enrolled, task)
        assert excinfo.value.error_dict["task"][0].code == "completed_by_quiz"
    assert task_status(enrolled, catalog.quiz) is None  # the refusal stored nothing


def test_the_api_refuses_completing_a_quiz_task(catalog: Catalog, enrolled: Any) -> None:
    client = api_client(enrolled)
    started = client.post("/api/progress/task-progress/", {"task": catalog.quiz.pk})
    assert started.status_code == 201, started.content
    response = client.post(f"/api/progress/task-progress/{started.json()['id']}/complete/")
    assert response.status_code == 400
    assert "task" in response.json()
    assert task_status(enrolled, catalog.quiz) == TaskStatus.IN_PROGRESS


def test_passed_or_exhausted_completes_after_the_last_failed_attempt(
    catalog: Catalog, enrolled: Any
) -> None:
    quiz = catalog.quiz
    quiz.max_attempts, quiz.completion_rule = 2, QuizTask.CompletionRule.PASSED_OR_EXHAUSTED
    quiz.save()
    services.complete_task(enrolled, catalog.intro)
    services.complete_task(enrolled, catalog.outro)
    take_quiz(enrolled, quiz, right=False)
    assert task_status(enrolled, quiz) is None
    take_quiz(enrolled, quiz, right=False)  # the last allowed attempt, failed too
    assert task_status(enrolled, quiz) == TaskStatus.COMPLETED
    assert helpers.is_course_completed(enrolled, catalog.course)


# -- unpublished and soft-deleted tasks ----------------------------------------------------


def test_unpublished_and_soft_deleted_tasks_do_not_count(
    catalog: Catalog, enrolled: Any, make_user: Any
) -> None:
    # Work on the draft task, and on a task completed before it was soft-deleted.
    services.complete_task(enrolled, catalog.draft)
    services.complete_task(enrolled, catalog.intro)
    LearningTask.all_objects.filter(pk=catalog.removed.pk).update(deleted_at=None)
    catalog.removed.refresh_from_db()
    services.complete_task(enrolled, catalog.removed)
    catalog.removed.soft_delete()
    idle = make_user()
    services.enroll(idle, catalog.course)

    # One learner's figures and next task.
    progress = helpers.get_course_progress(enrolled, catalog.course)
    assert (progress.tasks_total, progress.tasks_completed) == (3, 1)
    assert progress.percentage == pytest.approx(33.33)
    assert progress.next_task_id == catalog.quiz.pk
    assert helpers.get_course_progress(idle, catalog.course).next_task_id == catalog.intro.pk
    assert helpers.get_progress_stats(enrolled, catalog.course)["total_tasks"] == 3

    # The roster, both ways.
    roster = {e.user_id: e for e in helpers.course_roster(catalog.course)}
    assert (roster[enrolled.pk].tasks_total, roster[enrolled.pk].tasks_completed) == (3, 1)
    assert roster[idle.pk].percentage == 0
    enrollment = roster[enrolled.pk]
    (loaded,) = helpers.load_roster_figures(catalog.course, [enrollment])
    assert (loaded.tasks_total, loaded.tasks_completed) == (3, 1)

    # Analytics: one drop-off row per required task only.
    report = analytics.course_analytics(catalog.course)
    assert [row["task"] for row in report["tasks"]] == [t.pk for t in catalog.required]
    assert report["tasks"][0]["completed"] == 1

    # Once the last two required tasks are done, the course completes, whatever
    # happened to the draft and the soft-deleted task.
    services.complete_task(enrolled, catalog.outro)
    take_quiz(enrolled, catalog.quiz, right=True)
    assert helpers.is_course_completed(enrolled, catalog.course)


def test_the_api_sees_only_required_tasks(catalog: Catalog, enrolled: Any, make_user: Any) -> None:
    services.complete_task(enrolled, catalog.draft)
    services.complete_task(enrolled, catalog.intro)
    instructor = make_user()
    catalog.course.instructors.add(instructor)

    mine = api_client(enrolled).get("/api/progress/me/progress/")
    assert mine.status_code == 200
    (row,) = mine.json()["results"] if "results" in mine.json() else mine.json()
    assert (row["tasks_total"], row["tasks_completed"]) == (3, 1)

    client = api_client(instructor)
    roster = client.get(f"/api/progress/courses/{catalog.course.pk}/progress/")
    assert roster.status_code == 200, roster.content
    (entry,) = roster.json()["results"]
    assert (entry["tasks_total"], entry["tasks_completed"]) == (3, 1)
    report = client.get(f"/api/progress/courses/{catalog.course.pk}/analytics/")
    assert [row["task"] for row in report.json()["tasks"]] == [t.pk for t in catalog.required]
    # A learner is no instructor of the course.
    forbidden = api_client(enrolled).get(f"/api/progress/courses/{catalog.course.pk}/progress/")
    assert forbidden.status_code == 403

    # A soft-deleted task is not there to start.
    gone = api_client(enrolled).post("/api/progress/task-progress/", {"task": catalog.removed.pk})
    assert gone.status_code == 400
    assert "task" in gone.json()


def test_the_admin_report_lists_only_required_tasks(
    catalog: Catalog, enrolled: Any, make_user: Any, client: Any
) -> None:
    from django_learning_progress.admin import report_url

    services.complete_task(enrolled, catalog.intro)
    services.complete_task(enrolled, catalog.draft)
    instructor = make_user(is_staff=True)  # the admin site lets in staff only
    catalog.course.instructors.add(instructor)
    client.force_login(instructor)
    page = client.get(report_url(catalog.course))
    assert page.status_code == 200
    body = page.content.decode()
    assert all(task.title in body for task in catalog.required)
    assert catalog.draft.title not in body and catalog.removed.title not in body


# -- checking answers against the options --------------------------------------------------


def test_validate_response_refusals_store_nothing(catalog: Catalog, enrolled: Any) -> None:
    first, second = catalog.questions
    attempt = services.start_attempt(enrolled, catalog.quiz)
    refused = [
        option(second, right=True),  # another question's option
        str(option(first, right=True)),  # not an int
        True,
        None,
        [option(first, right=True)],
    ]
    for response in refused:
        with pytest.raises(ValidationError) as excinfo:
            services.answer_question(enrolled, attempt, first, response)
        assert excinfo.value.error_dict["response"][0].code == "invalid_option"
    # All or nothing: one refused answer refuses the others of the call.
    with pytest.raises(ValidationError):
        services.answer_questions(
            enrolled,
            attempt,
            [(first, option(first, right=True), 0), (second, option(first, right=True), 0)],
        )
    assert not get_quiz_response_model().objects.filter(attempt=attempt).exists()


def test_the_api_answers_400_for_a_refused_option(catalog: Catalog, enrolled: Any) -> None:
    first, second = catalog.questions
    client = api_client(enrolled)
    started = client.post("/api/progress/quiz-attempts/", {"quiz": catalog.quiz.pk})
    assert started.status_code == 201, started.content
    url = f"/api/progress/quiz-attempts/{started.json()['id']}/responses/"
    for response in (option(second, right=True), "1", 1.5):
        answer = client.post(url, {"question": first.pk, "response": response}, format="json")
        assert answer.status_code == 400, answer.content
        assert answer.json() == {"response": [answer.json()["response"][0]]}
    batch = [
        {"question": first.pk, "response": option(first, right=True)},
        {"question": second.pk, "response": option(first, right=True)},
    ]
    assert client.post(url, batch, format="json").status_code == 400
    assert not get_quiz_response_model().objects.exists()
    ok = client.post(
        url, {"question": first.pk, "response": option(first, right=True)}, format="json"
    )
    assert ok.status_code == 201, ok.content


def queries_to_answer_and_submit(make_user: Any, questions: int) -> tuple[int, int]:
    catalog = build_catalog(f"{questions} questions")
    quiz = catalog.quiz
    Question.objects.filter(quiz=quiz).delete()
    asked = add_questions(quiz, questions)
    learner = make_user()
    services.enroll(learner, catalog.course)
    attempt = services.start_attempt(learner, quiz)
    # The learner's page has the questions with their options.
    shown = list(Question.objects.filter(pk__in=[q.pk for q in asked]).prefetch_related("options"))
    answers = [(q, option(q, right=True), 1) for q in shown]
    with CaptureQueriesContext(connection) as answering:
        services.answer_questions(learner, attempt, answers)
    with CaptureQueriesContext(connection) as submitting:
        attempt = services.submit_attempt(learner, attempt)
    assert attempt.percentage == 100
    assert task_status(learner, quiz) == TaskStatus.COMPLETED
    return len(answering), len(submitting)


def test_answering_and_submitting_take_as_many_queries_for_5_or_50_questions(
    make_user: Any,
) -> None:
    assert queries_to_answer_and_submit(make_user, 5) == queries_to_answer_and_submit(make_user, 50)


# -- the host's old progress table ---------------------------------------------------------


def copy_legacy_completions() -> int:
    """The recipe in docs/upgrading.rst: old completions into the app, with the services.

    Tasks that are quizzes are skipped: their quiz's rule completes them.
    Returns how many rows were copied.
    """
    copied = 0
    rows = (
        LegacyCompletion.objects.filter(task__quiztask__isnull=True)
        .select_related("user", "task__course")
        .order_by("pk")
    )
    for row in rows.iterator():
        course = row.task.course
        services.enroll(row.user, course)
        services.complete_task(row.user, row.task)
        copied += 1
    return copied


def test_old_completions_coexist_and_copy_over(catalog: Catalog, make_user: Any) -> None:
    from django.utils import timezone

    ada, bob = make_user(), make_user()
    now = timezone.now()
    old = [
        (ada, catalog.intro),
        (ada, catalog.outro),
        (ada, catalog.quiz),  # the old system let learners tick quizzes off
        (ada, catalog.draft),
        (bob, catalog.intro),
    ]
    LegacyCompletion.objects.bulk_create(
        LegacyCompletion(user=user, task=task, completed_at=now) for user, task in old
    )

    # The old table and the app's tables live side by side.
    tables = connection.introspection.table_names()
    assert "lmshost_legacycompletion" in tables
    assert get_task_progress_model()._meta.db_table in tables

    assert copy_legacy_completions() == 4
    assert LegacyCompletion.objects.count() == 5  # untouched
    copy_legacy_completions()  # running it again changes nothing
    assert get_task_progress_model().objects.count() == 4

    required = {t.pk for t in catalog.required}
    for user in (ada, bob):
        # The old figure, counted the app's way: required tasks that are not quizzes.
        legacy = set(
            LegacyCompletion.objects.filter(
                user=user, task__in=required, task__quiztask__isnull=True
            ).values_list("task", flat=True)
        )
        progress = helpers.get_course_progress(user, catalog.course)
        assert progress.tasks_completed == len(legacy)
        done = get_task_progress_model().objects.filter(user=user, status=TaskStatus.COMPLETED)
        assert set(done.filter(task__in=required).values_list("task", flat=True)) == legacy
    # Ada's quiz task is not completed by the copy; passing the quiz completes it.
    assert helpers.get_course_progress(ada, catalog.course).next_task_id == catalog.quiz.pk
    assert not helpers.is_course_completed(ada, catalog.course)
    take_quiz(ada, catalog.quiz, right=True)
    assert helpers.is_course_completed(ada, catalog.course)


def test_attempts_at_a_soft_deleted_quiz_still_close(django_user_model: Any) -> None:
    """The host removes a quiz while attempts are open: they can still be
    abandoned and submitted (the services read content with the base manager)."""
    from tests.lmshost.models import Course, QuizTask

    learner = django_user_model.objects.create_user(username="ann")
    course = Course.objects.create(title="C")
    quiz = QuizTask.objects.create(course=course, title="Q", position=1)
    services.enroll(learner, course)
    first = services.start_attempt(learner, quiz)
    quiz.soft_delete()
    assert services.abandon_attempt(learner, first).status == "abandoned"
    QuizTask.all_objects.filter(pk=quiz.pk).update(deleted_at=None)
    second = services.start_attempt(learner, quiz)
    quiz.soft_delete()
    assert services.submit_attempt(learner, second).status == "completed"

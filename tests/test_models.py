from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import ProtectedError

from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.conftest import CourseTree

pytestmark = pytest.mark.django_db


def make_attempt(user: Any, tree: CourseTree, number: int = 1, **kwargs: Any) -> Any:
    return get_quiz_attempt_model().objects.create(
        user=user, quiz=tree.quizzes[0], course=tree.course, attempt_number=number, **kwargs
    )


def test_defaults(learner: Any, course_tree: CourseTree) -> None:
    enrollment = get_enrollment_model().objects.create(user=learner, course=course_tree.course)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert enrollment.settings == {}
    assert enrollment.enrolled_at is not None and enrollment.completed_at is None
    progress = get_task_progress_model().objects.create(
        user=learner, task=course_tree.lessons[0], course=course_tree.course
    )
    assert progress.status == TaskStatus.NOT_STARTED and progress.time_spent == 0
    attempt = make_attempt(learner, course_tree)
    assert attempt.status == AttemptStatus.IN_PROGRESS and attempt.passed is None
    response = get_quiz_response_model().objects.create(
        attempt=attempt, question=course_tree.questions[0], response={"choice": "b"}
    )
    response.refresh_from_db()
    assert response.response == {"choice": "b"} and response.is_correct is None


def test_status_choices_are_exposed_on_models() -> None:
    assert get_enrollment_model().Status is EnrollmentStatus
    assert get_task_progress_model().Status is TaskStatus
    assert get_quiz_attempt_model().Status is AttemptStatus
    assert [s.value for s in AttemptStatus] == [
        "in_progress",
        "submitted",
        "completed",
        "abandoned",
    ]


def test_primary_keys_ignore_the_hosts_default_auto_field() -> None:
    assert settings.DEFAULT_AUTO_FIELD == "django.db.models.AutoField"
    for model in (
        get_enrollment_model(),
        get_task_progress_model(),
        get_quiz_attempt_model(),
        get_quiz_response_model(),
    ):
        assert model._meta.pk.get_internal_type() == "BigAutoField"


def test_one_enrollment_per_user_and_course(learner: Any, course_tree: CourseTree) -> None:
    Enrollment = get_enrollment_model()
    Enrollment.objects.create(user=learner, course=course_tree.course)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(user=learner, course=course_tree.course)


def test_one_task_progress_per_user_and_task(learner: Any, course_tree: CourseTree) -> None:
    TaskProgress = get_task_progress_model()
    kwargs = {"user": learner, "task": course_tree.lessons[0], "course": course_tree.course}
    TaskProgress.objects.create(**kwargs)
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskProgress.objects.create(**kwargs)


def test_attempt_numbers_are_unique_per_user_and_quiz(
    make_user: Any, course_tree: CourseTree
) -> None:
    ada, bob = make_user(), make_user()
    make_attempt(ada, course_tree, 1, status=AttemptStatus.COMPLETED)
    make_attempt(bob, course_tree, 1, status=AttemptStatus.COMPLETED)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_attempt(ada, course_tree, 1, status=AttemptStatus.COMPLETED)


def test_attempt_number_starts_at_one(learner: Any, course_tree: CourseTree) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_attempt(learner, course_tree, 0)


@pytest.mark.skipif(
    connection.vendor == "mysql",
    reason="MySQL/MariaDB cannot create conditional unique constraints; the services enforce it",
)
def test_at_most_one_open_attempt(learner: Any, course_tree: CourseTree) -> None:
    make_attempt(learner, course_tree, 1)
    make_attempt(learner, course_tree, 2, status=AttemptStatus.ABANDONED)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_attempt(learner, course_tree, 3)


def test_percentage_stays_within_0_and_100(learner: Any, course_tree: CourseTree) -> None:
    make_attempt(learner, course_tree, 1, status=AttemptStatus.COMPLETED, percentage=Decimal(100))
    with pytest.raises(IntegrityError), transaction.atomic():
        make_attempt(
            learner, course_tree, 2, status=AttemptStatus.COMPLETED, percentage=Decimal("100.01")
        )


def test_time_spent_is_never_negative(learner: Any, course_tree: CourseTree) -> None:
    TaskProgress = get_task_progress_model()
    progress = TaskProgress.objects.create(
        user=learner, task=course_tree.lessons[0], course=course_tree.course
    )
    # MariaDB stores it unsigned and answers with DataError instead.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        TaskProgress.objects.filter(pk=progress.pk).update(time_spent=-1)
    progress.refresh_from_db()
    assert progress.time_spent == 0


def test_one_response_per_question_in_an_attempt(learner: Any, course_tree: CourseTree) -> None:
    attempt = make_attempt(learner, course_tree)
    Response = get_quiz_response_model()
    Response.objects.create(attempt=attempt, question=course_tree.questions[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(attempt=attempt, question=course_tree.questions[0])


def test_deleting_a_user_erases_their_records(learner: Any, course_tree: CourseTree) -> None:
    get_enrollment_model().objects.create(user=learner, course=course_tree.course)
    get_task_progress_model().objects.create(
        user=learner, task=course_tree.lessons[0], course=course_tree.course
    )
    attempt = make_attempt(learner, course_tree)
    get_quiz_response_model().objects.create(attempt=attempt, question=course_tree.questions[0])
    learner.delete()
    for model in (
        get_enrollment_model(),
        get_task_progress_model(),
        get_quiz_attempt_model(),
        get_quiz_response_model(),
    ):
        assert not model.objects.exists(), model


def test_deleting_content_never_destroys_progress(make_user: Any, course_tree: CourseTree) -> None:
    learner, grader = make_user(), make_user()
    attempt = make_attempt(learner, course_tree, status=AttemptStatus.COMPLETED)
    response = get_quiz_response_model().objects.create(
        attempt=attempt, question=course_tree.questions[0], graded_by=grader
    )
    get_task_progress_model().objects.create(
        user=learner, task=course_tree.lessons[0], course=course_tree.course
    )
    for obj in (course_tree.questions[0], course_tree.quizzes[0], course_tree.lessons[0]):
        with pytest.raises(ProtectedError), transaction.atomic():
            obj.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        course_tree.course.delete()
    grader.delete()  # a grader leaving keeps the grade
    response.refresh_from_db()
    assert response.graded_by is None
    assert get_quiz_attempt_model().objects.filter(pk=attempt.pk).exists()


def test_reverse_accessors_follow_the_app_label_class_pattern(learner: Any) -> None:
    model = get_enrollment_model()
    accessor = model._meta.get_field("user").remote_field.get_accessor_name()
    assert accessor == f"{model._meta.app_label}_{model._meta.model_name}_set"
    assert hasattr(learner, accessor)


def test_constraint_names_are_interpolated() -> None:
    for model in (
        get_enrollment_model(),
        get_task_progress_model(),
        get_quiz_attempt_model(),
        get_quiz_response_model(),
    ):
        for constraint in model._meta.constraints:
            assert constraint.name.startswith(f"{model._meta.app_label}_{model._meta.model_name}_")
        for index in model._meta.indexes:
            assert index.name and len(index.name) <= 30


@pytest.mark.django_db
def test_readable_titles(learner: Any) -> None:
    """What the admin shows as a row's title names the learner and the content."""
    from django_learning_progress import services
    from tests.conftest import build_course

    tree = build_course("Readable", questions=1)
    enrollment = services.enroll(learner, tree.course)
    progress = services.start_task(learner, tree.lessons[0])
    attempt = services.start_attempt(learner, tree.quizzes[0])
    (response,) = services.answer_questions(learner, attempt, [(tree.questions[0], "a0", 5)])
    assert str(enrollment) == f"{learner} in {tree.course} (Active)"
    assert str(progress) == f"{learner}: {tree.lessons[0]} (In progress)"
    assert str(attempt) == f"{learner}: {tree.quizzes[0]}, attempt 1 (In progress)"
    assert str(response) == f"{learner}: {tree.questions[0]} (attempt 1)"

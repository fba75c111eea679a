"""Views of the REST API. They read with the helpers and write through the services."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from django_learning_progress import analytics, helpers, rosters, services
from django_learning_progress.access import is_instructor
from django_learning_progress.api import filters
from django_learning_progress.api import serializers as s
from django_learning_progress.api._schema import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    view_schema,
)
from django_learning_progress.api.fields import parse_pk
from django_learning_progress.api.pagination import PaginatedMixin
from django_learning_progress.api.parsers import ProgressParserClasses
from django_learning_progress.api.permissions import IsCourseInstructor
from django_learning_progress.choices import EnrollmentStatus
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_override_model,
    get_quiz_response_model,
    get_task_progress_model,
)


def call(service: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service; its ``ValidationError`` becomes a DRF 400 with field messages."""
    try:
        return service(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc


class ProgressViewSet(PaginatedMixin, GenericViewSet):
    """A learner's own rows; staff see every row, and an instructor listing with
    ``?course=<id>`` sees every learner's rows of that course. Writes only by the owner.
    """

    permission_classes = [IsAuthenticated]
    parser_classes = ProgressParserClasses()
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    schema = view_schema()
    #: ``create`` answers 201 for a new row and 200 for the existing one (in the schema).
    create_may_return_existing = True
    ordering = ["-id"]
    user_field = "user"
    course_field = "course"

    def get_queryset(self) -> Any:
        qs = self.model()._default_manager.all()
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return qs.none()
        user: Any = self.request.user
        if user.is_staff:
            return qs
        course = self._taught_course() if self.action == "list" else None
        if course is not None:
            return qs.filter(**{self.course_field: course})
        return qs.filter(**{self.user_field: user})

    def _taught_course(self) -> Any:
        """The ``?course=`` of a list request when the user instructs it."""
        course_id = self.request.query_params.get("course")
        if not course_id:
            return None
        course = _get_or_none(get_content_adapter().course_model, course_id)
        return course if course is not None and is_instructor(self.request.user, course) else None

    def model(self) -> Any:
        raise NotImplementedError

    def get_object(self) -> Any:
        # Only a key the model could hold: "١٢" or "2.0" name no row.
        try:
            parse_pk(self.model(), self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        except ValueError:
            raise Http404 from None
        return super().get_object()

    def get_owned_object(self) -> Any:
        """The object of a write action, which only its owner may change."""
        obj = self.get_object()
        owner_id = obj.user_id if self.user_field == "user" else obj.attempt.user_id
        if owner_id != self.request.user.pk:
            raise PermissionDenied("Only the learner may change their own progress.")
        return obj


@extend_schema_view(
    partial_update=extend_schema(
        request=s.EnrollmentUpdateSerializer, responses=s.EnrollmentSerializer
    )
)
class EnrollmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgressViewSet,
):
    """The learner's enrollments. ``POST {course}`` enrolls (a repeat is not an error)."""

    filterset_class = filters.EnrollmentFilter
    ordering_fields = ["id", "enrolled_at", "status", "completed_at"]

    def model(self) -> Any:
        return get_enrollment_model()

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("course")

    def get_serializer_class(self) -> Any:
        if self.action in ("update", "partial_update"):
            return s.EnrollmentUpdateSerializer
        return s.EnrollmentSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enrollment, created = call(
            services.get_or_enroll, request.user, serializer.validated_data["course"]
        )
        return Response(s.EnrollmentSerializer(enrollment).data, status=_created_status(created))

    @extend_schema(request=s.EnrollmentUpdateSerializer, responses=s.EnrollmentSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        enrollment = self.get_owned_object()
        serializer = s.EnrollmentUpdateSerializer(
            enrollment, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "settings" in data:
            enrollment = call(services.update_enrollment_settings, enrollment, data["settings"])
        if data.get("status") == EnrollmentStatus.DROPPED:
            enrollment = call(services.drop_enrollment, enrollment)
        return Response(s.EnrollmentSerializer(enrollment).data)

    @extend_schema(responses=s.CourseProgressSerializer)
    @action(detail=True, methods=["get"])
    def progress(self, request: Request, pk: Any = None) -> Response:
        """The learner's progress in the enrollment's course."""
        enrollment = self.get_object()
        progress = helpers.get_course_progress(enrollment.user_id, enrollment.course_id)
        return Response(s.CourseProgressSerializer(progress).data)


class TaskProgressViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProgressViewSet
):
    """The learner's task progress. ``POST {task}`` starts a task."""

    serializer_class = s.TaskProgressSerializer
    filterset_class = filters.TaskProgressFilter
    ordering_fields = ["id", "status", "time_spent", "last_activity_at", "started_at"]

    #: Actions that write one row found by its key (``time`` is a heartbeat: kept lean).
    write_actions = ("time", "complete")

    def model(self) -> Any:
        return get_task_progress_model()

    def get_queryset(self) -> Any:
        qs = super().get_queryset()
        # The services take the task instance: read it with the row, not in a query of its own.
        return qs.select_related("task") if self.action in self.write_actions else qs

    def filter_queryset(self, queryset: Any) -> Any:
        # The list's filters do not apply to a write by key, and building the
        # FilterSet (a form per request) is most of the Python time of a heartbeat.
        if self.action in self.write_actions:
            return queryset
        return super().filter_queryset(queryset)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        progress, started = call(
            services.get_or_start_task, request.user, serializer.validated_data["task"]
        )
        return Response(self.get_serializer(progress).data, status=_created_status(started))

    @extend_schema(request=s.TimeSpentSerializer, responses=s.TaskProgressSerializer)
    @action(detail=True, methods=["post"])
    def time(self, request: Request, pk: Any = None) -> Response:
        """Add ``seconds`` to the time spent on the task."""
        serializer = s.TimeSpentSerializer(data=request.data)
        if serializer.is_valid():
            # A heartbeat on the learner's own started row: one statement.
            seconds = serializer.validated_data["seconds"]
            progress = call(services.record_heartbeat, request.user, pk, seconds)
            if progress is not None:
                return Response(s.task_progress_data(progress))
        # Someone else's row, not started, not enrolled, a bad body: the full path.
        progress = self.get_owned_object()
        serializer.is_valid(raise_exception=True)
        progress = call(
            services.add_time_spent,
            request.user,
            progress.task,
            serializer.validated_data["seconds"],
        )
        return Response(s.task_progress_data(progress))

    @extend_schema(request=None, responses=s.TaskProgressSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: Any = None) -> Response:
        """Mark the task completed."""
        progress = self.get_owned_object()
        progress = call(services.complete_task, request.user, progress.task)
        return Response(self.get_serializer(progress).data)


class QuizAttemptViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProgressViewSet
):
    """The learner's quiz attempts. ``POST {quiz}`` starts (or returns the open) attempt."""

    filterset_class = filters.QuizAttemptFilter
    ordering_fields = ["id", "attempt_number", "started_at", "percentage", "status"]

    def model(self) -> Any:
        return get_quiz_attempt_model()

    def get_serializer_class(self) -> Any:
        return s.QuizAttemptSerializer if self.action == "list" else s.QuizAttemptDetailSerializer

    def get_object(self) -> Any:
        attempt = super().get_object()
        services.close_if_overdue(attempt)  # closes lazily, by the overdue policy
        return attempt

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.QuizAttemptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attempt, created = call(
            services.get_or_start_attempt, request.user, serializer.validated_data["quiz"]
        )
        return Response(
            s.QuizAttemptDetailSerializer(attempt).data, status=_created_status(created)
        )

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="AnswerOrAnswers",
            serializers=[s.AnswerSerializer, s.AnswerSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="QuizResponseOrResponses",
                serializers=[s.QuizResponseSerializer, s.QuizResponseSerializer(many=True)],
                resource_type_field_name=None,
                many=False,
            )
        },
    )
    @action(detail=True, methods=["post"])
    def responses(self, request: Request, pk: Any = None) -> Response:
        """Answer one question ``{question, response, time_spent}`` or a list of them."""
        attempt = self.get_owned_object()
        many = isinstance(request.data, list)
        serializer = s.AnswerSerializer(data=request.data, many=many)
        serializer.is_valid(raise_exception=True)
        answers = serializer.validated_data if many else [serializer.validated_data]
        rows = call(
            services.answer_questions,
            request.user,
            attempt,
            [(a["question"], a["response"], a["time_spent"]) for a in answers],
        )
        for row in rows:
            row.attempt = attempt
        data = s.QuizResponseSerializer(rows, many=True).data
        return Response(data if many else data[0], status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.QuizAttemptDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: Any = None) -> Response:
        """Submit the attempt; answers with the graded attempt and its responses."""
        attempt = call(services.submit_attempt, request.user, self.get_owned_object())
        return Response(s.QuizAttemptDetailSerializer(attempt).data)

    @extend_schema(request=None, responses=s.QuizAttemptDetailSerializer)
    @action(detail=True, methods=["post"])
    def abandon(self, request: Request, pk: Any = None) -> Response:
        """Abandon the open attempt."""
        attempt = call(services.abandon_attempt, request.user, self.get_owned_object())
        return Response(s.QuizAttemptDetailSerializer(attempt).data)


class QuizResponseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProgressViewSet):
    """The learner's quiz responses; instructors grade them with ``grade/``."""

    serializer_class = s.QuizResponseSerializer
    filterset_class = filters.QuizResponseFilter
    ordering_fields = ["id", "answered_at"]
    user_field = "attempt__user"
    course_field = "attempt__course"

    def model(self) -> Any:
        return get_quiz_response_model()

    def get_queryset(self) -> Any:
        if self.action == "grade":  # instructors reach other learners' responses
            return get_quiz_response_model()._default_manager.select_related("attempt")
        return super().get_queryset().select_related("attempt")

    @extend_schema(request=s.GradeSerializer, responses=s.QuizResponseSerializer)
    @action(detail=True, methods=["post"])
    def grade(self, request: Request, pk: Any = None) -> Response:
        """Grade a response by hand (instructors of the course and staff)."""
        response = self.get_object()
        course = get_content_adapter().course_model._default_manager.get(
            pk=response.attempt.course_id
        )
        if not is_instructor(request.user, course):
            if response.attempt.user_id == request.user.pk:
                raise PermissionDenied("Only instructors of the course may grade.")
            raise Http404
        serializer = s.GradeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        graded = call(
            services.grade_response,
            request.user,
            response,
            points=serializer.validated_data["points"],
            is_correct=serializer.validated_data["is_correct"],
        )
        graded.attempt.refresh_from_db()
        return Response(s.QuizResponseSerializer(graded).data)


def _created_status(created: bool) -> int:
    """201 for the request that created the row, 200 for one that found it."""
    return status.HTTP_201_CREATED if created else status.HTTP_200_OK


def _get_or_none(model: Any, key: Any) -> Any:
    """The row of ``model`` with primary key ``key`` (a URL or query value), or ``None``."""
    try:
        return model._default_manager.get(pk=parse_pk(model, key))
    except (model.DoesNotExist, ValueError):
        return None


class CourseView(PaginatedMixin, GenericAPIView):
    """Base of the per-course instructor views (``course_id`` in the URL)."""

    permission_classes = [IsAuthenticated, IsCourseInstructor]
    schema = view_schema()

    def get_course(self) -> Any:
        return self._course

    @cached_property
    def _course(self) -> Any:
        course = _get_or_none(get_content_adapter().course_model, self.kwargs["course_id"])
        if course is None:
            raise Http404
        return course


class CourseProgressView(mixins.ListModelMixin, CourseView):
    """Every learner of the course with progress and quiz grades (instructors and staff)."""

    serializer_class = s.RosterEntrySerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = filters.RosterFilter
    ordering_fields = [
        "percentage",
        "tasks_completed",
        "time_spent",
        "last_activity_at",
        "enrolled_at",
        "completed_at",
        "status",
        "user",
    ]
    ordering = ["pk"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return get_enrollment_model()._default_manager.none()
        return rosters.course_roster(self.get_course())

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        course = self.get_course()
        enrollments = get_enrollment_model()._default_manager.filter(course=course)
        ordering = OrderingFilter().get_ordering(request, enrollments, self) or []
        if any(term.lstrip("-") in rosters.ROSTER_FIGURES for term in ordering):
            # Ranked by a figure: the database computes every learner's, then pages.
            queryset = self.filter_queryset(self.get_queryset())
            page = self.paginate_queryset(queryset)
            rows = [_roster_row(e) for e in (queryset if page is None else page)]
            grades = rosters.course_quiz_grades(course, [row["user_id"] for row in rows])
        else:
            # Page the enrollments alone, as dictionaries, then compute the
            # figures of the page's learners only. The username comes by a
            # subquery, not a join, so that the page count reads nothing else.
            user = get_user_model()
            username = user._base_manager.filter(pk=OuterRef("user_id"))
            plain = enrollments.values(
                *_ROSTER_COLUMNS, lp_username=Subquery(username.values(user.USERNAME_FIELD)[:1])
            )
            queryset = self.filter_queryset(plain)
            page = self.paginate_queryset(queryset)
            rows = list(queryset if page is None else page)
            figures, grades = rosters.roster_page(course, [row["user_id"] for row in rows])
            for row in rows:
                row["username"] = row.pop("lp_username")
                row.update(figures[row["user_id"]])
        context = {**self.get_serializer_context(), "quiz_grades": grades}
        data = self.get_serializer_class()(rows, many=True, context=context).data
        return Response(data) if page is None else self.get_paginated_response(data)


_ROSTER_COLUMNS = ("pk", "user_id", "status", "enrolled_at", "completed_at")


def _roster_row(enrollment: Any) -> dict[str, Any]:
    """An enrollment of :func:`~django_learning_progress.rosters.course_roster` as a roster row."""
    row = {name: getattr(enrollment, name) for name in (*_ROSTER_COLUMNS, *rosters.ROSTER_FIGURES)}
    row["username"] = enrollment.user.get_username()
    return row


class CourseAnalyticsView(CourseView):
    """Outcomes of the course (instructors and staff): :func:`~django_learning_progress.analytics.course_analytics`."""

    serializer_class = s.CourseAnalyticsSerializer

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(analytics.course_analytics(self.get_course()))


class QuizView(CourseView):
    """Base of the per-quiz instructor views (``quiz_id`` in the URL): the
    permission is instructing the quiz's course."""

    @cached_property
    def quiz(self) -> Any:
        quiz = _get_or_none(get_content_adapter().quiz_model, self.kwargs["quiz_id"])
        if quiz is None:
            raise Http404
        return quiz

    @cached_property
    def _course(self) -> Any:
        adapter = get_content_adapter()
        course_model: Any = adapter.course_model
        return course_model._default_manager.get(pk=adapter.get_quiz_course_id(self.quiz))


class QuizAnalyticsView(QuizView):
    """Score statistics and item analysis of a quiz (instructors of its course and staff).

    ``?attempts=all|first|last|best`` picks the attempts counted (default ``all``).
    """

    serializer_class = s.QuizAnalyticsSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "attempts", str, enum=list(analytics.ATTEMPT_SELECTIONS), default="all"
            )
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        attempts = request.query_params.get("attempts", "all")
        if attempts not in analytics.ATTEMPT_SELECTIONS:
            raise serializers.ValidationError(
                {"attempts": [f"Must be one of: {', '.join(analytics.ATTEMPT_SELECTIONS)}."]}
            )
        return Response(analytics.quiz_analytics(self.quiz, attempts=attempts))


class QuizRegradeView(QuizView):
    """Grade every submitted and completed attempt at the quiz again
    (:func:`~django_learning_progress.services.regrade_quiz`; instructors of its
    course and staff). ``{"dry_run": true}`` only reports what would change."""

    serializer_class = s.RegradeSummarySerializer
    parser_classes = ProgressParserClasses()

    @extend_schema(request=s.RegradeRequestSerializer, responses=s.RegradeSummarySerializer)
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = s.RegradeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        summary = call(
            services.regrade_quiz,
            self.quiz,
            by=request.user,
            dry_run=body.validated_data["dry_run"],
        )
        return Response(s.RegradeSummarySerializer(summary).data)


@extend_schema_view(
    update=extend_schema(
        request=s.QuizOverrideUpdateSerializer, responses=s.QuizOverrideSerializer
    ),
    partial_update=extend_schema(
        request=s.QuizOverrideUpdateSerializer, responses=s.QuizOverrideSerializer
    ),
)
class QuizOverrideViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    PaginatedMixin,
    GenericViewSet,
):
    """Learners' accommodations at quizzes, kept by instructors.

    Instructors (``INSTRUCTOR_CHECK``) see and change the overrides of the
    courses they teach: the list shows them with ``?course=<id>`` or
    ``?quiz=<id>``; staff see every override. A learner lists and reads their
    own overrides and changes none (``403``). ``POST`` for a (user, quiz) that
    has an override replaces it (``200``); a new one answers ``201``.
    """

    permission_classes = [IsAuthenticated]
    parser_classes = ProgressParserClasses()
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = filters.QuizOverrideFilter
    serializer_class = s.QuizOverrideSerializer
    ordering_fields = ["id", "created_at", "updated_at"]
    ordering = ["-id"]
    schema = view_schema()
    create_may_return_existing = True
    #: The 200 of ``create`` (in the schema): the override is replaced.
    create_existing_description = "The learner's override at the quiz, replaced."

    def get_queryset(self) -> Any:
        qs = get_quiz_override_model()._default_manager.all()
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return qs.none()
        user: Any = self.request.user
        if self.action != "list":
            return qs.select_related("quiz", "user")  # get_object() checks the course
        if user.is_staff:
            return qs
        course = self._taught_course()
        if course is not None:
            quizzes = get_content_adapter().course_quizzes(course).order_by().values("pk")
            return qs.filter(quiz__in=quizzes)
        return qs.filter(user=user)

    def _taught_course(self) -> Any:
        """The course of ``?course=`` (or of ``?quiz=``) when the user instructs it."""
        adapter = get_content_adapter()
        params = self.request.query_params
        course = None
        if params.get("course"):
            course = _get_or_none(adapter.course_model, params["course"])
        elif params.get("quiz"):
            quiz = _get_or_none(adapter.quiz_model, params["quiz"])
            if quiz is not None:
                course = _get_or_none(adapter.course_model, adapter.get_quiz_course_id(quiz))
        return course if course is not None and is_instructor(self.request.user, course) else None

    def _instructs(self, quiz: Any) -> bool:
        adapter = get_content_adapter()
        course = _get_or_none(adapter.course_model, adapter.get_quiz_course_id(quiz))
        return course is not None and is_instructor(self.request.user, course)

    def get_object(self) -> Any:
        try:
            parse_pk(get_quiz_override_model(), self.kwargs[self.lookup_url_kwarg or "pk"])
        except ValueError:
            raise Http404 from None
        override = super().get_object()
        if self._instructs(override.quiz):
            return override
        if override.user_id == self.request.user.pk:
            if self.action == "retrieve":
                return override
            raise PermissionDenied("Only instructors of the course may change accommodations.")
        raise Http404

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        quiz, user = data.pop("quiz"), data.pop("user")
        override, created = call(
            services.update_or_create_quiz_override, quiz, user, by=request.user, **data
        )
        return Response(self.get_serializer(override).data, status=_created_status(created))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        override = self.get_object()
        partial = kwargs.get("partial", False)
        serializer = s.QuizOverrideUpdateSerializer(override, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        # PUT replaces every value; PATCH keeps the ones it does not name.
        values = {name: getattr(override, name) for name in serializer.Meta.fields}
        values = {**values, **serializer.validated_data} if partial else serializer.validated_data
        override = call(
            services.set_quiz_override, override.quiz, override.user, by=request.user, **values
        )
        return Response(self.get_serializer(override).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        override = self.get_object()
        call(services.remove_quiz_override, override.quiz, override.user, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QuizStatusView(GenericAPIView):
    """The quiz as the learner sees it: attempts used and allowed, time limit,
    window, open attempt, grade, and whether they can start one now."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.QuizStatusSerializer
    schema = view_schema()

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        quiz = _get_or_none(get_content_adapter().quiz_model, kwargs["quiz_id"])
        if quiz is None:
            raise Http404
        return Response(self.get_serializer(helpers.quiz_status(request.user, quiz)).data)


class MyProgressView(mixins.ListModelMixin, PaginatedMixin, GenericAPIView):
    """The learner's courses with their progress."""

    permission_classes = [IsAuthenticated]
    schema = view_schema()
    serializer_class = s.MyCourseSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return get_enrollment_model()._default_manager.none()
        return helpers.get_enrolled_courses(self.request.user)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if getattr(self, "swagger_fake_view", False) or isinstance(
            self.paginator, CursorPagination
        ):
            queryset = self.get_queryset()
        else:
            # Two queries: the learner's enrollments (a page is cut from them,
            # which also counts them), then the figures of the page's courses.
            queryset = list(helpers.get_enrolled_courses(self.request.user, figures=False))
        page = self.paginate_queryset(queryset)
        rows = queryset if page is None else page
        if not isinstance(rows, QuerySet):
            rows = helpers.load_learner_figures(self.request.user, rows)
        data = self.get_serializer(rows, many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)

"""Serializers of the REST API.

Fields that only the services may set (``user``, ``score``, ``is_correct``,
``points_awarded``, ``attempt_number``, ``percentage``, ``passed``, and
``status`` apart from a learner dropping an enrollment) are read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from operator import attrgetter, itemgetter
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from django_learning_progress import services
from django_learning_progress.api._schema import INT, extend_schema_field
from django_learning_progress.api.fields import (
    StrictBooleanField,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
)
from django_learning_progress.choices import AttemptStatus, EnrollmentStatus
from django_learning_progress.conf import app_settings
from django_learning_progress.content import get_content_adapter
from django_learning_progress.helpers import QUIZ_STATUS_REASONS
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_override_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from django_learning_progress.validation import check_json

adapter = get_content_adapter()


@extend_schema_field(INT)
class PrimaryKeyValue(serializers.ReadOnlyField):
    """The primary key of a related object, as stored (an integer for most hosts)."""


def _all(model: Any) -> Any:
    return model._default_manager.all()


def _storable(field: str, value: Any) -> Any:
    """``value`` if the app may store it as ``field`` (:func:`check_json`), else a field error."""
    try:
        return check_json(field, value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict[field]) from None


class EnrollmentSerializer(serializers.ModelSerializer):
    course = StrictPrimaryKeyRelatedField(queryset=_all(adapter.course_model))

    class Meta:
        model = get_enrollment_model()
        fields = [
            "id",
            "user",
            "course",
            "status",
            "enrolled_at",
            "completed_at",
            "dropped_at",
            "updated_at",
            "settings",
        ]
        read_only_fields = [
            "user",
            "status",
            "enrolled_at",
            "completed_at",
            "dropped_at",
            "updated_at",
        ]


class EnrollmentUpdateSerializer(serializers.ModelSerializer):
    """What a learner may change: drop the enrollment, edit its ``settings``."""

    status = serializers.ChoiceField(
        choices=[(EnrollmentStatus.DROPPED.value, EnrollmentStatus.DROPPED.label)],
        required=False,
        help_text="Only 'dropped' may be set; enroll again to re-activate.",
    )

    class Meta:
        model = get_enrollment_model()
        fields = ["status", "settings"]

    def validate_settings(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return _storable("settings", value)


class TaskProgressSerializer(serializers.ModelSerializer):
    task = StrictPrimaryKeyRelatedField(queryset=_all(adapter.task_model))

    class Meta:
        model = get_task_progress_model()
        fields = [
            "id",
            "user",
            "task",
            "course",
            "status",
            "time_spent",
            "started_at",
            "completed_at",
            "last_activity_at",
        ]
        read_only_fields = [f for f in fields if f not in ("task",)]


_task_progress_serializer: TaskProgressSerializer | None = None


def task_progress_data(progress: Any) -> Any:
    """``TaskProgressSerializer(progress).data``, without building the serializer's
    fields on every call (most of a heartbeat's Python time otherwise)."""
    global _task_progress_serializer
    if _task_progress_serializer is None:
        _task_progress_serializer = TaskProgressSerializer()
    return _task_progress_serializer.to_representation(progress)


class _Seconds(StrictIntegerField):
    """Whole seconds; the serializer caps them at ``MAX_TIME_PER_CALL`` with its own message."""

    def schema_maximum(self) -> int:
        """The cap, for the OpenAPI schema (read when the schema is generated)."""
        return int(app_settings.MAX_TIME_PER_CALL)


class TimeSpentSerializer(serializers.Serializer):
    seconds = _Seconds(min_value=0)

    def validate_seconds(self, value: int) -> int:
        cap = app_settings.MAX_TIME_PER_CALL
        if value > cap:
            raise serializers.ValidationError(f"Ensure this value is at most {cap} seconds.")
        return value


class QuizResponseSerializer(serializers.ModelSerializer):
    """A response; correctness and points stay hidden while the attempt is open."""

    class Meta:
        model = get_quiz_response_model()
        fields = [
            "id",
            "attempt",
            "question",
            "response",
            "is_correct",
            "points_awarded",
            "time_spent",
            "answered_at",
            "graded_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        attempt = instance.attempt
        if attempt.status == AttemptStatus.IN_PROGRESS:
            data["is_correct"] = data["points_awarded"] = None
        return data


class AnswerSerializer(serializers.Serializer):
    question = StrictPrimaryKeyRelatedField(queryset=_all(adapter.question_model))
    response = serializers.JSONField(allow_null=True)
    time_spent = _Seconds(min_value=0, default=0)

    def validate_response(self, value: Any) -> Any:
        return _storable("response", value)

    def validate_time_spent(self, value: int) -> int:
        cap = app_settings.MAX_TIME_PER_CALL
        if value > cap:
            raise serializers.ValidationError(f"Ensure this value is at most {cap} seconds.")
        return value


class GradeSerializer(serializers.Serializer):
    points = serializers.DecimalField(max_digits=10, decimal_places=3, min_value=Decimal(0))
    is_correct = serializers.BooleanField(required=False, allow_null=True, default=None)


class QuizAttemptSerializer(serializers.ModelSerializer):
    quiz = StrictPrimaryKeyRelatedField(queryset=_all(adapter.quiz_model))

    class Meta:
        model = get_quiz_attempt_model()
        fields = [
            "id",
            "user",
            "quiz",
            "course",
            "attempt_number",
            "status",
            "score",
            "max_score",
            "percentage",
            "passed",
            "started_at",
            "submitted_at",
            "completed_at",
            "deadline_at",
            "time_taken",
        ]
        read_only_fields = [f for f in fields if f != "quiz"]


class QuizAttemptDetailSerializer(QuizAttemptSerializer):
    responses = serializers.SerializerMethodField()

    class Meta(QuizAttemptSerializer.Meta):
        fields = [*QuizAttemptSerializer.Meta.fields, "responses"]
        read_only_fields = [*QuizAttemptSerializer.Meta.read_only_fields, "responses"]

    def get_responses(self, attempt: Any) -> Any:
        rows = self.context.get("responses")
        if rows is None:
            rows = get_quiz_response_model()._default_manager.filter(attempt=attempt)
        rows = sorted(rows, key=lambda r: r.pk)
        for row in rows:
            row.attempt = attempt
        return QuizResponseSerializer(rows, many=True, context=self.context).data


class CourseProgressSerializer(serializers.Serializer):
    """:class:`~django_learning_progress.helpers.CourseProgress` as JSON."""

    course = PrimaryKeyValue(source="course_id")
    status = serializers.ChoiceField(choices=EnrollmentStatus.choices, allow_null=True)
    enrolled_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    tasks_total = serializers.IntegerField()
    tasks_completed = serializers.IntegerField()
    tasks_in_progress = serializers.IntegerField()
    percentage = serializers.FloatField()
    time_spent = serializers.IntegerField()
    last_activity_at = serializers.DateTimeField(allow_null=True)
    quizzes_total = serializers.IntegerField()
    quizzes_passed = serializers.IntegerField()
    quizzes_required = serializers.IntegerField()
    quizzes_met = serializers.IntegerField()
    next_task = PrimaryKeyValue(source="next_task_id", allow_null=True)


class QuizGradeSerializer(serializers.Serializer):
    """One entry of :func:`~django_learning_progress.rosters.course_quiz_grades`."""

    quiz = PrimaryKeyValue()
    grade = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    passed = serializers.BooleanField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # Runs for every quiz of every learner on a roster page: the three
        # fields directly, without the generic per-field loop.
        grade = instance["grade"]
        return {
            "quiz": instance["quiz"],
            "grade": None if grade is None else self.fields["grade"].to_representation(grade),
            "passed": bool(instance["passed"]),
        }


def _datetime_writer(field: serializers.DateTimeField) -> Callable[[Any], Any]:
    """``field.to_representation``, with the current time zone looked up once.

    For the usual ISO 8601 output of aware datetimes; any other case goes to
    the field itself.
    """
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    tz = None if hasattr(field, "timezone") else field.default_timezone()
    if tz is None or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return field.to_representation

    def write(value: Any) -> Any:
        if isinstance(value, datetime) and value.utcoffset() is not None:
            text = value.astimezone(tz).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return field.to_representation(value)

    return write


class _RowsSerializer(serializers.Serializer):
    """Read-only list rows, serialized without DRF's generic attribute lookup.

    Every field's ``source`` is one attribute name (or the field is a
    ``SerializerMethodField``), so a row costs one ``getattr`` and one
    ``to_representation`` per field. Rows are objects; a subclass whose rows
    are mappings sets ``reader = itemgetter``.
    """

    reader: Callable[[str], Callable[[Any], Any]] = attrgetter

    @cached_property
    def _columns(self) -> list[tuple[str, Any, Any]]:
        columns: list[tuple[str, Any, Any]] = []
        for name, field in self.fields.items():
            if isinstance(field, serializers.SerializerMethodField):
                columns.append((name, getattr(self, field.method_name), None))
            elif isinstance(field, serializers.DateTimeField):
                columns.append((name, self.reader(str(field.source)), _datetime_writer(field)))
            else:
                columns.append((name, self.reader(str(field.source)), field.to_representation))
        return columns

    def to_representation(self, instance: Any) -> dict[str, Any]:
        row = {}
        for name, read, show in self._columns:
            value = read(instance)
            row[name] = value if show is None or value is None else show(value)
        return row


class _Percentage(serializers.FloatField):
    """A percentage rounded to two decimals."""

    def to_representation(self, value: Any) -> Any:
        return round(float(value), 2)


class EnrollmentFiguresSerializer(_RowsSerializer):
    """An enrollment annotated by the helpers (``course_roster``, ``get_enrolled_courses``)."""

    enrollment = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(choices=EnrollmentStatus.choices)
    enrolled_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    percentage = _Percentage()
    tasks_total = serializers.IntegerField()
    tasks_completed = serializers.IntegerField()
    time_spent = serializers.IntegerField()
    last_activity_at = serializers.DateTimeField(allow_null=True)


class RosterEntrySerializer(EnrollmentFiguresSerializer):
    """One learner in a course's roster, with their quiz grades.

    Rows are mappings with the keys of the field sources (the roster view
    builds them; ``username`` is the user's ``get_username()``).
    """

    reader = itemgetter
    user = PrimaryKeyValue(source="user_id")
    username = serializers.CharField()
    quiz_grades = serializers.SerializerMethodField()

    @extend_schema_field(QuizGradeSerializer(many=True))
    def get_quiz_grades(self, row: Any) -> Any:
        grades = self.context.get("quiz_grades", {}).get(row["user_id"], [])
        return [self._quiz_grade.to_representation(grade) for grade in grades]

    @cached_property
    def _quiz_grade(self) -> QuizGradeSerializer:
        # One serializer for every row's grades: building one per row costs more
        # than the rest of the row together.
        return QuizGradeSerializer(context=self.context)


class MyCourseSerializer(EnrollmentFiguresSerializer):
    """One of the learner's courses with its progress."""

    course = PrimaryKeyValue(source="course_id")
    title = serializers.CharField(source="course")
    next_task = PrimaryKeyValue(source="next_task_id", allow_null=True)


class TaskFunnelSerializer(serializers.Serializer):
    task = PrimaryKeyValue()
    started = serializers.IntegerField()
    completed = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True)
    median_time_spent = serializers.FloatField(allow_null=True)


class CourseAnalyticsSerializer(serializers.Serializer):
    """:func:`~django_learning_progress.analytics.course_analytics` (for the schema)."""

    course = PrimaryKeyValue()
    enrolled = serializers.IntegerField()
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    dropped = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True)
    median_time_to_complete = serializers.FloatField(allow_null=True)
    inactive_learners = serializers.IntegerField()
    tasks = TaskFunnelSerializer(many=True)


class HistogramBinSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.IntegerField(),
            "to": serializers.IntegerField(),
            "count": serializers.IntegerField(),
        }


class ItemSerializer(serializers.Serializer):
    question = PrimaryKeyValue()
    facility = serializers.FloatField(allow_null=True)
    discrimination = serializers.FloatField(allow_null=True)


class QuizAnalyticsSerializer(serializers.Serializer):
    """:func:`~django_learning_progress.analytics.quiz_analytics` (for the schema)."""

    quiz = PrimaryKeyValue()
    attempts = serializers.IntegerField()
    mean_percentage = serializers.FloatField(allow_null=True)
    median_percentage = serializers.FloatField(allow_null=True)
    sd_percentage = serializers.FloatField(allow_null=True)
    pass_rate = serializers.FloatField(allow_null=True)
    mean_time_taken = serializers.FloatField(allow_null=True)
    histogram = HistogramBinSerializer(many=True)
    cronbach_alpha = serializers.FloatField(allow_null=True)
    reliable = serializers.BooleanField()
    questions = ItemSerializer(many=True)


class _DurationSeconds(serializers.IntegerField):
    """A ``timedelta`` as whole seconds."""

    def to_representation(self, value: Any) -> int:
        return int(value.total_seconds())


class QuizStatusSerializer(serializers.Serializer):
    """:class:`~django_learning_progress.helpers.QuizStatus` as JSON."""

    quiz = PrimaryKeyValue(source="quiz_id")
    attempts_used = serializers.IntegerField()
    attempts_allowed = serializers.IntegerField(allow_null=True)
    time_limit = _DurationSeconds(allow_null=True, help_text="Seconds; null: no limit.")
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    open_attempt = PrimaryKeyValue(source="open_attempt_id", allow_null=True)
    deadline_at = serializers.DateTimeField(allow_null=True)
    grade = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    passed = serializers.BooleanField()
    can_start = serializers.BooleanField()
    reason = serializers.ChoiceField(choices=QUIZ_STATUS_REASONS, allow_null=True)


class _ExtraTimeSeconds(StrictIntegerField):
    """A ``timedelta`` written and read as whole seconds (``min_value`` and
    ``max_value`` in seconds, checked before the conversion)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The bounds are checked on the seconds here, not on the timedelta.
        self.validators = [
            v for v in self.validators if not isinstance(v, (MinValueValidator, MaxValueValidator))
        ]

    def to_internal_value(self, data: Any) -> Any:
        seconds = super().to_internal_value(data)
        if self.min_value is not None and seconds < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        if self.max_value is not None and seconds > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        return timedelta(seconds=seconds)

    def to_representation(self, value: Any) -> int:
        return int(value.total_seconds())


_OVERRIDE_VALUES = ["extra_attempts", "extra_time", "opens_at", "closes_at", "reason"]


class QuizOverrideUpdateSerializer(serializers.ModelSerializer):
    """What changing an override takes: its values, not its learner or quiz.

    ``PUT`` replaces every value (a missing one is no change to the quiz's
    rule); ``PATCH`` keeps the values it does not name.
    """

    extra_attempts = StrictIntegerField(
        min_value=0, max_value=services.MAX_EXTRA_ATTEMPTS, required=False, default=0
    )
    extra_time = _ExtraTimeSeconds(
        min_value=0,
        max_value=int(services.MAX_EXTRA_TIME.total_seconds()),
        required=False,
        default=timedelta(0),
        help_text="Whole seconds added to the quiz's time limit.",
    )
    opens_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Null: the quiz's own."
    )
    closes_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Null: the quiz's own."
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        max_length=services.MAX_OVERRIDE_REASON_LENGTH,
    )

    class Meta:
        model = get_quiz_override_model()
        fields = _OVERRIDE_VALUES

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        opens, closes = attrs.get("opens_at"), attrs.get("closes_at")
        if opens is not None and closes is not None and opens >= closes:
            raise serializers.ValidationError({"closes_at": ["Must be later than opens_at."]})
        return attrs


class QuizOverrideSerializer(QuizOverrideUpdateSerializer):
    """A learner's accommodation at a quiz (:class:`~django_learning_progress.models.QuizOverride`).

    Creating one for a (user, quiz) that has one replaces it.
    """

    user = StrictPrimaryKeyRelatedField(queryset=_all(get_user_model()))
    quiz = StrictPrimaryKeyRelatedField(queryset=_all(adapter.quiz_model))

    class Meta(QuizOverrideUpdateSerializer.Meta):
        fields = [
            "id",
            "user",
            "quiz",
            *_OVERRIDE_VALUES,
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_by", "created_at", "updated_at"]
        # A second override for a (user, quiz) replaces the first: no unique check here.
        validators: list[Any] = []


class RegradeRequestSerializer(serializers.Serializer):
    dry_run = StrictBooleanField(
        required=False, default=False, help_text="Only report what a regrade would change."
    )


class RegradedAttemptSerializer(serializers.Serializer):
    """:class:`~django_learning_progress.services.RegradedAttempt` as JSON."""

    attempt = PrimaryKeyValue(source="attempt_id")
    user = PrimaryKeyValue(source="user_id")
    score_before = serializers.DecimalField(max_digits=10, decimal_places=3, allow_null=True)
    score_after = serializers.DecimalField(max_digits=10, decimal_places=3, allow_null=True)
    percentage_before = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    percentage_after = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    passed_before = serializers.BooleanField(allow_null=True)
    passed_after = serializers.BooleanField(allow_null=True)
    status_before = serializers.ChoiceField(choices=AttemptStatus.choices)
    status_after = serializers.ChoiceField(choices=AttemptStatus.choices)
    responses_changed = serializers.IntegerField()


class RegradeSummarySerializer(serializers.Serializer):
    """:class:`~django_learning_progress.services.RegradeSummary` as JSON."""

    quiz = PrimaryKeyValue(source="quiz_id")
    dry_run = serializers.BooleanField()
    attempts_checked = serializers.IntegerField()
    attempts_changed = serializers.IntegerField()
    responses_changed = serializers.IntegerField()
    changed = RegradedAttemptSerializer(many=True)

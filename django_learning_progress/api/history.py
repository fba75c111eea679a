"""History views: the learning records of one learner (needs ``django_learning_progress.xapi``).

Imported by :mod:`django_learning_progress.api.urls` only when the xapi app is
installed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404
from rest_framework import mixins, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from django_learning_progress.api._schema import OpenApiParameter, extend_schema, view_schema
from django_learning_progress.api.fields import parse_pk
from django_learning_progress.api.pagination import PaginatedMixin
from django_learning_progress.api.views import CourseView
from django_learning_progress.xapi.models import XapiStatement


class HistoryStatementSerializer(serializers.ModelSerializer):
    """One learning record: the xAPI statement and where it stands in delivery."""

    course = serializers.CharField(source="course_key", help_text="The course's id, as text.")
    sent = serializers.SerializerMethodField(help_text="Whether the LRS has it.")
    statement = serializers.JSONField(help_text="The xAPI 1.0.3 statement.")

    class Meta:
        model = XapiStatement
        fields = ["id", "verb", "course", "timestamp", "sent", "statement"]
        read_only_fields = fields

    def get_sent(self, obj: XapiStatement) -> bool:
        return obj.sent_at is not None


class _HistoryMixin(mixins.ListModelMixin, PaginatedMixin, GenericAPIView):
    serializer_class = HistoryStatementSerializer
    schema = view_schema()

    def statements(self, user_id: Any) -> Any:
        return XapiStatement._default_manager.filter(user_id=user_id).order_by(
            "-timestamp", "-created_at", "-pk"
        )

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


_COURSE = OpenApiParameter("course", str, description="Only the records of this course (its id).")


class MyHistoryView(_HistoryMixin):
    """The learner's own learning records, newest first (``?course=<id>`` for one course)."""

    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return XapiStatement._default_manager.none()
        queryset = self.statements(self.request.user.pk)
        course = self.request.query_params.get("course")
        return queryset if course is None else queryset.filter(course_key=course)

    @extend_schema(parameters=[_COURSE])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class LearnerHistoryView(_HistoryMixin, CourseView):
    """A learner's learning records in the course, newest first (instructors and staff)."""

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return XapiStatement._default_manager.none()
        try:
            user_id = parse_pk(get_user_model(), self.kwargs["user_id"])
        except ValueError:
            raise Http404 from None
        course = self.get_course()
        return self.statements(user_id).filter(course_key=str(course.pk))

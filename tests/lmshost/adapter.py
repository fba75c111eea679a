"""The content adapter of the LMS-shaped test host (see docs/content.rst)."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from django_learning_progress.content import ContentAdapter, Grade, to_points


class LmsAdapter(ContentAdapter):
    # A QuizTask row is its LearningTask row: the parent link is the task it completes.
    quiz_task_lookup = "learningtask_ptr"

    def required_tasks(self, course: Any) -> QuerySet[Any]:
        # The default manager already hides soft-deleted tasks; say so anyway,
        # so that the rule does not depend on which manager is the default.
        return self.course_tasks(course).filter(is_published=True, deleted_at__isnull=True)

    def quiz_questions(self, quiz: Any) -> QuerySet[Any]:
        return super().quiz_questions(quiz).prefetch_related("options")

    def validate_response(self, question: Any, response: Any) -> None:
        if isinstance(response, bool) or not isinstance(response, int):
            raise ValidationError("Give the id of one of the options.", code="invalid_option")
        if not any(option.pk == response for option in question.options.all()):
            raise ValidationError("Choose one of this question's options.", code="invalid_option")

    def grade(self, question: Any, response: Any) -> Grade:
        right = any(o.pk == response and o.is_correct for o in question.options.all())
        return Grade(
            is_correct=right, points=self.question_points(question) if right else to_points(0)
        )

    def question_points(self, question: Any) -> Decimal:
        return to_points(question.points)

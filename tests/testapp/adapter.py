from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from django_learning_progress.content import ContentAdapter, Grade, to_points


class TestAdapter(ContentAdapter):
    task_course_lookup = "module__course"

    def required_tasks(self, course: Any) -> QuerySet[Any]:
        return self.course_tasks(course).filter(optional=False)

    def question_points(self, question: Any) -> Decimal:
        return Decimal(question.marks)


class QuizTaskAdapter(TestAdapter):
    """Quizzes complete the lesson they point at (``Quiz.lesson``)."""

    quiz_task_lookup = "lesson"


class RequiredQuizAdapter(TestAdapter):
    """A course completes only when its quizzes' rules are met as well."""

    def required_quizzes(self, course: Any) -> QuerySet[Any]:
        return self.course_quizzes(course)


class OptionAdapter(TestAdapter):
    """Multiple choice: the answer is the id of one of the question's options."""

    def quiz_questions(self, quiz: Any) -> QuerySet[Any]:
        return super().quiz_questions(quiz).prefetch_related("options")

    def validate_response(self, question: Any, response: Any) -> None:
        if not any(option.pk == response for option in question.options.all()):
            raise ValidationError("Choose one of this question's options.", code="invalid_option")

    def grade(self, question: Any, response: Any) -> Grade:
        right = any(o.pk == response and o.is_correct for o in question.options.all())
        return Grade(is_correct=right, points=to_points(question.marks if right else 0))

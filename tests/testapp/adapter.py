from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from django_learning_progress.content import ContentAdapter


class TestAdapter(ContentAdapter):
    task_course_lookup = "module__course"

    def required_tasks(self, course: Any) -> QuerySet[Any]:
        return self.course_tasks(course).filter(optional=False)

    def question_points(self, question: Any) -> Decimal:
        return Decimal(question.marks)

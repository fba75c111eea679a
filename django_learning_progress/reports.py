"""The instructor report: the data behind the admin's course report page."""

from __future__ import annotations

from typing import Any

from django_learning_progress import analytics, helpers
from django_learning_progress.content import get_content_adapter

#: Learners shown in the report's table (the roster API pages through all of them).
REPORT_LEARNERS = 500


def _by_pk(model: Any, ids: list[Any]) -> dict[Any, Any]:
    return {obj.pk: obj for obj in model._default_manager.filter(pk__in=ids)}


def course_report(course: Any) -> dict[str, Any]:
    """Everything the report page shows for ``course``.

    The number of queries does not depend on the number of learners or
    attempts (it grows with the number of quizzes).
    """
    adapter = get_content_adapter()
    outcomes = analytics.course_analytics(course)
    tasks = _by_pk(adapter.task_model, [row["task"] for row in outcomes["tasks"]])
    funnel = [
        {**row, "title": str(tasks.get(row["task"], row["task"]))} for row in outcomes["tasks"]
    ]
    roster = list(helpers.course_roster(course).order_by("-percentage", "pk")[:REPORT_LEARNERS])
    quizzes = []
    for quiz in adapter.course_quizzes(course):
        stats = analytics.quiz_analytics(quiz)
        questions = _by_pk(adapter.question_model, [q["question"] for q in stats["questions"]])
        peak = max([b["count"] for b in stats["histogram"]] + [1])
        quizzes.append(
            {
                "quiz": quiz,
                "stats": stats,
                "bars": [
                    {
                        **b,
                        "height": round(100 * b["count"] / peak),
                        "y": 110 - round(100 * b["count"] / peak),
                        "x": i * 30,
                    }
                    for i, b in enumerate(stats["histogram"])
                ],
                "items": [
                    {**q, "text": str(questions.get(q["question"], q["question"]))}
                    for q in stats["questions"]
                ],
            }
        )
    return {
        "course": course,
        "outcomes": outcomes,
        "funnel": funnel,
        "roster": roster,
        "roster_limit": REPORT_LEARNERS,
        "quizzes": quizzes,
    }

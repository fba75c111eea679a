from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from django_learning_progress._expressions import AnyOf
from tests.testapp.models import Lesson

pytestmark = pytest.mark.django_db


def test_any_of_selects_what_in_selects(course_tree: Any) -> None:
    ids = [lesson.pk for lesson in course_tree.lessons]
    wanted = [ids[0], ids[2], None, ids[2], 0]  # None and unknown ids match nothing
    same = Lesson.objects.filter(pk__in=wanted).order_by("pk")
    with CaptureQueriesContext(connection) as queries:
        found = list(Lesson.objects.filter(AnyOf(F("pk"), wanted)).order_by("pk"))
    assert found == list(same) == [course_tree.lessons[0], course_tree.lessons[2]]
    sql = queries[0]["sql"]
    if connection.vendor == "postgresql":  # one array parameter, whatever the length
        assert "= ANY(" in sql and " IN (" not in sql
    else:
        assert " IN (" in sql
    assert not Lesson.objects.filter(AnyOf(F("pk"), [])).exists()
    assert not Lesson.objects.filter(AnyOf(F("pk"), [None])).exists()


def test_any_of_in_an_aggregate_filter(course_tree: Any) -> None:
    first_two = [lesson.pk for lesson in course_tree.lessons[:2]]
    counted = Lesson.objects.aggregate(
        n=Count("pk", filter=AnyOf(F("pk"), first_two)),
        m=Count("pk", filter=AnyOf(F("module"), [course_tree.lessons[0].module_id])),
    )
    per_module = Lesson.objects.filter(module=course_tree.lessons[0].module_id).count()
    assert counted == {"n": 2, "m": per_module}


def test_any_of_statement_text_does_not_depend_on_the_values(course_tree: Any) -> None:
    def sql(values: list[int]) -> str:
        qs = Lesson.objects.filter(AnyOf(F("pk"), values))
        return str(qs.query.get_compiler(using="default").as_sql()[0])

    if connection.vendor != "postgresql":
        pytest.skip("the array parameter is PostgreSQL's")
    assert sql([1]) == sql(list(range(1, 500)))

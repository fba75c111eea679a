"""The instructor's roster page of a course (it updates live where Channels is installed)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_roster_is_for_the_course_instructors(seeded: Any, client: Client) -> None:
    client.login(username="teacher", password="teacher")
    page = client.get("/courses/python-foundations/roster/")
    assert page.status_code == 200
    rows = {e.user.get_username(): e for e in page.context["enrollments"]}
    assert rows["alice"].percentage == 100.0 and rows["alice"].status == "completed"
    html = page.content.decode()
    assert f'data-user="{rows["alice"].user_id}"' in html
    assert client.get("/courses/python-foundations/").content.count(b'id="roster-link"') == 1
    # The teacher does not teach the SQL course; a learner teaches none.
    assert client.get("/courses/sql-data-analysis/roster/").status_code == 403
    client.login(username="alice", password="alice")
    assert client.get("/courses/python-foundations/roster/").status_code == 403
    assert b'id="roster-link"' not in client.get("/courses/python-foundations/").content


def test_anonymous_visitors_are_sent_to_log_in(seeded: Any, client: Client) -> None:
    response = client.get("/courses/python-foundations/roster/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

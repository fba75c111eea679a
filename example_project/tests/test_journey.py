"""A learner's journey through the example LMS's pages, with Django's test client.

Opens a course, enrolls, opens a lesson (which starts it), sends a heartbeat
through the REST API as the lesson page does, completes the lesson, takes a
quiz (start, answer, submit, see the grade and the attempts left) and sees the
course progress move.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from catalog.models import Course, Lesson, Quiz
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def percentage(page: str) -> int:
    match = re.search(r'aria-label="Course progress"[^>]*aria-valuenow="(\d+)"', page)
    assert match, "no course progress bar"
    return int(match.group(1))


def test_a_learner_completes_a_lesson_and_a_quiz(seeded: dict[str, Any]) -> None:
    client = Client()
    assert client.login(username="frank", password="frank")
    course = Course.objects.get(slug="django-web")
    page = client.get(reverse("course", args=[course.slug])).content.decode()
    assert "Enroll in this course" in page
    response = client.post(reverse("enroll", args=[course.slug]), follow=True)
    page = response.content.decode()
    assert percentage(page) == 0

    lesson = Lesson.objects.filter(module__course=course, optional=False).first()
    assert lesson is not None
    page = client.get(reverse("lesson", args=[lesson.pk])).content.decode()
    assert 'id="heartbeat"' in page
    url = re.search(r'data-url="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    # What the page's script sends while it is visible (session auth, CSRF header).
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    beat = csrf_client.post(
        url, {"seconds": 20}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert beat.status_code == 200, beat.content
    assert beat.json()["time_spent"] == 20

    response = client.post(reverse("complete-lesson", args=[lesson.pk]), follow=True)
    page = response.content.decode()
    assert "is complete" in page
    required = Lesson.objects.filter(module__course=course, optional=False).count()
    assert percentage(page) == round(100 / required)

    quiz = Quiz.objects.get(course=course, title="ORM quiz")
    page = client.get(reverse("quiz", args=[quiz.pk])).content.decode()
    assert "2 left" in page
    response = client.post(reverse("start-attempt", args=[quiz.pk]), follow=True)
    page = response.content.decode()
    assert 'id="answers"' in page
    form = {}
    for question in quiz.questions.all():
        form[f"q{question.pk}"] = (
            str(question.correct_choice)
            if question.kind == "multiple_choice"
            else question.accepted_answers[0]
        )
    response = client.post(response.redirect_chain[-1][0], form, follow=True)
    page = response.content.decode()
    assert "Passed" in page and "100%" in page
    assert "1 attempt left" in page
    page = client.get(reverse("course", args=[course.slug])).content.decode()
    assert "passed" in page


def test_pages_need_an_enrollment_and_a_login(seeded: dict[str, Any]) -> None:
    client = Client()
    course = Course.objects.get(slug="sql-data-analysis")
    lesson = Lesson.objects.filter(module__course=course).first()
    assert lesson is not None
    response = client.get(reverse("lesson", args=[lesson.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.login(username="alice", password="alice")  # not in this course
    response = client.get(reverse("lesson", args=[lesson.pk]))
    assert response.status_code == 302 and response["Location"].endswith(
        reverse("course", args=[course.slug])
    )
    assert client.get(reverse("course", args=[course.slug])).status_code == 200

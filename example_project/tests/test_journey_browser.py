"""A learner's journey through the example LMS in a real headless browser.

Runs in ``tox -e example`` (Playwright from PyPI driving Debian's Chromium at
/usr/bin/chromium); elsewhere it is skipped unless REQUIRE_BROWSER=1, which
turns a missing browser into a failure. Screenshots are saved to
``test-artifacts/`` (or $ARTIFACTS_DIR).

The learner logs in, opens a course, enrolls, opens a lesson and stays on it
while the page's heartbeat records the time through the REST API, marks it
complete, takes a quiz (start, answer, submit, see the grade, the pass and the
attempts left) and watches the course's progress bar move.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1"
if not REQUIRED:
    pytest.importorskip("playwright", reason="the browser test runs in tox -e example")
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at " + CHROMIUM, allow_module_level=True)

from catalog.models import Course, Lesson, Quiz  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from django_learning_progress.models import get_task_progress_model  # noqa: E402

# Playwright's sync API runs an event loop in this thread; the ORM calls made
# here between page actions are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(
    os.environ.get("ARTIFACTS_DIR", Path(__file__).resolve().parents[2] / "test-artifacts")
)


def progress(page: Any) -> int:
    bar = page.locator('[aria-label="Course progress"]').first
    return int(bar.get_attribute("aria-valuenow") or -1)


@pytest.mark.django_db(transaction=True)
def test_a_learner_journey_in_a_browser(live_server: Any, seeded: Any, settings: Any) -> None:
    settings.LMS_HEARTBEAT_SECONDS = 1
    course = Course.objects.get(slug="django-web")
    lesson = Lesson.objects.filter(module__course=course, optional=False).first()
    quiz = Quiz.objects.get(course=course, title="ORM quiz")
    assert lesson is not None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("#id_username", "frank")
            page.fill("#id_password", "frank")
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_selector("text=Welcome back")

            page.click(f"text={course.title}")
            page.click("text=Enroll in this course")
            page.wait_for_selector('[aria-label="Course progress"]')
            assert progress(page) == 0

            page.click(f"text={lesson.title}")
            page.wait_for_selector("#heartbeat", state="attached")
            # Stay on the visible page: the heartbeat adds the seconds through the API.
            row = get_task_progress_model()._default_manager.get(
                user__username="frank", task=lesson
            )
            deadline = time.monotonic() + 20
            while row.time_spent < 2 and time.monotonic() < deadline:
                page.wait_for_timeout(500)
                row.refresh_from_db()
            assert row.time_spent >= 2, row.time_spent
            page.wait_for_function(
                "Number(document.getElementById('lesson-time').dataset.seconds) >= 2"
            )
            page.screenshot(path=str(ARTIFACTS / "lms-lesson.png"), full_page=True)

            page.click("#complete")
            page.wait_for_selector("text=is complete")
            required = Lesson.objects.filter(module__course=course, optional=False).count()
            assert progress(page) == round(100 / required)
            page.screenshot(path=str(ARTIFACTS / "lms-course.png"), full_page=True)

            page.click(f"text={quiz.title}")
            assert "2 left" in page.inner_text("#attempts-left")
            page.click("#start")
            page.wait_for_selector("#answers")
            for question in quiz.questions.order_by("position"):
                name = f"q{question.pk}"
                if question.kind == "multiple_choice":
                    page.check(f'input[name="{name}"][value="{question.correct_choice}"]')
                else:
                    page.fill(f'[name="{name}"]', question.accepted_answers[0])
            page.click("#submit")
            page.wait_for_selector("#result")
            result = page.inner_text("#result")
            assert "Passed" in result and "100%" in result, result
            assert "1 attempt left" in result, result
            page.screenshot(path=str(ARTIFACTS / "lms-attempt.png"), full_page=True)

            page.click("text=Back to the course")
            page.wait_for_selector('[aria-label="Course progress"]')
            assert "passed" in page.inner_text("table")
        finally:
            browser.close()
    for name in ("lms-lesson.png", "lms-course.png", "lms-attempt.png"):
        assert (ARTIFACTS / name).stat().st_size > 5_000

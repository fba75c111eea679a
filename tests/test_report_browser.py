"""The instructor report, opened from the admin in a real headless browser.

Runs in ``tox -e browser`` (Playwright from PyPI driving Debian's Chromium at
/usr/bin/chromium); elsewhere it is skipped unless REQUIRE_BROWSER=1, which
turns a missing browser into a failure. The screenshot is saved to
``test-artifacts/`` (or $ARTIFACTS_DIR).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1"
if not REQUIRED:
    pytest.importorskip("playwright", reason="the browser test runs in tox -e browser")
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at " + CHROMIUM, allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from django_learning_progress import analytics, helpers, services  # noqa: E402
from django_learning_progress.models import get_enrollment_model  # noqa: E402
from tests.conftest import build_course  # noqa: E402

# Playwright's sync API runs an event loop in this thread; the ORM calls made
# here between page actions are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(
    os.environ.get("ARTIFACTS_DIR", Path(__file__).resolve().parent.parent / "test-artifacts")
)


def text(page: Any, selector: str) -> str:
    return " ".join((page.text_content(selector) or "").split())


@pytest.mark.django_db(transaction=True)
def test_instructor_report_in_a_browser(live_server: Any, make_user: Any) -> None:
    tree = build_course("Browser course", pass_mark=Decimal("50"))
    instructor = make_user(username="ines", password="secret-pass", is_staff=True)
    tree.course.instructors.add(instructor)
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    opts = get_enrollment_model()._meta
    instructor.user_permissions.add(
        Permission.objects.get(
            codename=f"view_{opts.model_name}",
            content_type=ContentType.objects.get_for_model(get_enrollment_model()),
        )
    )
    for n in range(6):
        learner = make_user(username=f"learner{n}")
        services.enroll(learner, tree.course)
        for lesson in tree.lessons[: n % 5]:
            services.complete_task(learner, lesson)
        services.add_time_spent(learner, tree.lessons[-1], 30 * n)
        attempt = services.start_attempt(learner, tree.quizzes[0])
        for question in tree.questions[: n % 4]:
            services.answer_question(learner, attempt, question, question.answer)
        services.submit_attempt(learner, attempt)
    outcomes = analytics.course_analytics(tree.course)
    quiz = analytics.quiz_analytics(tree.quizzes[0])
    roster = {e.user.get_username(): e for e in helpers.course_roster(tree.course)}

    changelist = f"{live_server.url}/admin/{opts.app_label}/{opts.model_name}/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{changelist}?course__id__exact={tree.course.pk}")
            page.fill("#id_username", "ines")
            page.fill("#id_password", "secret-pass")
            page.click("input[type=submit]")
            # From the admin's enrollment list, filtered by course, to the report.
            page.click("text=Progress report for this course")
            page.wait_for_selector("#lp-report")

            for key in ("enrolled", "active", "completed", "dropped", "inactive_learners"):
                assert text(page, f'#lp-summary [data-figure="{key}"]') == str(outcomes[key])
            for row in outcomes["tasks"]:
                prefix = f'#lp-funnel tr[data-task="{row["task"]}"]'
                assert text(page, f'{prefix} [data-figure="started"]') == str(row["started"])
                assert text(page, f'{prefix} [data-figure="completed"]') == str(row["completed"])
            for username, entry in roster.items():
                prefix = f'#lp-learners tr[data-user="{entry.user_id}"]'
                assert text(page, prefix).startswith(username)
                assert (
                    text(page, f'{prefix} [data-figure="percentage"]') == f"{entry.percentage:.2f}"
                )
            section = f'.lp-quiz[data-quiz="{quiz["quiz"]}"]'
            assert text(page, f'{section} [data-figure="attempts"]') == str(quiz["attempts"])
            assert text(page, f'{section} [data-figure="mean_percentage"]') == (
                f"{quiz['mean_percentage']:.2f}"
            )
            assert text(page, f'{section} [data-figure="median_percentage"]') == (
                f"{quiz['median_percentage']:.2f}"
            )
            bars = page.locator(f"{section} svg rect")
            assert bars.count() == 10
            counts = [int(bars.nth(i).get_attribute("data-count") or -1) for i in range(10)]
            assert counts == [b["count"] for b in quiz["histogram"]]
            for item in quiz["questions"]:
                cell = text(
                    page,
                    f'{section} tr[data-question="{item["question"]}"] [data-figure="facility"]',
                )
                assert cell == f"{item['facility']:.2f}"

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "course-report.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "course-report.png").stat().st_size > 10_000

"""The instructor pages in a real headless browser, opened by an instructor who is not staff.

Runs in ``tox -e browser`` (Playwright from PyPI driving Debian's Chromium at
/usr/bin/chromium); elsewhere it is skipped unless REQUIRE_BROWSER=1, which
turns a missing browser into a failure. Screenshots are saved to
``test-artifacts/`` (or $ARTIFACTS_DIR).
"""

from __future__ import annotations

import csv
import io
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

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from django_learning_progress import analytics, services  # noqa: E402
from tests.conftest import build_course  # noqa: E402

# Playwright's sync API runs an event loop in this thread; the ORM calls made
# here between page actions are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(
    os.environ.get("ARTIFACTS_DIR", Path(__file__).resolve().parent.parent / "test-artifacts")
)
LEARNERS = 60


def text(page: Any, selector: str) -> str:
    return " ".join((page.text_content(selector) or "").split())


def usernames(page: Any) -> list[str]:
    cells = page.locator('#lp-roster tbody [data-figure="username"]')
    return [" ".join(cells.nth(i).inner_text().split()) for i in range(cells.count())]


def session_cookie(user: Any, base_url: str) -> dict[str, Any]:
    """A signed-in session for ``user``, as a browser cookie (what the host's login page gives)."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": base_url,
    }


@pytest.mark.django_db(transaction=True)
def test_instructor_pages_in_a_browser(live_server: Any, make_user: Any) -> None:
    tree = build_course("Browser course", pass_mark=Decimal("50"))
    instructor = make_user(username="ines", password="secret-pass", is_staff=False)
    tree.course.instructors.add(instructor)
    for n in range(LEARNERS):
        learner = make_user(username=f"learner{n:03d}")
        services.enroll(learner, tree.course)
        for lesson in tree.lessons[: n % 5]:
            services.complete_task(learner, lesson)
        services.add_time_spent(learner, tree.lessons[-1], 60 * n)
        attempt = services.start_attempt(learner, tree.quizzes[0])
        for question in tree.questions[: n % 4]:
            services.answer_question(learner, attempt, question, question.answer)
        services.submit_attempt(learner, attempt)
    outsider = make_user(username="outsider")
    quiz = analytics.quiz_analytics(tree.quizzes[0])
    outcomes = analytics.course_analytics(tree.course)
    url = live_server.url + reverse("learning_progress_pages:course-report", args=[tree.course.pk])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

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
            # Another user: 403.
            other = browser.new_context()
            other.add_cookies([session_cookie(outsider, live_server.url)])  # type: ignore[list-item]
            response = other.new_page().goto(url)
            assert response is not None and response.status == 403
            other.close()

            # Anonymous: sent to the login page, then back to the report once signed in.
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            page = context.new_page()
            page.goto(url)
            assert "/accounts/login/?next=" in page.url
            page.fill("#id_username", "ines")
            page.fill("#id_password", "secret-pass")
            with page.expect_navigation():
                page.click("input[type=submit]")
            assert page.url == url
            page.wait_for_selector("#lp-report")

            # Figures, a bar's number, the histogram's axes and numbers.
            for key in ("enrolled", "active", "completed", "inactive_learners"):
                assert text(page, f'#lp-summary [data-figure="{key}"]') == str(outcomes[key])
            first_task = outcomes["tasks"][0]
            rate = text(page, f'#lp-funnel tr[data-task="{first_task["task"]}"] .lp-bar-figure')
            assert rate.endswith("%")
            assert page.locator("svg.lp-histogram text", has_text="Score (%)").count() == 1
            assert page.locator("svg.lp-histogram text", has_text="Attempts").count() == 1
            counts = page.locator("svg.lp-histogram .lp-bar-count")
            assert [int(counts.nth(i).text_content() or -1) for i in range(counts.count())] == [
                b["count"] for b in quiz["histogram"]
            ]
            page.screenshot(path=str(ARTIFACTS / "pages-report.png"), full_page=True)

            # Paged roster, by name.
            assert usernames(page) == [f"learner{n:03d}" for n in range(50)]
            with page.expect_navigation():
                page.click('#lp-learners nav a[rel="next"]')
            assert usernames(page) == [f"learner{n:03d}" for n in range(50, LEARNERS)]
            assert "Page 2 of 2" in text(page, "#lp-learners nav")
            page.screenshot(path=str(ARTIFACTS / "pages-roster-page-2.png"), full_page=True)

            # Sorted by time spent (descending first), then searched: the sort stays.
            with page.expect_navigation():
                page.click('#lp-roster th[data-sort="time"] a')
            assert usernames(page)[:3] == ["learner059", "learner058", "learner057"]
            assert page.get_attribute('#lp-roster th[data-sort="time"]', "aria-sort") == (
                "descending"
            )
            page.fill("#lp-q", "learner01")
            with page.expect_navigation():
                page.press("#lp-q", "Enter")
            assert usernames(page) == [f"learner{n:03d}" for n in range(19, 9, -1)]

            # The keyboard: Tab from the top of the page reaches the table's links,
            # each drawn with a visible focus ring; Enter follows the link.
            page.goto(url)
            for _ in range(40):
                page.keyboard.press("Tab")
                if page.evaluate("!!document.activeElement.closest('#lp-roster')"):
                    break
            else:
                pytest.fail("Tab never reached the roster table")
            focused = page.evaluate(
                "[document.activeElement.tagName, document.activeElement.textContent.trim(),"
                " getComputedStyle(document.activeElement).outlineStyle]"
            )
            assert focused[0] == "A" and focused[1].startswith("Learner")
            assert focused[2] != "none"
            page.screenshot(path=str(ARTIFACTS / "pages-keyboard-focus.png"))
            with page.expect_navigation():
                page.keyboard.press("Enter")  # sorts by name, now descending
            assert usernames(page)[0] == "learner059"

            # The CSV download: one row per learner, the roster's learners.
            with page.expect_download() as info:
                page.click('#lp-downloads li[data-what="progress"] a:text("CSV")')
            download = info.value
            assert download.suggested_filename == f"course-{tree.course.pk}-progress.csv"
            body = Path(download.path()).read_text(encoding="utf-8")
            table = list(csv.DictReader(io.StringIO(body)))
            assert sorted(row["username"] for row in table) == [
                f"learner{n:03d}" for n in range(LEARNERS)
            ]
            context.close()
        finally:
            browser.close()
    for name in ("pages-report.png", "pages-roster-page-2.png", "pages-keyboard-focus.png"):
        assert (ARTIFACTS / name).stat().st_size > 5_000

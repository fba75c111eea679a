"""Live progress in a real browser: a change made in one page appears in others without reload.

The example LMS runs as it would in production: its ASGI application
(``lms/asgi.py``) served by daphne in a process of its own, on a free port,
with a migrated and seeded SQLite file; the channel layer is the in-memory one,
or Redis when ``LIVE_REDIS_URL`` is set (``tox -e live-redis``). Frank has a
course page open in one tab and a lesson in another; the teacher has the
course's roster open. Frank completes the lesson: his course page's bar and
the teacher's roster row move, and neither page reloads.

Runs in ``tox -e example`` and ``tox -e live-redis`` (Playwright driving
Debian's Chromium); elsewhere it is skipped unless REQUIRE_BROWSER=1. Screenshots
go to ``test-artifacts/`` (or $ARTIFACTS_DIR).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright", reason="the browser test runs in tox -e example")
    pytest.importorskip("channels", reason="live progress needs the live extra")
    pytest.importorskip("daphne", reason="the ASGI server of this test")
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at " + CHROMIUM, allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

HERE = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", HERE.parent / "test-artifacts"))
REDIS_URL = os.environ.get("LIVE_REDIS_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("daphne exited:\n" + log.read_text())
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.25)
    raise AssertionError("daphne did not answer:\n" + log.read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example LMS under daphne, migrated and seeded; its base URL."""
    tmp = tmp_path_factory.mktemp("live-lms")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(
        DJANGO_SETTINGS_MODULE="lms.settings",
        LMS_DB_PATH=str(tmp / "db.sqlite3"),
        PYTHONPATH=str(HERE),
    )
    if REDIS_URL:
        env.update(LMS_REDIS_URL=REDIS_URL, LMS_REDIS_PREFIX=f"lms-test-{uuid.uuid4().hex}:")
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        subprocess.run([*manage, *command], cwd=HERE, env=env, check=True, capture_output=True)
    port = free_port()
    log = tmp / "daphne.log"
    daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*daphne, "lms.asgi:application"],
            cwd=HERE,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(proc, base + "/accounts/login/", log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def log_in(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", username)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_selector("text=Welcome back")
    return context


def figures(box: Any) -> tuple[int, str, str]:
    bar = box.locator('[role="progressbar"]').first
    return (
        int(bar.get_attribute("aria-valuenow") or -1),
        box.locator(".tasks-completed").inner_text(),
        box.locator(".percentage").inner_text(),
    )


def test_a_completed_lesson_moves_other_pages_without_reload(server: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            learner = log_in(browser, server, "frank")
            course_page = learner.new_page()
            course_page.goto(f"{server}/courses/django-web/")
            course_page.click("text=Enroll in this course")
            course_page.wait_for_function("window.lmsLive && window.lmsLive.connected")
            box = course_page.locator("#course-progress")
            total = int(box.locator(".tasks-total").inner_text())
            assert figures(box) == (0, "0", "0%")

            teacher = log_in(browser, server, "teacher")
            roster = teacher.new_page()
            roster.goto(f"{server}/courses/django-web/roster/")
            roster.wait_for_function("window.lmsLive && window.lmsLive.following")
            frank_row = roster.locator("#roster tr", has_text="Frank")
            assert figures(frank_row) == (0, "0", "0%")

            # A marker that a reload would lose.
            for page in (course_page, roster):
                page.evaluate("window.notReloaded = true")

            lesson_page = learner.new_page()
            lesson_page.goto(f"{server}/courses/django-web/")
            lesson_page.click("ol.lessons li a >> nth=0")
            lesson_page.click("#complete")
            lesson_page.wait_for_selector("text=is complete")

            expected = round(100 / total)
            for page, row in ((course_page, box), (roster, frank_row)):
                page.wait_for_function(
                    "([el, n]) => el.getAttribute('aria-valuenow') === String(n)",
                    arg=[row.locator('[role="progressbar"]').element_handle(), expected],
                    timeout=10_000,
                )
                assert figures(row) == (expected, "1", f"{expected}%")
                assert page.evaluate("window.notReloaded") is True
            course_page.screenshot(path=str(ARTIFACTS / "live-course.png"), full_page=True)
            roster.screenshot(path=str(ARTIFACTS / "live-roster.png"), full_page=True)

            # An anonymous page gets no live socket: the consumer closes it with 4401.
            anonymous = browser.new_page()
            anonymous.goto(f"{server}/courses/django-web/")
            code = anonymous.evaluate(
                """() => new Promise((resolve) => {
                    const socket = new WebSocket(location.origin.replace("http", "ws") + "/ws/progress/");
                    socket.onclose = (event) => resolve(event.code);
                })"""
            )
            assert code == 4401
        finally:
            browser.close()
    for name in ("live-course.png", "live-roster.png"):
        assert (ARTIFACTS / name).stat().st_size > 5_000

"""A journey's learning records delivered to a real LRS (Ralph), across an outage.

Runs where Ralph is installed (``tox -e lrs``: ``ralph-malph[cli,lrs]``);
``REQUIRE_LRS=1`` turns a missing Ralph into a failure instead of a skip.
``RALPH_PYTHON`` may name a Python that has Ralph (e.g. in a virtualenv of its own).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from django_learning_progress import services
from django_learning_progress.xapi.models import XapiStatement
from tests.conftest import build_course
from tests.xapi_support import learning_progress, validate

pytestmark = pytest.mark.django_db


def ralph_command() -> list[str]:
    """Ralph's CLI through tests/ralph_lrs.py, run by ``RALPH_PYTHON`` or this Python."""
    python = os.environ.get("RALPH_PYTHON", sys.executable)
    found = subprocess.run(
        [python, "-c", "import ralph.cli, ralph.backends.lrs.fs, uvicorn"], capture_output=True
    )
    if found.returncode != 0:
        if os.environ.get("REQUIRE_LRS"):
            raise RuntimeError(f"Ralph's LRS is not installed: {found.stderr.decode()}")
        pytest.skip("Ralph's LRS is not installed (tox -e lrs)")
    return [python, str(Path(__file__).with_name("ralph_lrs.py"))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Lrs:
    """``ralph runserver -b fs`` with HTTP basic authentication, stopped and started at will."""

    user, password = "lms", "s3cret-lrs"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/xAPI"
        self.command = ralph_command()
        self.env = {
            **os.environ,
            "RALPH_APP_DIR": str(directory),
            "RALPH_AUTH_FILE": str(directory / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
        }
        self.process: subprocess.Popen[bytes] | None = None
        # The documented way to add a user to the LRS's credentials file.
        subprocess.run(
            [
                *self.command,
                "auth",
                "--username",
                self.user,
                "--password",
                self.password,
                "--scope",
                "all",
                "--agent-ifi-account",
                self.user,
                "https://lms.example.com",
                "--write-to-disk",
            ],
            env=self.env,
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        log = open(self.directory / "lrs.log", "ab")  # noqa: SIM115 - kept while it runs
        self.process = subprocess.Popen(
            [
                *self.command,
                "runserver",
                "--backend",
                "fs",
                "--fs-default-directory-path",
                str(self.directory / "data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # runserver serves from a child process (uvicorn's reloader, which
            # watches the working directory): a session of its own to kill both.
            cwd=self.directory,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.get("/whoami")
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError((self.directory / "lrs.log").read_text()) from None
                time.sleep(0.2)
        raise RuntimeError("the LRS did not start in 60 s")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def get(self, path: str) -> Any:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            headers={"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def statements(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        path = "/xAPI/statements/?limit=100"
        while path:
            page = self.get(path)
            found += page["statements"]
            path = page.get("more") or ""
        return found


@pytest.fixture
def lrs(tmp_path: Path) -> Iterator[Lrs]:
    server = Lrs(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.kill()


def send(*args: str) -> None:
    call_command("send_xapi_statements", "--no-progress", *args, stdout=StringIO())


def test_a_journey_reaches_the_lrs_once_across_an_outage(lrs: Lrs, make_user: Any) -> None:
    options = learning_progress(
        ENDPOINT=lrs.url, USERNAME=lrs.user, PASSWORD=lrs.password, BATCH_SIZE=4
    )
    tree = build_course(questions=3)
    ada, bob = make_user(), make_user()
    with override_settings(LEARNING_PROGRESS=options):
        for user in (ada, bob):
            services.enroll(user, tree.course)
            services.start_task(user, tree.lessons[0])
            services.add_time_spent(user, tree.lessons[0], 75)
            services.complete_task(user, tree.lessons[0])
        send("--limit", "6")
        assert XapiStatement.objects.filter(sent_at__isnull=False).count() == 6

        lrs.kill()  # the LRS goes away mid-run; the learners carry on
        attempt = services.start_attempt(ada, tree.quizzes[0])
        services.answer_questions(ada, attempt, [(q, q.answer, 5) for q in tree.questions])
        services.submit_attempt(ada, attempt)
        services.abandon_attempt(bob, services.start_attempt(bob, tree.quizzes[0]))
        for lesson in tree.lessons[1:]:
            services.complete_task(ada, lesson)  # ada completes the course
        services.drop_enrollment(services.enroll(bob, tree.course))
        with pytest.raises(CommandError, match="unreachable"):
            send()
        assert not XapiStatement.objects.filter(sent_at__isnull=True, attempts=0).exists()

        lrs.start()
        send("--retry-now")
        # A sender that crashed after the LRS stored a batch but before marking
        # it sends the batch again: the LRS must not keep two copies.
        XapiStatement.objects.filter(
            pk__in=list(XapiStatement.objects.values_list("pk", flat=True)[:3])
        ).update(sent_at=None)
        send()

    total = XapiStatement.objects.count()
    assert not XapiStatement.objects.pending().exists()
    stored = lrs.statements()
    ids = [s["id"] for s in stored]
    assert len(ids) == len(set(ids)) == total
    assert set(ids) == {str(pk) for pk in XapiStatement.objects.values_list("pk", flat=True)}
    for statement in stored:
        validate(statement)
    verbs = {s["verb"]["id"].rsplit("/", 1)[-1] for s in stored}
    assert verbs == {
        "registered",
        "unregistered",
        "initialized",
        "progressed",
        "completed",
        "attempted",
        "answered",
        "passed",
        "terminated",
    }

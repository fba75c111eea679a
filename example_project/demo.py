#!/usr/bin/env python3
"""Run the example LMS on a machine that has nothing but Python (3.10+).

    python example_project/demo.py              # set up, seed, serve on 127.0.0.1:8000
    python example_project/demo.py --port 8001
    python example_project/demo.py --smoke      # set up, serve in the background, check over HTTP

Setting up means: a virtualenv at ``example_project/.venv`` (made with uv when
it is on PATH, else with ``venv`` and pip; reused on later runs), this
repository installed into it in editable mode with the ``drf`` and ``live``
extras plus drf-spectacular and daphne, then ``migrate`` and ``seed_demo``.
``runserver`` then serves the LMS's ASGI application with daphne, so that
course pages and rosters update live (in-memory channel layer). The demo keeps its data in
``example_project/db.sqlite3``; ``--smoke`` uses a temporary database and exits
non-zero when any check fails.

Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

if sys.version_info < (3, 10):  # noqa: UP036 - this check is for people, not for ruff
    sys.exit("The example LMS needs Python 3.10 or newer.")

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
VENV = HERE / ".venv"
STAMP = VENV / ".demo-installed.json"
DB_PATH = HERE / "db.sqlite3"
HOST = "127.0.0.1"
REQUIREMENTS = ["-e", f"{REPO_ROOT}[drf,live]", "drf-spectacular", "daphne"]
COMMAND_TIMEOUT = 600  # seconds, per setup command
LOGINS = [
    ("admin", "admin", "superuser: the admin site"),
    ("teacher", "teacher", "instructor of Python Foundations and Web Development with Django"),
    ("grace", "grace", "instructor of Data Analysis with SQL"),
    ("alice", "alice", "learner: one course completed, one half-way"),
    ("bob", "bob", "learner (an essay awaits grading)"),
    ("carol", "carol", "learner"),
    ("dave", "dave", "learner"),
    ("erin", "erin", "learner (dropped a course)"),
    ("frank", "frank", "learner, not enrolled yet"),
]


class DemoError(Exception):
    """A setup step failed; the message says which."""


def say(message: str = "") -> None:
    print(message, flush=True)


@contextlib.contextmanager
def step(title: str) -> Iterator[None]:
    say(f"==> {title}")
    started = time.monotonic()
    yield
    say(f"    done in {time.monotonic() - started:.1f}s")


# -- the virtualenv -------------------------------------------------------------------


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def run(cmd: list[str], *, env: dict[str, str] | None = None, capture: bool = False) -> str:
    """Run ``cmd`` in ``example_project/``; raise DemoError when it fails."""
    try:
        proc = subprocess.run(
            cmd,
            cwd=HERE,
            env=env,
            stdout=subprocess.PIPE if capture else None,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DemoError(f"{' '.join(cmd)}: {exc}") from None
    if proc.returncode != 0:
        raise DemoError(f"{' '.join(cmd)} exited with status {proc.returncode}")
    return proc.stdout or ""


def wanted_stamp() -> dict[str, Any]:
    """What the venv must have been set up with to be reused as it is."""
    pyproject = (REPO_ROOT / "pyproject.toml").read_bytes()
    return {
        "requirements": REQUIREMENTS,
        "pyproject_sha256": hashlib.sha256(pyproject).hexdigest(),
    }


def venv_works() -> bool:
    python = venv_python()
    if not python.exists():
        return False
    try:
        check = subprocess.run(
            [str(python), "-c", "import django, rest_framework, django_learning_progress"],
            cwd=HERE,
            env=child_env(),
            capture_output=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return check.returncode == 0


def ensure_venv(*, use_uv: bool, reinstall: bool) -> Path:
    """A virtualenv with the project installed: reused when it is up to date."""
    python = venv_python()
    stamp = None
    with contextlib.suppress(OSError, ValueError):
        stamp = json.loads(STAMP.read_text())
    if not reinstall and stamp == wanted_stamp() and venv_works():
        say(f"==> Reusing the virtualenv {VENV}")
        return python
    uv = shutil.which("uv") if use_uv else None
    if not python.exists() or not _runs(python):
        if VENV.exists():
            if not (VENV / "pyvenv.cfg").exists():
                raise DemoError(f"{VENV} exists but is not a virtualenv; move it away")
            shutil.rmtree(VENV)
        with step(f"Creating the virtualenv {VENV}" + (" with uv" if uv else "")):
            if uv:
                run([uv, "venv", "--quiet", "--python", sys.executable, str(VENV)])
            else:
                run([sys.executable, "-m", "venv", str(VENV)])
    with step("Installing django-learning-progress[drf,live] (editable), drf-spectacular, daphne"):
        if uv:
            run([uv, "pip", "install", "--python", str(python), *REQUIREMENTS])
        else:
            if subprocess.run(
                [str(python), "-m", "pip", "--version"], capture_output=True
            ).returncode:
                run([str(python), "-m", "ensurepip", "--upgrade"])  # a venv made by uv earlier
            pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            run([*pip, *REQUIREMENTS])
    STAMP.write_text(json.dumps(wanted_stamp(), indent=2))
    return python


def _runs(python: Path) -> bool:
    try:
        return subprocess.run([str(python), "-c", "pass"], capture_output=True).returncode == 0
    except OSError:
        return False


def child_env(db_path: Path | None = None) -> dict[str, str]:
    """The environment of manage.py: the venv's Python, the LMS's settings, nothing inherited
    that would point Python or Django elsewhere."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("LMS_")}
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = str(venv_python().parent) + os.pathsep + env.get("PATH", "")
    env["DJANGO_SETTINGS_MODULE"] = "lms.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    env["LMS_DB_PATH"] = str(db_path or DB_PATH)
    env["LMS_DEBUG"] = "1"  # served on 127.0.0.1 only: debug pages and static files
    return env


def manage(python: Path, env: dict[str, str], *args: str, capture: bool = False) -> str:
    return run([str(python), "manage.py", *args], env=env, capture=capture)


def prepare_database(python: Path, env: dict[str, str], *, reset: bool) -> dict[str, Any]:
    """Migrate and seed; return the seed summary."""
    with step("Migrating the database " + env["LMS_DB_PATH"]):
        manage(python, env, "migrate", "--noinput", "-v", "0")
    with step("Seeding the demo data"):
        args = ["seed_demo", "--json", *(["--reset"] if reset else [])]
        return json.loads(manage(python, env, *args, capture=True).strip().splitlines()[-1])


def has_module(python: Path, env: dict[str, str], name: str) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return subprocess.run([str(python), "-c", code], env=env, cwd=HERE).returncode == 0


# -- the server -----------------------------------------------------------------------


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(
    python: Path, env: dict[str, str], port: int, *, log: Any = None
) -> subprocess.Popen[bytes]:
    """Start ``runserver``.

    In the foreground (no ``log``) it runs with its autoreloader, in a process
    group of its own, so that stop_server() ends the reloader *and* the server
    process it runs. With a ``log`` (the smoke test) it is one process
    (``--noreload``) in demo.py's process group: killing that group kills it too.
    """
    cmd = [str(python), "manage.py", "runserver", f"{HOST}:{port}"]
    kwargs: dict[str, Any] = {"stdin": subprocess.DEVNULL}
    if log is None:
        kwargs["start_new_session"] = os.name != "nt"
    else:
        cmd.append("--noreload")
        kwargs.update(stdout=log, stderr=subprocess.STDOUT)
    return subprocess.Popen(cmd, cwd=HERE, env=env, **kwargs)


def wait_until_up(proc: subprocess.Popen[bytes], base: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            status, _headers, _body = fetch(base + "/static/admin/css/base.css", timeout=2)
        except OSError:
            time.sleep(0.25)
            continue
        return status < 500
    return False


def stop_server(proc: subprocess.Popen[bytes], *, group: bool = False) -> None:
    """Stop the server; ``group``: its whole process group (see start_server())."""

    def send(signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group and os.name != "nt":
                os.killpg(proc.pid, signum)
            else:
                proc.send_signal(signum)

    if proc.poll() is None:
        send(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL if os.name != "nt" else signal.SIGTERM)
        proc.wait(timeout=10)
    if group and os.name != "nt":  # the autoreloader's server process, if it outlived it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def urls(base: str, summary: dict[str, Any], schema: bool) -> list[tuple[str, str]]:
    course = summary["courses"][0]
    rows = [
        ("Home", f"{base}/"),
        (f"Live roster ({course['title']})", f"{base}/courses/{course['slug']}/roster/"),
        ("Admin", f"{base}/admin/"),
        ("API root", f"{base}/api/progress/"),
        ("My progress (API)", f"{base}/api/progress/me/progress/"),
        (
            f"Course roster (API, {course['title']})",
            f"{base}/api/progress/courses/{course['id']}/progress/",
        ),
    ]
    if schema:
        rows.append(("OpenAPI schema", f"{base}/api/schema/"))
    return rows


def banner(base: str, summary: dict[str, Any], schema: bool) -> str:
    lines = ["", "The example LMS is running.", ""]
    for label, url in urls(base, summary, schema):
        lines.append(f"  {label + ':':<42} {url}")
    lines += ["", "Demo logins (password = username):"]
    for username, password, role in LOGINS:
        lines.append(f"  {username + ' / ' + password:<20} {role}")
    course = summary["courses"][0]
    lines += [
        "",
        "Try the API from a shell:",
        f"  curl -u alice:alice {base}/api/progress/me/progress/",
        f"  curl -u teacher:teacher {base}/api/progress/courses/{course['id']}/progress/",
        "",
        "Press CONTROL-C to stop.",
        "",
    ]
    return "\n".join(lines)


def serve(python: Path, env: dict[str, str], port: int, summary: dict[str, Any]) -> int:
    if not port_is_free(port):
        say(f"Port {port} on {HOST} is in use; pick another one with --port.")
        return 2
    base = f"http://{HOST}:{port}"
    schema = has_module(python, env, "drf_spectacular")
    proc = start_server(python, env, port)  # CONTROL-C reaches demo.py, which stops it
    try:
        wait_until_up(proc, base, timeout=30)
        if proc.poll() is None:
            say(banner(base, summary, schema))
        return proc.wait()
    except KeyboardInterrupt:
        say("\nStopping the server.")
        return 0
    finally:
        stop_server(proc, group=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def stop_on_signals() -> None:
    """CONTROL-C, kill and hang-up stop demo.py through its ``finally`` blocks, which
    stop the server (it may be in a process group of its own) and remove temporary files."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, _interrupt)


# -- HTTP, standard library only ------------------------------------------------------

_NO_PROXY = urllib.request.ProxyHandler({})  # the demo server is local, whatever the env says


def fetch(
    url: str,
    *,
    auth: tuple[str, str] | None = None,
    data: Any = None,
    headers: dict[str, str] | None = None,
    opener: urllib.request.OpenerDirector | None = None,
    timeout: float = 30,
) -> tuple[int, Any, bytes]:
    """``(status, headers, body)`` of one request; HTTP errors are answers, not exceptions."""
    headers = dict(headers or {})
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    body = None
    if isinstance(data, dict) and headers.get("Content-Type") == "application/json":
        body = json.dumps(data).encode()
    elif isinstance(data, dict):
        body = urllib.parse.urlencode(data).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = urllib.request.Request(url, data=body, headers=headers)
    opener = opener or urllib.request.build_opener(_NO_PROXY)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


class Browser:
    """A cookie-keeping client that logs in through a Django login form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(
            _NO_PROXY, urllib.request.HTTPCookieProcessor(self.jar)
        )

    def get(self, path: str) -> tuple[int, Any, bytes]:
        return fetch(self.base + path, opener=self.opener)

    def login(self, path: str, username: str, password: str) -> int:
        status, _headers, page = self.get(path)
        if status != 200:
            return status
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if match is None:
            raise AssertionError(f"no CSRF token on {path}")
        form = {
            "csrfmiddlewaretoken": match.group(1).decode(),
            "username": username,
            "password": password,
        }
        status, _headers, _body = fetch(
            self.base + path, data=form, opener=self.opener, headers={"Referer": self.base + path}
        )
        return status

    @property
    def logged_in(self) -> bool:
        return any(cookie.name == "sessionid" for cookie in self.jar)


# -- the smoke test -------------------------------------------------------------------


class Smoke:
    """Checks against a running demo server; each records ok or FAIL."""

    def __init__(self, base: str, summary: dict[str, Any]) -> None:
        self.base = base
        self.summary = summary
        self.failures: list[str] = []
        self.passed = 0
        self.course = {c["slug"]: c for c in summary["courses"]}

    def check(self, name: str, test: Callable[[], None]) -> None:
        try:
            test()
        except Exception as exc:  # a failed check must not stop the others
            self.failures.append(name)
            say(f"  FAIL {name}: {type(exc).__name__}: {exc}")
        else:
            self.passed += 1
            say(f"  ok   {name}")

    def get(self, path: str, auth: tuple[str, str] | None = None, **kw: Any) -> Any:
        return fetch(self.base + path, auth=auth, **kw)

    def get_json(
        self, path: str, auth: tuple[str, str] | None, status: int = 200, **kw: Any
    ) -> Any:
        code, headers, body = self.get(path, auth, **kw)
        expect(code == status, f"GET {path}: status {code}, expected {status}: {body[:300]!r}")
        expect(
            "json" in headers.get("Content-Type", ""),  # application/json, or OpenAPI's
            f"{path}: Content-Type {headers.get('Content-Type')!r}",
        )
        return json.loads(body)

    def roster_path(self, slug: str) -> str:
        return f"/api/progress/courses/{self.course[slug]['id']}/progress/"

    # Each method below is one check.

    def home_anonymous(self) -> None:
        code, headers, body = self.get("/")
        expect(code == 200, f"status {code}")
        expect(headers.get("Content-Type", "").startswith("text/html"), "not HTML")
        page = body.decode()
        for course in self.summary["courses"]:
            expect(course["title"] in page, f"course {course['title']!r} not listed")
        expect(not re.search(r'(src|href)="(https?:)?//', page), "the page links external assets")

    def home_learner(self) -> None:
        browser = Browser(self.base)
        code = browser.login("/accounts/login/", "alice", "alice")
        expect(code == 200 and browser.logged_in, f"login as alice failed (status {code})")
        code, _headers, body = browser.get("/")
        page = body.decode()
        expect(code == 200, f"status {code}")
        expect("Welcome back, Alice" in page, "not logged in on the home page")
        expect(page.count('role="progressbar"') == 2, "expected alice's 2 progress bars")
        expect('aria-valuenow="100"' in page, "alice's completed course is not at 100%")

    def admin_login_page(self) -> None:
        code, _headers, body = self.get("/admin/login/")
        expect(code == 200, f"status {code}")
        expect(b'name="username"' in body, "no login form")

    def admin_pages(self) -> None:
        browser = Browser(self.base)
        code = browser.login("/admin/login/", "admin", "admin")
        expect(browser.logged_in, f"admin login failed (status {code})")
        for path, needle in [
            ("/admin/", b"Learning progress"),
            ("/admin/catalog/course/", b"Python Foundations"),
            ("/admin/learning_progress/courseenrollment/?q=alice", b"alice"),
            ("/admin/learning_progress/quizattempt/", b"Basics check"),
            # Course.search_fields make the course an autocomplete target for other admins.
            (
                "/admin/autocomplete/?app_label=catalog&model_name=module&field_name=course"
                "&term=python",
                b"Python Foundations",
            ),
        ]:
            code, _headers, body = browser.get(path)
            expect(code == 200, f"{path}: status {code}")
            expect(needle in body, f"{path}: {needle!r} not on the page")

    def static_files(self) -> None:
        code, _headers, _body = self.get("/static/admin/css/base.css")
        expect(code == 200, f"admin CSS: status {code}")
        code, _headers, _body = self.get("/static/rest_framework/css/bootstrap.min.css")
        expect(code == 200, f"DRF CSS: status {code}")

    def api_root(self) -> None:
        data = self.get_json("/api/progress/", ("alice", "alice"))
        for key in ("enrollments", "task-progress", "quiz-attempts", "quiz-responses"):
            expect(key in data, f"API root lacks {key!r}: {data}")
            expect(data[key].startswith(self.base + "/api/progress/"), f"{key}: {data[key]}")

    def api_needs_login(self) -> None:
        code, _headers, _body = self.get("/api/progress/me/progress/")
        expect(code in (401, 403), f"anonymous request answered {code}")
        code, _headers, _body = self.get("/api/progress/me/progress/", ("alice", "wrong"))
        expect(code in (401, 403), f"wrong password answered {code}")
        code, _headers, _body = self.get("/api/progress/me/progress/", ("ali\x00ce", "alice"))
        expect(code == 401, f"a NUL byte in the username answered {code}")

    def my_progress(self) -> None:
        data = self.get_json("/api/progress/me/progress/", ("alice", "alice"))
        expect(data["count"] == 2, f"alice has {data['count']} courses, expected 2")
        by_course = {row["course"]: row for row in data["results"]}
        done = by_course[self.course["python-foundations"]["id"]]
        expect(done["status"] == "completed", f"status {done['status']!r}")
        expect(done["percentage"] == 100.0, f"percentage {done['percentage']}")
        expect(done["tasks_completed"] == done["tasks_total"] == 9, str(done))
        expect(done["title"] == "Python Foundations", f"title {done['title']!r}")
        half = by_course[self.course["django-web"]["id"]]
        expect(half["status"] == "active" and 0 < half["percentage"] < 100, str(half))
        expect(half["time_spent"] > 0 and half["next_task"] is not None, str(half))

    def browsable_api(self) -> None:
        code, _headers, body = self.get(
            "/api/progress/me/progress/", ("alice", "alice"), headers={"Accept": "text/html"}
        )
        expect(code == 200, f"status {code}")
        expect(b"Django REST framework" in body, "not the browsable API")

    def roster_instructor(self) -> None:
        data = self.get_json(self.roster_path("python-foundations"), ("teacher", "teacher"))
        rows = {row["username"]: row for row in data["results"]}
        expect({"alice", "bob", "carol", "erin"} <= set(rows), f"learners {sorted(rows)}")
        alice = rows["alice"]
        expect(alice["percentage"] == 100.0 and alice["status"] == "completed", str(alice))
        expect(len(alice["quiz_grades"]) == 2, f"quiz grades {alice['quiz_grades']}")
        expect(any(g["passed"] for g in alice["quiz_grades"]), str(alice["quiz_grades"]))
        expect(rows["erin"]["status"] == "dropped", str(rows["erin"]))

    def roster_refused(self) -> None:
        # A learner, and an instructor of another course, may not see the roster.
        for who, slug in [("alice", "python-foundations"), ("teacher", "sql-data-analysis")]:
            code, _headers, _body = self.get(self.roster_path(slug), (who, who))
            expect(code == 403, f"{who} on {slug}: status {code}, expected 403")
        data = self.get_json(self.roster_path("sql-data-analysis"), ("grace", "grace"))
        expect(data["count"] >= 2, f"grace sees {data['count']} learners")

    def enroll_through_api(self) -> None:
        course = self.course["sql-data-analysis"]["id"]
        frank = ("frank", "frank")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for expected in (201, 200):  # enrolling again is not an error
            code, _h, body = self.get(
                "/api/progress/enrollments/", frank, data={"course": course}, headers=headers
            )
            expect(code == expected, f"POST enrollments: {code}, expected {expected}: {body!r}")
            expect(json.loads(body)["status"] == "active", body.decode())
        data = self.get_json("/api/progress/me/progress/", frank)
        expect(data["count"] == 1 and data["results"][0]["percentage"] == 0, str(data))

    def grade_essay(self) -> None:
        # Staff find the attempt awaiting grading; the course's instructor grades it.
        staff = ("admin", "admin")
        attempts = self.get_json("/api/progress/quiz-attempts/?status=submitted", staff)
        expect(attempts["count"] == 1, f"{attempts['count']} attempts await grading, expected 1")
        attempt = attempts["results"][0]
        responses = self.get_json(f"/api/progress/quiz-responses/?attempt={attempt['id']}", staff)
        pending = [r for r in responses["results"] if r["graded_at"] is None]
        expect(len(pending) == 1, f"pending responses: {pending}")
        url = f"/api/progress/quiz-responses/{pending[0]['id']}/grade/"
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        code, _h, body = self.get(url, ("bob", "bob"), data={"points": "3"}, headers=headers)
        expect(code in (403, 404), f"the learner graded their own answer: {code}")
        code, _h, body = self.get(
            url, ("teacher", "teacher"), data={"points": "3"}, headers=headers
        )
        expect(code == 200, f"POST {url}: {code}: {body!r}")
        expect(json.loads(body)["is_correct"] is True, body.decode())
        graded = self.get_json(f"/api/progress/quiz-attempts/{attempt['id']}/", staff)
        expect(graded["status"] == "completed" and graded["passed"] is not None, str(graded))

    def live_socket(self) -> None:
        # The WebSocket of live progress: an anonymous client is closed with 4401;
        # a logged-in page's socket stays open; the instructor's roster page follows it.
        status, frame = websocket_handshake(self.base, "/ws/progress/")
        expect(status == 101, f"anonymous handshake answered {status}")
        expect(frame[:1] == b"\x88" and frame[2:4] == (4401).to_bytes(2, "big"), f"{frame!r}")
        browser = Browser(self.base)
        browser.login("/accounts/login/", "teacher", "teacher")
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.jar)
        status, frame = websocket_handshake(self.base, "/ws/progress/", cookie=cookie)
        expect(status == 101 and frame == b"", f"teacher's socket: {status} {frame!r}")
        code, _headers, body = browser.get("/courses/python-foundations/roster/")
        expect(code == 200 and b"updates live" in body, f"roster: status {code}")
        code, _headers, body = Browser(self.base).get("/courses/python-foundations/roster/")
        expect(b"updates live" not in body, "the roster is shown to an anonymous user")

    def schema(self) -> None:
        data = self.get_json("/api/schema/?format=json", ("alice", "alice"))
        expect(str(data.get("openapi", "")).startswith("3."), f"openapi {data.get('openapi')}")
        for path in ("/api/progress/me/progress/", "/api/progress/courses/{course_id}/progress/"):
            expect(path in data["paths"], f"schema lacks {path}")


def websocket_handshake(base: str, path: str, cookie: str = "") -> tuple[int, bytes]:
    """Open a WebSocket on ``path``: the handshake's status, and the first frame the
    server sends within a second (``b""`` when none)."""
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {base}\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _sep, rest = head.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        sock.settimeout(1)
        with contextlib.suppress(TimeoutError, OSError):
            while len(rest) < 4:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                rest += chunk
    return status, rest


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def smoke(python: Path, env_for: Callable[[Path], dict[str, str]]) -> int:
    with tempfile.TemporaryDirectory(prefix="lms-smoke-") as tmp:
        env = env_for(Path(tmp) / "db.sqlite3")
        summary = prepare_database(python, env, reset=False)
        with step("Seeding again (must change nothing)"):
            again = json.loads(manage(python, env, "seed_demo", "--json", capture=True))
        problems = []
        if not summary["created"] or again["created"] or again["counts"] != summary["counts"]:
            problems.append(f"seed_demo is not idempotent: {summary} then {again}")
        schema = has_module(python, env, "drf_spectacular")
        live = has_module(python, env, "channels") and has_module(python, env, "daphne")
        port = free_port()
        base = f"http://{HOST}:{port}"
        log_path = Path(tmp) / "server.log"
        say(f"==> Starting the server on {base} in the background")
        with open(log_path, "wb") as log:
            proc = start_server(python, env, port, log=log)
            try:
                if not wait_until_up(proc, base):
                    problems.append("the server did not come up")
                else:
                    started = time.monotonic()
                    say("==> Checking the pages and the API over HTTP")
                    checks = Smoke(base, summary)
                    for name in [
                        "home_anonymous",
                        "home_learner",
                        "admin_login_page",
                        "admin_pages",
                        "static_files",
                        "api_root",
                        "api_needs_login",
                        "my_progress",
                        "browsable_api",
                        "roster_instructor",
                        "roster_refused",
                        "enroll_through_api",
                        "grade_essay",
                        *(["schema"] if schema else []),
                        *(["live_socket"] if live else []),
                    ]:
                        checks.check(name.replace("_", " "), getattr(checks, name))
                    if not schema:
                        say("  skip schema: drf-spectacular is not installed")
                    if not live:
                        say("  skip live socket: channels or daphne is not installed")
                    say(
                        f"    {checks.passed} checks passed, {len(checks.failures)} failed"
                        f" in {time.monotonic() - started:.1f}s"
                    )
                    problems += [f"check failed: {name}" for name in checks.failures]
            finally:
                stop_server(proc)
        if problems:
            say("\nServer log (last 60 lines):")
            say("\n".join(log_path.read_text(errors="replace").splitlines()[-60:]))
            say("\nSMOKE TEST FAILED:\n  " + "\n  ".join(problems))
            return 1
    say("SMOKE TEST PASSED")
    return 0


# -- main -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (8000)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="serve in the background on a free port with a temporary database, "
        "check the pages and the API over HTTP, stop; exit 1 on any failure",
    )
    parser.add_argument("--reset", action="store_true", help="re-create the demo data")
    parser.add_argument("--reinstall", action="store_true", help="reinstall into the venv")
    parser.add_argument("--no-uv", action="store_true", help="use venv and pip even if uv is here")
    args = parser.parse_args(argv)

    if not args.smoke and not port_is_free(args.port):
        say(f"Port {args.port} on {HOST} is in use; pick another one with --port.")
        return 2
    stop_on_signals()
    started = time.monotonic()
    try:
        python = ensure_venv(use_uv=not args.no_uv, reinstall=args.reinstall)
        if args.smoke:
            code = smoke(python, child_env)
            say(f"Total: {time.monotonic() - started:.1f}s")
            return code
        env = child_env(DB_PATH)
        summary = prepare_database(python, env, reset=args.reset)
        say(f"    ready in {time.monotonic() - started:.1f}s")
        return serve(python, env, args.port, summary)
    except DemoError as exc:
        say(f"\nFAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        say("\nInterrupted.")
        return 130


if __name__ == "__main__":
    sys.exit(main())

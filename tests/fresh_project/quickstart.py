#!/usr/bin/env python3
"""Run docs/quickstart.rst, as written, in a brand-new project.

The issue contract: following only the quickstart page, a new ``django-admin
startproject`` project gets enrollments and a progress percentage through the
API. This script checks it by *executing the page* rather than a copy of it,
so the page and the check cannot drift apart:

* It builds the wheel from the checkout (or takes ``--wheel``) and makes a
  fresh virtualenv in a temporary directory.
* It walks the page's code blocks in order:

  - ``python`` blocks with a ``:caption:`` naming a file are written to the
    project: ``catalog/models.py`` and ``mysite/urls.py`` replace the file;
    ``mysite/settings.py`` is appended to the generated settings (the block
    gives the whole ``INSTALLED_APPS``, so appending it is the same edit);
  - ``console`` blocks: each ``$`` command is run in the virtualenv
    (``pip install "django-learning-progress[drf]"`` installs the built wheel
    with that extra; ``runserver`` starts in the background on a free port;
    ``curl`` is replayed with urllib against that port). Output the page
    shows after a command is compared with doctest's ``ELLIPSIS`` rules;
  - ``pycon`` blocks are run as one doctest in ``manage.py shell -c`` (this
    creates the learners, courses and tasks the API calls use).

* Then it checks the contract on the HTTP responses: an enrollment was made,
  a task started and completed, and ``enrollments/{id}/progress/`` returned a
  percentage that matches the tasks completed. The server is stopped.

Only HTTP basic authentication is used, because the quickstart uses it (REST
framework's default authentication classes include it): no setting is added
that the page does not show.

Standard library only. Not collected by pytest. Usage (from the repo root)::

    python tests/fresh_project/quickstart.py
    python tests/fresh_project/quickstart.py --wheel dist/django_learning_progress-*.whl
    python tests/fresh_project/quickstart.py --django "Django>=5.2,<6.0" --keep -v

Exit status: 0 and ``quickstart: ok`` when the page works, 1 when a step
fails, 2 when the wheel or the virtualenv could not be made.
"""

from __future__ import annotations

import argparse
import base64
import doctest
import glob
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from _shell import (  # a sibling module: run these files as scripts
    REPO_ROOT,
    StepFailed,
    build_wheel,
    indent,
    run,
    venv_bin,
)

QUICKSTART = REPO_ROOT / "docs" / "quickstart.rst"
SERVER_START_TIMEOUT = 60  # seconds
HTTP_TIMEOUT = 30  # seconds, per request
DOC_BASE_URLS = ("http://127.0.0.1:8000", "http://localhost:8000")
PACKAGE = "django-learning-progress"

# Files the page may show; what to do with each (see the module docstring).
FILE_ACTIONS = {
    "catalog/models.py": "replace",
    "mysite/settings.py": "append",
    "mysite/urls.py": "replace",
}

# Run by ``manage.py shell -c``: the page's pycon blocks as one doctest.
DOCTEST_SNIPPET = """\
import doctest, os
import django_learning_progress
print("QUICKSTART-PACKAGE " + django_learning_progress.__file__)
failed, attempted = doctest.testfile(
    os.environ["QUICKSTART_DOCTEST"], module_relative=False, optionflags=doctest.ELLIPSIS
)
print(f"QUICKSTART-DOCTEST {attempted - failed}/{attempted} examples passed")
if failed or not attempted:
    raise SystemExit(1)
"""


# -- the page ------------------------------------------------------------------------


@dataclass
class Block:
    lang: str
    line: int  # 1-based line of the first content line in quickstart.rst
    lines: list[str]  # dedented content lines
    caption: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


def parse_blocks(source: str) -> list[Block]:
    """The ``.. code-block::`` directives of an rst page, in order."""
    lines = source.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = re.match(r"^\.\. code-block::\s*(\S+)\s*$", lines[i])
        i += 1
        if not match:
            continue
        caption = ""
        while i < len(lines) and re.match(r"^\s+:[\w-]+:", lines[i]):
            option = re.match(r"^\s+:caption:\s*(.*)$", lines[i])
            if option:
                caption = option.group(1).strip()
            i += 1
        content: list[str] = []
        first = i
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
            content.append(lines[i])
            i += 1
        while content and not content[-1].strip():
            content.pop()
        while content and not content[0].strip():
            content.pop(0)
            first += 1
        blocks.append(
            Block(
                match.group(1), first + 1, textwrap.dedent("\n".join(content)).split("\n"), caption
            )
        )
    return blocks


def console_commands(block: Block) -> list[tuple[str, str, int]]:
    """``(command, expected output, line)`` for each ``$`` line of a console block."""
    commands: list[tuple[str, str, int]] = []
    for offset, line in enumerate(block.lines):
        if line.startswith("$ "):
            commands.append((line[2:].strip(), "", block.line + offset))
        elif commands:
            command, expected, lineno = commands[-1]
            commands[-1] = (command, expected + line + "\n", lineno)
        elif line.strip():
            raise StepFailed(f"quickstart.rst:{block.line + offset}: output before any $ command")
    return commands


def output_matches(expected: str, got: str) -> bool:
    checker = doctest.OutputChecker()
    return checker.check_output(expected.strip() + "\n", got.strip() + "\n", doctest.ELLIPSIS)


# -- wheel and virtualenv ------------------------------------------------------------


def make_venv(venv: Path, python: str) -> Path:
    uv = shutil.which("uv")
    if uv:
        run([uv, "venv", "--quiet", "--python", python, str(venv)])
    else:
        run([python, "-m", "venv", str(venv)])
    return venv_bin(venv, "python")


def pip_install(venv: Path, requirements: list[str]) -> None:
    python = venv_bin(venv, "python")
    uv = shutil.which("uv")
    if uv:
        run([uv, "pip", "install", "--quiet", "--python", str(python), *requirements])
    else:
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run([*pip, *requirements])


def child_env(venv: Path) -> dict[str, str]:
    """The environment of the project's commands: the venv only, no checkout on the path."""
    dropped = {"PYTHONPATH", "PYTHONHOME", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = str(venv_bin(venv, "python").parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- running the page ----------------------------------------------------------------


@dataclass
class Response:
    method: str
    path: str
    status: int
    body: str

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError:
            raise StepFailed(f"{self.method} {self.path}: not JSON", self.body) from None


@dataclass
class Quickstart:
    args: argparse.Namespace
    tmp: Path
    wheel: Path
    venv: Path
    project: Path
    env: dict[str, str]
    source_lines: int
    verbose: bool = False
    installed: bool = False
    pycon: dict[int, list[str]] = field(default_factory=dict)  # line -> pending pycon lines
    server: subprocess.Popen[bytes] | None = None
    server_log: Path | None = None
    base_url: str = ""
    responses: list[Response] = field(default_factory=list)
    package_file: str = ""

    def say(self, text: str) -> None:
        if self.verbose:
            print(text, flush=True)

    @property
    def python(self) -> str:
        return str(venv_bin(self.venv, "python"))

    # python blocks -------------------------------------------------------------

    def write_file(self, block: Block) -> None:
        action = FILE_ACTIONS.get(block.caption)
        if action is None:
            raise StepFailed(
                f"quickstart.rst:{block.line}: quickstart.py does not know what to do with a"
                f" python block captioned {block.caption!r} (known: {sorted(FILE_ACTIONS)})"
            )
        target = self.project / block.caption
        if not target.exists():
            raise StepFailed(
                f"quickstart.rst:{block.line}: {block.caption} does not exist yet in the project"
            )
        if action == "append":
            target.write_text(target.read_text() + "\n\n# From docs/quickstart.rst\n" + block.text)
        else:
            target.write_text(block.text)
        self.say(f"  {action} {block.caption} (quickstart.rst:{block.line})")

    # pycon blocks --------------------------------------------------------------

    def flush_pycon(self) -> None:
        """Run the pycon blocks seen so far as one doctest in ``manage.py shell -c``.

        The doctest file keeps each example on its quickstart.rst line number, so
        doctest's failure report points into the page.
        """
        if not self.pycon:
            return
        lines = [""] * (self.source_lines + 1)
        for start, block_lines in self.pycon.items():
            for offset, line in enumerate(block_lines):
                lines[start - 1 + offset] = line
        first = min(self.pycon)
        self.pycon = {}
        doctest_file = self.tmp / f"quickstart.rst-pycon-from-line-{first}.txt"
        doctest_file.write_text("\n".join(lines) + "\n")
        env = dict(self.env, QUICKSTART_DOCTEST=str(doctest_file))
        proc = run(
            [self.python, "manage.py", "shell", "-c", DOCTEST_SNIPPET],
            cwd=self.project,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            raise StepFailed(
                f"the shell session (pycon blocks from quickstart.rst:{first}) failed;"
                " doctest line numbers are quickstart.rst lines",
                proc.stdout,
            )
        for line in proc.stdout.splitlines():
            if line.startswith("QUICKSTART-PACKAGE "):
                self.package_file = line.split(" ", 1)[1]
            if line.startswith("QUICKSTART-DOCTEST "):
                self.say(f"  shell session from quickstart.rst:{first}: {line.split(' ', 1)[1]}")

    # console blocks ------------------------------------------------------------

    def run_command(self, command: str, expected: str, lineno: int) -> None:
        where = f"quickstart.rst:{lineno}"
        argv = shlex.split(command)
        if argv[:4] == ["python", "-m", "pip", "install"]:
            self.install(argv[4:], where)
            return
        if argv[:3] == ["python", "manage.py", "runserver"]:
            self.start_server(where)
            return
        self.say(f"  $ {command}")
        if argv[0] == "curl":
            got = self.curl(argv[1:], where)
        elif argv[0] == "django-admin":
            proc = run(
                [str(venv_bin(self.venv, "django-admin")), *argv[1:]],
                cwd=self.project,
                env=self.env,
            )
            got = proc.stdout
        elif argv[:2] == ["python", "manage.py"]:
            proc = run([self.python, *argv[1:]], cwd=self.project, env=self.env)
            got = proc.stdout
        else:
            raise StepFailed(f"{where}: quickstart.py does not know how to run $ {command}")
        if expected.strip() and not output_matches(expected, got):
            raise StepFailed(
                f"{where}: $ {command}: the output differs from the page",
                f"page shows:\n{indent(expected)}\ngot:\n{indent(got)}",
            )

    def install(self, requirements: list[str], where: str) -> None:
        wanted = f"{PACKAGE}[drf]"
        if requirements != [wanted]:
            raise StepFailed(
                f"{where}: the page installs {requirements}, expected [{wanted!r}]"
                " (the REST API needs the drf extra)"
            )
        extra = [self.args.django] if self.args.django else []
        pip_install(self.venv, [f"{self.wheel}[drf]", *extra])
        self.installed = True
        self.say(f"  $ python -m pip install {wanted!r}  ->  {self.wheel.name}[drf]")

    def start_server(self, where: str) -> None:
        if self.server is not None:
            raise StepFailed(f"{where}: runserver started twice")
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.server_log = self.tmp / "runserver.log"
        with open(self.server_log, "wb") as log:
            self.server = subprocess.Popen(
                [self.python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=self.project,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if self.server.poll() is not None:
                raise StepFailed(
                    f"{where}: runserver exited with {self.server.returncode}", self.log_text()
                )
            try:
                with urllib.request.urlopen(self.base_url + "/api/progress/", timeout=5):
                    break
            except urllib.error.HTTPError:
                break  # it answers
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise StepFailed(
                        f"{where}: runserver did not answer within {SERVER_START_TIMEOUT}s",
                        self.log_text(),
                    ) from None
                time.sleep(0.2)
        self.say(f"  $ python manage.py runserver  ->  {self.base_url} (pid {self.server.pid})")

    def stop_server(self) -> None:
        if self.server is None or self.server.poll() is not None:
            return
        self.server.terminate()
        try:
            self.server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait(timeout=10)

    def log_text(self) -> str:
        if self.server_log and self.server_log.exists():
            return self.server_log.read_text(errors="replace")
        return ""

    def curl(self, argv: list[str], where: str) -> str:
        """Replay a ``curl`` command of the page with urllib; return the response body."""
        if not self.base_url:
            raise StepFailed(f"{where}: curl before runserver")
        method = None
        data: list[str] = []
        headers: dict[str, str] = {}
        url = None
        it = iter(argv)
        for arg in it:
            if arg in ("-u", "--user"):
                headers["Authorization"] = "Basic " + base64.b64encode(next(it).encode()).decode()
            elif arg in ("-d", "--data"):
                data.append(next(it))
            elif arg in ("-X", "--request"):
                method = next(it)
            elif arg in ("-H", "--header"):
                name, _, value = next(it).partition(":")
                headers[name.strip()] = value.strip()
            elif arg in ("-s", "--silent"):
                pass
            elif arg.startswith("-"):
                raise StepFailed(f"{where}: quickstart.py does not know curl's {arg} option")
            elif url is None:
                url = arg
            else:
                raise StepFailed(f"{where}: curl with two URLs")
        if url is None:
            raise StepFailed(f"{where}: curl without a URL")
        base = next((b for b in DOC_BASE_URLS if url.startswith(b + "/")), None)
        if base is None:
            raise StepFailed(f"{where}: curl URL {url!r} is not on {DOC_BASE_URLS}")
        path = url[len(base) :]
        body = "&".join(data).encode() if data else None
        if body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        method = method or ("POST" if body is not None else "GET")
        request = urllib.request.Request(
            self.base_url + path, data=body, headers=headers, method=method
        )
        status: int
        text: str
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            raise StepFailed(f"{where}: {method} {path}: {exc}", self.log_text()) from None
        self.responses.append(Response(method, path, status, text))
        if not 200 <= status < 300:
            shown = text if len(text) <= 2000 else text[:2000] + "\n[... cut]"
            raise StepFailed(f"{where}: {method} {path} answered {status}", shown)
        self.say(f"    -> {status} {text[:100]}{'...' if len(text) > 100 else ''}")
        return text

    # the walk ------------------------------------------------------------------

    def run_page(self, blocks: list[Block]) -> None:
        for block in blocks:
            if block.lang == "pycon":
                self.pycon[block.line] = block.lines
                continue
            self.flush_pycon()
            if block.lang == "python" and block.caption:
                self.write_file(block)
            elif block.lang == "console":
                for command, expected, lineno in console_commands(block):
                    self.run_command(command, expected, lineno)
        self.flush_pycon()


# -- the contract --------------------------------------------------------------------


def check_page_has_api(blocks: list[Block]) -> None:
    """The page still shows the REST API set-up (fail early, with a clear message)."""
    by_caption = {b.caption: b.text for b in blocks if b.caption}
    commands = [c for b in blocks if b.lang == "console" for c, _, _ in console_commands(b)]
    problems = []
    if not any(c.startswith("python -m pip install") and "[drf]" in c for c in commands):
        problems.append('no "python -m pip install ...[drf]" command')
    settings = by_caption.get("mysite/settings.py", "")
    for app in ("django_learning_progress", "rest_framework", "django_filters"):
        if f'"{app}"' not in settings:
            problems.append(f"the mysite/settings.py block lacks {app!r} in INSTALLED_APPS")
    if 'include("django_learning_progress.api.urls")' not in by_caption.get("mysite/urls.py", ""):
        problems.append("no mysite/urls.py block including django_learning_progress.api.urls")
    if not any(c.startswith("python manage.py runserver") for c in commands):
        problems.append("no runserver command")
    if not any(c.startswith("curl ") for c in commands):
        problems.append("no curl command")
    if problems:
        raise StepFailed("docs/quickstart.rst lacks the REST API part: " + "; ".join(problems))


def find(responses: list[Response], method: str, pattern: str) -> list[Response]:
    return [r for r in responses if r.method == method and re.fullmatch(pattern, r.path)]


def check_contract(qs: Quickstart) -> str:
    """Enroll, start, complete and read the progress through the API; return a summary."""
    if not qs.installed:
        raise StepFailed("the page never installed the package")
    if qs.package_file and qs.venv.resolve() not in Path(qs.package_file).resolve().parents:
        raise StepFailed(f"django_learning_progress came from {qs.package_file}, not the venv")
    api = "/api/progress/"
    steps = {
        "enroll (POST enrollments/)": find(qs.responses, "POST", api + "enrollments/"),
        "start a task (POST task-progress/)": find(qs.responses, "POST", api + "task-progress/"),
        "complete it (POST task-progress/{id}/complete/)": find(
            qs.responses, "POST", api + r"task-progress/[^/]+/complete/"
        ),
        "read the progress (GET enrollments/{id}/progress/)": find(
            qs.responses, "GET", api + r"enrollments/[^/]+/progress/"
        ),
    }
    missing = [name for name, found in steps.items() if not found]
    if missing:
        raise StepFailed("the page's API calls do not " + ", ".join(missing))
    enrolled, started, completed, progress = (found[-1] for found in steps.values())
    enrollment, task_progress, done, result = (
        r.json() for r in (enrolled, started, completed, progress)
    )
    problems = []
    for name, obj in (("enrollment", enrollment), ("task progress", task_progress)):
        if not isinstance(obj, dict) or "id" not in obj:
            problems.append(f"the {name} response has no id: {obj!r}")
    if problems:
        raise StepFailed("; ".join(problems))
    assert isinstance(enrollment, dict) and isinstance(task_progress, dict)
    if enrollment.get("status") != "active":
        problems.append(f"enrollment status {enrollment.get('status')!r}, expected 'active'")
    if task_progress.get("status") != "in_progress":
        problems.append(f"started task status {task_progress.get('status')!r}")
    if completed.path != f"{api}task-progress/{task_progress['id']}/complete/":
        problems.append(f"{completed.path} does not complete the started row {task_progress['id']}")
    if not isinstance(done, dict) or done.get("status") != "completed":
        problems.append(f"the completed row is {done!r}")
    if progress.path != f"{api}enrollments/{enrollment['id']}/progress/":
        problems.append(f"{progress.path} is not the progress of enrollment {enrollment['id']}")
    if not isinstance(result, dict):
        raise StepFailed(f"the progress response is not an object: {result!r}")
    percentage = result.get("percentage")
    total, completed_tasks = result.get("tasks_total"), result.get("tasks_completed")
    if not isinstance(percentage, (int, float)) or isinstance(percentage, bool):
        problems.append(f"no numeric percentage in {progress.body}")
    elif not (isinstance(total, int) and isinstance(completed_tasks, int) and total > 0):
        problems.append(f"no task counts in {progress.body}")
    else:
        if completed_tasks < 1:
            problems.append(f"tasks_completed is {completed_tasks} after completing a task")
        if abs(percentage - 100 * completed_tasks / total) > 0.01:
            problems.append(f"percentage {percentage} for {completed_tasks} of {total} tasks")
    if result.get("course") != enrollment.get("course"):
        problems.append(
            f"progress of course {result.get('course')}, enrolled in {enrollment.get('course')}"
        )
    if problems:
        raise StepFailed("API contract: " + "; ".join(problems), progress.body)
    return f"{progress.path} -> percentage {percentage} ({completed_tasks} of {total} tasks)"


# -- main ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", help="use this built wheel instead of building one")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter for the virtualenv (default: this one)",
    )
    parser.add_argument(
        "--django",
        default="",
        help='extra requirement to pin Django, e.g. "Django>=5.2,<6.0" (default: the newest)',
    )
    parser.add_argument(
        "--page",
        type=Path,
        default=QUICKSTART,
        help="the page to run (default: docs/quickstart.rst)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each step")
    args = parser.parse_args(argv)

    started = time.monotonic()
    source = args.page.read_text()
    blocks = parse_blocks(source)
    tmp = Path(tempfile.mkdtemp(prefix="quickstart_"))
    qs: Quickstart | None = None
    try:
        try:
            check_page_has_api(blocks)
        except StepFailed as exc:
            print(f"quickstart: FAILED\n  {exc.what}")
            return 1
        try:
            if args.wheel:
                matches = glob.glob(args.wheel)
                if len(matches) != 1 or not matches[0].endswith(".whl"):
                    raise StepFailed(f"--wheel {args.wheel!r} matches {matches}, expected one .whl")
                wheel = Path(matches[0]).resolve()
            else:
                wheel = build_wheel(tmp / "dist")
            venv = tmp / "venv"
            make_venv(venv, args.python)
        except StepFailed as exc:
            print(f"quickstart setup: FAILED\n  {exc.what}")
            if exc.output:
                print(indent(exc.output))
            return 2
        project = tmp / "project"
        project.mkdir()
        qs = Quickstart(
            args=args,
            tmp=tmp,
            wheel=wheel,
            venv=venv,
            project=project,
            env=child_env(venv),
            source_lines=len(source.splitlines()),
            verbose=args.verbose,
        )
        qs.say(f"wheel {wheel.name}, temp dir {tmp}")
        try:
            qs.run_page(blocks)
            summary = check_contract(qs)
        except StepFailed as exc:
            print(f"quickstart: FAILED\n  {exc.what}")
            if exc.output:
                print(indent(exc.output))
            if qs.server is not None:
                print("  runserver log:\n" + indent(qs.log_text()[-4000:]))
            return 1
        finally:
            qs.stop_server()
        version = run([qs.python, "-c", "import django; print(django.get_version())"])
        print(
            f"quickstart: {summary}; Django {version.stdout.strip()},"
            f" {time.monotonic() - started:.1f}s"
        )
        print("quickstart: ok")
        return 0
    finally:
        if qs is not None:
            qs.stop_server()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

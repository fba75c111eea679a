#!/usr/bin/env python3
"""Fresh host project smoke check for django-learning-progress.

Proves that a brand-new project made by ``django-admin startproject``, which
installs the *built wheel* (not the checkout), adds the app, its own content
models and the ``LEARNING_PROGRESS_*_MODEL`` settings, passes ``check`` and
``migrate`` on SQLite and PostgreSQL, with and without a swapped enrollment
model, and that the library's shipped migrations are complete for that host
(``makemigrations --check`` reports no changes).

Standard library only. Not collected by pytest. Usage (from the repo root)::

    python tests/fresh_project/run.py
    python tests/fresh_project/run.py --db sqlite --variant default
    python tests/fresh_project/run.py --wheel dist/django_learning_progress-*.whl
    python tests/fresh_project/run.py --django "Django>=6.0,<6.1" --keep -v

PostgreSQL: ``--pg-host/--pg-port/--pg-user`` (default 127.0.0.1, 5432,
postgres; ``PGPASSWORD`` from the environment is honoured). Each run creates
and drops databases named ``fresh_<pid>_<variant>_<hash>``, the hash being that
of the checkout's path.

Exit status: 0 when every selected combination passed, 1 when one failed,
2 when the wheel or the virtualenv could not be made.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _shell import (  # a sibling module: run these files as scripts
    CHECKOUT_HASH,
    StepFailed,
    build_wheel,
    indent,
    run,
    venv_bin,
)

DBS = ("sqlite", "postgres")
VARIANTS = ("default", "swapped")

CATALOG_MODELS = '''\
"""Content models of the fresh host project (default shapes for ContentAdapter)."""

from django.db import models


class Course(models.Model):
    title = models.CharField(max_length=200)

    def __str__(self):
        return self.title


class Task(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return self.title


class Quiz(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="quizzes")
    title = models.CharField(max_length=200)
    max_attempts = models.PositiveIntegerField(null=True, blank=True)
    pass_mark = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    def __str__(self):
        return self.title


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    text = models.TextField()
    points = models.DecimalField(max_digits=6, decimal_places=2, default=1)

    def __str__(self):
        return self.text
'''

PROGRESS_EXT_MODELS = '''\
"""The fresh host project's own enrollment model, swapped in by setting."""

from django.db import models

from django_learning_progress.abstract_models import AbstractCourseEnrollment


class Enrollment(AbstractCourseEnrollment):
    cohort = models.CharField(max_length=20, blank=True)

    class Meta(AbstractCourseEnrollment.Meta):
        pass
'''

SETTINGS_MARKER = "# --- added by tests/fresh_project/run.py ---"
QUIZ_SETTING_LINE = 'LEARNING_PROGRESS_QUIZ_MODEL = "catalog.Quiz"'


def settings_block(variant: str) -> str:
    apps = ["catalog", "progress_ext"] if variant == "swapped" else ["catalog"]
    apps.append("django_learning_progress")
    lines = [
        "",
        SETTINGS_MARKER,
        "import os as _os",
        "",
        f"INSTALLED_APPS += {apps!r}",
        "",
        'LEARNING_PROGRESS_COURSE_MODEL = "catalog.Course"',
        'LEARNING_PROGRESS_TASK_MODEL = "catalog.Task"',
        QUIZ_SETTING_LINE,
        'LEARNING_PROGRESS_QUESTION_MODEL = "catalog.Question"',
    ]
    if variant == "swapped":
        lines.append('LEARNING_PROGRESS_ENROLLMENT_MODEL = "progress_ext.Enrollment"')
    lines += [
        "",
        'if _os.environ.get("FRESH_DB", "sqlite") == "postgres":',
        "    DATABASES = {",
        '        "default": {',
        '            "ENGINE": "django.db.backends.postgresql",',
        '            "NAME": _os.environ["FRESH_PG_NAME"],',
        '            "HOST": _os.environ.get("FRESH_PG_HOST", "127.0.0.1"),',
        '            "PORT": _os.environ.get("FRESH_PG_PORT", "5432"),',
        '            "USER": _os.environ.get("FRESH_PG_USER", "postgres"),',
        '            "PASSWORD": _os.environ.get("PGPASSWORD", ""),',
        "        }",
        "    }",
        "",
    ]
    return "\n".join(lines)


# Run by ``manage.py shell -c``; SWAPPED is substituted in. Prints one JSON line.
SHELL_SNIPPET = """\
import json
from decimal import Decimal

import django_learning_progress
from catalog.models import Course, Question, Quiz, Task
from django.contrib.auth import get_user_model
from django.db import connection
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import get_enrollment_model

Enrollment = get_enrollment_model()
user = get_user_model().objects.create_user("fresh-learner", password="not-secret")
course = Course.objects.create(title="Intro")
task = Task.objects.create(course=course, title="Read", position=1)
quiz = Quiz.objects.create(course=course, title="Check", max_attempts=3, pass_mark=Decimal("60"))
question = Question.objects.create(quiz=quiz, text="2+2?", points=Decimal("2"))
extra = {"cohort": "2026-spring"} if SWAPPED else {}
enrollment = Enrollment.objects.create(user=user, course=course, **extra)
saved = Enrollment.objects.get(pk=enrollment.pk)
adapter = get_content_adapter()
tables = connection.introspection.table_names()
print("FRESH-RESULT " + json.dumps({
    "label": Enrollment._meta.label,
    "db_table": Enrollment._meta.db_table,
    "table_exists": Enrollment._meta.db_table in tables,
    "default_table_exists": "learning_progress_courseenrollment" in tables,
    "rows": Enrollment.objects.filter(user=user, course=course).count(),
    "status": saved.status,
    "cohort": getattr(saved, "cohort", None),
    "package_file": django_learning_progress.__file__,
    "adapter_tasks": [t.pk for t in adapter.course_tasks(course)] == [task.pk],
    "adapter_questions": [q.pk for q in adapter.quiz_questions(quiz)] == [question.pk],
    "adapter_points": str(adapter.question_points(question)),
    "adapter_max_attempts": adapter.max_attempts(quiz),
    "adapter_task_course": adapter.get_task_course_id(task) == course.pk,
}))
"""


# -- wheel and virtualenv ----------------------------------------------------------


def make_venv(venv: Path, requirements: list[str]) -> Path:
    uv = shutil.which("uv")
    if uv:
        run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
        python = venv_bin(venv, "python")
        run([uv, "pip", "install", "--quiet", "--python", str(python), *requirements])
    else:
        run([sys.executable, "-m", "venv", str(venv)])
        python = venv_bin(venv, "python")
        run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *requirements,
            ]
        )
    return python


def child_env(venv: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the host project's commands: the venv only, no checkout on the path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "PYTHONPATH",
            "PYTHONHOME",
            "DJANGO_SETTINGS_MODULE",
            "VIRTUAL_ENV",
            "PYTHONSTARTUP",
        }
    }
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = str(venv_bin(venv, "python").parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


# -- PostgreSQL ----------------------------------------------------------------------


def pg_name(variant: str) -> str:
    """This run's database for ``variant``: unique per process and per checkout."""
    return f"fresh_{os.getpid()}_{variant}_{CHECKOUT_HASH}"


PG_ADMIN = """\
import sys, psycopg
from psycopg import sql
action, name, host, port, user = sys.argv[1:6]
with psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True) as c:
    if action == "create":
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        try:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
        except psycopg.errors.SyntaxError:  # PostgreSQL < 13
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
"""


def pg_admin(
    python: Path, env: dict[str, str], action: str, name: str, args: argparse.Namespace
) -> None:
    run(
        [str(python), "-c", PG_ADMIN, action, name, args.pg_host, str(args.pg_port), args.pg_user],
        env=env,
    )


# -- one combination -------------------------------------------------------------------


def make_project(project: Path, python: Path, env: dict[str, str], variant: str) -> None:
    project.mkdir(parents=True)
    run(
        [str(venv_bin(python.parent.parent, "django-admin")), "startproject", "hostsite", "."],
        cwd=project,
        env=env,
    )
    run([str(python), "manage.py", "startapp", "catalog"], cwd=project, env=env)
    (project / "catalog" / "models.py").write_text(CATALOG_MODELS)
    if variant == "swapped":
        run([str(python), "manage.py", "startapp", "progress_ext"], cwd=project, env=env)
        (project / "progress_ext" / "models.py").write_text(PROGRESS_EXT_MODELS)
    settings = project / "hostsite" / "settings.py"
    settings.write_text(settings.read_text() + settings_block(variant))


def check_shell_result(output: str, variant: str, venv: Path) -> dict[str, object]:
    lines = [ln for ln in output.splitlines() if ln.startswith("FRESH-RESULT ")]
    if not lines:
        raise StepFailed("shell step printed no FRESH-RESULT line", output)
    result = json.loads(lines[-1][len("FRESH-RESULT ") :])
    if variant == "swapped":
        expected = {
            "label": "progress_ext.Enrollment",
            "db_table": "progress_ext_enrollment",
            "cohort": "2026-spring",
            "default_table_exists": False,
        }
    else:
        expected = {
            "label": "learning_progress.CourseEnrollment",
            "db_table": "learning_progress_courseenrollment",
            "cohort": None,
        }
    expected.update(
        {
            "table_exists": True,
            "rows": 1,
            "status": "active",
            "adapter_tasks": True,
            "adapter_questions": True,
            "adapter_points": "2.000",
            "adapter_max_attempts": 3,
            "adapter_task_course": True,
        }
    )
    wrong = {k: (result.get(k), v) for k, v in expected.items() if result.get(k) != v}
    package_file = Path(str(result.get("package_file"))).resolve()
    if venv.resolve() not in package_file.parents:
        wrong["package_file"] = (str(package_file), f"inside {venv}")
    if wrong:
        details = "\n".join(
            f"{k}: got {got!r}, expected {exp!r}" for k, (got, exp) in wrong.items()
        )
        raise StepFailed("shell step: unexpected result", details + "\n\n" + output)
    return result


def run_combination(
    db: str, variant: str, project: Path, python: Path, venv: Path, args: argparse.Namespace
) -> str:
    """Make and exercise one host project; return a short summary. Raises StepFailed."""
    extra = {"FRESH_DB": db}
    if db == "postgres":
        extra.update(
            {
                "FRESH_PG_NAME": pg_name(variant),
                "FRESH_PG_HOST": args.pg_host,
                "FRESH_PG_PORT": str(args.pg_port),
                "FRESH_PG_USER": args.pg_user,
            }
        )
    env = child_env(venv, extra)
    make_project(project, python, env, variant)
    manage = [str(python), "manage.py"]

    apps = ["catalog", "progress_ext"] if variant == "swapped" else ["catalog"]
    run([*manage, "makemigrations", *apps], cwd=project, env=env)
    run([*manage, "check", "--fail-level", "WARNING"], cwd=project, env=env)
    run([*manage, "migrate", "--no-input"], cwd=project, env=env)
    proc = run(
        [*manage, "makemigrations", "--check", "--dry-run"], cwd=project, env=env, check=False
    )
    if proc.returncode != 0 or "No changes detected" not in proc.stdout:
        raise StepFailed(
            "$ python manage.py makemigrations --check --dry-run  "
            f"(exit {proc.returncode}; expected 'No changes detected')",
            proc.stdout,
        )
    snippet = SHELL_SNIPPET.replace("SWAPPED", repr(variant == "swapped"))
    proc = run([*manage, "shell", "-c", snippet], cwd=project, env=env)
    result = check_shell_result(proc.stdout, variant, venv)
    return f"{result['label']} -> table {result['db_table']}"


def run_negative(project: Path, python: Path, venv: Path) -> None:
    """Without LEARNING_PROGRESS_QUIZ_MODEL, ``check`` fails cleanly with learning_progress.E001."""
    settings = project / "hostsite" / "settings.py"
    original = settings.read_text()
    if original.count(QUIZ_SETTING_LINE) != 1:
        raise StepFailed(f"negative case: {QUIZ_SETTING_LINE!r} not found once in settings.py")
    settings.write_text(original.replace(QUIZ_SETTING_LINE, "# (removed by the negative case)"))
    try:
        cmd = [str(python), "manage.py", "check"]
        proc = run(cmd, cwd=project, env=child_env(venv, {"FRESH_DB": "sqlite"}), check=False)
    finally:
        settings.write_text(original)
    problems = []
    if proc.returncode == 0:
        problems.append("exited 0, expected non-zero")
    for needle in ("LEARNING_PROGRESS_QUIZ_MODEL", "learning_progress.E001"):
        if needle not in proc.stdout:
            problems.append(f"output lacks {needle!r}")
    if "Traceback" in proc.stdout:
        problems.append("output contains a Traceback")
    if problems:
        raise StepFailed(
            "$ python manage.py check  (without LEARNING_PROGRESS_QUIZ_MODEL, "
            f"exit {proc.returncode}): " + "; ".join(problems),
            proc.stdout,
        )


def report_failure(name: str, exc: StepFailed) -> list[str]:
    lines = [f"{name}: FAILED", f"  {exc.what}"]
    if exc.output:
        lines.append(indent(exc.output))
    return lines


def do_combination(
    db: str,
    variant: str,
    tmp: Path,
    python: Path,
    venv: Path,
    args: argparse.Namespace,
    created_dbs: list[str],
) -> tuple[list[str], int]:
    """Run one combination (and the negative case after sqlite/default).

    Returns the lines to print and the number of failures.
    """
    name = f"fresh-project {db} {variant}"
    t0 = time.monotonic()
    project = tmp / f"{db}_{variant}"
    try:
        if db == "postgres":
            dbname = pg_name(variant)
            pg_admin(python, child_env(venv), "drop", dbname, args)
            created_dbs.append(dbname)
            pg_admin(python, child_env(venv), "create", dbname, args)
        summary = run_combination(db, variant, project, python, venv, args)
    except StepFailed as exc:
        return report_failure(name, exc), 1
    lines = [f"{name}: ok"]
    if args.verbose:
        lines.append(f"    {summary} ({time.monotonic() - t0:.1f}s)")
    if db == "sqlite" and variant == "default":
        name = "fresh-project sqlite default (without LEARNING_PROGRESS_QUIZ_MODEL)"
        try:
            run_negative(project, python, venv)
        except StepFailed as exc:
            return lines + report_failure(name, exc), 1
        lines.append(f"{name}: ok")
    return lines, 0


# -- main ----------------------------------------------------------------------------------


def parse_list(value: str, allowed: tuple[str, ...], flag: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise SystemExit(f"{flag}: expected a comma-separated subset of {','.join(allowed)}")
    return [v for v in allowed if v in items]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", help="use this built wheel instead of building one")
    parser.add_argument(
        "--django",
        default="Django>=5.2,<6.0",
        help="requirement spec for Django (default: %(default)s)",
    )
    parser.add_argument("--db", default="sqlite,postgres", help="default: %(default)s")
    parser.add_argument("--variant", default="default,swapped", help="default: %(default)s")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default=5432, type=int)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument(
        "--jobs", type=int, default=4, help="combinations run in parallel (default: %(default)s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("-v", "--verbose", action="store_true", help="print details")
    args = parser.parse_args(argv)
    dbs = parse_list(args.db, DBS, "--db")
    variants = parse_list(args.variant, VARIANTS, "--variant")

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="fresh_project_"))
    created_dbs: list[str] = []
    python: Path | None = None
    failures = 0
    try:
        # 1. The wheel.
        try:
            if args.wheel:
                matches = glob.glob(args.wheel)
                if len(matches) != 1 or not matches[0].endswith(".whl"):
                    raise StepFailed(f"--wheel {args.wheel!r} matches {matches}, expected one .whl")
                wheel = Path(matches[0]).resolve()
            else:
                wheel = build_wheel(tmp / "dist")
            # 2. The virtualenv, shared by every combination.
            requirements = [str(wheel), args.django]
            if "postgres" in dbs:
                requirements.append("psycopg[binary]")
            venv = tmp / "venv"
            python = make_venv(venv, requirements)
        except StepFailed as exc:
            print(f"fresh-project setup: FAILED\n  {exc.what}")
            if exc.output:
                print(indent(exc.output))
            return 2
        if args.verbose:
            version = run([str(python), "-c", "import django; print(django.get_version())"])
            print(f"wheel {wheel.name}, Django {version.stdout.strip()}, temp dir {tmp}")

        # 3-7. The matrix, one thread per combination (each runs its own subprocesses).
        combos = [(db, variant) for db in dbs for variant in variants]
        jobs = max(1, min(args.jobs, len(combos)))
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [
                pool.submit(do_combination, db, variant, tmp, python, venv, args, created_dbs)
                for db, variant in combos
            ]
            for future in futures:  # report in matrix order, as each finishes
                lines, failed = future.result()
                failures += failed
                print("\n".join(lines), flush=True)
    finally:
        for dbname in created_dbs:
            try:
                assert python is not None
                pg_admin(python, child_env(tmp / "venv"), "drop", dbname, args)
            except StepFailed as exc:
                print(
                    f"warning: could not drop database {dbname}: {exc.what}\n{indent(exc.output)}"
                )
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.verbose:
        print(f"total {time.monotonic() - started:.1f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

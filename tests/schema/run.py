"""Serve the test project and run schemathesis against its OpenAPI schema.

``tox -e schema`` runs it: a fresh PostgreSQL database (``tests.schema.settings``
names it), the migrations, the seed data of ``tests/schema/seed.py``, then
``manage.py runserver`` on a free port of 127.0.0.1 and schemathesis with every
check over every operation, once as a learner and once as an instructor. Exits
non-zero when schemathesis reports a failure.

Options: ``--max-examples N`` (default 20) and ``--seed N`` (default 20250310)
go to schemathesis; ``--keep-db`` leaves the database for a look afterwards.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.schema.settings"
SCHEMA_PATH = "/api/schema/"
CONFIG = Path(__file__).with_name("schemathesis.toml")
# The runs: the user to authenticate as (basic authentication), by role.
RUNS = [("learner", "learner"), ("instructor", "instructor")]


def _database() -> dict[str, str]:
    import django
    from django.conf import settings

    django.setup()
    return settings.DATABASES["default"]


def _admin_connection(db: dict[str, str]) -> object:
    import psycopg

    return psycopg.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"],
        autocommit=True,
    )


def recreate_database(db: dict[str, str], *, drop_only: bool = False) -> None:
    from psycopg import sql

    name = sql.Identifier(db["NAME"])
    with _admin_connection(db) as conn:  # type: ignore[attr-defined]
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} seconds")


def schemathesis(url: str, user: str, password: str, args: argparse.Namespace) -> int:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        url,
        "--checks",
        "all",
        # Every check on every operation, with examples, coverage and fuzzing.
        # The stateful phase (chains of calls along inferred links) is left out:
        # it reuses cookies and ids across calls in ways no single operation's
        # schema describes, and its verdicts change with every new operation.
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--generation-database",
        "none",
        "--workers",
        str(args.workers),
        "--auth",
        f"{user}:{password}",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    report = args.report_dir / user
    command += ["--report", "junit", "--report-dir", str(report)]
    print(f"\n=== schemathesis as {user}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(command, cwd=ROOT)
    print(f"=== schemathesis as {user}: exit {code} in {time.monotonic() - started:.0f}s")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20250310)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--report-dir", type=Path, default=Path(tempfile.gettempdir()) / "schemathesis-report"
    )
    args = parser.parse_args(argv)

    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    sys.path.insert(0, str(ROOT))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    db = _database()
    print(f"database {db['NAME']} on {db['HOST']}:{db['PORT']}", flush=True)
    recreate_database(db)
    django_admin = [sys.executable, "-m", "django"]
    subprocess.run(
        [*django_admin, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )

    from django.db import connections

    from tests.schema.seed import PASSWORDS, seed

    seed()
    connections.close_all()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = args.report_dir / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*django_admin, "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(base + SCHEMA_PATH, server)
            for user, role in RUNS:
                if schemathesis(base + SCHEMA_PATH, user, PASSWORDS[user], args):
                    failures.append(role)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    server_errors = log_path.read_text(errors="replace").count("Internal Server Error")
    if server_errors:
        print(f"the server logged {server_errors} internal server errors, see {log_path}")
    if not args.keep_db:
        recreate_database(db, drop_only=True)
    if failures:
        print(f"schemathesis failed as: {', '.join(failures)}")
        return 1
    print("schemathesis passed as every user")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Heartbeat load test: ``POST task-progress/{id}/time/`` under concurrent learners.

    python bench/heartbeat.py [--duration S] [--clients N] [--json PATH] [--smoke]

Creates a fresh PostgreSQL database (``lp_bench_heartbeat_<hash>``, the hash
being that of the checkout's path), migrates it, and creates one course with
two tasks and ``--clients`` learners, each enrolled and with both tasks
started through ``django_learning_progress.services``. It then serves the
benchmark project (``bench/urls.py``) with gunicorn on 127.0.0.1 and runs
``--clients`` threads, one per learner, each posting ``{"seconds": 1}`` over
its own keep-alive connection, with HTTP Basic auth, as fast as the server
answers:

* **ours**: the app's ``POST api/progress/task-progress/{id}/time/`` on the
  learner's row of the first task;
* **naive**: ``POST naive/task-progress/{task}/time/`` (``bench/naive.py``:
  ``get_or_create`` then an ``F()`` increment) on the learner's row of the
  second task.

The two take turns in four phases of ``--duration / 2`` seconds each (ours,
naive, naive, ours), so that a machine that slows down or speeds up during the
run weighs on both alike. Reports requests per second and the latency
percentiles of each, the queries of one request of each (counted in-process
with the test client beforehand), and checks that every progress row holds
exactly the seconds its client was answered 2xx for. Prints a table, writes
JSON, stops the server and drops the database. Exits 1 when a request failed
or a total is off; timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
PASSWORD = "heartbeat-password"
SECONDS = 1  # what every request sends: the totals are exact multiples of it
SIDES = ("ours", "naive")
WARMUP_REQUESTS = 5  # per client and side, before the first timed phase (counted in the totals)
SERVER_START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/heartbeat.py",
        description="Load-test POST task-progress/{id}/time/ against a naive view, on PostgreSQL.",
    )
    parser.add_argument(
        "--duration", type=float, default=20.0, metavar="S", help="seconds per view (default 20)"
    )
    parser.add_argument(
        "--clients", type=int, default=20, metavar="N", help="concurrent clients (default 20)"
    )
    parser.add_argument("--json", metavar="PATH", help="default: bench/results-heartbeat.json")
    parser.add_argument(
        "--smoke", action="store_true", help="a quick check: 2 s per view, 4 clients"
    )
    parser.add_argument(
        "--workers", type=int, default=2, metavar="N", help="gunicorn worker processes (default 2)"
    )
    parser.add_argument(
        "--threads", type=int, default=4, metavar="N", help="threads per worker (default 4)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.clients = 2.0, 4
    if args.duration <= 0 or args.duration > 600:
        parser.error("--duration must be more than 0 and at most 600 seconds")
    if not 1 <= args.clients <= 200:
        parser.error("--clients must be from 1 to 200")
    if args.workers < 1 or args.threads < 1:
        parser.error("--workers and --threads must be at least 1")
    if args.json is None:
        args.json = str(ROOT / "bench" / "results-heartbeat.json")
    return args


# -- data ----------------------------------------------------------------------------------------


@dataclass
class Data:
    course: int
    tasks: dict[str, int]  # side -> task id
    learners: list[tuple[int, str]]  # (user id, username) of the clients
    rows: dict[str, list[int]]  # side -> each client's progress row id
    profile_user: str  # the learner whose requests are profiled (not a client)


def create_data(clients: int) -> Data:
    """One course with one task per side, ``clients`` + 1 learners enrolled with both started."""
    from django_learning_progress import services
    from tests.testapp.models import Course, Lesson, Module, User

    course = Course.objects.create(title="Heartbeat course")
    module = Module.objects.create(course=course, title="Module", position=1)
    tasks = {
        side: Lesson.objects.create(module=module, title=f"Lesson ({side})", position=i)
        for i, side in enumerate(SIDES, 1)
    }
    learners, rows = [], {side: [] for side in SIDES}
    for i in range(clients + 1):
        user = User.objects.create_user(f"learner{i:03d}", password=PASSWORD)
        services.enroll(user, course)
        for side, task in tasks.items():
            progress, _ = services.get_or_start_task(user, task)
            if i < clients:
                rows[side].append(progress.pk)
        if i < clients:
            learners.append((user.pk, user.username))
    return Data(
        course=course.pk,
        tasks={side: task.pk for side, task in tasks.items()},
        learners=learners,
        rows=rows,
        profile_user=f"learner{clients:03d}",
    )


def path_of(side: str, data: Data, client: int) -> str:
    if side == "ours":
        return f"/api/progress/task-progress/{data.rows['ours'][client]}/time/"
    return f"/naive/task-progress/{data.tasks['naive']}/time/"


def auth_header(username: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()


def count_request_queries(data: Data) -> dict[str, Any]:
    """The statements of one request of each side, in-process (test client, same auth)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from django_learning_progress.models import get_task_progress_model

    TaskProgress = get_task_progress_model()
    user = data.profile_user
    client = Client(HTTP_AUTHORIZATION=auth_header(user))
    paths = {
        "ours": "/api/progress/task-progress/{}/time/".format(
            TaskProgress.objects.get(user__username=user, task=data.tasks["ours"]).pk
        ),
        "naive": f"/naive/task-progress/{data.tasks['naive']}/time/",
    }
    result = {}
    for side, path in paths.items():
        body = json.dumps({"seconds": SECONDS})
        client.post(path, body, content_type="application/json")  # warm-up
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(path, body, content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"{side}: {path} answered {response.status_code}")
        result[side] = {"queries": len(ctx.captured_queries), "sql": [q["sql"] for q in ctx]}
    return result


# -- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    """gunicorn (threaded workers) serving ``bench.wsgi`` on 127.0.0.1, its own process group."""
    env = dict(os.environ, LP_BENCH_CONN_MAX_AGE="600", PYTHONPATH=str(ROOT))
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.wsgi:application",
        f"--bind={HOST}:{port}",
        "--worker-class=gthread",
        f"--workers={workers}",
        f"--threads={threads}",
        "--keep-alive=30",
        "--timeout=60",
        "--graceful-timeout=10",
        "--preload",  # Django set up once, before the workers fork
        "--log-level=warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=SERVER_START_TIMEOUT)
            conn.request("GET", "/api/progress/")
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"gunicorn did not answer on {HOST}:{port} in {SERVER_START_TIMEOUT:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown: it stops its workers
    try:
        server.wait(timeout=3)
    except subprocess.TimeoutExpired:  # a gthread worker may linger: nothing left to serve
        os.killpg(server.pid, signal.SIGKILL)  # the group it leads: gunicorn and its workers
        server.wait(timeout=10)


# -- the clients ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients of one side saw."""

    latencies: list[float] = field(default_factory=list)  # seconds, timed 2xx responses
    ok: list[int] = field(default_factory=list)  # 2xx responses per client, warm-up included
    failures: dict[str, int] = field(default_factory=dict)  # status or exception -> count
    elapsed: float = 0.0  # seconds of timed phases
    timed_ok: int = 0
    phases: list[dict[str, Any]] = field(default_factory=list)


class Client:
    """One learner's keep-alive connection to the server."""

    def __init__(self, port: int, username: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": auth_header(username),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.body = json.dumps({"seconds": SECONDS}).encode()
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str) -> tuple[int | str, float]:
        """Status (or the exception's name) and seconds taken."""
        started = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
            self.conn.request("POST", path, self.body, self.headers)
            response = self.conn.getresponse()
            response.read()
            status: int | str = response.status
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            self.close()
        return status, time.perf_counter() - started

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_phase(
    side: str, data: Data, clients: list[Client], tally: Tally, seconds: float | None
) -> None:
    """All clients post to ``side`` for ``seconds`` (or ``WARMUP_REQUESTS`` each when None)."""
    barrier = threading.Barrier(len(clients) + 1)
    results: list[tuple[list[float], int, dict[str, int], float]] = [([], 0, {}, 0.0)] * len(
        clients
    )
    deadline = [0.0]

    def work(i: int) -> None:
        client, path = clients[i], path_of(side, data, i)
        latencies, ok, failures = [], 0, {}
        barrier.wait()
        n = 0
        while (time.perf_counter() < deadline[0]) if seconds else (n < WARMUP_REQUESTS):
            n += 1
            status, took = client.post(path)
            if isinstance(status, int) and 200 <= status < 300:
                ok += 1
                latencies.append(took)
            else:
                failures[str(status)] = failures.get(str(status), 0) + 1
        results[i] = (latencies, ok, failures, time.perf_counter())

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + (seconds or 0)
    barrier.wait()
    for thread in threads:
        thread.join(timeout=(seconds or 0) + REQUEST_TIMEOUT + 5)
        if thread.is_alive():
            raise RuntimeError(f"a client of {side!r} did not finish")
    ended = max(r[3] for r in results)
    for i, (latencies, ok, failures, _end) in enumerate(results):
        tally.ok[i] += ok
        for key, count in failures.items():
            tally.failures[key] = tally.failures.get(key, 0) + count
        if seconds:
            tally.latencies += latencies
    if seconds:
        done = sum(len(r[0]) for r in results)
        tally.elapsed += ended - started
        tally.timed_ok += done
        tally.phases.append({"side": side, "seconds": round(ended - started, 3), "requests": done})


def percentile(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(tally: Tally) -> dict[str, Any]:
    ordered = sorted(tally.latencies)
    ms = lambda v: round(v * 1000, 2) if v is not None else None  # noqa: E731
    return {
        "requests": tally.timed_ok,
        "seconds": round(tally.elapsed, 3),
        "requests_per_second": round(tally.timed_ok / tally.elapsed, 1) if tally.elapsed else 0,
        "p50_ms": ms(percentile(ordered, 50)),
        "p90_ms": ms(percentile(ordered, 90)),
        "p99_ms": ms(percentile(ordered, 99)),
        "max_ms": ms(ordered[-1] if ordered else None),
        "mean_ms": ms(sum(ordered) / len(ordered) if ordered else None),
        "failures": tally.failures,
        "phases": tally.phases,
    }


def check_totals(data: Data, tallies: dict[str, Tally]) -> dict[str, Any]:
    """Each client's row holds exactly SECONDS per 2xx answer, and so does their sum."""
    from django.db.models import Sum

    from django_learning_progress.models import get_task_progress_model

    TaskProgress = get_task_progress_model()
    checks = {}
    for side in SIDES:
        rows = dict(
            TaskProgress.objects.filter(pk__in=data.rows[side]).values_list("pk", "time_spent")
        )
        total = TaskProgress.objects.filter(pk__in=data.rows[side]).aggregate(t=Sum("time_spent"))
        sent = sum(tally_ok * SECONDS for tally_ok in tallies[side].ok)
        wrong_rows = [
            pk
            for pk, ok in zip(data.rows[side], tallies[side].ok, strict=True)
            if rows.get(pk) != ok * SECONDS
        ]
        checks[side] = {
            "sent_seconds": sent,
            "database_seconds": total["t"] or 0,
            "rows_off": len(wrong_rows),
            "exact": (total["t"] or 0) == sent and not wrong_rows,
        }
    return checks


# -- output ----------------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    header = ["view", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "queries", "failed", "total"]
    lines = []
    for side in SIDES:
        r, check = results["sides"][side], results["totals"][side]
        lines.append(
            [
                side,
                f"{r['requests_per_second']:,.1f}",
                f"{r['p50_ms']:.1f}" if r["p50_ms"] is not None else "-",
                f"{r['p90_ms']:.1f}" if r["p90_ms"] is not None else "-",
                f"{r['p99_ms']:.1f}" if r["p99_ms"] is not None else "-",
                f"{r['max_ms']:.0f}" if r["max_ms"] is not None else "-",
                str(results["queries"][side]["queries"]),
                str(sum(r["failures"].values())),
                "exact" if check["exact"] else "OFF",
            ]
        )
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])]
        return "  ".join(cells + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)])

    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *map(fmt, lines)])


# -- main --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench.run import create_database, drop_database
    from tests.dbnames import database_name

    name = database_name("lp_bench_heartbeat")
    os.environ["LP_BENCH_DB"] = "postgres"
    os.environ["LP_BENCH_NAME"] = name
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.pop("LP_BENCH_PG_OPTIONS", None)
    create_database("postgres", name)
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        started = time.perf_counter()
        log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
        log(f"Heartbeat: {args.clients} clients, {args.duration:g} s per view ({name})")
        call_command("migrate", verbosity=0, interactive=False)
        log(f"Migrated in {time.perf_counter() - started:.1f} s")
        data = create_data(args.clients)
        queries = count_request_queries(data)
        connections.close_all()
        log(f"Data and query counts ready at {time.perf_counter() - started:.1f} s")

        port = free_port()
        server = start_server(port, args.workers, args.threads)
        log(
            f"gunicorn on {HOST}:{port} ({args.workers} workers x {args.threads} threads) "
            f"at {time.perf_counter() - started:.1f} s"
        )
        clients = [Client(port, username) for _pk, username in data.learners]
        tallies = {side: Tally(ok=[0] * args.clients) for side in SIDES}
        for side in SIDES:  # warm-up: connections, imports, the first queries
            run_phase(side, data, clients, tallies[side], None)
        for side in ("ours", "naive", "naive", "ours"):
            log(f"- {side}, {args.duration / 2:g} s (at {time.perf_counter() - started:.1f} s)")
            run_phase(side, data, clients, tallies[side], args.duration / 2)
        for client in clients:
            client.close()
        stop_server(server)
        server = None
        log(f"Server stopped at {time.perf_counter() - started:.1f} s")

        from bench.run import machine

        results: dict[str, Any] = {
            "command": "python bench/heartbeat.py"
            + (" --smoke" if args.smoke else "")
            + (f" --duration {args.duration:g}" if not args.smoke and args.duration != 20 else "")
            + (f" --clients {args.clients}" if not args.smoke and args.clients != 20 else ""),
            "clients": args.clients,
            "duration_per_view": args.duration,
            "seconds_per_request": SECONDS,
            "server": f"gunicorn gthread, {args.workers} workers x {args.threads} threads",
            "machine": machine(),
            "queries": queries,
            "sides": {side: summary(tallies[side]) for side in SIDES},
            "totals": check_totals(data, tallies),
        }
        ours, naive = results["sides"]["ours"], results["sides"]["naive"]
        results["ratios"] = {
            "requests_per_second": round(
                ours["requests_per_second"] / naive["requests_per_second"], 3
            )
            if naive["requests_per_second"]
            else None,
            "p99": round(ours["p99_ms"] / naive["p99_ms"], 3)
            if ours["p99_ms"] and naive["p99_ms"]
            else None,
        }
        results["seconds"] = round(time.perf_counter() - started, 1)
        Path(args.json).write_text(
            json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8"
        )
        print()
        print(f"{results['command']}   ({results['server']}; {results['seconds']:.0f} s in all)")
        print(table(results))
        for side in SIDES:
            check = results["totals"][side]
            print(
                f"{'ok  ' if check['exact'] else 'MISS'} {side}: {check['database_seconds']} s "
                f"in the database, {check['sent_seconds']} s answered 2xx"
                + (f", {check['rows_off']} rows off" if check["rows_off"] else "")
            )
        print(f"\nWrote {args.json}")
        failed = [s for s in SIDES if results["sides"][s]["failures"]]
        inexact = [s for s in SIDES if not results["totals"][s]["exact"]]
        if failed or inexact:
            print(f"Failed requests: {failed or 'none'}; inexact totals: {inexact or 'none'}")
            return 1
        return 0
    finally:
        if server is not None:
            stop_server(server)
        from django.db import connections

        connections.close_all()
        drop_database("postgres", name)


if __name__ == "__main__":
    sys.exit(main())

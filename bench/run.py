#!/usr/bin/env python
"""Benchmark django-learning-progress against what a host writes without it.

    python bench/run.py --db postgres --scale default

Creates a fresh database (``lp_bench_<scale>_<hash>`` on the PostgreSQL or
MariaDB server, where the hash is that of the checkout's path; a temporary
file for SQLite), migrates it, generates the data of the chosen scale with
bulk inserts (``bench/datagen.py``), then times each operation (median of ``--repeat`` runs after one warm-up run that also counts
its queries) next to a naive per-learner version (``bench/naive.py``). Prints
one table and writes it, with the machine and the storage figures, as JSON.

Exits 1 when a query-count target is missed (one learner's progress in more
than two queries, recording time in more than three, a submit in as many
queries as the naive version, or a query count that grows with the data);
timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DBS = ("sqlite", "postgres", "mariadb")
# The roster read as rows, with the columns the naive roster returns.
ROSTER_VALUES = ("pk", "user__username", "status", "tasks_completed", "percentage", "time_spent")
SCALES = ("small", "default", "large")
MIB = 1024 * 1024


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="Time django-learning-progress against naive per-learner code.",
    )
    parser.add_argument("--db", choices=DBS, default="sqlite", help="default: sqlite")
    parser.add_argument("--scale", choices=SCALES, default="small", help="default: small")
    parser.add_argument(
        "--repeat", type=int, default=5, metavar="N", help="timed runs per operation (median)"
    )
    parser.add_argument(
        "--naive-repeat",
        type=int,
        metavar="N",
        help="timed runs per naive operation (default: --repeat)",
    )
    parser.add_argument("--json", metavar="PATH", help="default: bench/results-<db>-<scale>.json")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (and print where it is)"
    )
    parser.add_argument(
        "--only",
        metavar="KEY[,KEY]",
        help="time only these operations (keys as in the JSON, e.g. roster_page,roster_all)",
    )
    parser.add_argument(
        "--pg-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for the benchmark's sessions, e.g. jit=off (repeatable)",
    )
    args = parser.parse_args(argv)
    for option in args.pg_option:
        if "=" not in option or args.db != "postgres":
            parser.error("--pg-option takes NAME=VALUE, with --db postgres")
    if args.repeat < 1 or (args.naive_repeat is not None and args.naive_repeat < 1):
        parser.error("--repeat and --naive-repeat must be at least 1")
    if args.naive_repeat is None:
        args.naive_repeat = args.repeat
    if args.json is None:
        args.json = str(ROOT / "bench" / f"results-{args.db}-{args.scale}.json")
    return args


# -- the database server ------------------------------------------------------------------


def _pg_connect() -> Any:
    import psycopg

    return psycopg.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=os.environ.get("PGPORT", "5432"),
        user=os.environ.get("PGUSER", "postgres"),
        password=os.environ.get("PGPASSWORD", ""),
        dbname="postgres",
        autocommit=True,
    )


def _mysql_connect() -> Any:
    import MySQLdb

    return MySQLdb.connect(
        host=os.environ.get("MYSQL_HOST", "127.0.0.1"),
        port=int(os.environ.get("MYSQL_PORT", "3306")),
        user=os.environ.get("MYSQL_USER", "root"),
        password=os.environ.get("MYSQL_PASSWORD", ""),
    )


def create_database(db: str, name: str) -> None:
    """Drop and create the benchmark database on the server."""
    if db == "postgres":
        with _pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    elif db == "mariadb":
        conn = _mysql_connect()
        try:
            cursor = conn.cursor()
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            conn.close()


def drop_database(db: str, name: str) -> None:
    if db == "postgres":
        with _pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    elif db == "mariadb":
        conn = _mysql_connect()
        try:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Side:
    """One implementation's figures for one operation."""

    ms: float
    queries: int
    runs_ms: list[float]
    peak_mib: float | None = None
    indexes: list[str] = field(default_factory=list)
    max_cost: float | None = None  # the highest estimated cost of its SELECTs (PostgreSQL)
    jit: bool = False  # PostgreSQL JIT-compiles at least one of its queries


@dataclass
class Operation:
    key: str
    label: str
    ours: Callable[[Any], Any]
    naive: Callable[[Any], Any] | None = None
    setup_ours: Callable[[], Any] | None = None
    setup_naive: Callable[[], Any] | None = None
    reads_many: bool = False  # reads many learners: must be 10x faster than the naive version
    target: float | None = None  # the ratio to reach
    memory: bool = False  # also measure peak Python memory (tracemalloc)
    max_queries: int | None = None
    fewer_queries_than_naive: bool = False  # asserted, like max_queries
    compare: Callable[[Any], Any] | None = None  # ours on less data: same query count?
    compare_label: str = ""


def _call(fn: Callable[[Any], Any], setup: Callable[[], Any] | None) -> tuple[Any, float]:
    arg = setup() if setup is not None else None
    gc.collect()
    started = time.perf_counter()
    fn(arg)
    return arg, (time.perf_counter() - started) * 1000


def count_queries(fn: Callable[[Any], Any], setup: Callable[[], Any] | None) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    arg = setup() if setup is not None else None
    # The default log keeps the last 9,000 queries only, which a naive run exceeds.
    connection.queries_log = deque(maxlen=10_000_000)
    with CaptureQueriesContext(connection) as ctx:
        fn(arg)
    captured = ctx.captured_queries
    connection.queries_log = deque(maxlen=connection.queries_limit)
    return captured


def measure(
    fn: Callable[[Any], Any], setup: Callable[[], Any] | None, repeat: int, memory: bool
) -> tuple[Side, list[dict]]:
    """A warm-up run that counts the queries, then ``repeat`` timed runs (and a traced one)."""
    captured = count_queries(fn, setup)
    runs = [_call(fn, setup)[1] for _ in range(repeat)]
    peak = None
    if memory:
        arg = setup() if setup is not None else None
        gc.collect()
        tracemalloc.start()
        tracemalloc.reset_peak()
        try:
            fn(arg)
            peak = tracemalloc.get_traced_memory()[1] / MIB
        finally:
            tracemalloc.stop()
    side = Side(
        ms=statistics.median(runs),
        queries=len(captured),
        runs_ms=[round(r, 3) for r in runs],
        peak_mib=peak,
    )
    return side, captured


def explain(captured: list[dict]) -> tuple[list[str], float | None]:
    """The indexes PostgreSQL's plans use for the captured statements, and the highest
    estimated cost among them (``EXPLAIN``, not run)."""
    import sqlparse
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        return [], None
    found: set[str] = set()
    highest = 0.0

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "Index Name" in node:
                found.add(node["Index Name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    # One execute() may carry several statements (one learner's progress on
    # PostgreSQL): each is explained on its own. sqlparse comes with Django.
    statements = [s.rstrip("; ") for q in captured for s in sqlparse.split(q["sql"])]
    with connection.cursor() as cursor:
        for sql in statements:
            if sql.startswith("DECLARE ") and " CURSOR FOR " in sql:  # a server-side cursor
                sql = sql.split(" CURSOR FOR ", 1)[1]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE", "DELETE")):
                continue  # INSERTs use no index to find rows; BEGIN, SAVEPOINT, ...
            try:  # EXPLAIN without ANALYZE plans the statement; it neither runs nor locks
                with transaction.atomic():
                    cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                    plan = cursor.fetchone()[0]
            except DatabaseError:
                continue
            plan = json.loads(plan) if isinstance(plan, str) else plan
            highest = max(highest, plan[0]["Plan"]["Total Cost"])
            walk(plan)
    return sorted(found), highest


def jit_threshold() -> float | None:
    """PostgreSQL's ``jit_above_cost`` when JIT compilation is on in this session."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit') = 'on', current_setting('jit_above_cost')")
        on, above = cursor.fetchone()
    return float(above) if on and float(above) >= 0 else None


# -- the operations ---------------------------------------------------------------------------


def build_operations(data: Any, workdir: Path) -> list[Operation]:
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from bench import naive
    from django_learning_progress import analytics, helpers, services
    from django_learning_progress.models import get_enrollment_model
    from tests.testapp.models import Lesson, Question, Quiz, User

    instructor = User.objects.get(pk=data.instructor_id)
    learner = User.objects.get(pk=data.power_learner_id)
    ordinary = User.objects.get(pk=data.ordinary_learner_id)
    task = Lesson.objects.get(pk=data.time_task_id)
    practice = Quiz.objects.get(pk=data.practice_quiz_id)
    questions = list(Question.objects.filter(quiz=practice).order_by("position"))
    wide, narrow = data.wide_course_id, data.narrow_course_id
    wide_size = get_enrollment_model().objects.filter(course=wide).count()
    narrow_size = get_enrollment_model().objects.filter(course=narrow).count()
    courses_of = get_enrollment_model().objects.filter(user=learner).count()
    ordinary_courses = get_enrollment_model().objects.filter(user=ordinary).count()
    services.start_task(learner, task)  # the row the naive read-modify-write needs

    def client(user: Any) -> Any:
        c = APIClient()
        c.force_authenticate(user=user)
        return c

    teacher, me, other = client(instructor), client(learner), client(ordinary)

    def get(c: Any, url: str) -> Any:
        response = c.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {response.content[:300]!r}")
        return response.json()

    def open_attempt() -> Any:
        attempt = services.start_attempt(learner, practice)
        answers = [
            (q, q.answer if i % 3 else "z", 10) for i, q in enumerate(questions)
        ]  # two thirds right
        services.answer_questions(learner, attempt, answers)
        return attempt

    def export_ours(course: int) -> Callable[[Any], Any]:
        def run(_arg: Any) -> None:
            path = workdir / f"ours-{course}.csv"
            call_command(
                "export_progress",
                str(course),
                "--what",
                "responses",
                "--format",
                "csv",
                "--output",
                str(path),
            )
            path.unlink()

        return run

    def export_naive(course: int) -> Callable[[Any], Any]:
        def run(_arg: Any) -> None:
            path = workdir / f"naive-{course}.csv"
            naive.export_responses(course, str(path))
            path.unlink()

        return run

    small_export, large_export = data.export_course_ids
    rows_small = data.export_rows[0]
    rows_large = data.export_rows[1]
    return [
        Operation(
            "progress_one",
            "One learner's course progress (get_course_progress)",
            lambda _a: helpers.get_course_progress(learner, wide),
            lambda _a: naive.course_progress(learner.pk, wide),
            max_queries=2,
            target=3.0,
            compare=lambda _a: helpers.get_course_progress(ordinary, narrow),
            compare_label="another learner, another course",
        ),
        Operation(
            "roster_all",
            f"course_roster, whole course ({wide_size:,} learners)",
            lambda _a: list(helpers.course_roster(wide)),
            lambda _a: naive.roster(wide),
            reads_many=True,
            target=40.0,
            compare=lambda _a: list(helpers.course_roster(narrow)),
            compare_label=f"a course of {narrow_size:,} learners",
        ),
        Operation(
            "roster_values",
            f"course_roster(...).values(...), whole course ({wide_size:,} learners)",
            lambda _a: list(helpers.course_roster(wide).values(*ROSTER_VALUES)),
            lambda _a: naive.roster(wide),
            reads_many=True,
            target=40.0,
            compare=lambda _a: list(helpers.course_roster(narrow).values(*ROSTER_VALUES)),
            compare_label=f"a course of {narrow_size:,} learners",
        ),
        Operation(
            "roster_page",
            "GET courses/{id}/progress/, one page of 50",
            lambda _a: get(teacher, f"/api/progress/courses/{wide}/progress/"),
            lambda _a: get(teacher, f"/naive/courses/{wide}/progress/"),
            reads_many=True,
            target=10.0,
            compare=lambda _a: get(teacher, f"/api/progress/courses/{narrow}/progress/"),
            compare_label=f"a course of {narrow_size:,} learners",
        ),
        Operation(
            "me_progress",
            f"GET me/progress/, a learner in {courses_of} courses",
            lambda _a: get(me, "/api/progress/me/progress/"),
            lambda _a: get(me, "/naive/me/progress/"),
            target=5.0,
            compare=lambda _a: get(other, "/api/progress/me/progress/"),
            compare_label=f"a learner in {ordinary_courses} courses",
        ),
        Operation(
            "record_time",
            "Recording time (add_time_spent)",
            lambda _a: services.add_time_spent(learner, task, 30),
            lambda _a: naive.add_time_spent(learner.pk, task.pk, 30),
            max_queries=3,
            target=1.0,
        ),
        Operation(
            "submit",
            f"Submitting a {len(questions)}-question attempt (submit_attempt)",
            lambda attempt: services.submit_attempt(learner, attempt),
            lambda attempt: naive.submit_attempt(attempt.pk),
            setup_ours=open_attempt,
            setup_naive=open_attempt,
            fewer_queries_than_naive=True,
            target=1.0,
        ),
        Operation(
            "quiz_analytics",
            f"quiz_analytics, {data.analytics_attempts:,} attempts x {len(questions)} questions",
            lambda _a: analytics.quiz_analytics(data.analytics_quiz_id),
            lambda _a: naive.quiz_analytics(data.analytics_quiz_id),
            reads_many=True,
            target=10.0,
            compare=lambda _a: analytics.quiz_analytics(data.narrow_quiz_id),
            compare_label="a quiz with fewer attempts",
        ),
        Operation(
            "course_analytics",
            f"course_analytics, {wide_size:,} learners",
            lambda _a: analytics.course_analytics(wide),
            lambda _a: naive.course_analytics(wide),
            reads_many=True,
            target=10.0,
            compare=lambda _a: analytics.course_analytics(narrow),
            compare_label=f"a course of {narrow_size:,} learners",
        ),
        Operation(
            "export_small",
            f"export_progress --what responses, {rows_small:,} rows",
            export_ours(small_export),
            export_naive(small_export),
            reads_many=True,
            memory=True,
        ),
        Operation(
            "export_large",
            f"export_progress --what responses, {rows_large:,} rows",
            export_ours(large_export),
            export_naive(large_export),
            reads_many=True,
            target=10.0,
            memory=True,
            compare=export_ours(small_export),
            compare_label=f"{rows_small:,} rows",
        ),
    ]


# -- storage ----------------------------------------------------------------------------------


def storage_figures(index_users: dict[str, list[str]]) -> dict[str, Any]:
    """Bytes per row of each progress table (table + TOAST + indexes), and each index's size."""
    from django.db import connection

    from django_learning_progress.models import (
        get_enrollment_model,
        get_quiz_attempt_model,
        get_quiz_response_model,
        get_task_progress_model,
    )

    models = [
        get_enrollment_model(),
        get_task_progress_model(),
        get_quiz_attempt_model(),
        get_quiz_response_model(),
    ]
    tables = []
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            rows = model._default_manager.count()
            entry: dict[str, Any] = {"table": table, "rows": rows}
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT pg_relation_size(%s), pg_total_relation_size(%s), pg_indexes_size(%s)",
                    [table, table, table],
                )
                heap, total, indexes = cursor.fetchone()
                cursor.execute(
                    """
                    SELECT i.relname, pg_relation_size(i.oid), pg_get_indexdef(i.oid)
                    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                    WHERE x.indrelid = %s::regclass
                    ORDER BY pg_relation_size(i.oid) DESC
                    """,
                    [table],
                )
                entry["indexes"] = [
                    {
                        "name": name,
                        "bytes": size,
                        "bytes_per_row": round(size / rows, 1) if rows else None,
                        "definition": definition,
                        "used_by": index_users.get(name, []),
                    }
                    for name, size, definition in cursor.fetchall()
                ]
            elif connection.vendor == "mysql":
                cursor.execute(
                    "SELECT data_length, index_length FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_name = %s",
                    [table],
                )
                heap, indexes = cursor.fetchone()
                total = heap + indexes
            else:
                try:
                    cursor.execute(
                        "SELECT name, SUM(pgsize) FROM dbstat WHERE name = %s OR name IN "
                        "(SELECT name FROM sqlite_master WHERE tbl_name = %s AND type = 'index')"
                        " GROUP BY name",
                        [table, table],
                    )
                except Exception:  # SQLite built without the dbstat table
                    tables.append(entry)
                    continue
                sizes = dict(cursor.fetchall())
                heap = sizes.pop(table, 0)
                indexes = sum(sizes.values())
                total = heap + indexes
            entry.update(
                table_bytes=heap,
                index_bytes=indexes,
                total_bytes=total,
                bytes_per_row=round(total / rows, 1) if rows else None,
                table_bytes_per_row=round(heap / rows, 1) if rows else None,
            )
            tables.append(entry)
    return {"tables": tables}


# -- machine ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import django
    import rest_framework
    from django.db import connection

    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
        "platform": platform.platform(),
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        info["cpu_model"] = models[0] if models else None
        with open("/proc/meminfo", encoding="utf-8") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal"))
        info["memory_gib"] = round(kib / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            info["database"] = "PostgreSQL " + cursor.fetchone()[0]
            for setting in ("shared_buffers", "work_mem", "effective_cache_size"):
                cursor.execute(f"SHOW {setting}")
                info[setting] = cursor.fetchone()[0]
        elif connection.vendor == "mysql":
            cursor.execute("SELECT VERSION()")
            info["database"] = "MariaDB/MySQL " + cursor.fetchone()[0]
        else:
            import sqlite3

            info["database"] = "SQLite " + sqlite3.sqlite_version
    return info


# -- output ----------------------------------------------------------------------------------------


def _fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms:,.1f}" if ms < 1000 else f"{ms:,.0f}"


def table(results: list[dict[str, Any]]) -> str:
    header = ["operation", "ours ms", "ours q", "naive ms", "naive q", "ratio", "peak MiB o/n"]
    lines = []
    for r in results:
        ours, nv = r["ours"], r.get("naive")
        peak = ""
        if ours.get("peak_mib") is not None and nv and nv.get("peak_mib") is not None:
            peak = f"{ours['peak_mib']:.1f} / {nv['peak_mib']:.1f}"
        lines.append(
            [
                r["label"],
                _fmt_ms(ours["ms"]) + ("*" if ours.get("jit") else ""),
                str(ours["queries"]),
                _fmt_ms(nv["ms"]) if nv else "-",
                str(nv["queries"]) if nv else "-",
                f"{r['ratio']:.1f}x" if r.get("ratio") is not None else "-",
                peak,
            ]
        )
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [fmt(header), rule, *(fmt(row) for row in lines)]
    if any(r["ours"].get("jit") for r in results):
        out.append(
            "* PostgreSQL JIT-compiles a query of this operation (estimated cost > jit_above_cost)"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    from tests.dbnames import database_name

    tmpdir = Path(tempfile.mkdtemp(prefix="lp_bench_"))
    if args.db == "sqlite":
        name = str(tmpdir / f"lp_bench_{args.scale}.sqlite3")
    else:  # lp_bench_<scale>_<hash of the checkout's path>: checkouts never share one
        name = database_name(f"lp_bench_{args.scale}")
    os.environ["LP_BENCH_DB"] = args.db
    os.environ["LP_BENCH_NAME"] = name
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["LP_BENCH_PG_OPTIONS"] = " ".join(f"-c {o}" for o in args.pg_option)
    create_database(args.db, name)
    try:
        return run(args, name, tmpdir, started)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.db, name)
        else:
            print(f"Kept the database: {name}")
        if not (args.keep and args.db == "sqlite"):  # the SQLite file lives in tmpdir
            shutil.rmtree(tmpdir, ignore_errors=True)


def run(args: argparse.Namespace, name: str, tmpdir: Path, started: float) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from bench import datagen

    scale = datagen.SCALES[args.scale]
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    log(f"Benchmark: --db {args.db} --scale {args.scale} ({name})")
    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.perf_counter() - t
    log(f"Migrated in {migrate_s:.1f} s; generating data ...")
    data = datagen.generate(scale, log=log)
    data.export_rows = scale.export_rows  # type: ignore[attr-defined]
    data.analytics_attempts = scale.analytics_attempts  # type: ignore[attr-defined]
    log(f"Generated in {data.seconds:.1f} s: {data.counts}")

    results = []
    failures = []
    index_users: dict[str, list[str]] = {}
    threshold = jit_threshold()
    operations = build_operations(data, tmpdir)
    if args.only:
        keys = set(args.only.split(","))
        unknown = keys - {op.key for op in operations}
        if unknown:
            log(f"Unknown operation key(s): {', '.join(sorted(unknown))}")
            return 2
        operations = [op for op in operations if op.key in keys]
    for op in operations:
        log(f"- {op.label}")
        ours, captured = measure(op.ours, op.setup_ours, args.repeat, op.memory)
        ours.indexes, ours.max_cost = explain(captured)
        ours.jit = bool(threshold is not None and ours.max_cost and ours.max_cost > threshold)
        for index in ours.indexes:
            index_users.setdefault(index, []).append(op.key)
        entry: dict[str, Any] = {"key": op.key, "label": op.label, "ours": asdict(ours)}
        entry["ours"]["sql"] = [q["sql"] for q in captured]
        checks: list[dict[str, Any]] = []
        if op.naive is not None:
            nv, _ = measure(op.naive, op.setup_naive, args.naive_repeat, op.memory)
            entry["naive"] = asdict(nv)
            if op.fewer_queries_than_naive:
                ok = ours.queries < nv.queries
                checks.append(
                    {
                        "check": f"fewer queries than naive ({nv.queries})",
                        "value": ours.queries,
                        "ok": ok,
                    }
                )
                if not ok:
                    failures.append(f"{op.label}: {ours.queries} queries, naive needs {nv.queries}")
            entry["ratio"] = nv.ms / ours.ms if ours.ms else None
            if op.memory and ours.peak_mib:
                entry["memory_ratio"] = nv.peak_mib / ours.peak_mib
        entry["reads_many"] = op.reads_many
        entry["target"] = op.target or (10.0 if op.reads_many else None)
        if op.max_queries is not None:
            ok = ours.queries <= op.max_queries
            checks.append(
                {"check": f"at most {op.max_queries} queries", "value": ours.queries, "ok": ok}
            )
            if not ok:
                failures.append(f"{op.label}: {ours.queries} queries > {op.max_queries}")
        if op.compare is not None:
            other = len(count_queries(op.compare, None))
            ok = other == ours.queries
            checks.append(
                {
                    "check": f"same query count with {op.compare_label}",
                    "value": other,
                    "ok": ok,
                }
            )
            if not ok:
                failures.append(
                    f"{op.label}: {ours.queries} queries, but {other} with {op.compare_label}"
                )
        if entry["target"] and entry.get("ratio") is not None:
            measured = entry.get("memory_ratio") if op.memory else entry["ratio"]
            what = "peak memory" if op.memory else "time"
            checks.append(
                {
                    "check": f"naive/ours {what} >= {entry['target']:g}x (reported, not asserted)",
                    "value": round(measured, 1) if measured else None,
                    "ok": bool(measured and measured >= entry["target"]),
                }
            )
        entry["checks"] = checks
        results.append(entry)

    storage = storage_figures(index_users)
    total_s = time.perf_counter() - started
    command = f"python bench/run.py --db {args.db} --scale {args.scale}"
    if args.repeat != 5:
        command += f" --repeat {args.repeat}"
    if args.naive_repeat != args.repeat:
        command += f" --naive-repeat {args.naive_repeat}"
    command += "".join(f" --pg-option {o}" for o in args.pg_option)
    report = {
        "command": command,
        "db": args.db,
        "scale": asdict(datagen.SCALES[args.scale]),
        "repeat": args.repeat,
        "pg_options": args.pg_option,
        "naive_repeat": args.naive_repeat,
        "machine": machine(),
        "data": data.counts,
        "seconds": {
            "migrate": round(migrate_s, 1),
            "generate": round(data.seconds, 1),
            "total": round(total_s, 1),
        },
        "operations": results,
        "storage": storage,
        "failures": failures,
    }
    Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")

    print()
    print(f"{command}   ({report['machine'].get('database')}, {total_s:.0f} s in all)")
    print(table(results))
    print()
    for r in results:
        for check in r["checks"]:
            mark = "ok  " if check["ok"] else "MISS"
            print(f"{mark} {r['key']}: {check['check']}: {check['value']}")
    if storage["tables"] and "bytes_per_row" in storage["tables"][0]:
        print()
        print("storage: table, rows, bytes/row (table + indexes), table bytes/row")
        for t in storage["tables"]:
            print(
                f"  {t['table']}: {t['rows']:,} rows, {t['bytes_per_row']} B/row, "
                f"{t['table_bytes_per_row']} B/row without indexes"
            )
    print(f"\nWrote {args.json}")
    if failures:
        print("Query-count targets missed:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

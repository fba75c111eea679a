"""Data generation for the benchmark: bulk inserts that keep the services' invariants.

Everything is inserted with ``bulk_create`` in batches, with primary keys
assigned here (so no ``RETURNING`` and no per-row round trip), from a seeded
random generator, so a scale always produces the same data. The rows are the
ones the services would have written:

* a task progress row exists only for an enrolled learner; ``course`` is the
  task's course; ``completed`` rows have ``started_at <= completed_at`` and
  ``last_activity_at = completed_at``; ``in_progress`` rows have a start and
  no completion; learners work through a course in course order and skip
  some optional tasks;
* an enrollment is ``completed`` (with ``completed_at`` the last task's
  completion) exactly when every required task is completed; a few others
  are ``dropped``;
* quiz attempts are ``completed``, numbered 1, 2, ... per learner and quiz
  without gaps in the order they were started, with ``course`` the quiz's
  course; each has one graded response per question whose ``is_correct`` and
  ``points_awarded`` follow the question's answer and ``marks``, and its
  ``score``, ``max_score``, ``percentage`` (rounded half up), ``passed``
  (against the pass mark) and ``time_taken`` follow from them as in
  ``services.submit_attempt``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.management.color import no_style
from django.db import connection, transaction

from django_learning_progress.choices import AttemptStatus, EnrollmentStatus, TaskStatus
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)
from tests.testapp.models import Course, Lesson, Module, Question, Quiz, User

PASS_MARK = Decimal("60.00")
PERCENT = Decimal("0.01")
POINTS = Decimal("0.001")
CHOICES = "abcd"


@dataclass(frozen=True)
class Scale:
    """The size of a generated data set."""

    name: str
    learners: int
    courses: int
    modules: int  # per course
    lessons_per_module: int  # the last lesson of a module of 5+ lessons is optional
    power_learners: int  # enrolled in the first `power_courses` courses
    power_courses: int
    extra_courses: int  # random courses of an ordinary learner besides the two wide ones
    task_rows: int  # task progress rows to aim at
    questions: int  # per quiz
    analytics_attempts: int  # completed attempts at the analytics quiz
    export_rows: tuple[int, int]  # responses in the small and the large export course
    responses: int  # quiz responses to aim at, in total
    description: str = ""

    @property
    def tasks_per_course(self) -> int:
        return self.modules * self.lessons_per_module


SCALES: dict[str, Scale] = {
    "small": Scale(
        name="small",
        learners=60,
        courses=20,
        modules=2,
        lessons_per_module=5,
        power_learners=3,
        power_courses=20,
        extra_courses=1,
        task_rows=1_000,
        questions=20,
        analytics_attempts=300,
        export_rows=(500, 2_000),
        responses=12_000,
        description="seconds; the CI smoke test",
    ),
    "default": Scale(
        name="default",
        learners=1_000,
        courses=20,
        modules=5,
        lessons_per_module=10,
        power_learners=10,
        power_courses=20,
        extra_courses=2,
        task_rows=100_000,
        questions=20,
        analytics_attempts=10_000,
        export_rows=(10_000, 100_000),
        responses=350_000,
        description="a few minutes on 2 cores",
    ),
    "large": Scale(
        name="large",
        learners=10_000,
        courses=100,
        modules=5,
        lessons_per_module=10,
        power_learners=100,
        power_courses=20,
        extra_courses=2,
        task_rows=1_000_000,
        questions=20,
        analytics_attempts=10_000,
        export_rows=(10_000, 100_000),
        responses=2_000_000,
        description="PostgreSQL; storage figures",
    ),
}


@dataclass
class Dataset:
    """What the benchmark needs to know about the generated data."""

    instructor_id: int
    wide_course_id: int  # every learner is enrolled
    export_course_ids: tuple[int, int]  # (small export, large export)
    narrow_course_id: int  # few learners: for the query-count comparisons
    analytics_quiz_id: int
    narrow_quiz_id: int  # few attempts: for the query-count comparisons
    practice_quiz_id: int  # no attempts yet: the submit benchmark
    power_learner_id: int  # enrolled in `power_courses` courses
    ordinary_learner_id: int  # enrolled in a few courses
    time_task_id: int  # a task of the wide course, for recording time
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class _Batches:
    """Model instances buffered and bulk-inserted ``batch_size`` at a time."""

    def __init__(
        self, model: Any, batch_size: int, before: Callable[[], None] | None = None
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.before = before
        self.rows: list[Any] = []
        self.count = 0

    def add(self, obj: Any) -> None:
        self.rows.append(obj)
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.before is not None:
            self.before()  # parents first: every foreign key holds when the batch commits
        with transaction.atomic():
            self.model._default_manager.bulk_create(self.rows, batch_size=self.batch_size)
        self.count += len(self.rows)
        self.rows = []


def _spread(total: int, holders: list[Any], rng: random.Random) -> dict[Any, int]:
    """``total`` items spread as evenly as possible over ``holders``, in random order."""
    if not holders or total <= 0:
        return {}
    order = list(holders)
    rng.shuffle(order)
    base, extra = divmod(total, len(order))
    return {h: base + (1 if i < extra else 0) for i, h in enumerate(order) if base or i < extra}


def generate(
    scale: Scale, *, batch_size: int = 5000, seed: int = 2024, log: Any = print
) -> Dataset:
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(dt_timezone.utc).replace(microsecond=0)
    base = now - timedelta(days=200)
    Enrollment = get_enrollment_model()
    TaskProgress = get_task_progress_model()
    Attempt = get_quiz_attempt_model()
    Response = get_quiz_response_model()

    # -- users -----------------------------------------------------------------------
    users = _Batches(User, batch_size)
    users.add(User(id=1, username="instructor", password="!", email="instructor@example.com"))
    learner_ids = list(range(2, scale.learners + 2))
    for uid in learner_ids:
        users.add(User(id=uid, username=f"learner{uid:06d}", password="!", date_joined=base))
    users.flush()
    ability = {uid: rng.uniform(0.35, 0.95) for uid in learner_ids}

    # -- content -----------------------------------------------------------------------
    course_ids = list(range(1, scale.courses + 1))
    course_tasks: dict[int, list[tuple[int, bool]]] = {}  # course -> [(task, optional)], in order
    quiz_questions: dict[int, list[tuple[int, str, Decimal, float]]] = {}
    quiz_course: dict[int, int] = {}
    course_quiz: dict[int, int] = {}
    # Each batch flushes its parents first, so every foreign key holds when it commits.
    courses = _Batches(Course, batch_size)
    modules = _Batches(Module, batch_size, before=courses.flush)
    lessons = _Batches(Lesson, batch_size, before=modules.flush)
    quizzes = _Batches(Quiz, batch_size, before=courses.flush)
    questions = _Batches(Question, batch_size, before=quizzes.flush)
    module_id = lesson_id = quiz_id = question_id = 0
    for cid in course_ids:
        courses.add(Course(id=cid, title=f"Course {cid:03d}"))
        tasks: list[tuple[int, bool]] = []
        for m in range(scale.modules):
            module_id += 1
            modules.add(Module(id=module_id, course_id=cid, title=f"Module {m}", position=m))
            for n in range(scale.lessons_per_module):
                lesson_id += 1
                optional = scale.lessons_per_module >= 5 and n == scale.lessons_per_module - 1
                lessons.add(
                    Lesson(
                        id=lesson_id,
                        module_id=module_id,
                        title=f"Lesson {m}.{n}",
                        position=n,
                        optional=optional,
                    )
                )
                tasks.append((lesson_id, optional))
        course_tasks[cid] = tasks
        titles = ["quiz", "practice"] if cid == course_ids[0] else ["quiz"]
        for title in titles:
            quiz_id += 1
            quizzes.add(
                Quiz(
                    id=quiz_id,
                    course_id=cid,
                    title=f"Course {cid:03d} {title}",
                    pass_mark=PASS_MARK,
                )
            )
            quiz_course[quiz_id] = cid
            course_quiz.setdefault(cid, quiz_id)
            qs = []
            for n in range(scale.questions):
                question_id += 1
                answer = CHOICES[rng.randrange(4)]
                marks = Decimal(2) if n % 4 == 3 else Decimal(1)
                questions.add(
                    Question(
                        id=question_id,
                        quiz_id=quiz_id,
                        text=f"Question {n}",
                        kind=Question.KIND_CHOICE,
                        answer=answer,
                        marks=marks,
                        position=n,
                    )
                )
                qs.append((question_id, answer, marks.quantize(POINTS), rng.uniform(-0.15, 0.35)))
            quiz_questions[quiz_id] = qs
    for batches in (courses, modules, lessons, quizzes, questions):
        batches.flush()
    practice_quiz_id = course_quiz[course_ids[0]] + 1
    Through = Course.instructors.through
    Through._default_manager.bulk_create(
        [Through(course_id=cid, user_id=1) for cid in course_ids], batch_size=batch_size
    )

    # -- enrollments and task progress ---------------------------------------------------
    wide = course_ids[:2]  # every learner: the roster course and the large export course
    others = course_ids[2:]
    power = set(learner_ids[: scale.power_learners])
    enrolled: list[tuple[int, int]] = []
    for uid in learner_ids:
        if uid in power:
            enrolled += [(uid, cid) for cid in course_ids[: scale.power_courses]]
        else:
            picks = rng.sample(others, min(scale.extra_courses, len(others)))
            enrolled += [(uid, cid) for cid in wide + sorted(picks)]
    mean_rows = scale.task_rows / len(enrolled)
    tp_rows = _Batches(TaskProgress, batch_size)
    enrollment_rows = []
    active: dict[int, list[tuple[int, datetime]]] = {}  # course -> [(learner, enrolled_at)]
    tp_id = 0
    for eid, (uid, cid) in enumerate(enrolled, start=1):
        tasks = course_tasks[cid]
        enrolled_at = base + timedelta(seconds=rng.randrange(40 * 86400))
        # Tasks reached in course order; an optional task is skipped half the time.
        reach = min(len(tasks), round(rng.uniform(0, 2 * mean_rows / 0.95)))
        required_total = sum(1 for _t, optional in tasks if not optional)
        required_done, last_done = 0, None
        cursor = enrolled_at + timedelta(seconds=rng.randrange(2 * 86400))
        for i, (task_id, optional) in enumerate(tasks[:reach]):
            if optional and rng.random() < 0.5:
                continue
            tp_id += 1
            begun = cursor
            duration = timedelta(seconds=rng.randrange(600, 6 * 3600))
            if i == reach - 1 and reach < len(tasks) and rng.random() < 0.6:
                tp_rows.add(
                    TaskProgress(
                        id=tp_id,
                        user_id=uid,
                        task_id=task_id,
                        course_id=cid,
                        status=TaskStatus.IN_PROGRESS,
                        time_spent=rng.randrange(0, 900),
                        started_at=begun,
                        completed_at=None,
                        last_activity_at=begun + duration * rng.random(),
                    )
                )
                break
            completed = begun + duration
            tp_rows.add(
                TaskProgress(
                    id=tp_id,
                    user_id=uid,
                    task_id=task_id,
                    course_id=cid,
                    status=TaskStatus.COMPLETED,
                    time_spent=min(int(duration.total_seconds()), rng.randrange(120, 3600)),
                    started_at=begun,
                    completed_at=completed,
                    last_activity_at=completed,
                )
            )
            required_done += not optional
            last_done = completed
            cursor = completed + timedelta(seconds=rng.randrange(86400))
        status, completed_at, dropped_at = EnrollmentStatus.ACTIVE, None, None
        if required_total and required_done == required_total:
            status, completed_at = EnrollmentStatus.COMPLETED, last_done
        elif uid not in power and rng.random() < 0.04:
            status, dropped_at = EnrollmentStatus.DROPPED, cursor + timedelta(days=1)
        enrollment_rows.append(
            Enrollment(
                id=eid,
                user_id=uid,
                course_id=cid,
                status=status,
                enrolled_at=enrolled_at,
                completed_at=completed_at,
                dropped_at=dropped_at,
            )
        )
        if status != EnrollmentStatus.DROPPED:
            active.setdefault(cid, []).append((uid, enrolled_at))
    tp_rows.flush()
    enrollments = _Batches(Enrollment, batch_size)
    for row in enrollment_rows:
        enrollments.add(row)
    enrollments.flush()
    log(f"  {len(enrollment_rows):,} enrollments, {tp_rows.count:,} task progress rows")

    # -- quiz attempts and responses -------------------------------------------------------
    attempts = _Batches(Attempt, batch_size)
    responses = _Batches(Response, batch_size, before=attempts.flush)
    ids = {"attempt": 0, "response": 0}

    def take(quiz: int, learner: int, enrolled_at: datetime, count: int) -> None:
        at = enrolled_at + timedelta(seconds=rng.randrange(86400, 3 * 86400))
        qs = quiz_questions[quiz]
        max_score = sum((marks for _q, _a, marks, _d in qs), Decimal(0))
        for number in range(1, count + 1):
            ids["attempt"] += 1
            attempt_id = ids["attempt"]
            score = Decimal(0)
            answered = at
            rows = []
            for question, answer, marks, difficulty in qs:
                chance = ability[learner] - difficulty + 0.03 * (number - 1)
                correct = rng.random() < min(0.98, max(0.02, chance))
                given = answer if correct else CHOICES[(CHOICES.index(answer) + 1) % 4]
                points = marks if correct else Decimal("0.000")
                score += points
                spent = rng.randrange(5, 120)
                answered += timedelta(seconds=spent)
                ids["response"] += 1
                rows.append(
                    Response(
                        id=ids["response"],
                        attempt_id=attempt_id,
                        question_id=question,
                        response=given,
                        is_correct=correct,
                        points_awarded=points,
                        time_spent=spent,
                        answered_at=answered,
                    )
                )
            submitted = answered + timedelta(seconds=rng.randrange(5, 60))
            for row in rows:
                row.graded_at = submitted
            percentage = min(Decimal(100), score * 100 / max_score).quantize(PERCENT, ROUND_HALF_UP)
            attempts.add(
                Attempt(
                    id=attempt_id,
                    user_id=learner,
                    quiz_id=quiz,
                    course_id=quiz_course[quiz],
                    attempt_number=number,
                    status=AttemptStatus.COMPLETED,
                    score=score.quantize(POINTS),
                    max_score=max_score,
                    percentage=percentage,
                    passed=percentage >= PASS_MARK,
                    started_at=at,
                    submitted_at=submitted,
                    completed_at=submitted,
                    time_taken=int((submitted - at).total_seconds()),
                )
            )
            for row in rows:
                responses.add(row)
            at = submitted + timedelta(seconds=rng.randrange(3600, 5 * 3600))

    def fill(quiz: int, holders: list[tuple[int, datetime]], total: int) -> None:
        for (learner, enrolled_at), count in sorted(_spread(total, holders, rng).items()):
            take(quiz, learner, enrolled_at, count)

    per_attempt = scale.questions
    small_export, large_export = scale.export_rows
    fill(course_quiz[wide[0]], active[wide[0]], scale.analytics_attempts)
    fill(course_quiz[wide[1]], active[wide[1]], large_export // per_attempt)
    fill(course_quiz[others[0]], active[others[0]], small_export // per_attempt)
    background = max(0, scale.responses // per_attempt - ids["attempt"])
    rest = [(cid, h) for cid in others[1:] for h in active.get(cid, [])]
    for (cid, (learner, enrolled_at)), count in sorted(_spread(background, rest, rng).items()):
        take(course_quiz[cid], learner, enrolled_at, count)
    responses.flush()
    attempts.flush()
    log(f"  {attempts.count:,} quiz attempts, {responses.count:,} quiz responses")

    _after_load()
    narrow = min(others, key=lambda cid: (len(active.get(cid, [])), cid))
    ordinary = next(uid for uid in learner_ids if uid not in power)
    return Dataset(
        instructor_id=1,
        wide_course_id=wide[0],
        export_course_ids=(others[0], wide[1]),
        narrow_course_id=narrow,
        analytics_quiz_id=course_quiz[wide[0]],
        narrow_quiz_id=course_quiz[others[0]],
        practice_quiz_id=practice_quiz_id,
        power_learner_id=learner_ids[0],
        ordinary_learner_id=ordinary,
        time_task_id=course_tasks[wide[0]][0][0],
        counts={
            "users": users.count,
            "courses": courses.count,
            "tasks": lessons.count,
            "quizzes": quizzes.count,
            "questions": questions.count,
            "enrollments": enrollments.count,
            "task_progress": tp_rows.count,
            "quiz_attempts": attempts.count,
            "quiz_responses": responses.count,
        },
        seconds=time.perf_counter() - started,
    )


def _after_load() -> None:
    """Point the id sequences past the inserted ids, then refresh the planner's statistics."""
    from django.apps import apps

    models = [m for m in apps.get_models() if m._meta.app_label in ("testapp", "learning_progress")]
    models.append(Course.instructors.through)
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would: statistics and visibility map
            cursor.execute("CHECKPOINT")  # write the load out now, not during the timings
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
        elif connection.vendor == "mysql":
            tables = [m._meta.db_table for m in models]
            cursor.execute("ANALYZE TABLE " + ", ".join(f"`{t}`" for t in tables))
            cursor.fetchall()

"""``manage.py seed_demo``: deterministic demo data for the example LMS.

Creates three courses with modules, lessons, quizzes and questions, the
accounts ``admin``, ``teacher`` and ``grace`` (instructors) and the learners
``alice``, ``bob``, ``carol``, ``dave``, ``erin`` and ``frank`` (each password is
the username). Every bit of learner progress is made through
:mod:`django_learning_progress.services`, as the LMS's own pages would.

The learners' history is spread over the six weeks before the seed runs: each
learner enrolls on a day of their own, studies a lesson or two on some days,
spends minutes to an hour per session and takes minutes over a quiz, so that
durations, medians and "inactive learners" on the instructor report read like
a real course. The services stamp rows with ``django.utils.timezone.now()``;
the seed moves that clock (:class:`Clock`) while it calls them, and the last
steps (alice's open attempt) happen at the real time. Besides the named
accounts, ``--learners N`` (default 24) generated learners (``learner01``...)
follow random plans.

Running it again does nothing while the demo courses exist; ``--reset``
deletes the demo data first and seeds it anew. ``--json`` prints a summary
(course ids, accounts, row counts) as JSON on stdout.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from catalog.models import Course, Lesson, Module, Question, Quiz
from django_learning_progress import services
from django_learning_progress.content import get_content_adapter
from django_learning_progress.models import (
    get_enrollment_model,
    get_quiz_attempt_model,
    get_quiz_response_model,
    get_task_progress_model,
)

SEED = 20240601

MC = Question.Kind.MULTIPLE_CHOICE
SHORT = Question.Kind.SHORT_ANSWER
ESSAY = Question.Kind.ESSAY

# (kind, prompt, choices or accepted answers, correct choice, points)
CATALOG: list[dict[str, Any]] = [
    {
        "slug": "python-foundations",
        "title": "Python Foundations",
        "description": "From installing Python to writing your first functions.",
        "instructors": ["teacher"],
        "modules": [
            ("Getting started", ["Installing Python", "The interactive shell", "A short history"]),
            ("Values and types", ["Numbers", "Strings", "Lists and tuples", "Dictionaries"]),
            ("Control flow", ["if and else", "Loops", "Functions"]),
        ],
        "optional": {"A short history"},
        "quizzes": [
            {
                "title": "Basics check",
                "max_attempts": 3,
                "pass_mark": Decimal("60"),
                "time_limit": 15,
                "questions": [
                    (MC, "What does len([1, 2, 3]) return?", ["2", "3", "6"], 1, 1),
                    (MC, "Which type is immutable?", ["list", "dict", "tuple"], 2, 1),
                    (SHORT, "Which keyword defines a function?", ["def"], None, 1),
                    (SHORT, "What is the type of 3.5?", ["float"], None, 1),
                ],
            },
            {
                "title": "Reflection",
                "max_attempts": None,
                "pass_mark": Decimal("50"),
                "time_limit": None,
                "questions": [
                    (ESSAY, "Explain the difference between a list and a tuple.", [], None, 3),
                    (MC, "Is Python dynamically typed?", ["Yes", "No"], 0, 1),
                ],
            },
        ],
    },
    {
        "slug": "django-web",
        "title": "Web Development with Django",
        "description": "Models, views and templates: build a small site step by step.",
        "instructors": ["teacher"],
        "modules": [
            ("Projects and apps", ["startproject", "Settings", "Apps"]),
            ("Models", ["Fields", "Migrations", "Queries", "The admin"]),
            ("Views and templates", ["URLs", "Function views", "Templates", "Forms"]),
        ],
        "optional": {"The admin"},
        "quizzes": [
            {
                "title": "ORM quiz",
                "max_attempts": 2,
                "pass_mark": Decimal("75"),
                "time_limit": 20,
                "questions": [
                    (MC, "Which command creates migrations?", ["migrate", "makemigrations"], 1, 1),
                    (SHORT, "Which method returns one object or raises?", ["get"], None, 1),
                    (MC, "Querysets are ...", ["eager", "lazy"], 1, 2),
                ],
            },
        ],
    },
    {
        "slug": "sql-data-analysis",
        "title": "Data Analysis with SQL",
        "description": "SELECT, JOIN and GROUP BY on real-world tables.",
        "instructors": ["grace"],
        "modules": [
            ("Querying", ["SELECT", "WHERE", "ORDER BY"]),
            ("Combining tables", ["Inner joins", "Outer joins"]),
            ("Aggregation", ["GROUP BY", "HAVING", "Window functions"]),
        ],
        "optional": {"Window functions"},
        "quizzes": [
            {
                "title": "SQL essentials",
                "max_attempts": None,
                "pass_mark": Decimal("50"),
                "time_limit": 10,
                "questions": [
                    (SHORT, "Which clause filters groups?", ["having"], None, 1),
                    (MC, "COUNT(*) counts ...", ["non-null values", "rows"], 1, 1),
                    (ESSAY, "When would you use a LEFT JOIN?", [], None, 2),
                ],
            },
        ],
    },
]

ADMIN = ("admin", "Ada", "Admin")
INSTRUCTORS = [("teacher", "Tom", "Teacher"), ("grace", "Grace", "Hopper")]
LEARNERS = [
    ("alice", "Alice", "Archer"),
    ("bob", "Bob", "Baker"),
    ("carol", "Carol", "Cooper"),
    ("dave", "Dave", "Dyer"),
    ("erin", "Erin", "Evans"),
    ("frank", "Frank", "Fisher"),
]
DEMO_USERNAMES = [ADMIN[0]] + [u[0] for u in INSTRUCTORS] + [u[0] for u in LEARNERS]
DEMO_SLUGS = [c["slug"] for c in CATALOG]


def _progress_models() -> list[Any]:
    return [
        get_enrollment_model(),
        get_task_progress_model(),
        get_quiz_attempt_model(),
        get_quiz_response_model(),
    ]


class Clock:
    """The time the services see while the seed runs (``timezone.now()``)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)

    @contextmanager
    def running(self) -> Iterator[Clock]:
        now = timezone.now  # the function, which fields name as their default
        with ExitStack() as stack:
            stack.enter_context(mock.patch("django.utils.timezone.now", lambda: self.at))
            for model in _progress_models():
                for f in model._meta.concrete_fields:
                    if f.default is now:  # e.g. enrolled_at: default=timezone.now
                        stack.enter_context(mock.patch.object(f, "_get_default", lambda: self.at))
            yield self


@dataclass
class Plan:
    """What one learner did in one course."""

    course: str
    lessons: float  # fraction of the required lessons completed
    optional: bool = False  # also completed the optional lessons
    quizzes: dict[str, list[float]] = field(default_factory=dict)  # quiz -> skill per attempt
    open_attempt: str | None = None  # quiz left with an attempt in progress
    graded: bool = True  # an instructor graded the essays (else: awaiting grading)
    drop: bool = False
    started_days_ago: int = 35  # when they enrolled
    last_active_days_ago: int = 1  # their last day of study


PLANS: dict[str, list[Plan]] = {
    "alice": [
        Plan(
            "python-foundations",
            1.0,
            optional=True,
            quizzes={"Basics check": [0.3, 1.0]},
            started_days_ago=40,
            last_active_days_ago=12,
        ),
        Plan("django-web", 0.5, open_attempt="ORM quiz", started_days_ago=11),
    ],
    "bob": [
        Plan(
            "python-foundations",
            0.6,
            quizzes={"Reflection": [0.8]},
            graded=False,
            started_days_ago=38,
            last_active_days_ago=20,
        ),
        Plan("sql-data-analysis", 0.1, started_days_ago=30, last_active_days_ago=27),
    ],
    "carol": [
        Plan(
            "sql-data-analysis",
            1.0,
            quizzes={"SQL essentials": [0.9]},
            started_days_ago=33,
            last_active_days_ago=9,
        ),
        Plan("django-web", 0.2, started_days_ago=8, last_active_days_ago=2),
        Plan("python-foundations", 0.0, started_days_ago=3, last_active_days_ago=3),
    ],
    "dave": [Plan("django-web", 0.8, quizzes={"ORM quiz": [0.2, 0.4]}, started_days_ago=26)],
    "erin": [
        Plan("python-foundations", 0.3, drop=True, started_days_ago=36, last_active_days_ago=29)
    ],
    "frank": [],
}

#: How many generated learners ``learner01``... follow random plans by default.
GENERATED_LEARNERS = 24


def random_plans(rng: random.Random) -> list[Plan]:
    """One to three courses, each with a random share of the lessons and quizzes."""
    plans = []
    for spec in rng.sample(CATALOG, rng.randint(1, 3)):
        share = rng.choice([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0])
        started = rng.randint(4, 42)
        quizzes = {
            quiz["title"]: [round(rng.uniform(0.2, 1.0), 2) for _ in range(rng.randint(1, 2))]
            for quiz in spec["quizzes"]
            if share >= 0.6 and rng.random() < 0.8
        }
        plans.append(
            Plan(
                spec["slug"],
                share,
                quizzes=quizzes,
                drop=share < 0.3 and rng.random() < 0.25,
                started_days_ago=started,
                last_active_days_ago=rng.randint(0, started - 1) if rng.random() < 0.7 else started,
            )
        )
    return plans


class Command(BaseCommand):
    help = "Create deterministic demo courses, accounts and learner progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo data first, then seed anew."
        )
        parser.add_argument(
            "--learners",
            type=int,
            default=GENERATED_LEARNERS,
            metavar="N",
            help=f"Generated learners besides the named ones (default {GENERATED_LEARNERS}).",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print a JSON summary on stdout (messages go to stderr).",
        )

    def handle(
        self,
        *args: Any,
        reset: bool = False,
        as_json: bool = False,
        learners: int = GENERATED_LEARNERS,
        **options: Any,
    ) -> None:
        self.out = self.stderr if as_json else self.stdout
        with transaction.atomic():
            if reset:
                self.reset()
            if Course.objects.filter(slug__in=DEMO_SLUGS).exists():
                self.out.write(
                    "Demo data already present; nothing to do (use --reset to re-create)."
                )
                created = False
            else:
                self.seed(random.Random(SEED), learners)
                created = True
        if as_json:
            self.stdout.write(json.dumps(summary(created), sort_keys=True))

    # -- reset -----------------------------------------------------------------------

    def reset(self) -> None:
        courses = Course.objects.filter(slug__in=DEMO_SLUGS)
        # Progress rows protect the content they refer to: delete them first.
        get_quiz_response_model()._default_manager.filter(attempt__course__in=courses).delete()
        for model in (get_quiz_attempt_model(), get_task_progress_model(), get_enrollment_model()):
            model._default_manager.filter(course__in=courses).delete()
        courses.delete()
        users = get_user_model()._default_manager
        users.filter(username__in=DEMO_USERNAMES).delete()
        users.filter(username__regex=r"^learner[0-9]+$").delete()
        self.out.write("Deleted the demo data.")

    # -- seed ------------------------------------------------------------------------

    def seed(self, rng: random.Random, learners: int) -> None:
        users = self.create_users(learners)
        courses = {spec["slug"]: self.create_course(spec, users) for spec in CATALOG}
        plans = dict(PLANS)
        for n in range(1, learners + 1):
            plans[f"learner{n:02d}"] = random_plans(rng)
        now = timezone.now()
        for username, user_plans in plans.items():
            for plan in user_plans:
                self.follow(users[username], courses[plan.course], plan, rng, users, now)
        self.out.write(
            self.style.SUCCESS(
                f"Seeded {len(courses)} courses, {len(users)} accounts and the learners' progress."
            )
        )

    def create_users(self, learners: int) -> dict[str, Any]:
        User = get_user_model()
        users: dict[str, Any] = {}
        generated = [(f"learner{n:02d}", "Learner", f"{n:02d}") for n in range(1, learners + 1)]
        for username, first, last in [ADMIN, *INSTRUCTORS, *LEARNERS, *generated]:
            user = User._default_manager.filter(username=username).first()
            if user is None:
                user = User._default_manager.create_user(
                    username=username,
                    # Generated learners do not log in (and hashing 24 passwords is slow).
                    password=None if username.startswith("learner") else username,
                    email=f"{username}@example.com",
                    first_name=first,
                    last_name=last,
                    is_staff=username == ADMIN[0],
                    is_superuser=username == ADMIN[0],
                )
            users[username] = user
        return users

    def create_course(self, spec: dict[str, Any], users: dict[str, Any]) -> Course:
        course = Course.objects.create(
            slug=spec["slug"], title=spec["title"], description=spec["description"]
        )
        course.instructors.set([users[name] for name in spec["instructors"]])
        for m, (module_title, lesson_titles) in enumerate(spec["modules"], start=1):
            module = Module.objects.create(course=course, title=module_title, position=m)
            Lesson.objects.bulk_create(
                Lesson(
                    module=module,
                    title=title,
                    position=n,
                    optional=title in spec["optional"],
                    body=f"{title}: lesson {n} of the module \u201c{module_title}\u201d.",
                )
                for n, title in enumerate(lesson_titles, start=1)
            )
        for quiz_spec in spec["quizzes"]:
            quiz = Quiz.objects.create(
                course=course,
                title=quiz_spec["title"],
                max_attempts=quiz_spec["max_attempts"],
                pass_mark=quiz_spec["pass_mark"],
                time_limit=quiz_spec["time_limit"],
            )
            for n, (kind, prompt, options, correct, points) in enumerate(
                quiz_spec["questions"], start=1
            ):
                question = Question(
                    quiz=quiz,
                    kind=kind,
                    prompt=prompt,
                    choices=options if kind == MC else [],
                    correct_choice=correct,
                    accepted_answers=options if kind == SHORT else [],
                    points=Decimal(points),
                    position=n,
                )
                question.full_clean()
                question.save()
        return course

    # -- learner progress, through the services only ---------------------------------

    def follow(
        self,
        user: Any,
        course: Course,
        plan: Plan,
        rng: random.Random,
        users: dict[str, Any],
        now: datetime,
    ) -> None:
        """Replay one learner's weeks in ``course``, from ``plan.started_days_ago``."""
        adapter = get_content_adapter()
        start = now - timedelta(days=plan.started_days_ago, hours=rng.randint(0, 10))
        end = now - timedelta(days=plan.last_active_days_ago, hours=rng.randint(1, 6))
        clock = Clock(start)
        with clock.running():
            enrollment = services.enroll(user, course)
            required = list(adapter.required_tasks(course))
            done = round(plan.lessons * len(required))
            lessons = list(required[:done])
            if plan.optional:
                lessons += list(adapter.course_tasks(course).filter(optional=True))
            current = required[done] if done < len(required) and (done or plan.lessons) else None
            # Study days spread evenly between enrolling and the last active day.
            steps = len(lessons) + (current is not None) + len(plan.quizzes)
            gap = max((end - start) / max(steps, 1), timedelta(minutes=30))
            for lesson in lessons:
                self.study(user, lesson, rng, clock, complete=True)
                clock.at = min(clock.at + gap * rng.uniform(0.5, 1.0), end)
            if current is not None:
                self.study(user, current, rng, clock, complete=False)  # the lesson they are on
            for quiz_title, skills in plan.quizzes.items():
                quiz = course.quizzes.get(title=quiz_title)
                for skill in skills:
                    clock.at = min(clock.at + gap * rng.uniform(0.2, 0.6), end)
                    attempt = self.take_quiz(user, quiz, skill, rng, clock, submit=True)
                    if plan.graded:
                        clock.advance(days=rng.uniform(0.2, 2))  # the instructor's turn
                        self.grade_by_hand(course, attempt, rng, users)
            if plan.drop:
                clock.advance(days=rng.randint(1, 5))
                services.drop_enrollment(enrollment)
        if plan.open_attempt:  # left open just now: it is still running
            quiz = course.quizzes.get(title=plan.open_attempt)
            self.take_quiz(user, quiz, 0.7, rng, None, submit=False, answer_only=1)

    def study(
        self, user: Any, lesson: Lesson, rng: random.Random, clock: Clock, *, complete: bool
    ) -> None:
        """One to three sessions of 4 to 50 minutes on ``lesson``, hours apart."""
        services.start_task(user, lesson)
        for session in range(rng.randint(1, 3)):
            if session:
                clock.advance(hours=rng.uniform(2, 20))
            minutes = rng.randint(4, 50)
            clock.advance(minutes=minutes)
            services.add_time_spent(user, lesson, minutes * 60)
        if complete:
            services.complete_task(user, lesson)

    def take_quiz(
        self,
        user: Any,
        quiz: Quiz,
        skill: float,
        rng: random.Random,
        clock: Clock | None,
        *,
        submit: bool,
        answer_only: int | None = None,
    ) -> Any:
        """An attempt whose answers take 15 seconds to 3 minutes each (on ``clock``)."""
        attempt = services.start_attempt(user, quiz)
        questions = list(get_content_adapter().quiz_questions(quiz))
        for question in questions[:answer_only]:
            seconds = rng.randint(15, 180)
            if clock is not None:
                clock.advance(seconds=seconds)
            response = answer(question, rng.random() < skill, rng)
            services.answer_question(user, attempt, question, response, time_spent=seconds)
        if submit:
            attempt = services.submit_attempt(user, attempt)
        return attempt

    def grade_by_hand(
        self, course: Course, attempt: Any, rng: random.Random, users: dict[str, Any]
    ) -> None:
        """An instructor of the course grades the essays of a submitted attempt."""
        grader = course.instructors.order_by("pk").first() or users[ADMIN[0]]
        pending = get_quiz_response_model()._default_manager.filter(
            attempt=attempt, is_correct__isnull=True
        )
        for response in pending.select_related("question").order_by("pk"):
            full = response.question.points
            points = 0 if response.response == "Not sure." else rng.choice([full, full / 2])
            services.grade_response(grader, response, points=points)


def answer(question: Question, right: bool, rng: random.Random) -> Any:
    """A learner's JSON answer to ``question``: right or wrong, as asked."""
    if question.kind == MC:
        if right:
            return question.correct_choice
        wrong = [i for i in range(len(question.choices)) if i != question.correct_choice]
        return rng.choice(wrong)
    if question.kind == SHORT:
        # Learners type in any case; short answers are matched case-insensitively.
        return question.accepted_answers[0].upper() if right else "no idea"
    # An essay: graded by an instructor later.
    return f"My answer to \u201c{question.prompt}\u201d, with an example." if right else "Not sure."


def summary(created: bool) -> dict[str, Any]:
    """What ``--json`` prints: the demo courses, the accounts and row counts."""
    courses = Course.objects.filter(slug__in=DEMO_SLUGS).prefetch_related("instructors")
    counts = {
        "enrollments": get_enrollment_model()._default_manager.count(),
        "task_progress": get_task_progress_model()._default_manager.count(),
        "quiz_attempts": get_quiz_attempt_model()._default_manager.count(),
        "quiz_responses": get_quiz_response_model()._default_manager.count(),
        "courses": Course.objects.count(),
        "lessons": Lesson.objects.count(),
        "questions": Question.objects.count(),
        "users": get_user_model()._default_manager.count(),
    }
    return {
        "created": created,
        "courses": [
            {
                "id": course.pk,
                "slug": course.slug,
                "title": course.title,
                "instructors": sorted(u.get_username() for u in course.instructors.all()),
            }
            for course in courses.order_by("pk")
        ],
        "admin": ADMIN[0],
        "instructors": [u[0] for u in INSTRUCTORS],
        "learners": [u[0] for u in LEARNERS],
        "counts": counts,
    }

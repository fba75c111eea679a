"""Django settings of the benchmark (``bench/run.py`` selects them).

The host content models are the test suite's host app (``tests.testapp``:
Course -> Module -> Lesson as the task, Quiz, Question with ``marks``) with
the same ``LEARNING_PROGRESS`` configuration as ``tests/settings.py``.

``run.py`` chooses the database through the environment before Django starts:
``LP_BENCH_DB`` is ``sqlite``, ``postgres`` or ``mariadb`` and ``LP_BENCH_NAME``
names the database (a file path for SQLite). The servers are reached with the
same variables as the test suite (``PGHOST``, ``PGUSER``, ``MYSQL_HOST``, ...).
``LP_BENCH_CONN_MAX_AGE`` keeps connections open between requests (seconds;
``bench/heartbeat.py`` sets it for its server, as a production host would).
"""

import os

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "bench.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

DB = os.environ.get("LP_BENCH_DB", "sqlite")
NAME = os.environ.get("LP_BENCH_NAME", "lp_bench.sqlite3")

if DB == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": NAME,
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
        }
    }
    # --pg-option NAME=VALUE: server settings for the benchmark's sessions (e.g. jit=off).
    PG_OPTIONS = os.environ.get("LP_BENCH_PG_OPTIONS", "")
    if PG_OPTIONS:
        DATABASES["default"]["OPTIONS"] = {"options": PG_OPTIONS}
elif DB == "mariadb":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": NAME,
            "USER": os.environ.get("MYSQL_USER", "root"),
            "PASSWORD": os.environ.get("MYSQL_PASSWORD", ""),
            "HOST": os.environ.get("MYSQL_HOST", "127.0.0.1"),
            "PORT": os.environ.get("MYSQL_PORT", "3306"),
            "OPTIONS": {"charset": "utf8mb4"},
        }
    }
elif DB == "sqlite":
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": NAME}}
else:
    raise RuntimeError(f"Unknown LP_BENCH_DB {DB!r}")
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("LP_BENCH_CONN_MAX_AGE", "0"))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "tests.testapp",
    "django_learning_progress",
    "rest_framework",
    "django_filters",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as the tests: cheap auth
REST_FRAMEWORK = {
    # DRF's defaults, spelled out: the load test's clients send HTTP Basic auth.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
}

AUTH_USER_MODEL = "testapp.User"
LEARNING_PROGRESS_COURSE_MODEL = "testapp.Course"
LEARNING_PROGRESS_TASK_MODEL = "testapp.Lesson"
LEARNING_PROGRESS_QUIZ_MODEL = "testapp.Quiz"
LEARNING_PROGRESS_QUESTION_MODEL = "testapp.Question"
LEARNING_PROGRESS = {
    "CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter",
    "INSTRUCTOR_CHECK": "tests.testapp.access.teaches",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_learning_progress": {"handlers": ["console"], "level": "WARNING"}},
}

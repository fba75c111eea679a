"""Settings for the test suite.

The database comes from the environment: ``DB_BACKEND`` is ``sqlite``
(default), ``postgres`` or ``mariadb``; ``DB_NAME`` names the test database
so that parallel tox environments never share one, and a hash of the
checkout's path (``tests/dbnames.py``) keeps two checkouts on one server apart:
``test_<DB_NAME>_<hash>``.
"""

import importlib.util
import os

from tests.dbnames import database_name

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"  # the app must not follow this
HAS_DRF = importlib.util.find_spec("rest_framework") is not None

DB_BACKEND = os.environ.get("DB_BACKEND", "sqlite")
TEST_DB_NAME = database_name(os.environ.get("DB_NAME", "learning_progress"), prefix="test_")

if DB_BACKEND == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "postgres",
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "TEST": {"NAME": TEST_DB_NAME},
        }
    }
elif DB_BACKEND == "mariadb":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": "test",
            "USER": os.environ.get("MYSQL_USER", "root"),
            "PASSWORD": os.environ.get("MYSQL_PASSWORD", ""),
            "HOST": os.environ.get("MYSQL_HOST", "127.0.0.1"),
            "PORT": os.environ.get("MYSQL_PORT", "3306"),
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {"NAME": TEST_DB_NAME, "CHARSET": "utf8mb4"},
        }
    }
elif DB_BACKEND == "sqlite":
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
else:
    raise RuntimeError(f"Unknown DB_BACKEND {DB_BACKEND!r}")

# A read replica alias mirroring the primary: tests/test_replicas.py routes reads to
# it with tests.routers.PrimaryReplicaRouter (no router is active otherwise).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tests.testapp",
    "django_learning_progress",
    "django_learning_progress.xapi",  # installed, off until LEARNING_PROGRESS["XAPI"] enables it
]
if HAS_DRF:
    INSTALLED_APPS += ["rest_framework", "django_filters"]
if importlib.util.find_spec("drf_spectacular") is not None:
    INSTALLED_APPS += ["drf_spectacular"]
    REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
    SPECTACULAR_SETTINGS = {
        # Three models have a `status` field with different choices: name their enums.
        "ENUM_NAME_OVERRIDES": {
            "EnrollmentStatusEnum": "django_learning_progress.choices.EnrollmentStatus",
            "TaskStatusEnum": "django_learning_progress.choices.TaskStatus",
            "AttemptStatusEnum": "django_learning_progress.choices.AttemptStatus",
        },
    }

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_USER_MODEL = "testapp.User"
LEARNING_PROGRESS_COURSE_MODEL = "testapp.Course"
LEARNING_PROGRESS_TASK_MODEL = "testapp.Lesson"
LEARNING_PROGRESS_QUIZ_MODEL = "testapp.Quiz"
LEARNING_PROGRESS_QUESTION_MODEL = "testapp.Question"
LEARNING_PROGRESS = {
    "CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter",
    "INSTRUCTOR_CHECK": "tests.testapp.access.teaches",
}

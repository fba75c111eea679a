"""Settings of the example LMS that hosts django-learning-progress.

Meant for a local demo: the secret key is public unless the environment says
otherwise, and DEBUG is off unless turned on (``demo.py`` turns it on, as it
serves on 127.0.0.1 only). Environment variables:

* ``LMS_DB_PATH``: the SQLite file (default ``example_project/db.sqlite3``);
* ``LMS_DEBUG``: ``1`` turns DEBUG on (never on a server others can reach);
* ``LMS_SECRET_KEY``: the secret key;
* ``LMS_REDIS_URL``: with live progress installed, the Redis server of the
  channel layer (``redis://127.0.0.1:6379/0``; needs ``channels-redis``); the
  in-memory channel layer otherwise, which works in one server process only;
* ``LMS_REDIS_PREFIX``: the prefix of the channel layer's Redis keys (``lms:``).

Live progress is on when Django Channels is installed
(``pip install "django-learning-progress[live]" daphne``): the LMS is then an
ASGI application (``lms/asgi.py``), which ``runserver`` serves with daphne.
"""

import importlib.util
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("LMS_SECRET_KEY", "demo-only-insecure-secret-key-do-not-deploy")
DEBUG = os.environ.get("LMS_DEBUG", "0") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

HAS_SPECTACULAR = importlib.util.find_spec("drf_spectacular") is not None
# Live progress (Django Channels): the course pages and the roster update without reloading.
LMS_LIVE = importlib.util.find_spec("channels") is not None
HAS_DAPHNE = importlib.util.find_spec("daphne") is not None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "accounts",
    "catalog",
    "django_learning_progress",
]
if HAS_SPECTACULAR:
    INSTALLED_APPS.append("drf_spectacular")
if LMS_LIVE:
    INSTALLED_APPS.append("django_learning_progress.live")
    if HAS_DAPHNE:
        INSTALLED_APPS.insert(0, "daphne")  # runserver serves the ASGI application

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lms.urls"
WSGI_APPLICATION = "lms.wsgi.application"
ASGI_APPLICATION = "lms.asgi.application"

LMS_REDIS_URL = os.environ.get("LMS_REDIS_URL")
if LMS_REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [LMS_REDIS_URL],
                "prefix": os.environ.get("LMS_REDIS_PREFIX", "lms:"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "catalog.views.live_progress",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("LMS_DB_PATH") or BASE_DIR / "db.sqlite3",
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Seconds between two heartbeats of an open lesson page (LMS_HEARTBEAT_SECONDS).
LMS_HEARTBEAT_SECONDS = int(os.environ.get("LMS_HEARTBEAT_SECONDS", "15"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- django-learning-progress -------------------------------------------------------

# The content models. Migrations read these, so they are flat settings.
LEARNING_PROGRESS_COURSE_MODEL = "catalog.Course"
LEARNING_PROGRESS_TASK_MODEL = "catalog.Lesson"
LEARNING_PROGRESS_QUIZ_MODEL = "catalog.Quiz"
LEARNING_PROGRESS_QUESTION_MODEL = "catalog.Question"

LEARNING_PROGRESS = {
    "CONTENT_ADAPTER": "catalog.progress.CatalogAdapter",
    "INSTRUCTOR_CHECK": "catalog.progress.teaches",
    "AUTO_ENROLL": False,
}

# -- Django REST framework ----------------------------------------------------------

REST_FRAMEWORK = {
    # Basic auth for scripts (curl -u alice:alice ...), session for the browsable
    # API. Basic first, so that a refused or missing login answers 401 with a
    # WWW-Authenticate challenge (with session first DRF answers 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
if HAS_SPECTACULAR:
    REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"
    SPECTACULAR_SETTINGS = {
        "TITLE": "Example LMS API",
        "DESCRIPTION": "Learner progress (django-learning-progress) of the example LMS.",
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
        # Three progress models have a `status` field with different choices.
        "ENUM_NAME_OVERRIDES": {
            "EnrollmentStatusEnum": "django_learning_progress.choices.EnrollmentStatus",
            "TaskStatusEnum": "django_learning_progress.choices.TaskStatus",
            "AttemptStatusEnum": "django_learning_progress.choices.AttemptStatus",
        },
    }

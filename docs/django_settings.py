"""Django settings used only to build the documentation.

``conf.py`` puts this directory and the repository root on ``sys.path`` and
calls ``django.setup()`` with these settings, so that autodoc can import the
models. They reuse the test suite's host app (``tests.testapp``) as the
content models; no database is ever opened.
"""

SECRET_KEY = "docs-only-not-secret"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "tests.testapp",
    "django_learning_progress",
    "django_learning_progress.xapi",  # the learning records page autodocs it
    "django_learning_progress.live",  # the live progress page autodocs it (the [live] extra)
    # The REST API pages autodoc django_learning_progress.api (the [drf] extra).
    "rest_framework",
    "django_filters",
]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Enough for `python -m django check --settings=django_settings` to pass too.
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
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

LEARNING_PROGRESS_COURSE_MODEL = "testapp.Course"
LEARNING_PROGRESS_TASK_MODEL = "testapp.Lesson"
LEARNING_PROGRESS_QUIZ_MODEL = "testapp.Quiz"
LEARNING_PROGRESS_QUESTION_MODEL = "testapp.Question"
LEARNING_PROGRESS = {"CONTENT_ADAPTER": "tests.testapp.adapter.TestAdapter"}

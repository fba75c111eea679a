"""Settings for serving the test project to schemathesis (``tox -e schema``).

The test settings, on a PostgreSQL database of its own: ``DB_NAME`` (tox sets
it to the environment's name) and the checkout's path name it, so the served
database never collides with another tox environment's test databases.
Anonymous requests are challenged with basic authentication (``401``).
"""

import os
import re

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS, REST_FRAMEWORK, SPECTACULAR_SETTINGS

try:
    from tests.dbnames import database_name
except ImportError:  # pragma: no cover - older checkouts

    def database_name(base: str, prefix: str = "") -> str:
        return prefix + re.sub(r"\W", "_", base)


SERVE_DB_NAME = database_name(os.environ.get("DB_NAME", "schema"), prefix="serve_")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": SERVE_DB_NAME,
        "USER": os.environ.get("PGUSER", "postgres"),
        "PASSWORD": os.environ.get("PGPASSWORD", ""),
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
    }
}
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}

ROOT_URLCONF = "tests.schema.urls"
ALLOWED_HOSTS = ["127.0.0.1"]
assert "drf_spectacular" in INSTALLED_APPS, "tox -e schema installs drf-spectacular"
# The schema view describes the API, not itself.
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS, "SERVE_INCLUDE_SCHEMA": False}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}

# Tracebacks of server errors go to the server's log (run.py's server.log).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}

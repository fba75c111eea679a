"""The test settings without Django REST framework (used where it is not installed)."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [
    app
    for app in INSTALLED_APPS
    if app not in ("rest_framework", "django_filters", "drf_spectacular")
]
REST_FRAMEWORK: dict = {}
ROOT_URLCONF = "tests.urls_nodrf"

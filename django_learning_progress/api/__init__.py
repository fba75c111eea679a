"""The optional REST API (Django REST framework).

Install it with ``pip install django-learning-progress[drf]`` and include
``django_learning_progress.api.urls`` in your URLconf.
"""

try:
    import django_filters  # noqa: F401
    import rest_framework  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by the nodrf test run
    raise ImportError(
        "django_learning_progress.api needs Django REST framework and django-filter: "
        "pip install 'django-learning-progress[drf]'"
    ) from exc

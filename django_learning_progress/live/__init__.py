"""Live progress: learners and instructors see progress change without reloading.

An optional Django app on top of `Django Channels <https://channels.readthedocs.io/>`_.
Install it with ``pip install "django-learning-progress[live]"``, add
``"django_learning_progress.live"`` to ``INSTALLED_APPS`` (after
``"django_learning_progress"``) and route
:class:`~django_learning_progress.live.consumers.ProgressConsumer` in the
host's ASGI application. After every committed change of progress, the
receivers connected by this app send the new figures to the channel layer
groups of the learner and of the course. The core never imports this package.
"""

try:
    import channels  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised where Channels is missing
    raise ImportError(
        "django_learning_progress.live needs Django Channels: "
        "pip install 'django-learning-progress[live]'"
    ) from exc

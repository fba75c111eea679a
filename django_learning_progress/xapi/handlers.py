"""The receiver that writes the outbox, connected only while ``ENABLED`` is on.

With the learning records off nothing listens to
:data:`~django_learning_progress.signals.state_changed`, so the services
skip it entirely (no query, no transaction added).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import Signal
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from django_learning_progress.signals import state_changed
from django_learning_progress.xapi.conf import xapi_settings
from django_learning_progress.xapi.models import XapiStatement
from django_learning_progress.xapi.statements import build_statements

DISPATCH_UID = "django_learning_progress.xapi.record"


def record(sender: Any, event: Signal, using: str, **kwargs: Any) -> None:
    """Write the statements of one event to the outbox, in the caller's transaction."""
    statements = build_statements(event, using, **kwargs)
    if not statements:
        return
    now = timezone.now()
    user = kwargs["user"]
    rows = [
        XapiStatement(
            id=statement["id"],
            statement=statement,
            verb=statement["verb"]["id"],
            user_id=user.pk,
            course_key=_course_key(kwargs),
            timestamp=_parse(statement["timestamp"]) or now,
            created_at=now,
            next_attempt_at=now,
        )
        for statement in statements
    ]
    objects = XapiStatement._default_manager.db_manager(using)
    if len(rows) == 1:
        rows[0].save(using=using, force_insert=True)
    else:
        objects.bulk_create(rows)


def _course_key(kwargs: dict[str, Any]) -> str:
    for name in ("enrollment", "progress", "attempt"):
        if name in kwargs:
            return str(kwargs[name].course_id)
    raise KeyError("course")  # pragma: no cover - every event names one of them


def _parse(value: str) -> datetime | None:
    return parse_datetime(value)


def connect() -> None:
    """Connect :func:`record` when ``ENABLED`` is on, disconnect it otherwise."""
    if xapi_settings.ENABLED:
        state_changed.connect(record, dispatch_uid=DISPATCH_UID)
    else:
        state_changed.disconnect(dispatch_uid=DISPATCH_UID)


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "LEARNING_PROGRESS":
        connect()


setting_changed.connect(_settings_changed, dispatch_uid="django_learning_progress.xapi.settings")

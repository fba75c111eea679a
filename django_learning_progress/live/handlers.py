"""The receivers that push progress to the channel layer, after the commit.

They listen to the after-commit signals of :mod:`django_learning_progress.signals`
(connected by :class:`~django_learning_progress.live.apps.LiveConfig`), so a
change that is rolled back sends nothing. Each change reads its figures once
and sends one message to the learner's group and one to the course's group,
whatever the number of connected clients. A failure (the channel layer is
down, a read fails) is logged on the ``django_learning_progress.live`` logger
and never reaches the code that made the change.

Not every signal sends a message: ``course_completed`` always follows an
``enrollment_status_changed`` that already sent the same figures, and
``time_recorded`` and ``questions_answered`` change none of the fields of a
message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.dispatch import Signal

from django_learning_progress import signals
from django_learning_progress.live.groups import course_group, user_group
from django_learning_progress.live.messages import attempt_message, course_progress_message

logger = logging.getLogger("django_learning_progress.live")

#: The ``type`` of the channel layer events, handled by ``ProgressConsumer.progress_message``.
EVENT_TYPE = "progress.message"

__all__ = [
    "EVENT_TYPE",
    "attempt_changed",
    "connect",
    "disconnect",
    "enrollment_changed",
    "publish",
    "task_changed",
]


def publish(message: dict[str, Any], groups: Iterable[str]) -> None:
    """Send ``message`` to the clients in ``groups`` through the default channel layer.

    Sync code only (the receivers run in the thread that committed). Does
    nothing when no channel layer is configured.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    for group in groups:
        send(group, {"type": EVENT_TYPE, "message": message})


def _send_progress(user: Any, course_id: Any) -> None:
    try:
        message = course_progress_message(user, course_id)
        publish(message, [user_group(user), course_group(course_id)])
    except Exception:
        logger.warning(
            "Could not send live progress of user %r in course %r.",
            getattr(user, "pk", user),
            course_id,
            exc_info=True,
        )


def enrollment_changed(sender: Any, enrollment: Any, user: Any, **kwargs: Any) -> None:
    """``enrollment_created`` and ``enrollment_status_changed``: the learner's figures."""
    _send_progress(user, enrollment.course_id)


def task_changed(sender: Any, progress: Any, user: Any, **kwargs: Any) -> None:
    """``task_started`` and ``task_completed``: the learner's figures in the task's course."""
    _send_progress(user, progress.course_id)


def attempt_changed(sender: Any, attempt: Any, user: Any, **kwargs: Any) -> None:
    """``quiz_attempt_started``, ``_submitted``, ``_graded`` and ``_abandoned``: the attempt."""
    try:
        publish(attempt_message(attempt), [user_group(user), course_group(attempt.course_id)])
    except Exception:
        logger.warning("Could not send live state of attempt %r.", attempt.pk, exc_info=True)


_RECEIVERS: list[tuple[Signal, Any]] = [
    (signals.enrollment_created, enrollment_changed),
    (signals.enrollment_status_changed, enrollment_changed),
    (signals.task_started, task_changed),
    (signals.task_completed, task_changed),
    (signals.quiz_attempt_started, attempt_changed),
    (signals.quiz_attempt_submitted, attempt_changed),
    (signals.quiz_attempt_graded, attempt_changed),
    (signals.quiz_attempt_abandoned, attempt_changed),
]


def _uid(signal: Signal) -> str:
    name = next(n for n in signals.__all__ if getattr(signals, n) is signal)
    return f"django_learning_progress.live.{name}"


def connect() -> None:
    """Connect the receivers (``LiveConfig.ready()`` does); connecting twice is harmless."""
    for signal, receiver in _RECEIVERS:
        signal.connect(receiver, dispatch_uid=_uid(signal), weak=False)


def disconnect() -> None:
    """Disconnect the receivers, e.g. in a test that wants no live messages."""
    for signal, _receiver in _RECEIVERS:
        signal.disconnect(dispatch_uid=_uid(signal))

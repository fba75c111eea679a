"""The WebSocket consumer that hosts route (see :doc:`/live`)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError

from django_learning_progress.access import is_instructor
from django_learning_progress.content import get_content_adapter
from django_learning_progress.live.groups import course_group, user_group
from django_learning_progress.live.messages import json_id

#: The close code of a connection without an authenticated user.
CLOSE_UNAUTHENTICATED = 4401

__all__ = ["CLOSE_UNAUTHENTICATED", "ProgressConsumer"]


def _is_key(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _followable(user: Any, course_id: Any) -> Any:
    """The course's primary key when ``user`` may follow it, else ``None``."""
    if not _is_key(course_id):
        return None
    model: Any = get_content_adapter().course_model
    try:
        course = model._default_manager.filter(pk=course_id).first()
    except (ValueError, TypeError, ArithmeticError, ValidationError):  # not a valid key
        return None
    if course is None or not is_instructor(user, course):
        return None
    return course.pk


class ProgressConsumer(AsyncJsonWebsocketConsumer):
    """Pushes progress messages to one WebSocket client.

    Route it inside ``AuthMiddlewareStack``::

        path("ws/progress/", ProgressConsumer.as_asgi())

    An anonymous connection is accepted and closed at once with code
    ``4401``. An authenticated user receives the messages of their own
    progress, subscribed before the connection is accepted. Messages from the
    client:

    * ``{"action": "follow_course", "course": ID}``: receive every learner's
      messages of that course; allowed for the course's instructors
      (:func:`~django_learning_progress.access.is_instructor`) and staff.
      Answered, once subscribed, with ``{"type": "following", "course": ID}``, or with
      ``{"type": "error", "action": "follow_course", "course": ID, "error": "forbidden"}``
      (also for a course that does not exist).
    * ``{"action": "unfollow_course", "course": ID}`` (the ``ID`` of the
      ``following`` answer): stop; answered with ``{"type": "unfollowed", "course": ID}``.
    """

    async def connect(self) -> None:
        self.joined: set[str] = set()
        self.following: set[str] = set()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()  # then close: a refused handshake would hide the code
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # Subscribed before the client learns that it is connected: what it reads
        # once the socket is open is never older than the messages that follow.
        await self._join(user_group(user))
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        course = content.get("course") if isinstance(content, dict) else None
        if action == "follow_course":
            await self._follow(course)
        elif action == "unfollow_course":
            group = course_group(course) if _is_key(course) else None
            if group in self.following:
                self.following.discard(group)
                self.joined.discard(group)
                await self.channel_layer.group_discard(group, self.channel_name)
            await self.send_json({"type": "unfollowed", "course": course})
        else:
            await self.send_json({"type": "error", "action": action, "error": "unknown_action"})

    async def _follow(self, course: Any) -> None:
        course_pk = await database_sync_to_async(_followable)(self.scope["user"], course)
        if course_pk is None:
            await self.send_json(
                {"type": "error", "action": "follow_course", "course": course, "error": "forbidden"}
            )
            return
        group = course_group(course_pk)
        self.following.add(group)
        await self._join(group)
        await self.send_json({"type": "following", "course": json_id(course_pk)})

    async def _join(self, group: str) -> None:
        self.joined.add(group)
        await self.channel_layer.group_add(group, self.channel_name)

    async def progress_message(self, event: dict[str, Any]) -> None:
        """A channel layer event of :data:`~django_learning_progress.live.handlers.EVENT_TYPE`."""
        await self.send_json(event["message"])

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

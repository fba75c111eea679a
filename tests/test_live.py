"""Live progress: the WebSocket consumer and the after-commit push (Django Channels).

Runs with ``tests.settings_live`` (``tox -e live`` on the in-memory channel
layer, ``tox -e live-redis`` on Redis); elsewhere it is skipped unless
REQUIRE_LIVE=1, which turns a missing Channels into a failure.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

if os.environ.get("REQUIRE_LIVE") != "1":
    pytest.importorskip("channels", reason="live progress runs in tox -e live")
    if "django_learning_progress.live" not in settings.INSTALLED_APPS:
        pytest.skip("needs tests.settings_live (tox -e live)", allow_module_level=True)

import pytest_asyncio
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from django_learning_progress import helpers, services
from django_learning_progress.live import handlers
from django_learning_progress.live.consumers import ProgressConsumer
from django_learning_progress.live.groups import course_group, user_group
from django_learning_progress.live.routing import websocket_urlpatterns
from tests.conftest import CourseTree, build_course

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

sync = database_sync_to_async


@pytest_asyncio.fixture(autouse=True)
async def empty_layer() -> AsyncIterator[None]:
    layer: Any = get_channel_layer()
    await layer.flush()
    yield
    await layer.flush()


@pytest.fixture
def course(db: None) -> CourseTree:
    return build_course("Live course", pass_mark=Decimal("50"))


Connect = Callable[..., Any]


@pytest_asyncio.fixture
async def connect() -> AsyncIterator[Connect]:
    """``await connect(user)``: a connected communicator with ``user`` in its scope."""
    opened: list[WebsocketCommunicator] = []

    async def open_one(user: Any) -> WebsocketCommunicator:
        communicator = WebsocketCommunicator(ProgressConsumer.as_asgi(), "/ws/progress/")
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        assert connected
        opened.append(communicator)
        return communicator

    yield open_one
    for communicator in opened:
        await communicator.disconnect()


async def follow(communicator: WebsocketCommunicator, course_id: Any) -> dict[str, Any]:
    await communicator.send_json_to({"action": "follow_course", "course": course_id})
    return await communicator.receive_json_from()


async def drain(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Every message that arrives until none has for a while."""
    received = [await communicator.receive_json_from()]
    while not await communicator.receive_nothing(timeout=0.3):
        received.append(await communicator.receive_json_from())
    return received


def progress_of(user: Any, course: Any) -> dict[str, Any]:
    figures = helpers.course_figures(
        user, course, "percentage", "tasks_completed", "tasks_total", "status"
    )
    return {
        "type": "course_progress",
        "course": course.pk,
        "user": user.pk,
        "percentage": helpers.round_percentage(figures["percentage"]),
        "tasks_completed": figures["tasks_completed"],
        "tasks_total": figures["tasks_total"],
        "status": figures["status"],
    }


# -- authentication ----------------------------------------------------------------


async def test_an_anonymous_connection_is_closed_with_4401() -> None:
    application = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
    communicator = WebsocketCommunicator(application, "/ws/progress/")
    connected, _ = await communicator.connect()
    assert connected  # accepted, so that the browser sees the close code
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_the_session_user_receives_their_progress(course: CourseTree, make_user: Any) -> None:
    learner = await sync(make_user)(username="sam", password="pw-sam-1")
    await sync(services.enroll)(learner, course.course)
    client = Client()
    assert await sync(client.login)(username="sam", password="pw-sam-1")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    application = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
    communicator = WebsocketCommunicator(
        application, "/ws/progress/", headers=[(b"cookie", cookie.encode())]
    )
    connected, _ = await communicator.connect()
    assert connected
    await sync(services.complete_task)(learner, course.lessons[0])
    message = await communicator.receive_json_from()
    assert message == await sync(progress_of)(learner, course.course)
    assert message["tasks_completed"] == 1 and message["tasks_total"] == 4
    assert message["percentage"] == 25.0 and message["status"] == "active"
    await communicator.disconnect()


# -- the learner's own messages --------------------------------------------------------


async def test_a_learner_receives_only_their_own(
    course: CourseTree, make_user: Any, connect: Connect
) -> None:
    alice = await sync(make_user)(username="alice")
    bob = await sync(make_user)(username="bob")
    for user in (alice, bob):
        await sync(services.enroll)(user, course.course)
    alice_ws, bob_ws = await connect(alice), await connect(bob)

    await sync(services.complete_task)(bob, course.lessons[0])
    # task_started and task_completed: two snapshots of the committed state.
    for _signal in range(2):
        bobs = await bob_ws.receive_json_from()
        assert bobs["user"] == bob.pk and bobs["tasks_completed"] == 1
    # Alice's next message is her own change: Bob's never reached her.
    await sync(services.start_task)(alice, course.lessons[1])
    alices = await alice_ws.receive_json_from()
    assert alices == {
        "type": "course_progress",
        "course": course.course.pk,
        "user": alice.pk,
        "percentage": 0.0,
        "tasks_completed": 0,
        "tasks_total": 4,
        "status": "active",
    }
    assert await alice_ws.receive_nothing()
    assert await bob_ws.receive_nothing()


async def test_a_rolled_back_change_sends_nothing(
    course: CourseTree, learner: Any, connect: Connect
) -> None:
    await sync(services.enroll)(learner, course.course)
    ws = await connect(learner)

    def rolled_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.complete_task(learner, course.lessons[0])
            services.complete_task(learner, course.lessons[1])
            raise RuntimeError("undo")

    await sync(rolled_back)()
    await sync(services.complete_task)(learner, course.lessons[2])
    # Only the committed change's messages (task_started, task_completed): one task done.
    received = await drain(ws)
    assert [m["tasks_completed"] for m in received] == [1, 1]


async def test_completing_a_course_sends_its_status(
    course: CourseTree, learner: Any, connect: Connect
) -> None:
    await sync(services.enroll)(learner, course.course)
    for lesson in course.lessons[:3]:
        await sync(services.complete_task)(learner, lesson)
    await sync(services.start_task)(learner, course.lessons[3])
    ws = await connect(learner)
    await sync(services.complete_task)(learner, course.lessons[3])
    messages = [await ws.receive_json_from(), await ws.receive_json_from()]
    # task_completed, then enrollment_status_changed: the same snapshot of the final state.
    for message in messages:
        assert message["percentage"] == 100.0 and message["status"] == "completed"
    assert await ws.receive_nothing()


async def test_attempt_messages(course: CourseTree, learner: Any, connect: Connect) -> None:
    await sync(services.enroll)(learner, course.course)
    ws = await connect(learner)
    quiz = course.quizzes[0]
    attempt = await sync(services.start_attempt)(learner, quiz)
    assert await ws.receive_json_from() == {
        "type": "attempt",
        "quiz": quiz.pk,
        "attempt": attempt.pk,
        "status": "in_progress",
        "score": None,
        "passed": None,
    }
    for question in course.questions:
        await sync(services.answer_question)(learner, attempt, question, question.answer)
    await sync(services.submit_attempt)(learner, attempt)
    submitted, graded = await ws.receive_json_from(), await ws.receive_json_from()
    assert submitted["type"] == graded["type"] == "attempt"
    assert graded["attempt"] == attempt.pk and graded["status"] == "completed"
    assert graded["passed"] is True
    await sync(attempt.refresh_from_db)()
    assert graded["score"] == str(attempt.score.quantize(Decimal("0.001")))


async def test_heartbeats_and_answers_send_nothing(
    course: CourseTree, learner: Any, connect: Connect
) -> None:
    await sync(services.enroll)(learner, course.course)
    await sync(services.start_task)(learner, course.lessons[0])
    attempt = await sync(services.start_attempt)(learner, course.quizzes[0])
    ws = await connect(learner)
    await sync(services.add_time_spent)(learner, course.lessons[0], 30)
    question = course.questions[0]
    await sync(services.answer_question)(learner, attempt, question, question.answer)
    assert await ws.receive_nothing(timeout=0.5)


# -- following a course ----------------------------------------------------------------


async def test_an_instructor_follows_their_course(
    course: CourseTree, make_user: Any, connect: Connect
) -> None:
    teacher = await sync(make_user)(username="teacher")
    learner = await sync(make_user)(username="lena")
    await sync(course.course.instructors.add)(teacher)
    await sync(services.enroll)(learner, course.course)
    ws = await connect(teacher)
    assert await follow(ws, course.course.pk) == {"type": "following", "course": course.course.pk}

    await sync(services.complete_task)(learner, course.lessons[0])
    expected = await sync(progress_of)(learner, course.course)
    assert await drain(ws) == [expected, expected]  # task_started, task_completed
    attempt = await sync(services.start_attempt)(learner, course.quizzes[0])
    assert (await ws.receive_json_from())["attempt"] == attempt.pk

    await ws.send_json_to({"action": "unfollow_course", "course": course.course.pk})
    assert await ws.receive_json_from() == {"type": "unfollowed", "course": course.course.pk}
    await sync(services.complete_task)(learner, course.lessons[1])
    assert await ws.receive_nothing(timeout=0.5)


async def test_staff_may_follow_any_course(
    course: CourseTree, make_user: Any, connect: Connect
) -> None:
    staff = await sync(make_user)(username="staff", is_staff=True)
    ws = await connect(staff)
    assert (await follow(ws, str(course.course.pk)))["type"] == "following"


async def test_a_learner_cannot_follow_a_course(
    course: CourseTree, make_user: Any, connect: Connect
) -> None:
    other = await sync(make_user)(username="other")
    nosy = await sync(make_user)(username="nosy")
    for user in (other, nosy):
        await sync(services.enroll)(user, course.course)
    ws = await connect(nosy)
    for course_id in (course.course.pk, 999999, "not-a-key", None, [1]):
        answer = await follow(ws, course_id)
        assert answer == {
            "type": "error",
            "action": "follow_course",
            "course": course_id,
            "error": "forbidden",
        }
    await sync(services.complete_task)(other, course.lessons[0])
    await sync(services.start_attempt)(other, course.quizzes[0])
    await sync(services.complete_task)(nosy, course.lessons[0])
    # Nosy's only messages are nosy's own.
    assert {m["user"] for m in await drain(ws)} == {nosy.pk}


async def test_unknown_and_malformed_messages_get_an_error(learner: Any, connect: Connect) -> None:
    ws = await connect(learner)
    await ws.send_json_to({"action": "shout"})
    assert await ws.receive_json_from() == {
        "type": "error",
        "action": "shout",
        "error": "unknown_action",
    }
    await ws.send_to(text_data="not json")
    assert (await ws.receive_json_from())["error"] == "unknown_action"


# -- cost and failure --------------------------------------------------------------------


async def test_figures_are_read_once_per_change_not_per_subscriber(
    course: CourseTree, make_user: Any, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    learner = await sync(make_user)(username="lou")
    staff = [await sync(make_user)(username=f"staff{n}", is_staff=True) for n in range(3)]
    await sync(services.enroll)(learner, course.course)
    reads: list[Any] = []
    real = handlers.course_progress_message

    def counting(*args: Any) -> Any:
        reads.append(args)
        return real(*args)

    monkeypatch.setattr(handlers, "course_progress_message", counting)
    await sync(services.start_task)(learner, course.lessons[0])
    assert len(reads) == 1  # nobody listens: the same one read

    sockets = [await connect(learner)]
    for user in staff:
        sockets.append(await connect(user))
        assert (await follow(sockets[-1], course.course.pk))["type"] == "following"
    reads.clear()
    await sync(services.complete_task)(learner, course.lessons[0])
    received = [await ws.receive_json_from() for ws in sockets]
    assert len(reads) == 1  # one task_completed, four subscribers, one read
    assert all(message == received[0] for message in received)
    assert received[0]["tasks_completed"] == 1


async def test_a_channel_layer_that_fails_never_breaks_the_change(
    course: CourseTree,
    learner: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Down:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            raise ConnectionError("the channel layer is down")

    monkeypatch.setattr(handlers, "get_channel_layer", lambda: Down())
    await sync(services.enroll)(learner, course.course)
    with caplog.at_level(logging.WARNING, logger="django_learning_progress.live"):
        progress = await sync(services.complete_task)(learner, course.lessons[0])
        await sync(services.start_attempt)(learner, course.quizzes[0])
    assert progress.status == "completed"
    assert "Could not send live progress" in caplog.text
    assert "Could not send live state of attempt" in caplog.text


async def test_a_redis_server_that_is_down_never_breaks_the_change(
    course: CourseTree, learner: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("channels_redis", reason="channels-redis is installed in tox -e live-redis")
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens there
        }
    }
    channel_layers.backends.clear()
    try:
        await sync(services.enroll)(learner, course.course)
        with caplog.at_level(logging.WARNING, logger="django_learning_progress.live"):
            progress = await sync(services.complete_task)(learner, course.lessons[0])
        assert progress.status == "completed"
        assert "Could not send live progress" in caplog.text
    finally:
        channel_layers.backends.clear()


# -- group names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", [1, 10**18, uuid.uuid4(), "a b/c", "é" * 10, "x" * 500, "k.1", "h." + "0" * 64]
)
async def test_group_names_are_valid_for_channels(key: Any) -> None:
    layer: Any = get_channel_layer()
    for name in (user_group(key), course_group(key)):
        assert len(name) < 100 and name.isascii()
        assert layer.require_valid_group_name(name)
    assert user_group(key) != course_group(key)


async def test_group_names_never_collide() -> None:
    keys = [1, "1", "k.1", "a b", "a_b", "x" * 64, "x" * 65, uuid.UUID(int=1)]
    names = {user_group(key) for key in keys}
    assert len(names) == len(keys) - 1  # 1 and "1" are the same primary key


async def test_the_configured_channel_layer_is_used() -> None:
    layer = get_channel_layer()
    expected = "RedisChannelLayer" if os.environ.get("LIVE_REDIS_URL") else "InMemoryChannelLayer"
    assert type(layer).__name__ == expected

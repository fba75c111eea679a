"""Delivery of the outbox: send_xapi_statements, purge_xapi_statements and the admin."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from django_learning_progress import services
from django_learning_progress.xapi.models import XapiStatement
from tests.conftest import CourseTree
from tests.xapi_support import FakeLrs, fake_lrs, learning_progress

pytestmark = pytest.mark.django_db


@pytest.fixture
def lrs() -> Iterator[FakeLrs]:
    with fake_lrs() as server:
        options = learning_progress(
            ENDPOINT=server.url, USERNAME="lms", PASSWORD="secret", BATCH_SIZE=3
        )
        with override_settings(LEARNING_PROGRESS=options):
            yield server


def journey(learner: Any, tree: CourseTree) -> int:
    """Record some events; return how many statements they made."""
    services.enroll(learner, tree.course)
    for lesson in tree.lessons[:3]:
        services.start_task(learner, lesson)
        services.add_time_spent(learner, lesson, 10)
    return XapiStatement.objects.count()


def send(*args: str) -> str:
    out = StringIO()
    call_command("send_xapi_statements", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_sends_every_statement_once_in_batches(
    lrs: FakeLrs, learner: Any, course_tree: CourseTree
) -> None:
    total = journey(learner, course_tree)
    assert total == 7
    output = send()
    assert f"{total}/{total}" in output and f"Sent {total} statement(s), 0 failed." in output
    assert sorted(lrs.received_ids) == sorted(
        str(pk) for pk in XapiStatement.objects.values_list("pk", flat=True)
    )
    assert [len(body) for _h, body in lrs.requests] == [3, 3, 1]
    headers = lrs.requests[0][0]
    assert headers["x-experience-api-version"] == "1.0.3"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"lms:secret").decode()
    assert not XapiStatement.objects.pending().exists()
    send()  # nothing left to send
    assert len(lrs.received_ids) == total


def test_an_authorization_header_replaces_basic_auth(learner: Any, course_tree: CourseTree) -> None:
    with fake_lrs() as server:
        options = learning_progress(ENDPOINT=server.url, AUTHORIZATION="Bearer t0k3n")
        with override_settings(LEARNING_PROGRESS=options):
            services.enroll(learner, course_tree.course)
            send()
    assert server.requests[0][0]["authorization"] == "Bearer t0k3n"


def test_409_counts_as_delivered(lrs: FakeLrs, learner: Any, course_tree: CourseTree) -> None:
    services.enroll(learner, course_tree.course)
    lrs.statuses = [409]
    send()
    row = XapiStatement.objects.get()
    assert row.sent_at is not None and row.attempts == 0


def test_a_refused_batch_is_retried_one_by_one(
    lrs: FakeLrs, learner: Any, course_tree: CourseTree
) -> None:
    journey(learner, course_tree)
    # The first batch is refused; of its statements sent alone, the second is refused again.
    lrs.statuses = [400, 200, 400, 200]
    with pytest.raises(CommandError, match="1 statement"):
        send()
    failed = XapiStatement.objects.failed().get()
    assert failed.attempts == 1 and failed.last_error.startswith("HTTP 400")
    assert failed.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert XapiStatement.objects.filter(sent_at__isnull=False).count() == 6
    assert len(lrs.received_ids) == len(set(lrs.received_ids)) == 6


def test_an_unreachable_lrs_is_retried_with_backoff(learner: Any, course_tree: CourseTree) -> None:
    with fake_lrs() as server:
        url = server.url
    # The server is gone: the port refuses connections.
    options = learning_progress(ENDPOINT=url, RETRY_DELAY=60, BATCH_SIZE=2)
    with override_settings(LEARNING_PROGRESS=options):
        total = journey(learner, course_tree)
        with pytest.raises(CommandError, match="unreachable"):
            send()
        rows = list(XapiStatement.objects.all())
        assert {row.attempts for row in rows} == {1}  # each tried once in the pass
        first = rows[0].next_attempt_at
        send()  # not due yet: nothing tried, nothing failed
        assert {row.attempts for row in XapiStatement.objects.all()} == {1}
        with pytest.raises(CommandError):
            send("--retry-now")
        row = XapiStatement.objects.get(pk=rows[0].pk)
        assert row.attempts == 2
        assert row.next_attempt_at - timezone.now() > timedelta(seconds=100)  # doubled
        assert row.next_attempt_at > first
    with (
        fake_lrs() as server,
        override_settings(LEARNING_PROGRESS=learning_progress(ENDPOINT=server.url)),
    ):
        send("--retry-now")
        assert len(server.received_ids) == total
    assert not XapiStatement.objects.pending().exists()
    assert set(XapiStatement.objects.values_list("last_error", flat=True)) == {""}


def test_without_an_endpoint_nothing_is_lost(learner: Any, course_tree: CourseTree) -> None:
    with override_settings(LEARNING_PROGRESS=learning_progress()):
        services.enroll(learner, course_tree.course)
        with pytest.raises(CommandError, match="ENDPOINT"):
            send()
    assert XapiStatement.objects.pending().count() == 1


def test_purge_deletes_only_sent_statements(
    lrs: FakeLrs, learner: Any, course_tree: CourseTree
) -> None:
    journey(learner, course_tree)
    send()
    services.drop_enrollment(services.enroll(learner, course_tree.course))  # pending
    old = timezone.now() - timedelta(days=40)
    XapiStatement.objects.filter(sent_at__isnull=False).update(sent_at=old)
    cutoff = (timezone.now() - timedelta(days=30)).date().isoformat()
    out = StringIO()
    call_command("purge_xapi_statements", "--sent-before", cutoff, "--dry-run", stdout=out)
    assert out.getvalue().startswith("7 statement(s)")
    assert XapiStatement.objects.count() == 8
    call_command("purge_xapi_statements", "--sent-before", cutoff, stdout=StringIO())
    assert list(XapiStatement.objects.values_list("sent_at", flat=True)) == [None]
    with pytest.raises(CommandError, match="not an ISO 8601"):
        call_command("purge_xapi_statements", "--sent-before", "last week")


def test_admin_shows_the_queue(
    lrs: FakeLrs, learner: Any, course_tree: CourseTree, admin_client: Any
) -> None:
    journey(learner, course_tree)
    lrs.statuses = [500]
    with pytest.raises(CommandError):
        send("--limit", "3")
    response = admin_client.get("/admin/learning_progress_xapi/xapistatement/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "7 statements pending" in page
    assert "3 failed at least once" in page
    assert "HTTP 500" in page
    row = XapiStatement.objects.first()
    assert (
        admin_client.get(
            f"/admin/learning_progress_xapi/xapistatement/{row.pk}/change/"
        ).status_code
        == 200
    )
    failed = admin_client.get("/admin/learning_progress_xapi/xapistatement/?delivery=failed")
    assert failed.status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_senders_never_send_a_statement_twice(
    learner: Any, course_tree: CourseTree
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency: PostgreSQL")
    from django.db import connections

    with fake_lrs() as server:
        options = learning_progress(ENDPOINT=server.url, BATCH_SIZE=2)
        with override_settings(LEARNING_PROGRESS=options):
            services.enroll(learner, course_tree.course)
            for lesson in course_tree.lessons:
                services.start_task(learner, lesson)
                for _n in range(5):
                    services.add_time_spent(learner, lesson, 1)
            total = XapiStatement.objects.count()
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def sender() -> None:
                try:
                    barrier.wait()
                    send("--no-progress")
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=sender) for _n in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert errors == []
    assert len(server.received_ids) == len(set(server.received_ids)) == total == 25
    assert not XapiStatement.objects.pending().exists()

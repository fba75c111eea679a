"""Delivery of the outbox to a Learning Record Store (what ``send_xapi_statements`` runs)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from django_learning_progress.xapi.conf import xapi_settings
from django_learning_progress.xapi.models import XapiStatement

__all__ = ["DeliveryResult", "LrsError", "post_statements", "send_pending"]

#: The xAPI version header every request carries.
XAPI_VERSION = "1.0.3"


class LrsError(Exception):
    """The LRS refused a request (``status`` set) or could not be reached (``status`` None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class DeliveryResult:
    """What one pass of :func:`send_pending` did."""

    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _headers() -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-Experience-API-Version": XAPI_VERSION,
    }
    if xapi_settings.AUTHORIZATION:
        headers["Authorization"] = xapi_settings.AUTHORIZATION
    elif xapi_settings.USERNAME is not None:
        token = f"{xapi_settings.USERNAME}:{xapi_settings.PASSWORD or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
    return headers


def post_statements(statements: list[dict[str, Any]]) -> int:
    """POST ``statements`` to ``ENDPOINT/statements``; return the HTTP status (200, 204 or 409).

    Raises :class:`LrsError` for any other answer, or when the LRS is unreachable.
    """
    if not xapi_settings.ENDPOINT:
        raise LrsError('LEARNING_PROGRESS["XAPI"]["ENDPOINT"] is not set.')
    request = urllib.request.Request(
        xapi_settings.ENDPOINT + "/statements",
        data=json.dumps(statements).encode(),
        headers=_headers(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=xapi_settings.TIMEOUT) as answer:
            status = int(answer.status)
    except urllib.error.HTTPError as exc:
        if exc.code == 409:  # already stored: delivered
            return 409
        body = exc.read(500).decode("utf-8", "replace")
        raise LrsError(f"HTTP {exc.code}: {body}", exc.code) from None
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
        raise LrsError(f"LRS unreachable: {exc}") from None
    if status not in (200, 204):
        raise LrsError(f"HTTP {status}", status)
    return status


def _retry_at(attempts: int, now: datetime) -> datetime:
    delay = min(
        xapi_settings.RETRY_DELAY * 2 ** min(attempts - 1, 30), xapi_settings.MAX_RETRY_DELAY
    )
    return now + timedelta(seconds=delay)


def send_pending(
    *,
    limit: int | None = None,
    retry_now: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> DeliveryResult:
    """Send the due statements once each, in batches of ``BATCH_SIZE``.

    Each batch is locked (``SELECT ... FOR UPDATE SKIP LOCKED`` where the
    database has it), posted, and marked in the same transaction, so several
    processes share the queue without sending a statement twice. A batch the
    LRS refuses with a 4xx status is tried again one statement at a time, so
    that one bad statement never holds back the others. A failed statement gets
    ``attempts + 1``, ``last_error`` and a later ``next_attempt_at``
    (``RETRY_DELAY`` doubled on each failure, at most ``MAX_RETRY_DELAY``);
    ``retry_now`` sends those waiting too. ``progress(done, total)`` is called
    after each batch.
    """
    db = router.db_for_write(XapiStatement)
    objects = XapiStatement._default_manager.db_manager(db)
    start = timezone.now()
    if retry_now:
        objects.pending().filter(next_attempt_at__gt=start).update(next_attempt_at=start)
    # A statement leaves this queryset once tried: sent, or retried after `start`.
    due = objects.due(start).filter(created_at__lte=start)
    total = due.count()
    if limit is not None:
        total = min(total, limit)
    result = DeliveryResult()
    skip_locked = connections[db].features.has_select_for_update_skip_locked
    done = 0
    while done < total:
        size = min(xapi_settings.BATCH_SIZE, total - done)
        with transaction.atomic(using=db):
            locked = due.select_for_update(skip_locked=skip_locked)
            rows = list(locked[:size])
            if not rows:  # the rest are locked by another sender
                break
            _deliver(rows, result, db)
        done += len(rows)
        if progress is not None:
            progress(done, total)
    return result


def _deliver(rows: list[XapiStatement], result: DeliveryResult, db: str) -> None:
    try:
        post_statements([row.statement for row in rows])
    except LrsError as exc:
        if len(rows) > 1 and exc.status is not None and 400 <= exc.status < 500:
            # The LRS refused the batch (a 4xx): one by one, so that one statement
            # it refuses never holds the others back.
            for row in rows:
                _deliver([row], result, db)
            return
        _failed(rows, str(exc), result, db)
        return
    now = timezone.now()
    XapiStatement._default_manager.db_manager(db).filter(pk__in=[r.pk for r in rows]).update(
        sent_at=now, last_error=""
    )
    result.sent += len(rows)


def _failed(rows: list[XapiStatement], error: str, result: DeliveryResult, db: str) -> None:
    now = timezone.now()
    for row in rows:
        row.attempts += 1
        row.last_error = error[:2000]
        row.next_attempt_at = _retry_at(row.attempts, now)
    XapiStatement._default_manager.db_manager(db).bulk_update(
        rows, ["attempts", "last_error", "next_attempt_at"]
    )
    result.failed += len(rows)
    if error not in result.errors:
        result.errors.append(error)

"""A stand-in LRS for the delivery tests, and ralph's validation of statements."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

XAPI_SETTINGS: dict[str, Any] = {
    "ENABLED": True,
    "BASE_IRI": "https://lms.example.com/xapi",
    "PLATFORM": "Example LMS",
}


def learning_progress(**xapi: Any) -> dict[str, Any]:
    """``LEARNING_PROGRESS`` of tests/settings.py with ``XAPI`` options."""
    from django.conf import settings

    return {**settings.LEARNING_PROGRESS, "XAPI": {**XAPI_SETTINGS, **xapi}}


def validate(statement: dict[str, Any]) -> None:
    """Raise unless ralph's xAPI model accepts ``statement``."""
    from ralph.models.xapi.base.statements import BaseXapiStatement

    BaseXapiStatement.model_validate(statement)


class FakeLrs:
    """Answers POST /statements with the next of ``statuses`` (then 200).

    Records the (lower-cased) headers and body of every request it accepts.
    """

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[tuple[dict[str, str], list[dict[str, Any]]]] = []
        self.lock = threading.Lock()
        self.url = ""

    @property
    def received_ids(self) -> list[str]:
        return [s["id"] for _h, body in self.requests for s in body]


@contextmanager
def fake_lrs() -> Iterator[FakeLrs]:
    lrs = FakeLrs()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lrs.lock:
                status = lrs.statuses.pop(0) if lrs.statuses else 200
                if status in (200, 204):
                    lrs.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status)
            payload = json.dumps([s["id"] for s in body]).encode() if status == 200 else b""
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    lrs.url = f"http://127.0.0.1:{server.server_address[1]}/xapi"
    try:
        yield lrs
    finally:
        server.shutdown()
        server.server_close()

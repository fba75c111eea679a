"""Send the pending xAPI statements to the LRS: ``manage.py send_xapi_statements``."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_learning_progress.xapi.delivery import send_pending


class Command(BaseCommand):
    help = (
        "POST the pending xAPI statements to LEARNING_PROGRESS['XAPI']['ENDPOINT'] in batches. "
        "Exits with status 1 when the LRS refused statements or could not be reached."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop", action="store_true", help="Run pass after pass until interrupted."
        )
        parser.add_argument(
            "--sleep",
            type=float,
            default=10.0,
            help="Seconds between two passes with --loop (default 10).",
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="Send at most this many statements per pass."
        )
        parser.add_argument(
            "--retry-now",
            action="store_true",
            help="Also send the failed statements still waiting for their next try.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show the progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        show = not options["no_progress"] and options["verbosity"] > 0
        while True:
            result = send_pending(
                limit=options["limit"],
                retry_now=options["retry_now"],
                progress=self._bar if show else None,
            )
            if show and (result.sent or result.failed):
                self.stdout.write("")
            if options["verbosity"] > 0:
                self.stdout.write(f"Sent {result.sent} statement(s), {result.failed} failed.")
            if not options["loop"]:
                break
            for error in result.errors:
                self.stderr.write(error)
            time.sleep(options["sleep"])
        if result.failed:
            raise CommandError(
                f"{result.failed} statement(s) not delivered: " + "; ".join(result.errors[:3])
            )

    def _bar(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        end = "" if sys.stdout.isatty() else "\n"
        self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending=end)
        self.stdout.flush()

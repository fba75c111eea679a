"""Delete delivered statements: ``manage.py purge_xapi_statements --sent-before DATE``."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from django_learning_progress.xapi.models import XapiStatement


def _moment(value: str) -> datetime.datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        moment = datetime.datetime.combine(day, datetime.time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = (
        "Delete the xAPI statements delivered before a date (pending statements are never deleted)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sent-before",
            required=True,
            help="An ISO 8601 date or date-time (the current time zone when it names none).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the statements without deleting them."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            before = _moment(options["sent_before"])
        except ValueError:
            raise CommandError(
                f"--sent-before: {options['sent_before']!r} is not an ISO 8601 date or date-time."
            ) from None
        db = router.db_for_write(XapiStatement)
        sent = XapiStatement._default_manager.db_manager(db).filter(sent_at__lt=before)
        if options["dry_run"]:
            count = sent.count()
            self.stdout.write(
                f"{count} statement(s) sent before {before.isoformat()} would be deleted."
            )
            return
        count, _by_model = sent.delete()
        self.stdout.write(f"Deleted {count} statement(s) sent before {before.isoformat()}.")

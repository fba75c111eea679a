from typing import Any

from django.core.management.base import BaseCommand

from django_learning_progress.services import close_overdue_attempts


class Command(BaseCommand):
    help = (
        "Close every quiz attempt past its deadline (plus the grace period) by "
        'LEARNING_PROGRESS["OVERDUE_ATTEMPT_POLICY"]: submit (grade) or abandon.'
    )

    def handle(self, *args: Any, **options: Any) -> None:
        closed = close_overdue_attempts()
        self.stdout.write(f"Closed {closed} overdue attempt{'s' if closed != 1 else ''}.")

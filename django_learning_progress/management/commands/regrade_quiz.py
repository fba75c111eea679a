"""``regrade_quiz``: grade every submitted and completed attempt at a quiz again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_learning_progress import services
from django_learning_progress.content import get_content_adapter
from django_learning_progress.management.commands.export_progress import ProgressBar
from django_learning_progress.validation import parse_pk


class Command(BaseCommand):
    help = (
        "Grade every submitted and completed attempt at a quiz again through the content "
        "adapter (after its answer key or points changed), keeping manual grades. Prints "
        "what changed; --dry-run changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("quiz_id", metavar="QUIZ_ID", help="Primary key of the quiz.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only report what a regrade would change.",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=services.REGRADE_CHUNK_SIZE,
            help="Attempts per transaction (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        quiz_model: Any = get_content_adapter().quiz_model
        try:
            # The base manager: a quiz the host soft-deleted can be regraded too.
            quiz = quiz_model._base_manager.get(pk=parse_pk(quiz_model, options["quiz_id"]))
        except (ValueError, quiz_model.DoesNotExist):
            raise CommandError(f"No quiz with id {options['quiz_id']!r}.") from None
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        bar: ProgressBar | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = ProgressBar(self.stderr, self.stdout, total, shared=False)
            bar.draw(done)

        show_bar = self.stderr.isatty()
        summary = services.regrade_quiz(
            quiz,
            by=None,
            dry_run=options["dry_run"],
            chunk_size=options["chunk_size"],
            progress=progress if show_bar else None,
        )
        if bar is not None:
            bar.finish(summary.attempts_checked)
        verb = "would change" if summary.dry_run else "changed"
        if summary.dry_run:
            self.stdout.write("Dry run: nothing was changed.")
        for change in summary.changed:
            self.stdout.write(
                f"Attempt {change.attempt_id} (user {change.user_id}): "
                f"score {change.score_before} -> {change.score_after}, "
                f"{change.status_before} -> {change.status_after}, "
                f"{change.responses_changed} response(s) regraded."
            )
        self.stdout.write(
            f"{summary.attempts_changed} of {summary.attempts_checked} attempts {verb}; "
            f"{summary.responses_changed} response(s) {verb}."
        )

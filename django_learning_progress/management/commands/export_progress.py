"""``export_progress``: stream one course's progress, tasks, attempts or responses as CSV or JSON Lines.

The rows and their formats come from :mod:`django_learning_progress.exports`
(written as they are read, in chunks, so memory stays flat in the number of
rows); this module adds the command line: the output file, the progress bar.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import transaction

from django_learning_progress.content import get_content_adapter
from django_learning_progress.exports import (
    DEFAULT_CHUNK_SIZE,
    EXPORTS,
    FORMATS,
    NOUNS,
    WHAT,
    Export,
    RowWriter,
    Writable,
    iter_rows,
)

# -- writing -------------------------------------------------------------------------


class _StdoutSink:
    """Raw text to the command's stdout, without the wrapper's line endings."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(text, ending="")
        return len(text)


def _point_at_null_device(stream: OutputWrapper) -> None:
    """Send what is left in ``stream``'s buffer to the null device, not to a closed pipe.

    Otherwise the interpreter's final flush of ``sys.stdout`` fails again at exit.
    """
    with contextlib.suppress(AttributeError, OSError, ValueError):
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)


def _existing_mode(target: Path) -> int | None:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return None


def check_output_path(path: str) -> None:
    """Refuse an output path that cannot be written, before anything is read or written."""
    target = Path(path)
    directory = target.parent
    if not directory.is_dir():
        raise CommandError(f"Cannot write {path}: directory {directory} does not exist.")
    if target.is_dir():
        raise CommandError(f"Cannot write {path}: it is a directory.")
    if target.exists() and not os.access(target, os.W_OK):
        raise CommandError(f"Cannot write {path}: permission denied.")
    if not target.exists() and not os.access(directory, os.W_OK | os.X_OK):
        raise CommandError(f"Cannot write {path}: directory {directory} is not writable.")


@contextlib.contextmanager
def open_output(path: str) -> Iterator[Writable]:
    """A UTF-8 text file that appears at ``path`` only once the export succeeds.

    Rows go to a temporary file next to ``path``, renamed over it at the end,
    so a failed or interrupted export leaves no partial file and an existing
    file untouched. The file gets the mode ``open()`` would give it. A path
    that exists but is not a regular file (``/dev/stdout``, a FIFO) is
    written in place.
    """
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        try:
            special = open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}.") from exc
        with special:
            yield special
        return
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        # 0o666 through the umask, as open() does; O_BINARY: newlines are Python's business.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(temporary, flags, 0o666)
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror}.") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        mode = _existing_mode(target)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


# -- progress bar --------------------------------------------------------------------------


def _unstyled(text: str) -> str:
    return text


class ProgressBar:
    """A one-line bar on a terminal, redrawn in place.

    With ``shared`` (the rows go to the same terminal), the bar is erased
    before rows are written again so that it never ends up inside the data.
    """

    width = 30

    def __init__(
        self, stderr: OutputWrapper, stdout: OutputWrapper, total: int, *, shared: bool
    ) -> None:
        self.stderr = stderr
        self.stdout = stdout
        self.total = total
        self.shared = shared
        self.visible = False
        self.drawn = -1

    def _put(self, text: str) -> None:
        self.stderr.write(text, style_func=_unstyled, ending="")
        self.stderr.flush()

    def draw(self, done: int) -> None:
        if self.shared:
            self.stdout.flush()
        fraction = min(done / self.total, 1.0) if self.total else 1.0
        filled = round(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        self._put(f"\r[{bar}] {done}/{self.total} {fraction:4.0%}")
        self.visible, self.drawn = True, done

    def hide(self) -> None:
        if self.visible:
            self._put("\r\x1b[K")
            self.visible = False

    def finish(self, done: int) -> None:
        if self.shared:
            self.hide()
        else:
            if self.drawn != done:
                self.draw(done)
            self._put("\n")
            self.visible = False


# -- command -------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Export one course's learner progress, task progress, quiz attempts or quiz responses as CSV "
        "or JSON Lines, to a file or stdout. Rows are streamed in chunks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("course_id", metavar="COURSE_ID", help="Primary key of the course.")
        parser.add_argument(
            "--what",
            required=True,
            choices=WHAT,
            help="progress: one row per enrollment; tasks: one per task progress row; "
            "attempts: one per quiz attempt; "
            "responses: one per answered question.",
        )
        parser.add_argument(
            "--format",
            dest="format",
            choices=FORMATS,
            default="csv",
            help="csv (with a header row, the default) or jsonl (one JSON object per line).",
        )
        parser.add_argument(
            "--output",
            metavar="PATH",
            help="Write to this file (replaced when the export succeeds) instead of stdout.",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            metavar="N",
            help=f"Rows fetched from the database at a time (default {DEFAULT_CHUNK_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        course_id, what, fmt = options["course_id"], options["what"], options["format"]
        output, chunk_size = options["output"], options["chunk_size"]
        # call_command() passes optional keyword arguments around argparse: check again.
        if what not in WHAT:
            raise CommandError(f"--what must be one of {', '.join(WHAT)}, got {what!r}.")
        if fmt not in FORMATS:
            raise CommandError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise CommandError(
                f"--chunk-size must be a whole number of at least 1, got {chunk_size!r}."
            )
        if output is not None:
            check_output_path(output)
        course_pk = self.course_pk(course_id)

        stderr_tty = self.stderr.isatty()
        stdout_tty = output is None and self.stdout.isatty()
        show_bar = stderr_tty and (output is not None or stdout_tty)

        export = EXPORTS[what](course_pk)
        # In a transaction, PostgreSQL's server-side cursor is not WITH HOLD:
        # rows stream as they are read instead of being stored at commit.
        with transaction.atomic(using=export.rows.db):
            bar = None
            if show_bar:
                bar = ProgressBar(self.stderr, self.stdout, export.total.count(), shared=stdout_tty)
            if output is None:
                try:
                    written = self.write_rows(
                        export, fmt, _StdoutSink(self.stdout), chunk_size, bar
                    )
                    self.stdout.flush()
                except BrokenPipeError:  # e.g. `| head`: the reader went away
                    _point_at_null_device(self.stdout)
                    raise CommandError("Stopped: stdout was closed (broken pipe).") from None
            else:
                with open_output(output) as out:
                    written = self.write_rows(export, fmt, out, chunk_size, bar)
        if stderr_tty:
            noun = NOUNS[what][written != 1]
            where = output if output is not None else "stdout"
            self.stderr.write(
                f"Exported {written} {noun} of course {course_pk} to {where}.",
                style_func=self.style.SUCCESS,
            )

    def course_pk(self, course_id: str) -> Any:
        """The primary key of the course ``course_id`` names, or a :class:`CommandError`."""
        course_model = get_content_adapter().course_model
        try:
            pk = (
                course_model._default_manager.filter(pk=course_id)
                .values_list("pk", flat=True)
                .first()
            )
        except (ValueError, TypeError, OverflowError, ValidationError):
            pk = None  # not a valid primary key value at all
        if pk is None:
            raise CommandError(f"No course with id {course_id!r}.")
        return pk

    def write_rows(
        self,
        export: Export,
        fmt: str,
        out: Writable,
        chunk_size: int,
        bar: ProgressBar | None,
    ) -> int:
        """Write every row of ``export`` to ``out``; return how many."""
        writer = RowWriter(out, fmt, export)
        written = 0
        if bar is not None:
            bar.draw(0)
        for row in iter_rows(export.rows, chunk_size):
            if bar is not None and bar.visible and bar.shared:
                bar.hide()
            writer.write(row)
            written += 1
            if bar is not None and written % chunk_size == 0:
                bar.draw(written)
        if bar is not None:
            bar.finish(written)
        return written

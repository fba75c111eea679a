"""Signals sent when progress state really changes.

Every signal is sent **after the transaction that made the change commits**
(``transaction.on_commit``), with ``sender`` set to the model class of the
changed row (the configured, possibly swapped, model). Idempotent repeats
(enrolling twice, completing a completed task, submitting twice) send
nothing. Receivers run with ``send_robust``: a receiver that raises is logged
on the ``django_learning_progress.signals`` logger and never undoes the
learner's recorded progress, nor stops the other receivers.

Connect receivers as usual::

    from django.dispatch import receiver
    from django_learning_progress.signals import course_completed

    @receiver(course_completed)
    def send_certificate(sender, enrollment, user, **kwargs):
        ...
"""

from django.dispatch import Signal

#: A user was enrolled in a course for the first time.
#: Arguments: ``enrollment``, ``user``.
enrollment_created = Signal()

#: An enrollment's ``status`` changed (``active``, ``completed``, ``dropped``).
#: Arguments: ``enrollment``, ``user``, ``previous_status``, ``status``.
enrollment_status_changed = Signal()

#: A task moved from ``not_started`` to ``in_progress`` (or straight to ``completed``).
#: Arguments: ``progress`` (the task progress row), ``user``.
task_started = Signal()

#: A task became ``completed``.
#: Arguments: ``progress``, ``user``.
task_completed = Signal()

#: An enrollment became ``completed``: every completion requirement is met, or
#: an instructor completed it with ``complete_enrollment()``. Sent once per
#: completion, after ``enrollment_status_changed``.
#: Arguments: ``enrollment``, ``user``.
course_completed = Signal()

#: A new quiz attempt was started.
#: Arguments: ``attempt``, ``user``.
quiz_attempt_started = Signal()

#: An attempt was submitted (by the learner, or automatically at its deadline).
#: Its status is ``submitted`` when some responses await manual grading,
#: else ``completed`` (and ``quiz_attempt_graded`` follows).
#: Arguments: ``attempt``, ``user``.
quiz_attempt_submitted = Signal()

#: An attempt was fully graded, so its score, percentage and ``passed`` are
#: final. A manual regrade that changes them sends it again.
#: Arguments: ``attempt``, ``user``.
quiz_attempt_graded = Signal()

__all__ = [
    "course_completed",
    "enrollment_created",
    "enrollment_status_changed",
    "quiz_attempt_graded",
    "quiz_attempt_started",
    "quiz_attempt_submitted",
    "task_completed",
    "task_started",
]

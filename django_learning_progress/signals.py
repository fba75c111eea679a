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

#: A learner's quiz override was created, changed or removed
#: (:func:`~django_learning_progress.services.set_quiz_override`,
#: :func:`~django_learning_progress.services.remove_quiz_override`). ``sender``
#: is the override model.
#: Arguments: ``override`` (as saved; after a removal, the removed row with
#: ``pk`` ``None``), ``user`` (the learner), ``by`` (who changed it),
#: ``action`` (``"created"``, ``"updated"`` or ``"removed"``) and
#: ``extended_attempt`` (the open attempt whose deadline the change extended,
#: or ``None``).
quiz_override_changed = Signal()

#: A regrade of a quiz (:func:`~django_learning_progress.services.regrade_quiz`)
#: changed this attempt's grading: a response's grade, or the attempt's score,
#: percentage, ``passed`` or status. Sent once per changed attempt, not for a
#: dry run. ``quiz_attempt_graded`` is not sent for a regrade.
#: Arguments: ``attempt`` (with ``score_before_regrade`` and ``regraded_at``
#: set), ``user``, ``score_before``, ``score``, ``responses_changed`` (how many
#: of its responses the regrade changed).
quiz_attempt_regraded = Signal()

__all__ = [
    "course_completed",
    "enrollment_created",
    "enrollment_status_changed",
    "quiz_attempt_graded",
    "quiz_attempt_regraded",
    "quiz_attempt_started",
    "quiz_attempt_submitted",
    "quiz_override_changed",
    "task_completed",
    "task_started",
]

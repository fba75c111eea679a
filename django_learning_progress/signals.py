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

One signal is different: :data:`state_changed` is sent **synchronously,
inside** the transaction that makes the change, for each signal above just
before that signal is queued. It is for code that must write in the same
transaction (an outbox of learning records, an audit table): a receiver that
raises rolls the change back. Connect to it only while you need it: with no
receiver connected the services skip it at no cost (not even a transaction
around the heartbeat of :func:`~django_learning_progress.services.add_time_spent`).
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

#: Time was added to a task's ``time_spent`` (a call that adds 0 seconds sends nothing).
#: Arguments: ``progress``, ``user``, ``seconds`` (the seconds this call added).
time_recorded = Signal()

#: A learner's answers were recorded (``answer_question`` or ``answer_questions``):
#: one signal per call, ``sender`` the response model.
#: Arguments: ``responses`` (list of the saved response rows), ``attempt``, ``user``.
questions_answered = Signal()

#: An open attempt was abandoned (by the learner, or at its deadline under the
#: ``"abandon"`` overdue policy).
#: Arguments: ``attempt``, ``user``.
quiz_attempt_abandoned = Signal()

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

#: Sent synchronously inside the transaction, once for each signal above,
#: before that signal is queued for after the commit; ``sender`` is the same.
#: Arguments: ``event`` (the signal above that will follow the commit),
#: ``using`` (the database alias of the transaction) and that signal's own
#: arguments. A receiver that raises rolls the change back.
state_changed = Signal()

__all__ = [
    "course_completed",
    "enrollment_created",
    "enrollment_status_changed",
    "questions_answered",
    "quiz_attempt_abandoned",
    "quiz_attempt_graded",
    "quiz_attempt_regraded",
    "quiz_attempt_started",
    "quiz_attempt_submitted",
    "quiz_override_changed",
    "state_changed",
    "task_completed",
    "task_started",
    "time_recorded",
]

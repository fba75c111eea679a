"""Status values of the progress models.

The values are stored in the database and are part of the public contract.
Each abstract model exposes its choices as ``Model.Status`` too.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    DROPPED = "dropped", _("Dropped")


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    #: Submitted by the learner, waiting for manual grading of one or more responses.
    SUBMITTED = "submitted", _("Submitted (awaiting grading)")
    COMPLETED = "completed", _("Completed")
    ABANDONED = "abandoned", _("Abandoned")

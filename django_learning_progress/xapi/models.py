"""The outbox of xAPI statements."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class XapiStatementQuerySet(models.QuerySet["XapiStatement"]):
    def pending(self) -> XapiStatementQuerySet:
        """Statements not delivered yet."""
        return self.filter(sent_at__isnull=True)

    def due(self, now: object = None) -> XapiStatementQuerySet:
        """Pending statements whose next try is due, oldest first."""
        return (
            self.pending()
            .filter(next_attempt_at__lte=now or timezone.now())
            .order_by("next_attempt_at", "created_at", "id")
        )

    def failed(self) -> XapiStatementQuerySet:
        """Pending statements that an LRS refused or could not be reached for."""
        return self.pending().filter(attempts__gt=0)


class XapiStatement(models.Model):
    """One xAPI statement, written in the transaction of the change it records.

    ``id`` is the statement's ``id``: every retry sends the same one, so an
    LRS that already stored it answers ``409`` (counted as delivered) and
    never keeps two copies.
    """

    id = models.UUIDField(_("statement id"), primary_key=True, editable=False)
    statement = models.JSONField(_("statement"))
    verb = models.CharField(_("verb"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("learner"),
    )
    course_key = models.CharField(
        _("course"), max_length=255, help_text=_("The course's primary key, as text.")
    )
    timestamp = models.DateTimeField(_("timestamp"), help_text=_("When the event happened."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)

    objects = XapiStatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("xAPI statement")
        verbose_name_plural = _("xAPI statements")
        ordering = ["-timestamp", "-created_at"]
        indexes = [
            # The delivery queue: WHERE sent_at IS NULL AND next_attempt_at <= now.
            models.Index(fields=["sent_at", "next_attempt_at"], name="lpx_statement_queue"),
            # History: a learner's statements, newest first, in one course or all.
            models.Index(fields=["user", "timestamp"], name="lpx_statement_user"),
            models.Index(
                fields=["user", "course_key", "timestamp"], name="lpx_statement_user_course"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.verb.rsplit('/', 1)[-1]} {self.id}"

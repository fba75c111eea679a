"""Admin of the outbox: read-only, with the queue's state above the list."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from django_learning_progress.xapi.models import XapiStatement


class DeliveryFilter(admin.SimpleListFilter):
    title = _("delivery")
    parameter_name = "delivery"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("pending", _("Pending")), ("failed", _("Failed")), ("sent", _("Sent"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "pending":
            return queryset.filter(sent_at__isnull=True)
        if self.value() == "failed":
            return queryset.filter(sent_at__isnull=True, attempts__gt=0)
        if self.value() == "sent":
            return queryset.filter(sent_at__isnull=False)
        return queryset


@admin.register(XapiStatement)
class XapiStatementAdmin(admin.ModelAdmin):
    list_display = ["id", "verb_name", "user", "course_key", "timestamp", "sent_at", "attempts"]
    list_filter = [DeliveryFilter, "verb"]
    search_fields = ["=id", "=course_key"]
    date_hierarchy = "timestamp"
    list_select_related = ["user"]
    readonly_fields = [f.name for f in XapiStatement._meta.fields]
    show_full_result_count = False

    @admin.display(description=_("verb"), ordering="verb")
    def verb_name(self, obj: XapiStatement) -> str:
        return obj.verb.rsplit("/", 1)[-1]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        queue = XapiStatement._default_manager.filter(sent_at__isnull=True).aggregate(
            pending=Count("pk"),
            failed=Count("pk", filter=Q(attempts__gt=0)),
            oldest=Min("created_at"),
        )
        last_error = (
            XapiStatement._default_manager.filter(sent_at__isnull=True, attempts__gt=0)
            .order_by("-next_attempt_at")
            .values_list("last_error", flat=True)
            .first()
        )
        context = {**(extra_context or {}), "xapi_queue": {**queue, "last_error": last_error}}
        return super().changelist_view(request, extra_context=context)

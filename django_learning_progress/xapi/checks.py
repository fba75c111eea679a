"""System checks of ``LEARNING_PROGRESS["XAPI"]``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from django_learning_progress.xapi.conf import xapi_settings


@register()
def check_xapi_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``XAPI`` must be a dict; ``BASE_IRI`` is needed when enabled; ``ENDPOINT`` to deliver."""
    options = getattr(settings, "LEARNING_PROGRESS", None)
    xapi = options.get("XAPI", {}) if isinstance(options, dict) else {}
    if not isinstance(xapi, dict):
        return [
            Error(
                'LEARNING_PROGRESS["XAPI"] must be a dict.',
                id="learning_progress_xapi.E001",
            )
        ]
    messages: list[CheckMessage] = []
    if xapi_settings.ENABLED and not xapi_settings.BASE_IRI.startswith(("http://", "https://")):
        messages.append(
            Error(
                'LEARNING_PROGRESS["XAPI"]["BASE_IRI"] must be an http(s) IRI when ENABLED is on.',
                hint='e.g. "https://lms.example.com/xapi"',
                id="learning_progress_xapi.E002",
            )
        )
    if xapi_settings.ENABLED and not xapi_settings.ENDPOINT:
        messages.append(
            Warning(
                'LEARNING_PROGRESS["XAPI"]["ENDPOINT"] is not set: statements are recorded '
                "but send_xapi_statements cannot deliver them.",
                id="learning_progress_xapi.W001",
            )
        )
    return messages

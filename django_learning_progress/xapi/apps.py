from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class XapiConfig(AppConfig):
    name = "django_learning_progress.xapi"
    label = "learning_progress_xapi"
    verbose_name = _("Learning records (xAPI)")
    # Pinned so that a host's DEFAULT_AUTO_FIELD never creates migrations for this app.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_learning_progress.xapi import checks, handlers  # noqa: F401

        handlers.connect()

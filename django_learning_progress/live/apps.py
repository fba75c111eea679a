from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "django_learning_progress.live"
    label = "learning_progress_live"
    verbose_name = _("Live progress")

    def ready(self) -> None:
        from django_learning_progress.live import handlers

        handlers.connect()

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from django_learning_progress.conf import PROGRESS_MODEL_SETTINGS


class LearningProgressConfig(AppConfig):
    name = "django_learning_progress"
    label = "learning_progress"
    verbose_name = _("Learning progress")
    # Pinned so that a host's DEFAULT_AUTO_FIELD never creates migrations for this app.
    default_auto_field = "django.db.models.BigAutoField"

    def __init__(self, app_name: str, app_module: Any) -> None:
        super().__init__(app_name, app_module)
        # Django's migration autodetector reads every swappable setting of a
        # model it meets; give the progress model settings their defaults the
        # way django.conf.global_settings does for AUTH_USER_MODEL.
        for name, default in PROGRESS_MODEL_SETTINGS.values():
            if not hasattr(settings, name):
                setattr(settings, name, default)

    def ready(self) -> None:
        from django_learning_progress import checks  # noqa: F401  (registers the checks)

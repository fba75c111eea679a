from django.apps import AppConfig


class LmsHostConfig(AppConfig):
    name = "tests.lmshost"
    label = "lmshost"
    default_auto_field = "django.db.models.BigAutoField"

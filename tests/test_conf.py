from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from django_learning_progress.conf import app_settings, is_model_label, model_setting
from django_learning_progress.content import ContentAdapter, get_content_adapter
from tests.testapp.adapter import TestAdapter


def test_defaults_apply_when_the_option_is_absent() -> None:
    with override_settings(LEARNING_PROGRESS={}):
        assert app_settings.CONTENT_ADAPTER == "django_learning_progress.content.ContentAdapter"
        assert type(get_content_adapter()) is ContentAdapter
    with override_settings(LEARNING_PROGRESS=None):
        assert app_settings.CONTENT_ADAPTER == "django_learning_progress.content.ContentAdapter"


def test_options_are_read_on_every_access() -> None:
    assert type(get_content_adapter()) is TestAdapter
    with override_settings(
        LEARNING_PROGRESS={"CONTENT_ADAPTER": "django_learning_progress.content.ContentAdapter"}
    ):
        assert type(get_content_adapter()) is ContentAdapter
    assert type(get_content_adapter()) is TestAdapter


def test_model_settings() -> None:
    assert model_setting("course") == "testapp.Course"
    assert model_setting("enrollment") == settings.LEARNING_PROGRESS_ENROLLMENT_MODEL
    with override_settings(LEARNING_PROGRESS_ENROLLMENT_MODEL="learning_progress.CourseEnrollment"):
        assert model_setting("enrollment") == "learning_progress.CourseEnrollment"
    with override_settings(LEARNING_PROGRESS_COURSE_MODEL="not a label"):
        assert model_setting("course") == "learning_progress.UnconfiguredCourseModel"
    with override_settings(LEARNING_PROGRESS_ENROLLMENT_MODEL="a.b.c"):
        assert model_setting("enrollment") == "learning_progress.CourseEnrollment"


def test_is_model_label() -> None:
    assert is_model_label("catalog.Course")
    assert not is_model_label("catalog")
    assert not is_model_label("a.b.c")
    assert not is_model_label(None)

"""System checks for the settings of django-learning-progress.

Misconfiguration is reported here, by setting name, instead of failing at
import time. Each message has an id ``learning_progress.E0xx``/``W0xx``,
documented in :doc:`/settings`.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.utils.module_loading import import_string

from django_learning_progress.conf import (
    CONTENT_MODEL_SETTINGS,
    DEFAULTS,
    GRADE_METHODS,
    INTEGRATION_KEYS,
    MAX_JSON_DEPTH_LIMIT,
    OVERDUE_POLICIES,
    PROGRESS_MODEL_SETTINGS,
    app_settings,
    is_model_label,
)

LOOKUPS = (
    # adapter attribute, model kind it starts from, model kind it must reach
    ("task_course_lookup", "task", "course"),
    ("quiz_course_lookup", "quiz", "course"),
    ("question_quiz_lookup", "question", "quiz"),
)


def _resolve_model(setting: str, value: Any, errors: list[checks.CheckMessage]) -> Any:
    """The model ``value`` names, or ``None`` after appending an error."""
    if not is_model_label(value):
        errors.append(
            checks.Error(
                f"{setting} must have the form 'app_label.ModelName', got {value!r}.",
                id="learning_progress.E002",
            )
        )
        return None
    try:
        return apps.get_model(value)
    except LookupError:
        errors.append(
            checks.Error(
                f"{setting} refers to model {value!r}, which is not installed.",
                hint="Check the app label and model name, and that the app is in INSTALLED_APPS.",
                id="learning_progress.E003",
            )
        )
        return None


def _walk(model: type[models.Model], lookup: str) -> type[models.Model] | str:
    """The model at the end of relation path ``lookup``, or an error text."""
    if not isinstance(lookup, str) or not lookup:
        return f"{lookup!r} is not a lookup path"
    current = model
    for part in lookup.split("__"):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return f"{current._meta.label} has no field {part!r}"
        if not field.is_relation or field.related_model is None:
            return f"{current._meta.label}.{part} is not a relation"
        related = field.related_model
        current = apps.get_model(related) if isinstance(related, str) else related
    return current


@checks.register(checks.Tags.models)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []

    content: dict[str, Any] = {}
    for kind, setting in CONTENT_MODEL_SETTINGS.items():
        if not hasattr(settings, setting):
            errors.append(
                checks.Error(
                    f"{setting} is not set.",
                    hint=f"Name your {kind} model, e.g. {setting} = 'catalog.{kind.title()}'.",
                    id="learning_progress.E001",
                )
            )
            continue
        content[kind] = _resolve_model(setting, getattr(settings, setting), errors)

    options = getattr(settings, "LEARNING_PROGRESS", {})
    if not isinstance(options, dict):
        errors.append(
            checks.Error("LEARNING_PROGRESS must be a dict.", id="learning_progress.E007")
        )
        return errors
    known = {*DEFAULTS, *INTEGRATION_KEYS}
    for key in sorted(set(options) - known):
        errors.append(
            checks.Warning(
                f"LEARNING_PROGRESS has an unknown key {key!r}.",
                hint=f"Known keys: {', '.join(sorted(known))}.",
                id="learning_progress.W001",
            )
        )

    errors.extend(_check_options(options))

    from django_learning_progress.content import ContentAdapter

    adapter_path = app_settings.CONTENT_ADAPTER
    adapter: Any = None
    try:
        adapter_cls = import_string(adapter_path)
    except ImportError as exc:
        errors.append(
            checks.Error(
                f'LEARNING_PROGRESS["CONTENT_ADAPTER"] = {adapter_path!r} cannot be imported: {exc}',
                id="learning_progress.E004",
            )
        )
    else:
        if isinstance(adapter_cls, type) and issubclass(adapter_cls, ContentAdapter):
            adapter = adapter_cls()
        else:
            errors.append(
                checks.Error(
                    f'LEARNING_PROGRESS["CONTENT_ADAPTER"] = {adapter_path!r} is not a subclass '
                    "of django_learning_progress.content.ContentAdapter.",
                    id="learning_progress.E004",
                )
            )

    if adapter is not None:
        for attribute, start, target in LOOKUPS:
            if content.get(start) is None or content.get(target) is None:
                continue
            lookup = getattr(adapter, attribute)
            reached = _walk(content[start], lookup)
            if isinstance(reached, str) or reached is not content[target]:
                problem = (
                    reached
                    if isinstance(reached, str)
                    else f"it leads to {reached._meta.label}, not {content[target]._meta.label}"
                )
                errors.append(
                    checks.Error(
                        f"{type(adapter).__name__}.{attribute} = {lookup!r} does not resolve "
                        f"from {CONTENT_MODEL_SETTINGS[start]} to "
                        f"{CONTENT_MODEL_SETTINGS[target]}: {problem}.",
                        hint='Fix the lookup in the class named by LEARNING_PROGRESS["CONTENT_ADAPTER"].',
                        id="learning_progress.E005",
                    )
                )

    errors.extend(_check_progress_models())
    return errors


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_callable_or_path(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError:
            return False
    return callable(value)


OPTION_RULES: dict[str, tuple[Any, str]] = {
    "AUTO_ENROLL": (lambda v: isinstance(v, bool), "True or False"),
    "MAX_TIME_PER_CALL": (lambda v: _is_int(v, 1), "a whole number of seconds, at least 1"),
    "REQUIRE_QUIZZES_FOR_COMPLETION": (lambda v: isinstance(v, bool), "True or False"),
    "QUIZ_GRADE_METHOD": (lambda v: v in GRADE_METHODS, f"one of {', '.join(GRADE_METHODS)}"),
    "OVERDUE_ATTEMPT_POLICY": (
        lambda v: v in OVERDUE_POLICIES,
        f"one of {', '.join(OVERDUE_POLICIES)}",
    ),
    "DEADLINE_GRACE_SECONDS": (lambda v: _is_int(v, 0), "a whole number of seconds, at least 0"),
    "INSTRUCTOR_CHECK": (_is_callable_or_path, "a callable or the dotted path of one"),
    "API_PAGE_SIZE": (lambda v: _is_int(v, 1), "a whole number, at least 1"),
    "INACTIVE_DAYS": (lambda v: _is_int(v, 1), "a whole number of days, at least 1"),
    "ANALYTICS_MIN_ATTEMPTS": (lambda v: _is_int(v, 2), "a whole number, at least 2"),
    "MAX_JSON_DEPTH": (
        lambda v: _is_int(v, 1) and v <= MAX_JSON_DEPTH_LIMIT,
        f"a whole number from 1 to {MAX_JSON_DEPTH_LIMIT}",
    ),
    "MAX_JSON_BYTES": (lambda v: _is_int(v, 1), "a whole number of bytes, at least 1"),
    "ALLOW_SELF_GRADING": (lambda v: isinstance(v, bool), "True or False"),
}


def _check_options(options: dict[str, Any]) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for key, (valid, expected) in OPTION_RULES.items():
        if key in options and not valid(options[key]):
            errors.append(
                checks.Error(
                    f'LEARNING_PROGRESS["{key}"] must be {expected}, got {options[key]!r}.',
                    id="learning_progress.E008",
                )
            )
    return errors


def _check_progress_models() -> list[checks.CheckMessage]:
    from django_learning_progress import abstract_models

    bases = {
        "enrollment": abstract_models.AbstractCourseEnrollment,
        "task_progress": abstract_models.AbstractTaskProgress,
        "quiz_attempt": abstract_models.AbstractQuizAttempt,
        "quiz_response": abstract_models.AbstractQuizResponse,
    }
    errors: list[checks.CheckMessage] = []
    for kind, (setting, _default) in PROGRESS_MODEL_SETTINGS.items():
        if not hasattr(settings, setting):
            continue
        model = _resolve_model(setting, getattr(settings, setting), errors)
        if model is not None and not issubclass(model, bases[kind]):
            errors.append(
                checks.Error(
                    f"{setting} refers to {model._meta.label}, which does not subclass "
                    f"django_learning_progress.abstract_models.{bases[kind].__name__}.",
                    id="learning_progress.E006",
                )
            )
    return errors


def is_configured() -> bool:
    """Whether every model setting resolves and the content adapter loads.

    The admin and the REST API URLs register nothing otherwise, so that
    ``manage.py check`` can report what is wrong instead of crashing.
    """
    from django_learning_progress.conf import model_setting
    from django_learning_progress.content import get_content_adapter

    try:
        for kind in (*CONTENT_MODEL_SETTINGS, *PROGRESS_MODEL_SETTINGS):
            apps.get_model(model_setting(kind))
        get_content_adapter()
    except (LookupError, ImportError, ImproperlyConfigured):
        return False
    return True

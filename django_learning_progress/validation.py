"""Input checks shared by the services and the REST API.

The JSON values the app stores (an enrollment's ``settings``, a quiz
response's ``response``) must be storable on every supported database and
bounded in size, whoever sends them:

* nested at most ``LEARNING_PROGRESS["MAX_JSON_DEPTH"]`` levels (an array or
  object is one level; a scalar none);
* at most ``LEARNING_PROGRESS["MAX_JSON_BYTES"]`` bytes as compact UTF-8 JSON;
* no NUL character (PostgreSQL's ``jsonb`` cannot store it) and no lone UTF-16
  surrogate (no UTF-8 encoding exists for one), in keys or strings;
* no NaN or infinity, and only JSON types.

The walk is iterative, so a hostile value cannot exhaust the stack.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, models, router

from django_learning_progress.conf import app_settings

__all__ = [
    "check_json",
    "field_error",
    "find_json_problem",
    "first_code",
    "parse_integer",
    "parse_pk",
]

_SURROGATE = re.compile("[\ud800-\udfff]")


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ``ValidationError`` for ``field`` (``{field: [message]}``); ``.code`` is set on it too."""
    error = ValidationError({field: ValidationError(message, code=code)})
    error.code = code
    return error


def first_code(error: ValidationError, default: str = "invalid") -> str:
    """The code of the first of ``error``'s messages that has one, else ``default``.

    Works for an error of one message, a list or a dict of them.
    """
    if hasattr(error, "error_dict"):
        errors = [e for messages in error.error_dict.values() for e in messages]
    else:
        errors = error.error_list
    return next((str(e.code) for e in errors if getattr(e, "code", None)), default)


def find_json_problem(value: Any, *, max_depth: int, nul: bool = True) -> tuple[str, str] | None:
    """The first reason ``value`` cannot be stored, as ``(message, code)``, or ``None``.

    Checks nesting depth, lone surrogates and (when ``nul``) NUL characters,
    in dictionary keys and strings, without recursion.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if nul and "\x00" in item:
                return "Must not contain the NUL character (\\u0000).", "invalid"
            if _SURROGATE.search(item):
                return "Must not contain a lone UTF-16 surrogate.", "invalid"
        elif isinstance(item, (dict, list, tuple)):
            if depth + 1 > max_depth:
                return f"Must not be nested deeper than {max_depth} levels.", "too_deep"
            if isinstance(item, dict):
                for key, child in item.items():
                    stack.append((key, depth + 1))
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
    return None


def check_json(field: str, value: Any) -> Any:
    """Return ``value`` if the app may store it in ``field``; else raise a field ``ValidationError``."""
    problem = find_json_problem(value, max_depth=app_settings.MAX_JSON_DEPTH)
    if problem is not None:
        raise field_error(field, *problem)
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:  # a set, an object, NaN, a huge int...
        raise field_error(field, f"Must be JSON-serialisable: {exc}", "invalid") from None
    limit = app_settings.MAX_JSON_BYTES
    if len(text.encode("utf-8")) > limit:
        raise field_error(field, f"Must be at most {limit} bytes as JSON.", "too_large")
    return value


_DIGITS = re.compile(r"-?[0-9]{1,20}")


def parse_integer(value: Any) -> int:
    """``value`` as an ``int`` if it is a JSON integer or a string of ASCII digits; else ``ValueError``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    raise ValueError("not a whole number")


def _key_field(model: type[models.Model]) -> models.Field:
    """The column that finally holds ``model``'s primary key (through multi-table parents)."""
    field: Any = model._meta.pk
    while field.is_relation:
        field = field.target_field
    return field


def parse_pk(model: type[models.Model], value: Any) -> Any:
    """``value`` as a primary key of ``model``; ``ValueError`` when it cannot be one.

    For an integer primary key the value must pass :func:`parse_integer` and
    fit the column on the database that reads ``model``; other keys (UUIDs,
    strings) go through the field's own ``to_python``.
    """
    field = _key_field(model)
    if isinstance(field, models.IntegerField):  # AutoField and BigAutoField included
        number = parse_integer(value)
        connection = connections[router.db_for_read(model)]
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError("out of range")
        return number
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValueError("not a key")
    try:
        return field.to_python(value)
    except Exception as exc:  # a ValidationError of the field's own parsing
        raise ValueError(str(exc)) from None

"""Strict integer input: ids and seconds are whole numbers, nothing that merely converts to one.

DRF's and Django's integer conversions accept more than an API should:
``2.9`` becomes ``2``, ``"١٢"`` (Arabic-Indic digits) becomes ``12``, and
``1e400`` or a deeply nested list raises something other than a validation
error. Here an integer is a JSON integer (not a boolean) or a string of ASCII
digits with an optional minus sign, within the range of the database column.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connections, models, router
from rest_framework import serializers

__all__ = ["StrictIntegerField", "StrictPrimaryKeyRelatedField", "parse_integer", "parse_pk"]

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


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A ``PrimaryKeyRelatedField`` that takes only :func:`parse_pk` keys."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "invalid_key": "Must be the id of an existing object (a whole number).",
    }

    def to_internal_value(self, data: Any) -> Any:
        queryset: Any = self.get_queryset()
        try:
            key = parse_pk(queryset.model, data)
        except ValueError:
            self.fail("invalid_key")
        try:
            return queryset.get(pk=key)
        except queryset.model.DoesNotExist:
            self.fail("does_not_exist", pk_value=key)


class StrictIntegerField(serializers.IntegerField):
    """An ``IntegerField`` that takes only :func:`parse_integer` values."""

    def to_internal_value(self, data: Any) -> int:
        try:
            return parse_integer(data)
        except ValueError:
            self.fail("invalid")

"""Strict integer input: ids and seconds are whole numbers, nothing that merely converts to one.

The rules are those of :func:`~django_learning_progress.validation.parse_pk`.
DRF's and Django's integer conversions accept more than an API should:
``2.9`` becomes ``2``, ``"١٢"`` (Arabic-Indic digits) becomes ``12``, and
``1e400`` or a deeply nested list raises something other than a validation
error. Here an integer is a JSON integer (not a boolean) or a string of ASCII
digits with an optional minus sign, within the range of the database column.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import serializers

from django_learning_progress.validation import parse_integer, parse_pk

__all__ = [
    "StrictBooleanField",
    "StrictIntegerField",
    "StrictPrimaryKeyRelatedField",
    "parse_integer",
    "parse_pk",
]


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


class StrictBooleanField(serializers.BooleanField):
    """A ``BooleanField`` that takes only JSON ``true`` and ``false``.

    DRF's own takes ``0``, ``"yes"`` and ``"on"`` as well, which a JSON schema
    that says ``boolean`` does not allow. A form body (the browsable API's
    forms) is still read as DRF reads it.
    """

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(getattr(self.root, "initial_data", None), QueryDict):
            return bool(super().to_internal_value(data))
        self.fail("invalid", input=data)

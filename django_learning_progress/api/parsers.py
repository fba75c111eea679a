"""Request body parsing with the app's JSON limits.

The API's views parse with the host's ``DEFAULT_PARSER_CLASSES``; every JSON
parser among them is wrapped so that a body

* nested so deeply that Python's decoder gives up, or deeper than
  ``MAX_JSON_DEPTH`` + 2 levels (the stored value plus the list of answers
  and the object that carry it), answers 400 ``{"detail": ...}``;
* holding a lone UTF-16 surrogate answers 400 with a field error, since no
  UTF-8 response could even repeat it.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.settings import api_settings

from django_learning_progress.conf import app_settings
from django_learning_progress.validation import find_json_problem

__all__ = ["BODY_ENVELOPE_DEPTH", "LimitedJSONParserMixin", "ProgressParserClasses"]

#: Levels a request body adds around a stored value (``[{"response": ...}]``).
BODY_ENVELOPE_DEPTH = 2


class LimitedJSONParserMixin:
    """Mixed into a JSON parser class: refuse bodies the app could not store or answer."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)  # type: ignore[misc]
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        depth = app_settings.MAX_JSON_DEPTH + BODY_ENVELOPE_DEPTH
        problem = find_json_problem(data, max_depth=depth, nul=False)
        if problem is None:
            return data
        message, code = problem
        if code == "too_deep":
            message = f"The request body must not be nested deeper than {depth} levels."
        raise ParseError(_locate(data, depth, message), code=code)


def _locate(data: Any, depth: int, message: str) -> Any:
    """The error detail, keyed by the field holding the problem as DRF keys field errors."""

    def bad(value: Any, levels: int) -> bool:
        return find_json_problem(value, max_depth=levels, nul=False) is not None

    def in_object(obj: Any, levels: int) -> dict[str, list[str]]:
        if isinstance(obj, dict):
            for key, value in obj.items():
                if isinstance(key, str) and not bad(key, 1) and bad(value, levels - 1):
                    return {key: [message]}
        return {api_settings.NON_FIELD_ERRORS_KEY: [message]}

    if isinstance(data, list):  # as DRF reports a list of objects: by the failing items' index
        return {
            i: in_object(item, depth - 1) for i, item in enumerate(data) if bad(item, depth - 1)
        }
    return in_object(data, depth)


class ProgressParserClasses:
    """``parser_classes`` of the API's views: the host's parsers, JSON ones limited.

    Read from the host's DRF settings on every access, like the pagination class.
    """

    _cache: dict[type[BaseParser], type[BaseParser]] = {}

    def __get__(self, instance: Any, owner: Any) -> list[type[BaseParser]]:
        classes: Any = api_settings.DEFAULT_PARSER_CLASSES  # imported classes, typed as paths
        return [self._limited(cls) for cls in classes]

    def _limited(self, cls: type[BaseParser]) -> type[BaseParser]:
        if not issubclass(cls, JSONParser) or issubclass(cls, LimitedJSONParserMixin):
            return cls
        if cls not in self._cache:
            self._cache[cls] = type(f"Limited{cls.__name__}", (LimitedJSONParserMixin, cls), {})
        return self._cache[cls]

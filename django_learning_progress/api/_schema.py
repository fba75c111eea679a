"""drf-spectacular annotations when it is installed, no-ops otherwise.

With drf-spectacular installed, the API's views use :class:`ProgressAutoSchema`
(``schema = view_schema()``) whatever the host's ``DEFAULT_SCHEMA_CLASS``, so
that every host publishes the same, truthful description of the API: its error
responses, create-or-return status codes, and descriptions without Sphinx markup.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.schemas.inspectors import DefaultSchema

_ROLE = re.compile(
    r":(?:[\w-]+:)?[\w-]+:`(?P<tilde>~?)(?P<target>[^`<]*?)\s*(?:<(?P<link>[^`>]*)>)?`"
)
_LITERAL = re.compile(r"``(?P<text>.+?)``", re.DOTALL)


def plain_text(text: str) -> str:
    """``text`` with Sphinx markup turned into Markdown, for OpenAPI descriptions.

    ````x```` becomes ```x```; a role such as ``:func:`~a.b.c``` becomes
    ```c``` (```a.b.c``` without the ``~``), and ``:ref:`title <label>``` its title.
    """

    def role(match: re.Match[str]) -> str:
        target = match["target"] or match["link"] or ""
        if match["tilde"]:
            target = target.rsplit(".", 1)[-1]
        return f"`{target}`"

    return _LITERAL.sub(r"`\g<text>`", _ROLE.sub(role, text))


def _plain_descriptions(schema: Any) -> Any:
    """Apply :func:`plain_text` to every ``description`` in a schema, in place."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                schema[key] = plain_text(value)
            else:
                _plain_descriptions(value)
    elif isinstance(schema, list):
        for item in schema:
            _plain_descriptions(item)
    return schema


def _no_op(*args: Any, **kwargs: Any) -> Any:
    return lambda target: target


extend_schema: Any = _no_op
extend_schema_field: Any = _no_op
extend_schema_view: Any = _no_op
INT: Any = None
OpenApiParameter: Any = _no_op
OpenApiResponse: Any = _no_op
PolymorphicProxySerializer: Any = _no_op


_schema_class: Any = None


def view_schema() -> Any:
    """The ``schema`` of the API's views: :class:`ProgressAutoSchema` when
    drf-spectacular is installed, else DRF's default (the host's setting)."""
    return DefaultSchema() if _schema_class is None else _schema_class()


try:
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.plumbing import ResolvedComponent, is_list_serializer
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter as _OpenApiParameter
    from drf_spectacular.utils import OpenApiResponse as _OpenApiResponse
    from drf_spectacular.utils import PolymorphicProxySerializer as _PolymorphicProxySerializer
    from drf_spectacular.utils import extend_schema as _extend_schema
    from drf_spectacular.utils import extend_schema_field as _extend_schema_field
    from drf_spectacular.utils import extend_schema_view as _extend_schema_view
except ImportError:  # pragma: no cover - drf-spectacular is optional
    pass
else:
    extend_schema = _extend_schema
    extend_schema_field = _extend_schema_field
    extend_schema_view = _extend_schema_view
    INT = OpenApiTypes.INT
    OpenApiParameter = _OpenApiParameter
    OpenApiResponse = _OpenApiResponse
    PolymorphicProxySerializer = _PolymorphicProxySerializer

    _DETAIL = {
        "type": "object",
        "description": "An error about the request as a whole.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    }
    _FIELD_ERRORS = {
        "type": "object",
        "description": (
            "Messages by field name; `non_field_errors` (DRF's `NON_FIELD_ERRORS_KEY`) "
            "for errors about the request as a whole."
        ),
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    }
    _ERROR_COMPONENTS = {
        "ErrorDetail": _DETAIL,
        "FieldErrors": _FIELD_ERRORS,
        "ValidationError": {
            "description": (
                "A request that is not valid: field errors, or `detail` for a body "
                "that cannot be parsed."
            ),
            "anyOf": [
                {"$ref": "#/components/schemas/FieldErrors"},
                {"$ref": "#/components/schemas/ErrorDetail"},
            ],
        },
        "ListValidationError": {
            "description": (
                "A list body that is not valid: field errors about the list, errors of "
                "each failing item keyed by its position (DRF 3.18's default), a list "
                "with one entry per item (older DRF), or `detail`."
            ),
            "anyOf": [
                {"$ref": "#/components/schemas/FieldErrors"},
                {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/components/schemas/FieldErrors"},
                },
                {"type": "array", "items": {"$ref": "#/components/schemas/FieldErrors"}},
                {"$ref": "#/components/schemas/ErrorDetail"},
            ],
        },
    }
    _ERROR_DESCRIPTIONS = {
        "400": "The request is not valid, or a service refused it.",
        "401": "Not authenticated, with an authentication class that challenges.",
        "403": "Not authenticated (session authentication), or not allowed.",
        "404": "No such object, or another learner's; a page past the end.",
    }

    class ProgressAutoSchema(AutoSchema):
        """drf-spectacular's ``AutoSchema``, plus what the API's views promise.

        * every operation lists its error responses: ``400`` (field errors, or
          ``detail``) for an operation with a body or query parameters (a
          ``DELETE`` takes neither), ``401``
          and ``403`` (``detail``) when it needs permission, ``404``
          (``detail``) when its path names an object or its list is paginated;
        * a view with ``create_may_return_existing = True`` documents ``200``
          beside ``201`` for its create operation (an existing row returned);
        * only ``list`` actions (and list views) take the filter and
          pagination parameters, never an extra ``@action``;
        * descriptions carry Markdown, not Sphinx markup (:func:`plain_text`);
        * request bodies are documented as JSON, the API's format, when the
          host's parsers take JSON (form and multipart parsers serve the
          browsable API's forms, whose empty or garbled bodies mean no field).
        """

        def map_parsers(self) -> list[Any]:
            media_types = super().map_parsers()
            json_types = [t for t in media_types if "json" in t]
            return json_types or media_types

        def get_description(self) -> str:  # type: ignore[override]
            return plain_text(super().get_description() or "")

        def _map_serializer(
            self, serializer: Any, direction: Any, bypass_extensions: bool = False
        ) -> Any:
            return _plain_descriptions(
                super()._map_serializer(serializer, direction, bypass_extensions)
            )

        def _map_serializer_field(
            self, field: Any, direction: Any, bypass_extensions: bool = False
        ) -> Any:
            schema = super()._map_serializer_field(field, direction, bypass_extensions)
            maximum = getattr(field, "schema_maximum", None)
            if callable(maximum) and "type" in schema:
                schema["maximum"] = maximum()
            return schema

        def _is_list_action(self) -> bool:
            action = getattr(self.view, "action", None)
            if action is not None:
                return bool(action == "list")
            return self.method == "GET" and hasattr(self.view, "list")

        def get_filter_backends(self) -> list[Any]:
            return super().get_filter_backends() if self._is_list_action() else []

        def _get_filter_parameters(self) -> Any:
            parameters = super()._get_filter_parameters()
            for parameter in parameters:  # an empty filter or ordering is no filter
                if parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
            return parameters

        def _get_pagination_parameters(self) -> Any:
            return super()._get_pagination_parameters() if self._is_list_action() else []

        def _get_paginator(self) -> Any:
            return super()._get_paginator() if self._is_list_action() else None

        def _requires_permission(self) -> bool:
            return any(not isinstance(p, AllowAny) for p in self.view.get_permissions())

        def _error_ref(self, name: str) -> dict[str, str]:
            for component, schema in _ERROR_COMPONENTS.items():
                self.registry.register_on_missing(
                    ResolvedComponent(
                        name=component,
                        type=ResolvedComponent.SCHEMA,
                        schema=schema,
                        object=f"learning_progress.{component}",
                    )
                )
            return {"$ref": f"#/components/schemas/{name}"}

        def _error_response(self, code: str, component: str) -> dict[str, Any]:
            return {
                "content": {
                    media_type: {"schema": self._error_ref(component)}
                    for media_type in self.map_renderers("media_type")
                },
                "description": _ERROR_DESCRIPTIONS[code],
            }

        def _get_response_bodies(self, direction: Any = "response") -> Any:
            responses = super()._get_response_bodies(direction)
            if direction != "response":
                return responses
            if (
                self._is_create_operation()
                and getattr(self.view, "create_may_return_existing", False)
                and "201" in responses
            ):
                existing = getattr(
                    self.view, "create_existing_description", "The existing row, unchanged."
                )
                responses.setdefault("200", {**responses["201"], "description": existing})
                responses["201"] = {**responses["201"], "description": "Created."}
            errors = {}
            if self.method not in ("GET", "DELETE") or self._get_parameters_in("query"):
                errors["400"] = "ListValidationError" if self._takes_list() else "ValidationError"
            if self._requires_permission():
                errors["401"] = errors["403"] = "ErrorDetail"
            if "{" in self.path or self._get_paginator() is not None:
                errors["404"] = "ErrorDetail"
            for code, component in errors.items():
                if code not in responses:
                    responses[code] = self._error_response(code, component)
            return dict(sorted(responses.items()))

        def _takes_list(self) -> bool:
            """Whether the request body may be a list."""
            body = self.get_request_serializer()
            choices = getattr(body, "serializers", None)
            candidates = [body, *choices] if isinstance(choices, (list, tuple)) else [body]
            return any(is_list_serializer(c) for c in candidates)

        def _get_parameters_in(self, location: str) -> list[Any]:
            return [p for p in self._get_parameters() if p.get("in") == location]

    _schema_class = ProgressAutoSchema

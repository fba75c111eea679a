"""drf-spectacular annotations when it is installed, no-ops otherwise."""

from __future__ import annotations

from typing import Any


def _no_op(*args: Any, **kwargs: Any) -> Any:
    return lambda target: target


extend_schema: Any = _no_op
extend_schema_field: Any = _no_op
INT: Any = None


OpenApiParameter: Any = _no_op

try:
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter as _OpenApiParameter
    from drf_spectacular.utils import extend_schema as _extend_schema
    from drf_spectacular.utils import extend_schema_field as _extend_schema_field
except ImportError:  # pragma: no cover - drf-spectacular is optional
    pass
else:
    extend_schema = _extend_schema
    extend_schema_field = _extend_schema_field
    INT = OpenApiTypes.INT
    OpenApiParameter = _OpenApiParameter

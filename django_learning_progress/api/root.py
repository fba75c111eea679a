"""The API's root view, a link to every endpoint, and its JSON ``404`` for unknown paths."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, JsonResponse
from django.urls import NoReverseMatch, URLPattern, URLResolver
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from django_learning_progress.api._schema import extend_schema, view_schema


def endpoints(
    urlpatterns: Iterable[URLPattern | URLResolver], names: dict[str, str] | None = None
) -> list[tuple[str, str, list[str]]]:
    """``(key, URL name, path arguments)`` of each named pattern, once per name.

    ``names`` maps URL names to the keys they are listed under (by default the
    URL name itself); the root view and format-suffix duplicates are skipped.
    """
    names = names or {}
    found: dict[str, tuple[str, str, list[str]]] = {}
    for pattern in urlpatterns:
        name = getattr(pattern, "name", None)
        if not name or name == "api-root" or name in found:
            continue
        regex = pattern.pattern.regex
        arguments = [arg for arg in regex.groupindex if arg != "format"]
        found[name] = (names.get(name, name), name, arguments)
    return list(found.values())


class ApiRootView(APIView):
    """Links to every endpoint: the lists and ``me/progress/`` as URLs, the
    endpoints of one object or course as URI templates (``{id}``, ``{course_id}``).

    Permissions are the host's ``DEFAULT_PERMISSION_CLASSES``, as for DRF's own
    root view.
    """

    _ignore_model_permissions = True
    schema = view_schema()
    #: ``(key, URL name, path arguments)`` of each endpoint; see :func:`endpoints`.
    endpoints: list[tuple[str, str, list[str]]] = []

    @extend_schema(
        responses={
            200: {
                "type": "object",
                "description": (
                    "Endpoint URLs by key; URI templates (RFC 6570) for endpoints whose "
                    "path names an object, such as `{course_id}`."
                ),
                "additionalProperties": {"type": "string"},
            }
        }
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        match = request.resolver_match
        namespace = f"{match.namespace}:" if match and match.namespace else ""
        links = {}
        # URLs first, then templates; a router's ``pk`` is ``{id}``, as in the schema.
        for key, name, arguments in sorted(self.endpoints, key=lambda e: bool(e[2])):
            placeholders = {arg: "{%s}" % ("id" if arg == "pk" else arg) for arg in arguments}
            try:
                url = reverse(
                    namespace + name,
                    kwargs=placeholders,
                    request=request,
                    format=None if arguments else kwargs.get("format"),
                )
            except NoReverseMatch:  # pragma: no cover - a pattern that rejects braces
                continue
            for placeholder in placeholders.values():
                url = url.replace(quote(placeholder), placeholder)
            links[key] = url
        return Response(links)


@csrf_exempt  # a refused POST would otherwise get the CSRF failure page
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """``404`` with ``{"detail": "Not found."}`` for a path under one of the API's
    resources that names no endpoint, such as ``enrollments/0.5/`` (ids hold no
    ``.``): the same JSON body as for an id that names no row."""
    return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)

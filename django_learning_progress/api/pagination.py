"""Pagination: the host's ``DEFAULT_PAGINATION_CLASS``, or page numbers."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.settings import api_settings

from django_learning_progress.conf import app_settings


class ProgressPagination(PageNumberPagination):
    """Used when the host configures no DRF pagination: ``?page=`` and ``?page_size=``.

    ``page_size`` is a whole number from 1 to ``max_page_size`` (500); any other
    value answers ``400`` with ``{"page_size": [...]}`` (DRF's own paginator
    ignores a value it cannot read and lowers one that is too large).
    """

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Any) -> int | None:
        self.page_size = app_settings.API_PAGE_SIZE
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,9}", value) or not 1 <= int(value) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"A whole number from 1 to {self.max_page_size} is required."
                    ]
                }
            )
        return int(value)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
                parameter["description"] = (
                    f"Number of results to return per page, from 1 to {self.max_page_size}; "
                    f"default {app_settings.API_PAGE_SIZE}."
                )
        return parameters


class _HostPaginationClass:
    """``pagination_class`` read from the host's DRF settings on every access."""

    def __get__(self, instance: Any, owner: Any) -> type[BasePagination]:
        cls: Any = api_settings.DEFAULT_PAGINATION_CLASS
        return cls or ProgressPagination


class PaginatedMixin:
    """Every list is paginated, with the host's paginator when it set one."""

    pagination_class: Any = _HostPaginationClass()

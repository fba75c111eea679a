"""Pagination: the host's ``DEFAULT_PAGINATION_CLASS``, or page numbers."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.settings import api_settings

from django_learning_progress.conf import app_settings


class ProgressPagination(PageNumberPagination):
    """Used when the host configures no DRF pagination: ``?page=`` and ``?page_size=``."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Any) -> int | None:
        self.page_size = app_settings.API_PAGE_SIZE
        return super().get_page_size(request)


class _HostPaginationClass:
    """``pagination_class`` read from the host's DRF settings on every access."""

    def __get__(self, instance: Any, owner: Any) -> type[BasePagination]:
        cls: Any = api_settings.DEFAULT_PAGINATION_CLASS
        return cls or ProgressPagination


class PaginatedMixin:
    """Every list is paginated, with the host's paginator when it set one."""

    pagination_class: Any = _HostPaginationClass()

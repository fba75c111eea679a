"""Template filters that write figures in human units (``{% load learning_progress_units %}``).

``{{ seconds|lp_duration }}`` → ``5 h 29 min``; ``{{ rate|lp_rate }}`` (0 to 1) →
``62.5 %``; ``{{ percentage|lp_percentage }}`` (0 to 100) → ``62.5 %``. Each
gives an en dash for ``None``. See :func:`~django_learning_progress.reports.format_duration`.
"""

from __future__ import annotations

from typing import Any

from django import template

from django_learning_progress import reports

register = template.Library()


@register.filter
def lp_duration(seconds: Any) -> str:
    """Seconds in hours and minutes (:func:`~django_learning_progress.reports.format_duration`)."""
    return reports.format_duration(None if seconds in (None, "") else float(seconds))


@register.filter
def lp_rate(rate: Any) -> str:
    """A rate from 0 to 1 as a percentage (:func:`~django_learning_progress.reports.format_rate`)."""
    return reports.format_rate(None if rate in (None, "") else float(rate))


@register.filter
def lp_percentage(value: Any) -> str:
    """A percentage from 0 to 100 (:func:`~django_learning_progress.reports.format_percentage`)."""
    return reports.format_percentage(None if value in (None, "") else float(value))

"""Views of the instructor pages: a course's report, and its exports as downloads.

Who may open them: the course's instructors (``LEARNING_PROGRESS["INSTRUCTOR_CHECK"]``,
through :func:`~django_learning_progress.access.is_instructor`) and staff
users. An anonymous visitor is sent to ``settings.LOGIN_URL`` (with
``?next=``); a signed-in user who may not see the course gets 403; a course
id that names no course (or cannot be a key at all) gets 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from django_learning_progress import exports, reports
from django_learning_progress.access import is_instructor
from django_learning_progress.content import get_content_adapter
from django_learning_progress.pages import NAMESPACE
from django_learning_progress.validation import parse_pk

#: The exports the download offers, with their labels, in the order the page lists them.
DOWNLOADS = (
    ("progress", "Learner progress"),
    ("tasks", "Task progress"),
    ("attempts", "Quiz attempts"),
    ("responses", "Quiz responses"),
)


def get_course(request: HttpRequest, course_id: str) -> Any:
    """The course ``course_id`` names, if ``request.user`` may see it.

    Raises :class:`~django.http.Http404` for an id that names no course and
    :class:`~django.core.exceptions.PermissionDenied` for a user who is
    neither staff nor one of its instructors.
    """
    course_model: Any = get_content_adapter().course_model
    try:
        pk = parse_pk(course_model, course_id)
    except ValueError:
        raise Http404 from None
    course = course_model._default_manager.filter(pk=pk).first()
    if course is None:
        raise Http404
    if not is_instructor(request.user, course):
        raise PermissionDenied
    return course


def _query(**params: Any) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})


def roster_columns(listing: dict[str, Any]) -> list[dict[str, Any]]:
    """The roster's sortable column headers: ``key``, ``label``, ``href`` and ``aria_sort``.

    A column's link sorts by it (descending first for figures, ascending for
    the name and status); the current column's link reverses its order.
    """
    columns = []
    for key, (label, _field) in reports.roster_sorts().items():
        current = key == listing["sort"]
        # A column's first click: figures descending, names and statuses ascending.
        descending = not listing["descending"] if current else key not in ("name", "status")
        columns.append(
            {
                "key": key,
                "label": label,
                "href": _query(q=listing["q"], sort=f"-{key}" if descending else key),
                "aria_sort": (
                    ("descending" if listing["descending"] else "ascending") if current else None
                ),
            }
        )
    return columns


@never_cache
@require_safe
def course_report(request: HttpRequest, course_id: str) -> HttpResponse:
    """The course's report: outcomes, funnel, the paged roster, quizzes, downloads.

    Query parameters: ``q`` (search usernames), ``sort`` (a key of
    :func:`~django_learning_progress.reports.roster_sorts`, ``-`` first for
    descending) and ``page``. Renders ``learning_progress/pages/course_report.html``.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    course = get_course(request, course_id)
    listing = reports.roster_listing(
        course,
        q=request.GET.get("q", ""),
        sort=request.GET.get("sort", reports.DEFAULT_ROSTER_SORT),
        page=request.GET.get("page", 1),
    )
    page = listing["page"]
    sort = f"-{listing['sort']}" if listing["descending"] else listing["sort"]

    def page_href(number: int) -> str:
        return _query(q=listing["q"], sort=sort, page=number)

    export_url = reverse(f"{NAMESPACE}:course-export", args=[course.pk])
    context = {
        **reports.course_summary(course),
        "roster": listing,
        "columns": roster_columns(listing),
        "previous_href": page_href(page.previous_page_number()) if page.has_previous() else None,
        "next_href": page_href(page.next_page_number()) if page.has_next() else None,
        "first_href": page_href(1) if page.number > 1 else None,
        "last_href": (
            page_href(page.paginator.num_pages) if page.number < page.paginator.num_pages else None
        ),
        "sort_param": sort,
        "downloads": [
            {
                "what": what,
                "label": _(label),
                "csv": export_url + _query(what=what, format="csv"),
                "jsonl": export_url + _query(what=what, format="jsonl"),
            }
            for what, label in DOWNLOADS
        ],
    }
    return TemplateResponse(request, "learning_progress/pages/course_report.html", context)


@never_cache
@require_safe
def course_export(request: HttpRequest, course_id: str) -> HttpResponseBase:
    """A course's export as a streaming download.

    ``what`` is one of :data:`~django_learning_progress.exports.WHAT`
    (default ``progress``) and ``format`` one of
    :data:`~django_learning_progress.exports.FORMATS` (default ``csv``);
    another value gets 400. The bytes are those of ``manage.py
    export_progress COURSE_ID --what WHAT --format FORMAT``.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    course = get_course(request, course_id)
    what = request.GET.get("what", "progress")
    fmt = request.GET.get("format", "csv")
    if what not in exports.WHAT:
        return HttpResponseBadRequest(
            f"what must be one of {', '.join(exports.WHAT)}.", content_type="text/plain"
        )
    if fmt not in exports.FORMATS:
        return HttpResponseBadRequest(
            f"format must be one of {', '.join(exports.FORMATS)}.", content_type="text/plain"
        )
    export = exports.EXPORTS[what](course.pk)
    response = StreamingHttpResponse(
        exports.stream_export(export, fmt), content_type=exports.CONTENT_TYPES[fmt]
    )
    filename = exports.export_filename(course.pk, what, fmt)
    response.headers["Content-Disposition"] = content_disposition_header(True, filename)
    return response

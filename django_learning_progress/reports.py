"""The instructor report: the data behind the admin's course report and the instructor pages.

:func:`course_report` is what the admin's report page shows.
:func:`course_summary` and :func:`roster_listing` are what the instructor
pages (:mod:`django_learning_progress.pages`) show: the same figures, with
the histogram laid out on labelled axes and the roster paged, searched and
sorted in the database. :func:`format_duration`, :func:`format_rate` and
:func:`format_percentage` write figures in human units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from django_learning_progress import analytics, rosters
from django_learning_progress.content import get_content_adapter

#: Learners shown in the report's table (the roster API pages through all of them).
REPORT_LEARNERS = 500

#: Learners on one page of :func:`roster_listing`.
ROSTER_PAGE_SIZE = 50

#: Longest search text :func:`roster_listing` uses (the rest is ignored).
ROSTER_SEARCH_LENGTH = 150

#: What a missing figure reads (an en dash).
NO_FIGURE = "\u2013"

#: Default order of :func:`roster_listing`.
DEFAULT_ROSTER_SORT = "name"


def _by_pk(model: Any, ids: list[Any]) -> dict[Any, Any]:
    return {obj.pk: obj for obj in model._default_manager.filter(pk__in=ids)}


# -- human units ---------------------------------------------------------------------


def format_duration(seconds: float | None) -> str:
    """A duration in hours and minutes: ``"5 h 29 min"``, ``"12 min"``, ``"< 1 min"``.

    Two days and more read in days and hours (``"3 d 4 h"``); ``None`` reads :data:`NO_FIGURE`.
    """
    if seconds is None:
        return NO_FIGURE
    seconds = max(0.0, float(seconds))
    if seconds == 0:
        return "0 min"
    if seconds < 60:
        return "< 1 min"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def format_percentage(value: float | None) -> str:
    """A percentage (0 to 100) as ``"62.5 %"``: one decimal, none when whole; ``None`` reads :data:`NO_FIGURE`."""
    if value is None:
        return NO_FIGURE
    rounded = round(float(value), 1)
    if rounded == int(rounded):
        return f"{int(rounded)} %"
    return f"{rounded:.1f} %"


def format_rate(rate: float | None) -> str:
    """A rate (0 to 1) as a percentage: ``0.625`` → ``"62.5 %"``; ``None`` reads :data:`NO_FIGURE`."""
    return format_percentage(None if rate is None else float(rate) * 100)


# -- the histogram ----------------------------------------------------------------------


@dataclass(frozen=True)
class HistogramLayout:
    """Where the score histogram's parts sit in its SVG (user units)."""

    width: int = 380
    height: int = 230
    left: int = 56  # room for the y axis title and tick labels
    top: int = 22  # room for the number above the tallest bar
    plot_height: int = 140
    bar_width: int = 26
    step: int = 30

    @property
    def bottom(self) -> int:
        """The y of the x axis."""
        return self.top + self.plot_height


def histogram(stats: dict[str, Any], layout: HistogramLayout | None = None) -> dict[str, Any]:
    """The score histogram of :func:`~django_learning_progress.analytics.quiz_analytics` laid out on axes.

    Returns ``layout``, ``bars`` (each bin's ``from``, ``to``, ``count``, the
    rectangle's ``x``, ``y``, ``height`` and the position of its number,
    ``label_x`` and ``label_y``), ``x_ticks`` (``x``, ``label``: the bin
    boundaries, in %), ``y_ticks`` (``y``, ``label``: 0 and the tallest bar)
    and the axes' ends (``x_end``, ``axis_y``).
    """
    layout = layout or HistogramLayout()
    bins = stats["histogram"]
    peak = max([b["count"] for b in bins] + [1])
    bars = []
    for i, b in enumerate(bins):
        height = round(layout.plot_height * b["count"] / peak)
        x = layout.left + 4 + i * layout.step
        bars.append(
            {
                **b,
                "x": x,
                "y": layout.bottom - height,
                "height": height,
                "label_x": x + layout.bar_width // 2,
                "label_y": layout.bottom - height - 5,
            }
        )
    x_ticks = [
        {"x": layout.left + 4 + i * layout.step - 2, "label": low}
        for i, low in enumerate([b["from"] for b in bins] + [bins[-1]["to"] if bins else 0])
    ]
    return {
        "layout": layout,
        "bars": bars,
        "x_ticks": x_ticks,
        "y_ticks": [
            {"y": layout.bottom, "label": 0},
            {"y": layout.top, "label": peak},
        ],
        "x_end": layout.left + 4 + len(bins) * layout.step,
        "axis_y": layout.bottom,
        "x_title_x": layout.left + (len(bins) * layout.step) // 2,
        "x_title_y": layout.bottom + 40,
        "y_title_y": layout.top + layout.plot_height // 2,
    }


# -- the report -------------------------------------------------------------------------


def course_summary(course: Any) -> dict[str, Any]:
    """Every figure of ``course``'s report except the roster.

    Keys: ``course``, ``outcomes`` (:func:`~django_learning_progress.analytics.course_analytics`),
    ``funnel`` (its ``tasks`` rows, each with the task's ``title``) and
    ``quizzes`` (each ``quiz``, ``stats`` from
    :func:`~django_learning_progress.analytics.quiz_analytics`, ``bars``
    for the admin's histogram, ``histogram`` from :func:`histogram` and
    ``items``: the questions with their ``text``). The number of queries does
    not depend on the number of learners or attempts (it grows with the
    number of quizzes).
    """
    adapter = get_content_adapter()
    outcomes = analytics.course_analytics(course)
    tasks = _by_pk(adapter.task_model, [row["task"] for row in outcomes["tasks"]])
    funnel = [
        {**row, "title": str(tasks.get(row["task"], row["task"]))} for row in outcomes["tasks"]
    ]
    quizzes = []
    for quiz in adapter.course_quizzes(course):
        stats = analytics.quiz_analytics(quiz)
        questions = _by_pk(adapter.question_model, [q["question"] for q in stats["questions"]])
        peak = max([b["count"] for b in stats["histogram"]] + [1])
        quizzes.append(
            {
                "quiz": quiz,
                "stats": stats,
                "bars": [
                    {
                        **b,
                        "height": round(100 * b["count"] / peak),
                        "y": 110 - round(100 * b["count"] / peak),
                        "x": i * 30,
                    }
                    for i, b in enumerate(stats["histogram"])
                ],
                "histogram": histogram(stats),
                "items": [
                    {**q, "text": str(questions.get(q["question"], q["question"]))}
                    for q in stats["questions"]
                ],
            }
        )
    return {"course": course, "outcomes": outcomes, "funnel": funnel, "quizzes": quizzes}


def course_report(course: Any) -> dict[str, Any]:
    """Everything the admin's report page shows for ``course``.

    :func:`course_summary`, with ``roster``: the first :data:`REPORT_LEARNERS`
    learners by progress (:func:`~django_learning_progress.rosters.course_roster`),
    and ``roster_limit``. The number of queries does not depend on the
    number of learners or attempts (it grows with the number of quizzes).
    """
    summary = course_summary(course)
    roster = list(rosters.course_roster(course).order_by("-percentage", "pk")[:REPORT_LEARNERS])
    return {**summary, "roster": roster, "roster_limit": REPORT_LEARNERS}


# -- the paged roster -------------------------------------------------------------------


def roster_sorts() -> dict[str, tuple[Any, str]]:
    """The columns :func:`roster_listing` sorts by: ``{key: (label, field)}``.

    ``name`` (the learner's username), ``status``, ``percentage``, ``time``
    (time spent), ``activity`` (last activity) and ``enrolled``.
    """
    return {
        "name": (_("Learner"), f"user__{get_user_model().USERNAME_FIELD}"),
        "status": (_("Status"), "status"),
        "percentage": (_("Progress"), "percentage"),
        "time": (_("Time spent"), "time_spent"),
        "activity": (_("Last activity"), "last_activity_at"),
        "enrolled": (_("Enrolled"), "enrolled_at"),
    }


def parse_roster_sort(value: Any) -> tuple[str, bool]:
    """``value`` (``"time"``, ``"-percentage"``) as ``(key, descending)``.

    Anything that is not a key of :func:`roster_sorts`, with an optional
    leading ``-``, gives :data:`DEFAULT_ROSTER_SORT`, ascending.
    """
    text = value if isinstance(value, str) else ""
    descending = text.startswith("-")
    key = text[1:] if descending else text
    if key not in roster_sorts():
        return DEFAULT_ROSTER_SORT, False
    return key, descending


def roster_queryset(course: Any, *, q: str = "", sort: str = DEFAULT_ROSTER_SORT) -> QuerySet[Any]:
    """:func:`~django_learning_progress.rosters.course_roster` searched and ordered.

    ``q`` keeps the learners whose username contains it (case-insensitive,
    at most :data:`ROSTER_SEARCH_LENGTH` characters used); ``sort`` is read
    by :func:`parse_roster_sort`. Ties are broken by enrollment id; learners
    with no activity come last either way.
    """
    key, descending = parse_roster_sort(sort)
    field = roster_sorts()[key][1]
    qs = rosters.course_roster(course)
    text = q.strip()[:ROSTER_SEARCH_LENGTH] if isinstance(q, str) else ""
    if text:
        qs = qs.filter(**{f"user__{get_user_model().USERNAME_FIELD}__icontains": text})
    order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return qs.order_by(order, "-pk" if descending else "pk")


def roster_listing(
    course: Any,
    *,
    q: str = "",
    sort: str = DEFAULT_ROSTER_SORT,
    page: Any = 1,
    per_page: int = ROSTER_PAGE_SIZE,
) -> dict[str, Any]:
    """One page of ``course``'s roster, searched and sorted (see :func:`roster_queryset`).

    Keys: ``page`` (a :class:`~django.core.paginator.Page` of enrollments
    with the :func:`~django_learning_progress.rosters.course_roster` figures;
    a page number that is not a number gives the first page, one past the
    end the last), ``q`` (the search text used), ``sort`` (the sort key),
    ``descending`` and ``total`` (learners matching ``q``). Three queries
    whatever the number of learners: the course's required tasks, the
    count, the page.
    """
    key, descending = parse_roster_sort(sort)
    text = q.strip()[:ROSTER_SEARCH_LENGTH] if isinstance(q, str) else ""
    qs = roster_queryset(course, q=text, sort=f"-{key}" if descending else key)
    current: Page[Any] = Paginator(qs, per_page).get_page(page)
    return {
        "page": current,
        "q": text,
        "sort": key,
        "descending": descending,
        "total": current.paginator.count,
    }

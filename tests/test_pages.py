"""The instructor pages (django_learning_progress.pages): access, content, paging, downloads."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_learning_progress import analytics, exports, reports, services
from django_learning_progress.admin import report_url
from django_learning_progress.pages import course_page_url
from tests.conftest import CourseTree, build_course

pytestmark = pytest.mark.django_db


def page_url(course: Any, **params: Any) -> str:
    url = reverse("learning_progress_pages:course-report", args=[course.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def export_url(course: Any, **params: Any) -> str:
    url = reverse("learning_progress_pages:course-export", args=[course.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def populate(tree: CourseTree, make_user: Any, learners: int, prefix: str = "learner") -> None:
    for n in range(learners):
        user = make_user(username=f"{prefix}{n:03d}")
        services.enroll(user, tree.course)
        services.add_time_spent(user, tree.lessons[n % len(tree.lessons)], 60 * n)
        if n % 2 == 0:
            services.complete_task(user, tree.lessons[0])
        attempt = services.start_attempt(user, tree.quizzes[0])
        services.answer_question(user, attempt, tree.questions[n % 3], f"a{n % 3}")
        services.submit_attempt(user, attempt)


@pytest.fixture
def instructor(make_user: Any, course_tree: CourseTree) -> Any:
    user = make_user(username="ines", is_staff=False)
    course_tree.course.instructors.add(user)
    return user


def rows(html: str) -> list[str]:
    """Usernames of the roster rows, in page order."""
    return re.findall(r'<th scope="row" data-figure="username">([^<]*)</th>', html)


# -- access ------------------------------------------------------------------------------


def test_instructor_who_is_not_staff_opens_the_page(
    client: Any, instructor: Any, course_tree: CourseTree
) -> None:
    client.force_login(instructor)
    response = client.get(page_url(course_tree.course))
    assert response.status_code == 200
    assert "learning_progress/pages/course_report.html" in [t.name for t in response.templates]
    assert "learning_progress/pages/base.html" in [t.name for t in response.templates]
    assert "no-store" in response.headers["Cache-Control"]  # learners' data
    assert client.get(export_url(course_tree.course)).status_code == 200


def test_staff_who_does_not_teach_the_course(
    client: Any, make_user: Any, course_tree: CourseTree
) -> None:
    client.force_login(make_user(username="staffer", is_staff=True))
    assert client.get(page_url(course_tree.course)).status_code == 200
    assert client.get(export_url(course_tree.course)).status_code == 200


def test_another_learner_gets_403(client: Any, make_user: Any, course_tree: CourseTree) -> None:
    learner = make_user(username="nosy")
    services.enroll(learner, course_tree.course)
    client.force_login(learner)
    assert client.get(page_url(course_tree.course)).status_code == 403
    assert client.get(export_url(course_tree.course, what="progress")).status_code == 403


def test_instructor_of_another_course_gets_403(
    client: Any, instructor: Any, course_tree: CourseTree
) -> None:
    other = build_course("Other course")
    client.force_login(instructor)
    assert client.get(page_url(other.course)).status_code == 403
    assert client.get(export_url(other.course)).status_code == 403


def test_anonymous_is_sent_to_the_login_page(client: Any, course_tree: CourseTree) -> None:
    for url in (page_url(course_tree.course), export_url(course_tree.course, what="attempts")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith(settings.LOGIN_URL)
        assert "next=" in response.headers["Location"]


@pytest.mark.parametrize(
    "course_id",
    ["999999", "abc", "-1", "1.0", "1e3", "%20", "99999999999999999999999", "0x10", "\uff11"],
)
def test_unknown_or_hostile_course_id_is_404(
    client: Any, make_user: Any, course_tree: CourseTree, course_id: str
) -> None:
    client.force_login(make_user(username="staffer", is_staff=True))
    assert client.get(f"/teach/{course_id}/").status_code == 404
    assert client.get(f"/teach/{course_id}/export/?what=progress").status_code == 404


def test_only_safe_methods(client: Any, instructor: Any, course_tree: CourseTree) -> None:
    client.force_login(instructor)
    assert client.post(page_url(course_tree.course)).status_code == 405
    assert client.post(export_url(course_tree.course)).status_code == 405


# -- content -------------------------------------------------------------------------------


def test_figures_in_human_units(
    client: Any, instructor: Any, make_user: Any, course_tree: CourseTree
) -> None:
    populate(course_tree, make_user, 6)
    slow = make_user(username="slowpoke")
    services.enroll(slow, course_tree.course)
    for seconds in (3600, 3600, 3600, 3600, 3600, 29 * 60):  # at most an hour per call
        services.add_time_spent(slow, course_tree.lessons[0], seconds)
    client.force_login(instructor)
    html = client.get(page_url(course_tree.course, sort="-time")).content.decode()
    outcomes = analytics.course_analytics(course_tree.course)
    assert f'data-figure="enrolled">{outcomes["enrolled"]}<' in html
    assert 'data-figure="time_spent">5 h 29 min<' in html
    assert re.search(r'data-figure="time_spent">\d+ min<', html)
    assert " s<" not in html  # no raw seconds anywhere
    assert re.search(r'data-figure="percentage">\d+(\.\d)? %<', html)
    assert re.search(r'data-figure="completion_rate">\d+(\.\d)? %<', html)
    assert re.search(r'data-figure="mean_percentage">\d+(\.\d)? %<', html)
    assert re.search(r'data-figure="pass_rate">(\d+(\.\d)? %|\u2013)<', html)
    assert re.search(r'data-figure="facility">\d+(\.\d)? %<', html)
    for lesson in course_tree.lessons:
        assert str(lesson) in html
    report = html[html.index('id="lp-report"') :]
    assert "<script" not in report  # no JavaScript
    assert "http://" not in report and "https://" not in report  # nothing fetched


def test_each_funnel_bar_has_its_number(
    client: Any, instructor: Any, make_user: Any, course_tree: CourseTree
) -> None:
    populate(course_tree, make_user, 4)
    client.force_login(instructor)
    html = client.get(page_url(course_tree.course)).content.decode()
    funnel = html[html.index('id="lp-funnel"') : html.index('id="lp-learners"')]
    outcomes = analytics.course_analytics(course_tree.course)
    assert funnel.count('class="lp-bar"') == len(outcomes["tasks"])
    for row in outcomes["tasks"]:
        cell = f'data-figure="completion_rate">{reports.format_rate(row["completion_rate"])}<'
        assert cell in funnel


def test_histogram_has_labelled_axes_and_numbers(
    client: Any, instructor: Any, make_user: Any, course_tree: CourseTree
) -> None:
    populate(course_tree, make_user, 5)
    client.force_login(instructor)
    html = client.get(page_url(course_tree.course)).content.decode()
    stats = analytics.quiz_analytics(course_tree.quizzes[0])
    assert "Score (%)</text>" in html and "Attempts</text>" in html
    counts = re.findall(r'class="lp-bar-count"[^>]*>(\d+)</text>', html)
    assert [int(c) for c in counts] == [b["count"] for b in stats["histogram"]]
    ticks = re.findall(r'class="lp-x-tick"[^>]*>(\d+)</text>', html)
    assert ticks == [str(n) for n in range(0, 101, 10)]
    assert 'role="img" aria-labelledby="lp-hist-1"' in html and 'id="lp-hist-1"' in html


def test_tables_for_screen_readers(
    client: Any, instructor: Any, make_user: Any, course_tree: CourseTree
) -> None:
    populate(course_tree, make_user, 3)
    client.force_login(instructor)
    html = client.get(page_url(course_tree.course)).content.decode()
    tables = re.findall(r"<table[^>]*>(.*?)</table>", html, re.S)
    assert len(tables) >= 4
    for table in tables:
        assert "<caption>" in table
        header_cells = re.findall(r"<th\b([^>]*)>", table)
        assert header_cells and all("scope=" in attrs for attrs in header_cells)
    assert 'aria-sort="ascending"' in html  # the default sort, by name
    assert "▲" in html  # and the order is shown, not only announced


# -- the roster: paging, search, sort -----------------------------------------------------


@pytest.fixture
def crowded(course_tree: CourseTree, make_user: Any) -> CourseTree:
    populate(course_tree, make_user, 60)
    return course_tree


def test_roster_is_paged(client: Any, instructor: Any, crowded: CourseTree) -> None:
    client.force_login(instructor)
    first = client.get(page_url(crowded.course)).content.decode()
    assert rows(first) == [f"learner{n:03d}" for n in range(50)]
    assert "Page 1 of 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get(page_url(crowded.course, page=2)).content.decode()
    assert rows(second) == [f"learner{n:03d}" for n in range(50, 60)]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    for bad in ("abc", "0", "-3", "1e9"):
        assert client.get(page_url(crowded.course, page=bad)).status_code == 200
    assert rows(client.get(page_url(crowded.course, page=999)).content.decode()) == rows(second)


def test_roster_search(client: Any, instructor: Any, crowded: CourseTree) -> None:
    client.force_login(instructor)
    html = client.get(page_url(crowded.course, q="LEARNER01")).content.decode()
    assert rows(html) == [f"learner{n:03d}" for n in range(10, 20)]
    assert "10 learners" in html
    assert rows(client.get(page_url(crowded.course, q="nobody")).content.decode()) == []
    hostile = client.get(page_url(crowded.course, q="%25%27%22<script>" + "x" * 500))
    assert hostile.status_code == 200 and "<script>" not in hostile.content.decode()


def test_roster_sort(client: Any, instructor: Any, crowded: CourseTree) -> None:
    client.force_login(instructor)
    by_time = rows(client.get(page_url(crowded.course, sort="-time")).content.decode())
    assert by_time[:3] == ["learner059", "learner058", "learner057"]
    ascending = rows(client.get(page_url(crowded.course, sort="time")).content.decode())
    assert ascending[:2] == ["learner000", "learner001"]
    by_pct = client.get(page_url(crowded.course, sort="-percentage")).content.decode()
    assert all(int(n[-3:]) % 2 == 0 for n in rows(by_pct)[:30])  # completed a lesson
    # Sort and search together; the sort survives paging links.
    html = client.get(page_url(crowded.course, sort="-time", q="learner0")).content.decode()
    assert "sort=-time" in html[html.index('rel="next"') - 200 :]
    for bad in ("password", "-user__password", "--time", "", "pk"):
        response = client.get(page_url(crowded.course, sort=bad))
        assert response.status_code == 200
        assert rows(response.content.decode())[:2] == ["learner000", "learner001"]


# -- queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("learners", [10, 60])
def test_page_queries_do_not_grow(
    client: Any,
    make_user: Any,
    learners: int,
    django_assert_max_num_queries: Any,
) -> None:
    tree = build_course()
    teacher = make_user(username="teach")
    tree.course.instructors.add(teacher)
    populate(tree, make_user, learners)
    client.force_login(teacher)
    client.get(page_url(tree.course))  # warm up
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page_url(tree.course, sort="-time", q="learner")).status_code == 200
    # Session, user, course, instructor check; course analytics and funnel titles (7
    # on SQLite, which computes medians in Python); quizzes; per quiz 4 (statistics,
    # medians on SQLite, questions, item sums) and question titles; the roster's
    # required tasks, count and page. The same at 10 and 60 learners.
    assert len(queries) <= PAGE_QUERIES, [q["sql"] for q in queries.captured_queries]
    with django_assert_max_num_queries(PAGE_QUERIES):
        client.get(page_url(tree.course, page=2))


PAGE_QUERIES = 19


# -- downloads --------------------------------------------------------------------------------


def command_output(course: Any, what: str, fmt: str) -> bytes:
    out = io.StringIO()
    call_command("export_progress", str(course.pk), what=what, format=fmt, stdout=out)
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("what", exports.WHAT)
@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_download_is_the_command_output(
    client: Any, instructor: Any, make_user: Any, course_tree: CourseTree, what: str, fmt: str
) -> None:
    populate(course_tree, make_user, 7)
    client.force_login(instructor)
    response = client.get(export_url(course_tree.course, what=what, format=fmt))
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body == command_output(course_tree.course, what, fmt)
    assert response.headers["Content-Type"] == exports.CONTENT_TYPES[fmt]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="course-{course_tree.course.pk}-{what}.{fmt}"'
    )
    if fmt == "jsonl":
        assert len([json.loads(line) for line in body.decode().splitlines()]) > 0


def test_download_rows_match_the_roster(
    client: Any, instructor: Any, make_user: Any, course_tree: CourseTree
) -> None:
    populate(course_tree, make_user, 5)
    client.force_login(instructor)
    body = b"".join(client.get(export_url(course_tree.course)).streaming_content).decode()
    html = client.get(page_url(course_tree.course)).content.decode()
    lines = body.splitlines()
    assert lines[0].startswith("enrollment_id,user_id,username,")
    assert sorted(line.split(",")[2] for line in lines[1:]) == sorted(rows(html))


def test_download_streams_in_pieces(
    client: Any,
    instructor: Any,
    make_user: Any,
    course_tree: CourseTree,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    populate(course_tree, make_user, 12)
    monkeypatch.setattr(exports, "STREAM_BUFFER", 200)
    client.force_login(instructor)
    response = client.get(export_url(course_tree.course, what="responses", format="csv"))
    pieces = list(response.streaming_content)
    assert len(pieces) > 3 and all(len(p) < 200 + 1000 for p in pieces)
    assert b"".join(pieces) == command_output(course_tree.course, "responses", "csv")


@pytest.mark.parametrize(
    "params",
    [{"what": "everything"}, {"what": "progress", "format": "xlsx"}, {"format": "CSV"}],
)
def test_bad_download_parameters_are_400(
    client: Any, instructor: Any, course_tree: CourseTree, params: dict[str, str]
) -> None:
    client.force_login(instructor)
    assert client.get(export_url(course_tree.course, **params)).status_code == 400


def test_the_page_links_its_downloads(
    client: Any, instructor: Any, course_tree: CourseTree
) -> None:
    client.force_login(instructor)
    html = client.get(page_url(course_tree.course)).content.decode()
    for what in exports.WHAT:
        for fmt in exports.FORMATS:
            link = export_url(course_tree.course, what=what, format=fmt)
            assert f'href="{link.replace("&", "&amp;")}"' in html


# -- the admin, templates, units ----------------------------------------------------------------


def test_admin_report_links_to_the_page(admin_client: Any, course_tree: CourseTree) -> None:
    html = admin_client.get(report_url(course_tree.course)).content.decode()
    assert f'href="{page_url(course_tree.course)}"' in html
    assert course_page_url(course_tree.course) == page_url(course_tree.course)


@override_settings(ROOT_URLCONF="tests.urls_nopages")
def test_admin_report_without_the_pages(admin_client: Any, course_tree: CourseTree) -> None:
    assert course_page_url(course_tree.course) is None
    response = admin_client.get(report_url(course_tree.course))
    assert response.status_code == 200
    assert 'id="lp-pages-link"' not in response.content.decode()


def test_host_overrides_the_base_template(
    client: Any, instructor: Any, course_tree: CourseTree, tmp_path: Path
) -> None:
    base = tmp_path / "learning_progress" / "pages" / "base.html"
    base.parent.mkdir(parents=True)
    base.write_text(
        "<html><body><nav>HOST LAYOUT</nav>{% block content %}{% endblock %}</body></html>"
    )
    templates = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    client.force_login(instructor)
    with override_settings(TEMPLATES=templates):
        html = client.get(page_url(course_tree.course)).content.decode()
    assert "HOST LAYOUT" in html and 'id="lp-report"' in html


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "\u2013"),
        (0, "0 min"),
        (45, "< 1 min"),
        (60, "1 min"),
        (3599, "1 h 00 min"),
        (5 * 3600 + 29 * 60, "5 h 29 min"),
        (3 * 86400 + 4 * 3600, "3 d 4 h"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert reports.format_duration(seconds) == text


def test_format_rates() -> None:
    assert reports.format_rate(0.25) == "25 %"
    assert reports.format_rate(0.625) == "62.5 %"
    assert reports.format_rate(None) == reports.NO_FIGURE
    assert reports.format_percentage(100.0) == "100 %"
    assert reports.format_percentage(33.3333) == "33.3 %"


def test_export_filename_is_safe() -> None:
    assert exports.export_filename(42, "progress", "csv") == "course-42-progress.csv"
    assert exports.export_filename('a"b/c é', "tasks", "jsonl") == "course-a_b_c__-tasks.jsonl"


def test_pages_do_not_import_drf() -> None:
    """The pages are core: they load without Django REST framework."""
    import subprocess
    import sys

    code = (
        "import sys, django; django.setup(); "
        "import django_learning_progress.pages.urls, django_learning_progress.exports; "
        "assert not any(m.split('.')[0] == 'rest_framework' for m in sys.modules), 'DRF imported'"
    )
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings_nodrf", "PATH": "/usr/bin:/bin"}
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_host_overrides_one_block_of_the_report(
    client: Any, instructor: Any, course_tree: CourseTree, tmp_path: Path
) -> None:
    """A host extends the shipped report under the same name and replaces one block."""
    report = tmp_path / "learning_progress" / "pages" / "course_report.html"
    report.parent.mkdir(parents=True)
    report.write_text(
        '{% extends "learning_progress/pages/course_report.html" %}'
        "{% block downloads %}<p>NO DOWNLOADS HERE</p>{% endblock %}"
    )
    templates = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    client.force_login(instructor)
    with override_settings(TEMPLATES=templates):
        html = client.get(page_url(course_tree.course)).content.decode()
    assert "NO DOWNLOADS HERE" in html and 'id="lp-downloads"' not in html
    assert 'id="lp-roster"' in html

"""URLs of the instructor pages (namespace ``learning_progress_pages``).

* ``course-report``: ``<course_id>/``, the course's report;
* ``course-export``: ``<course_id>/export/?what=…&format=…``, a download.
"""

from __future__ import annotations

from django.urls import path

from django_learning_progress.pages import views

app_name = "learning_progress_pages"

urlpatterns = [
    path("<str:course_id>/", views.course_report, name="course-report"),
    path("<str:course_id>/export/", views.course_export, name="course-export"),
]

"""URLs of the benchmark: the app's REST API and the hand-written equivalents."""

from django.urls import include, path

from bench import naive

urlpatterns = [
    path("api/progress/", include("django_learning_progress.api.urls")),
    path("naive/courses/<str:course_id>/progress/", naive.NaiveRosterView.as_view()),
    path("naive/me/progress/", naive.NaiveMyProgressView.as_view()),
    path("naive/task-progress/<int:task_id>/time/", naive.NaiveTimeSpentView.as_view()),
]

"""URLs of the REST API, namespace ``learning_progress``.

Include them with ``path("api/progress/", include("django_learning_progress.api.urls"))``.
"""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import DefaultRouter

from django_learning_progress.checks import is_configured

app_name = "learning_progress"

urlpatterns: list[URLPattern | URLResolver] = []

if is_configured():  # otherwise `manage.py check` reports the settings to fix
    from django_learning_progress.api import views

    router = DefaultRouter()
    router.register("enrollments", views.EnrollmentViewSet, basename="enrollment")
    router.register("task-progress", views.TaskProgressViewSet, basename="task-progress")
    router.register("quiz-attempts", views.QuizAttemptViewSet, basename="quiz-attempt")
    router.register("quiz-responses", views.QuizResponseViewSet, basename="quiz-response")

    urlpatterns += [
        path(
            "courses/<str:course_id>/progress/",
            views.CourseProgressView.as_view(),
            name="course-progress",
        ),
        path(
            "courses/<str:course_id>/analytics/",
            views.CourseAnalyticsView.as_view(),
            name="course-analytics",
        ),
        path(
            "quizzes/<str:quiz_id>/analytics/",
            views.QuizAnalyticsView.as_view(),
            name="quiz-analytics",
        ),
        path("me/progress/", views.MyProgressView.as_view(), name="me-progress"),
        *router.urls,
    ]

"""URLs of the REST API, namespace ``learning_progress``.

Include them with ``path("api/progress/", include("django_learning_progress.api.urls"))``.
"""

import re

from django.apps import apps
from django.urls import URLPattern, URLResolver, path, re_path
from rest_framework.routers import DefaultRouter
from rest_framework.urlpatterns import format_suffix_patterns

from django_learning_progress.checks import is_configured

app_name = "learning_progress"

urlpatterns: list[URLPattern | URLResolver] = []

if is_configured():  # otherwise `manage.py check` reports the settings to fix
    from django_learning_progress.api import views
    from django_learning_progress.api.root import ApiRootView, endpoints, not_found

    router = DefaultRouter()
    router.include_root_view = False  # ApiRootView lists every endpoint, not only these
    router.register("enrollments", views.EnrollmentViewSet, basename="enrollment")
    router.register("task-progress", views.TaskProgressViewSet, basename="task-progress")
    router.register("quiz-attempts", views.QuizAttemptViewSet, basename="quiz-attempt")
    router.register("quiz-responses", views.QuizResponseViewSet, basename="quiz-response")
    router.register("quiz-overrides", views.QuizOverrideViewSet, basename="quiz-override")

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
        path(
            "quizzes/<str:quiz_id>/status/",
            views.QuizStatusView.as_view(),
            name="quiz-status",
        ),
        path(
            "quizzes/<str:quiz_id>/regrade/",
            views.QuizRegradeView.as_view(),
            name="quiz-regrade",
        ),
        path("me/progress/", views.MyProgressView.as_view(), name="me-progress"),
        *router.urls,
    ]
    if apps.is_installed("django_learning_progress.xapi"):  # the learning records
        from django_learning_progress.api import history

        urlpatterns += [
            path("me/history/", history.MyHistoryView.as_view(), name="me-history"),
            path(
                "courses/<str:course_id>/learners/<str:user_id>/history/",
                history.LearnerHistoryView.as_view(),
                name="learner-history",
            ),
        ]
    # The lists keep the keys of DRF's root view (the router prefixes).
    list_keys = {f"{basename}-list": prefix for prefix, _, basename in router.registry}
    root = ApiRootView.as_view(endpoints=endpoints(urlpatterns, list_keys))
    urlpatterns += format_suffix_patterns([re_path(r"^$", root, name="api-root")])
    # Any other path under the API's resources, ending in a slash (so that
    # APPEND_SLASH still redirects the others), answers a JSON 404.
    resources = "|".join(
        re.escape(prefix) for prefix in ("courses", "quizzes", "me", *list_keys.values())
    )
    urlpatterns.append(re_path(rf"^(?:{resources})/(?:.*/)?$", not_found))

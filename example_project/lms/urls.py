"""URLs of the example LMS."""

from catalog import views
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", views.home, name="home"),
    path("courses/<slug:slug>/", views.course_detail, name="course"),
    path("courses/<slug:slug>/enroll/", views.enroll, name="enroll"),
    path("courses/<slug:slug>/roster/", views.course_roster, name="roster"),
    path("lessons/<int:pk>/", views.lesson_detail, name="lesson"),
    path("lessons/<int:pk>/complete/", views.complete_lesson, name="complete-lesson"),
    path("quizzes/<int:pk>/", views.quiz_detail, name="quiz"),
    path("quizzes/<int:pk>/start/", views.start_attempt, name="start-attempt"),
    path("attempts/<int:pk>/", views.attempt_detail, name="attempt"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    # The instructor pages (course report and downloads), namespace "learning_progress_pages".
    path("teach/", include("django_learning_progress.pages.urls")),
    # The progress REST API; its URL names live in the "learning_progress" namespace.
    path("api/progress/", include("django_learning_progress.api.urls")),
    path("api-auth/", include("rest_framework.urls")),  # log in/out links of the browsable API
]

if settings.HAS_SPECTACULAR:
    from drf_spectacular.views import SpectacularAPIView

    # The OpenAPI schema only: Swagger UI and ReDoc load their assets from a CDN.
    urlpatterns.append(path("api/schema/", SpectacularAPIView.as_view(), name="schema"))

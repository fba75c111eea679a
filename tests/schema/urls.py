"""The test project's URLs and its OpenAPI schema at ``/api/schema/``."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from tests.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    *project_urlpatterns,
]

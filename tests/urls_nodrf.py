from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("teach/", include("django_learning_progress.pages.urls")),
    # settings.LOGIN_URL: where the instructor pages send anonymous visitors.
    path("accounts/login/", LoginView.as_view(template_name="admin/login.html"), name="login"),
]

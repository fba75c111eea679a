"""A host that does not include the instructor pages (the admin must not link to them)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]

"""Routes of the reports app (the API module lists its documented paths)."""

from django.urls import include, path

app_name = "reports"

urlpatterns = [
    path("", include("apps.reports.api.aimg")),
]

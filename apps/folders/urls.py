"""Routes of the folders app: the AIMG folder endpoints, at the root like every AIMG path."""

from django.urls import include, path

app_name = "folders"

urlpatterns = [
    path("", include("apps.folders.api.aimg")),
]

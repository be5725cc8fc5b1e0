"""Routes of the tags app: the AIMG tag endpoints, at the root like every AIMG path."""

from django.urls import include, path

app_name = "tags"

urlpatterns = [
    path("", include("apps.tags.api.aimg")),
]

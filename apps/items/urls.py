"""Routes of the items app (each API module lists its own documented paths)."""

from django.urls import include, path

app_name = "items"

urlpatterns = [
    path("", include("apps.items.api.aimg")),
]

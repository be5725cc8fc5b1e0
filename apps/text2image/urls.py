"""Routes of the generation engine: AIMG generation, API2 workflows, and the OCS APIs."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.text2image.urls_aimg")),
    path("", include("apps.text2image.urls_workflows")),
    path("", include("apps.text2image.urls_ocs")),
]

"""Routes of the Nextcloud OCS text2image and textprocessing APIs, under /ocs/v2.php/ and /ocs/v1.php/.

Where Nextcloud's routes and its documentation name different verbs, each view answers both
(fetching a task or an image: GET and POST; listing by app: GET and DELETE).
"""

from django.urls import path

from .api import ocs


def _routes(version: str) -> list:
    root = f"ocs/{version}.php/"
    t2i, text = f"{root}text2image/", f"{root}textprocessing/"
    return [
        path(f"{t2i}is_available", ocs.Text2ImageAvailableView.as_view(), name=f"ocs-{version}-t2i-available"),
        path(f"{t2i}schedule", ocs.Text2ImageScheduleView.as_view(), name=f"ocs-{version}-t2i-schedule"),
        path(f"{t2i}task/<int:task_id>", ocs.Text2ImageTaskView.as_view(), name=f"ocs-{version}-t2i-task"),
        path(
            f"{t2i}task/<int:task_id>/image/<int:index>",
            ocs.Text2ImageImageView.as_view(),
            name=f"ocs-{version}-t2i-image",
        ),
        path(f"{t2i}tasks/app/<str:app_id>", ocs.Text2ImageTasksByAppView.as_view(), name=f"ocs-{version}-t2i-by-app"),
        path(f"{text}tasktypes", ocs.TextTaskTypesView.as_view(), name=f"ocs-{version}-text-types"),
        path(f"{text}schedule", ocs.TextScheduleView.as_view(), name=f"ocs-{version}-text-schedule"),
        path(f"{text}task/<int:task_id>", ocs.TextTaskView.as_view(), name=f"ocs-{version}-text-task"),
        path(f"{text}tasks/app/<str:app_id>", ocs.TextTasksByAppView.as_view(), name=f"ocs-{version}-text-by-app"),
    ]


urlpatterns = _routes("v2") + _routes("v1")

"""Routes of the AIMG API2 workflows (``/2/...``)."""

from django.urls import path

from .api.aimg_workflows import WorkflowViewSet


def _route(route: str, method: str, action: str):
    return path(route, WorkflowViewSet.as_view({method: action}), name=action.replace("_", "-"))


urlpatterns = [
    _route("2/getAggregatedWorkflowTemplates", "get", "get_aggregated_workflow_templates"),
    _route("2/getFileGroupItems", "get", "get_file_group_items"),
    _route("2/getWorkflowStatus", "get", "get_workflow_status"),
    _route("2/enqueueWorkflow", "post", "enqueue_workflow"),
]

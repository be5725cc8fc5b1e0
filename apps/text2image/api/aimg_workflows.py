"""AIMG API2 workflows: ``/2/getAggregatedWorkflowTemplates``, ``/2/getFileGroupItems``,
``/2/getWorkflowStatus`` and ``/2/enqueueWorkflow``.

Every API2 endpoint needs the ``X-Session-ID`` of a signed-in user whose PRO tier is higher than 0
(401 without a signed-in user, 403 below tier 1). Templates are those deployed to this
installation's deployment (setting ``API2_DEPLOYMENT``), validated, and shared or of one of the user's
organizations. A workflow's status is visible to its owner only.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from apps.core.dialects.aimg import AimgViewSet
from apps.core.dialects.base import parse_query
from apps.core.dialects.permissions import NOT_SIGNED_IN, NOT_SIGNED_IN_CODE
from apps.core.errors import InvalidInput, NotFound

from ..selectors import workflows as selectors
from ..services import workflows as services
from .schemas import WORKFLOW_STATUS, WORKFLOW_TEMPLATES
from .workflow_serializers import (
    EnqueueWorkflowResultSerializer,
    EnqueueWorkflowSerializer,
    FileGroupQuery,
    StatusQuery,
    TemplateQuery,
    state_payload,
    template_payload,
)

TAGS = ["API2: Workflows"]
MAX_STATUS_IDS = 100


class Api2User(BasePermission):
    """A signed-in user (session or administration key) whose PRO tier is higher than 0."""

    message = NOT_SIGNED_IN
    code = NOT_SIGNED_IN_CODE

    def has_permission(self, request, view):
        from apps.billing import selectors as billing

        user = request.user
        if not (user and user.is_authenticated):
            return False
        if billing.effective_tier(user) <= 0:
            self.message, self.code = services.API2_TIER_MESSAGE, None
            return False
        return True


def _q(name, kind=str, description="", required=False) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=required, description=description)


class WorkflowViewSet(AimgViewSet):
    permission_classes = (Api2User,)
    validation_location = "body"

    @extend_schema(
        operation_id="getAggregatedWorkflowTemplates",
        tags=TAGS,
        parameters=[_q("workflowTemplateNames", description="Comma-separated template names to return.")],
        responses={200: WORKFLOW_TEMPLATES},
    )
    def get_aggregated_workflow_templates(self, request):
        query = parse_query(TemplateQuery, request)
        names = query.get("workflowTemplateNames") or None
        templates = selectors.available_templates(user=request.user, names=names)
        return Response([template_payload(template) for template in templates])

    @extend_schema(
        operation_id="getFileGroupItems",
        tags=TAGS,
        parameters=[_q("fileGroup", description="The name of the file group.", required=True)],
        responses={200: inline_serializer("AimgFileGroupItems", {"fileNames": serializers.ListField()})},
    )
    def get_file_group_items(self, request):
        name = parse_query(FileGroupQuery, request)["fileGroup"].strip()
        names = selectors.file_group_names(name)
        if names is None:
            raise NotFound(f"There is no file group named {name!r}.")
        return Response({"fileNames": names})

    @extend_schema(
        operation_id="getWorkflowStatus",
        tags=TAGS,
        parameters=[
            _q("workflowId", OpenApiTypes.UUID, "One workflow: the answer is one WorkflowStateObject."),
            _q("workflowIds", str, f"Comma-separated workflow ids (at most {MAX_STATUS_IDS}): the answer is an array."),
        ],
        responses={200: WORKFLOW_STATUS},
    )
    def get_workflow_status(self, request):
        query = parse_query(StatusQuery, request)
        many = bool(query.get("workflowIds"))
        raw = [query["workflowId"]] if query.get("workflowId") else []
        if many:
            raw += [part for part in query["workflowIds"].split(",") if part.strip()]
        ids = selectors.parse_ids(raw)
        if ids is None:
            field = "workflowIds" if many else "workflowId"
            raise InvalidInput(errors={(field,): ["Every workflow id must be a valid UUID."]}, location="query")
        if len(ids) > MAX_STATUS_IDS:
            raise InvalidInput(
                errors={("workflowIds",): [f"Ask for at most {MAX_STATUS_IDS} workflows at once."]}, location="query"
            )
        jobs = selectors.workflow_runs(user=request.user, ids=ids)
        missing = [str(job_id) for job_id in ids if job_id not in jobs]
        if missing:
            raise NotFound(f"There is no workflow with the id {', '.join(missing)}.")
        ordered = [jobs[job_id] for job_id in ids]
        item_ids = selectors.item_ids_of_runs(ordered)
        states = [state_payload(job, item_ids[str(job.pk)], request=request) for job in ordered]
        return Response(states if many else states[0])

    @extend_schema(
        operation_id="enqueueWorkflow",
        tags=TAGS,
        request=EnqueueWorkflowSerializer,
        responses={200: EnqueueWorkflowResultSerializer},
    )
    def enqueue_workflow(self, request):
        body = EnqueueWorkflowSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        template_name = data.pop("workflowTemplateName").strip()
        parameters = [dict(p) for p in data.pop("parameters", [])]
        folder_id = data.pop("folderID", None)
        job = services.enqueue_workflow(
            user=request.user,
            template_name=template_name,
            parameters=parameters,
            explicit=data,
            folder_id=folder_id,
        )
        item_ids = selectors.item_ids_of_runs([job])[str(job.pk)]
        return Response({"itemIds": item_ids, "workflowId": str(job.pk)})

"""AIMG shapes of API2 workflows: WorkflowTemplate, WorkflowStateObject, WorkflowOutputFileEntry, and
the enqueueWorkflow request body."""

import math
from datetime import UTC

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import public_file_url
from apps.core.dialects.fields import StrictCharField

from ..models import GenerationJob
from ..selectors import workflows as selectors

MAX_RUN_PARAMETERS = 200
MAX_LORAS = 20
MAX_PROMPT_LENGTH = 20_000


def _iso(value) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- WorkflowTemplate ---------------------------------------------------------------------------------


def template_payload(template) -> dict:
    """The WorkflowTemplate object (parameters and files must be prefetched)."""
    return {
        "name": template.name,
        "deployments": template.deployments,
        "parameters": [selectors.parameter_document(p) for p in template.parameters.all()],
        "workflowTemplateFiles": selectors.template_files_document(template),
    }


# --- WorkflowStateObject -------------------------------------------------------------------------------


STATE = {
    GenerationJob.Status.QUEUED: "running",
    GenerationJob.Status.RUNNING: "running",
    GenerationJob.Status.COMPLETED: "completed",
    GenerationJob.Status.FAILED: "error",
    GenerationJob.Status.CANCELLED: "error",
}
CANCELLED_MESSAGE = "The workflow was cancelled."


def output_files(job: GenerationJob, request) -> list[dict]:
    """WorkflowOutputFileEntry objects of the files the run produced (main outputs first)."""
    entries = []
    for entry in job.output_files or []:
        if not isinstance(entry, dict):
            continue
        data = {}
        if entry.get("note"):
            data["note"] = str(entry["note"])
        if entry.get("fileName"):
            data["fileName"] = str(entry["fileName"])
        if entry.get("fileId"):
            data["downloadURL"] = public_file_url(str(entry["fileId"]), request)
        data["isMainOutput"] = bool(entry.get("isMainOutput", False))
        data["height"] = int(entry.get("height") or 0)
        data["width"] = int(entry.get("width") or 0)
        if entry.get("type"):
            data["type"] = str(entry["type"])
        entries.append(data)
    entries.sort(key=lambda data: not data["isMainOutput"])
    return entries


def state_payload(job: GenerationJob, item_ids: list[str], *, request) -> dict:
    """The WorkflowStateObject of a workflow job."""
    finished = job.status not in GenerationJob.ACTIVE
    error = job.status in (GenerationJob.Status.FAILED, GenerationJob.Status.CANCELLED)
    data = {
        "_id": str(job.pk),
        "publicId": str(job.pk),
        "runParamaters": {
            "publicId": None,
            "workflowTemplateName": job.workflow_template.name if job.workflow_template_id else None,
            "parameters": [
                {"name": str(p.get("name", "")), "value": str(p.get("value", ""))}
                for p in job.workflow_parameters or []
                if isinstance(p, dict)
            ],
        },
        "isStarted": job.started_at is not None,
        "isComplete": finished,
        "isError": error,
    }
    if error:
        data["errorMessage"] = job.error_message or (
            CANCELLED_MESSAGE if job.status == GenerationJob.Status.CANCELLED else "The workflow failed."
        )
    data["outputFiles"] = output_files(job, request)
    data["log"] = [str(line) for line in job.log or []]
    data["state"] = STATE[job.status]
    data["startTime"] = _iso(job.started_at)
    data["endTime"] = _iso(job.finished_at)
    if job.owner_id:
        data["api2userEmail"] = job.owner.email
    data["itemIds"] = list(item_ids)
    return data


# --- requests ------------------------------------------------------------------------------------------


class TemplateQuery(serializers.Serializer):
    workflowTemplateNames = serializers.CharField(required=False, allow_blank=True, max_length=10_000)  # noqa: N815

    def validate_workflowTemplateNames(self, value):  # noqa: N802
        return [name.strip() for name in value.split(",") if name.strip()]


class FileGroupQuery(serializers.Serializer):
    fileGroup = serializers.CharField(max_length=200)  # noqa: N815


class StatusQuery(serializers.Serializer):
    workflowId = serializers.CharField(required=False, max_length=100)  # noqa: N815
    workflowIds = serializers.CharField(required=False, max_length=100 * 40)  # noqa: N815

    def validate(self, attrs):
        if not attrs.get("workflowId") and not attrs.get("workflowIds"):
            raise serializers.ValidationError({"workflowId": "Give workflowId or workflowIds."})
        return attrs


@extend_schema_field(OpenApiTypes.NUMBER)
class StrictNumberField(serializers.Field):
    """A JSON number (integer or decimal; never a boolean, a string or NaN)."""

    default_error_messages = {"invalid": "Must be a number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class RunParameterSerializer(serializers.Serializer):
    """WorkflowRunParameter: the value is always a string."""

    name = StrictCharField(max_length=200)
    value = StrictCharField(allow_blank=True, trim_whitespace=False, max_length=MAX_PROMPT_LENGTH)


class EnqueueWorkflowSerializer(serializers.Serializer):
    prompt = StrictCharField(required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_PROMPT_LENGTH)
    negprompt = StrictCharField(required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_PROMPT_LENGTH)
    seed = StrictNumberField(required=False)
    subseed = StrictNumberField(required=False)
    subseed_strength = StrictNumberField(required=False)
    steps = StrictNumberField(required=False)
    cfgscale = StrictNumberField(required=False)
    modelName = StrictCharField(required=False, max_length=500)  # noqa: N815
    lora = serializers.ListField(child=StrictCharField(max_length=500), required=False, max_length=MAX_LORAS)
    lora_strength = serializers.ListField(child=StrictNumberField(), required=False, max_length=MAX_LORAS)
    height = StrictNumberField(required=False)
    width = StrictNumberField(required=False)
    batchSize = StrictNumberField(required=False)  # noqa: N815
    workflowTemplateName = StrictCharField(max_length=200)  # noqa: N815
    parameters = RunParameterSerializer(many=True, required=False, max_length=MAX_RUN_PARAMETERS)
    folderID = StrictCharField(required=False, allow_blank=True, max_length=100)  # noqa: N815


class EnqueueWorkflowResultSerializer(serializers.Serializer):
    itemIds = serializers.ListField(child=serializers.CharField())  # noqa: N815
    workflowId = serializers.CharField()  # noqa: N815

"""API2 workflow templates (AIMG WorkflowTemplate, WorkflowTemplateParameter, WorkflowTemplateFile)
and the file groups that ``file``/``files``/``filesGroup`` parameters draw from.

A template is a ComfyUI workflow (API format: node id -> ``{"class_type", "inputs"}``) whose
parameters name the ``replaceFromString`` markers the run values replace. It runs on the catalogue
model named by ``model_id``: that model's provider and provider configuration (a ``comfyui`` server in
real deployments, the embedded ``procedural`` provider for the demo), queue, tier and concurrency
limits apply to its runs.
"""

from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel, SoftDeleteModel

__all__ = [
    "WorkflowFileGroup",
    "WorkflowFileGroupFile",
    "WorkflowTemplate",
    "WorkflowTemplateFile",
    "WorkflowTemplateParameter",
]

DEPLOYMENTS = ("a2stage", "a2prod")


class WorkflowTemplate(BaseModel, SoftDeleteModel):
    """A ComfyUI workflow with named parameters, deployable to API2 environments.

    ``organization`` scopes a template to one Sartiq organization (``None``: usable by every
    organization). Only templates whose ``validation_status`` is ``valid`` may be attached to
    shooting guidelines or run.
    """

    class ValidationStatus(models.TextChoices):
        PENDING = "pending"
        VALID = "valid"
        INVALID = "invalid"

    name = models.CharField(max_length=200, help_text="Unique name (AIMG WorkflowTemplate.name).")
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="workflow_templates",
    )
    validation_status = models.CharField(
        max_length=8, choices=ValidationStatus.choices, default=ValidationStatus.PENDING
    )
    validation_errors = models.JSONField(
        default=list, blank=True, help_text="Why the last validation found the template invalid."
    )
    description = models.TextField(blank=True)
    deployed_a2stage = models.BooleanField("deployed to a2stage", default=False)
    deployed_a2prod = models.BooleanField("deployed to a2prod", default=False)
    model_id = models.CharField(
        "runs on model",
        max_length=200,
        blank=True,
        help_text="AIMG modelID of the catalogue model that runs the template (its provider, configuration, "
        "queue and tier limits).",
    )
    workflow = models.JSONField(
        default=dict, blank=True, help_text="The ComfyUI workflow in API format, with replaceFromString markers."
    )

    class Meta:
        ordering = ["name"]
        base_manager_name = "all_objects"  # a job still reaches the template it ran after it is deleted
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(deleted_at__isnull=True), name="workflow_template_name_unique_alive"
            ),
            models.CheckConstraint(
                condition=Q(validation_status__in=["pending", "valid", "invalid"]),
                name="workflow_template_validation_status_known",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def deployments(self) -> list[str]:
        return [name for name in DEPLOYMENTS if getattr(self, f"deployed_{name}")]


class WorkflowTemplateParameter(BaseModel):
    """One WorkflowTemplateParameter: a named value of the template's runs."""

    class DataType(models.TextChoices):
        STRING = "string"
        NUMBER = "number"
        BOOLEAN = "boolean"
        ARRAY = "array"
        OBJECT = "object"
        FILE = "file"
        FILES = "files"
        FILES_GROUP = "filesGroup"
        DROPDOWN = "dropdown"

    template = models.ForeignKey(WorkflowTemplate, on_delete=models.CASCADE, related_name="parameters")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=100, blank=True)
    data_type = models.CharField(max_length=10, choices=DataType.choices, default=DataType.STRING)
    ui_type = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    default_value = models.TextField(blank=True)
    user_value = models.TextField(blank=True)
    replace_from_string = models.CharField(
        max_length=200, help_text="The marker in the workflow JSON that the run value replaces."
    )
    extra_data = models.JSONField(null=True, blank=True)
    is_optional = models.BooleanField(default=False)
    min = models.CharField(max_length=50, blank=True)
    max = models.CharField(max_length=50, blank=True)
    increment = models.CharField(max_length=50, blank=True)
    option_name = models.CharField(max_length=200, blank=True)
    is_always_visible = models.BooleanField(default=False)
    is_hidden = models.BooleanField(default=False, help_text="Fixed by the template: runs cannot set it.")
    file_group = models.CharField(max_length=200, blank=True)
    file_group_destination = models.CharField(max_length=500, blank=True)
    dropdown_items = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["template", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["template", "name"], name="workflow_parameter_name_unique"),
            models.CheckConstraint(
                condition=Q(
                    data_type__in=[
                        "string",
                        "number",
                        "boolean",
                        "array",
                        "object",
                        "file",
                        "files",
                        "filesGroup",
                        "dropdown",
                    ]
                ),
                name="workflow_parameter_data_type_known",
            ),
            models.CheckConstraint(condition=~Q(replace_from_string=""), name="workflow_parameter_marker_not_empty"),
        ]

    def __str__(self):
        return f"{self.template_id}: {self.name}"


class WorkflowTemplateFile(BaseModel):
    """One entry of WorkflowTemplate.workflowTemplateFiles, keyed by ``name``."""

    template = models.ForeignKey(WorkflowTemplate, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=200)
    file_names = models.JSONField(default=list, blank=True)
    support_file_type = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["template", "name"]
        constraints = [
            models.UniqueConstraint(fields=["template", "name"], name="workflow_template_file_name_unique"),
        ]

    def __str__(self):
        return self.name


class WorkflowFileGroup(BaseModel):
    """A named set of files (getFileGroupItems) that parameters refer to by ``fileGroup``."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class WorkflowFileGroupFile(BaseModel):
    group = models.ForeignKey(WorkflowFileGroup, on_delete=models.CASCADE, related_name="files")
    file_name = models.CharField(max_length=500)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["group", "position", "file_name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "file_name"], name="workflow_file_group_file_unique"),
        ]

    def __str__(self):
        return self.file_name

"""Reads of API2 workflow templates, file groups and workflow runs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from apps.text2image.models import (
    GenerationJob,
    WorkflowFileGroup,
    WorkflowTemplate,
    WorkflowTemplateFile,
    WorkflowTemplateParameter,
)
from apps.text2image.models.workflows import DEPLOYMENTS

DEFAULT_DEPLOYMENT = "a2prod"


def workflow_template_for_guideline(*, user, organization, template_id) -> WorkflowTemplate | None:
    """The template a shooting guideline of ``organization`` may attach, or ``None``.

    ``None`` when the id is unknown or deleted, when the template belongs to another organization,
    or when it is not validated for use. A template without organization is shared by all.
    """
    template = WorkflowTemplate.objects.filter(pk=template_id).first()
    if template is None or template.validation_status != WorkflowTemplate.ValidationStatus.VALID:
        return None
    if template.organization_id is not None and template.organization_id != getattr(organization, "pk", organization):
        return None
    return template


def deployment() -> str:
    """The API2 environment this installation serves (setting ``API2_DEPLOYMENT``: a2stage or a2prod)."""
    value = getattr(settings, "API2_DEPLOYMENT", DEFAULT_DEPLOYMENT)
    return value if value in DEPLOYMENTS else DEFAULT_DEPLOYMENT


def _organization_ids(user) -> list:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    from apps.accounts import selectors as accounts

    return list(accounts.organizations_for(user).values_list("pk", flat=True))


def with_details(templates: QuerySet[WorkflowTemplate]) -> QuerySet[WorkflowTemplate]:
    """Templates with their parameters and files read in one query each."""
    return templates.prefetch_related(
        Prefetch("parameters", queryset=WorkflowTemplateParameter.objects.order_by("position", "name")),
        Prefetch("files", queryset=WorkflowTemplateFile.objects.order_by("name")),
    )


def available_templates(*, user, names: list[str] | None = None) -> QuerySet[WorkflowTemplate]:
    """Templates ``user`` may see and run here: alive, valid, deployed to this installation's
    deployment, shared or of one of the user's organizations; optionally only those named."""
    templates = WorkflowTemplate.objects.filter(
        validation_status=WorkflowTemplate.ValidationStatus.VALID,
        **{f"deployed_{deployment()}": True},
    ).filter(Q(organization__isnull=True) | Q(organization_id__in=_organization_ids(user)))
    if names is not None:
        templates = templates.filter(name__in=names)
    return with_details(templates).order_by("name")


def available_template(*, user, name: str) -> WorkflowTemplate | None:
    return available_templates(user=user, names=[name]).first()


def file_group_names(name: str) -> list[str] | None:
    """The file names of the file group ``name`` in their order; None when there is no such group."""
    group = WorkflowFileGroup.objects.filter(name=name).first()
    if group is None:
        return None
    return list(group.files.order_by("position", "file_name").values_list("file_name", flat=True))


def file_groups(names) -> dict[str, list[str]]:
    """The files of each existing group among ``names`` (two queries)."""
    groups = WorkflowFileGroup.objects.filter(name__in=set(names)).prefetch_related("files")
    return {group.name: [f.file_name for f in group.files.all()] for group in groups}


def parse_ids(values) -> list[uuid.UUID] | None:
    """Workflow ids as UUIDs in the given order, duplicates dropped; None when one is not a UUID."""
    ids: list[uuid.UUID] = []
    for value in values:
        try:
            parsed = uuid.UUID(str(value).strip())
        except ValueError:
            return None
        if parsed not in ids:
            ids.append(parsed)
    return ids


def workflow_runs(*, user, ids: list[uuid.UUID]) -> dict[uuid.UUID, GenerationJob]:
    """The user's workflow jobs among ``ids`` (one query), with template and owner loaded."""
    jobs = GenerationJob.objects.filter(pk__in=ids, owner=user, kind=GenerationJob.Kind.WORKFLOW).select_related(
        "workflow_template", "owner"
    )
    return {job.pk: job for job in jobs}


def item_ids_of_runs(jobs) -> dict[str, list[str]]:
    """The ids of each job's items in output order (deleted ones included, as ``job_items``), one query."""
    from apps.items.models import Item

    found: dict[str, list[str]] = {str(job.pk): [] for job in jobs}
    if found:
        rows = Item.all_objects.filter(generation_id__in=list(found)).order_by("created_at", "id")
        for generation_id, item_id in rows.values_list("generation_id", "id"):
            found[generation_id].append(str(item_id))
    return found


# --- the import/export document ------------------------------------------------------------------------


def parameter_document(parameter: WorkflowTemplateParameter) -> dict:
    """A WorkflowTemplateParameter object (every field; optional ones left out when empty)."""
    data = {"name": parameter.name}
    if parameter.type:
        data["type"] = parameter.type
    data["dataType"] = parameter.data_type
    if parameter.ui_type:
        data["uiType"] = parameter.ui_type
    data["description"] = parameter.description
    data["defaultValue"] = parameter.default_value
    if parameter.user_value:
        data["userValue"] = parameter.user_value
    data["replaceFromString"] = parameter.replace_from_string
    if parameter.extra_data is not None:
        data["extraData"] = parameter.extra_data
    data["isOptional"] = parameter.is_optional
    for key, value in (("min", parameter.min), ("max", parameter.max), ("increment", parameter.increment)):
        if value != "":
            data[key] = value
    data["optionName"] = parameter.option_name
    data["isAlwaysVisible"] = parameter.is_always_visible
    data["isHidden"] = parameter.is_hidden
    if parameter.file_group:
        data["fileGroup"] = parameter.file_group
    if parameter.file_group_destination:
        data["fileGroupDestination"] = parameter.file_group_destination
    if parameter.dropdown_items or parameter.data_type == WorkflowTemplateParameter.DataType.DROPDOWN:
        data["dropdownItems"] = list(parameter.dropdown_items or [])
    return data


def template_files_document(template: WorkflowTemplate) -> dict:
    """WorkflowTemplate.workflowTemplateFiles: WorkflowTemplateFile objects keyed by name."""
    return {
        file.name: {"fileNames": list(file.file_names or []), "supportFileType": file.support_file_type}
        for file in template.files.all()
    }


def template_document(template: WorkflowTemplate) -> dict:
    """A template as ``export_workflow_templates`` writes it: the WorkflowTemplate object plus what
    runs it (``modelID``, ``workflow``), its ``description`` and its ``organization``."""
    organization = None
    if template.organization_id:
        organization = {"domain": template.organization.domain.code, "slug": template.organization.slug}
    return {
        "name": template.name,
        "description": template.description,
        "deployments": template.deployments,
        "modelID": template.model_id,
        "organization": organization,
        "parameters": [parameter_document(p) for p in template.parameters.all()],
        "workflowTemplateFiles": template_files_document(template),
        "workflow": template.workflow,
    }


def file_group_document(group: WorkflowFileGroup) -> dict:
    return {
        "name": group.name,
        "description": group.description,
        "fileNames": [file.file_name for file in sorted(group.files.all(), key=lambda f: (f.position, f.file_name))],
    }


def export_data(templates=None) -> dict:
    """Templates (every alive one by default) and every file group, as one JSON document."""
    templates = templates if templates is not None else WorkflowTemplate.objects.all()
    templates = with_details(templates).select_related("organization__domain").order_by("name")
    groups = WorkflowFileGroup.objects.prefetch_related("files").order_by("name")
    return {
        "workflowTemplates": [template_document(template) for template in templates],
        "fileGroups": [file_group_document(group) for group in groups],
    }

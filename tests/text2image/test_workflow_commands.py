"""``import_workflow_templates`` / ``export_workflow_templates``, and template validation."""

import copy
import io
import json

import pytest
from django.core.management import CommandError, call_command

from apps.core.errors import Conflict
from apps.text2image.models import (
    WorkflowFileGroup,
    WorkflowTemplate,
    WorkflowTemplateFile,
    WorkflowTemplateParameter,
)
from apps.text2image.services import workflows as services
from tests.factories import OrganizationFactory

from .workflows_support import make_group, make_template, parameter

pytestmark = pytest.mark.django_db

FIXTURE = services.DEMO_FIXTURE


def run(command, *args, stdin=None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        import sys

        original = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            call_command(command, *args, stdout=out, stderr=err)
        finally:
            sys.stdin = original
    else:
        call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def export(*args) -> dict:
    return json.loads(run("export_workflow_templates", *args)[0])


def test_import_creates_templates_and_groups_and_validates_them(models):
    out, _ = run("import_workflow_templates", str(FIXTURE))
    assert out.splitlines() == ["created: text-to-image-demo", "file groups created: demo-loras"]
    template = WorkflowTemplate.objects.get()
    assert template.validation_status == "valid" and template.validation_errors == []
    assert template.deployments == ["a2stage", "a2prod"]
    assert template.model_id == "f222"
    assert [p.name for p in template.parameters.order_by("position")] == [
        "Positive Prompt",
        "Negative Prompt",
        "Seed",
        "Steps",
        "CFG Scale",
        "Width",
        "Height",
        "Batch Size",
        "Model",
        "Lora 1",
        "Lora 1 Strength",
    ]
    lora = template.parameters.get(name="Lora 1")
    assert (lora.data_type, lora.file_group, lora.file_group_destination) == ("file", "demo-loras", "models/loras")
    assert template.files.get().file_names == ["sd_xl_base_1.0.safetensors", "juggernautXL_v9.safetensors"]
    group = WorkflowFileGroup.objects.get()
    assert [f.file_name for f in group.files.order_by("position")] == [
        "detail-tweaker.safetensors",
        "film-grain.safetensors",
        "watercolor.safetensors",
    ]


def test_importing_the_same_file_again_changes_nothing(models):
    run("import_workflow_templates", str(FIXTURE))
    template = WorkflowTemplate.objects.get()
    parameter_ids = set(template.parameters.values_list("pk", flat=True))
    stamp = template.updated_at
    out, _ = run("import_workflow_templates", str(FIXTURE))
    assert out.splitlines() == ["unchanged: text-to-image-demo"]
    template.refresh_from_db()
    assert template.updated_at == stamp
    assert set(template.parameters.values_list("pk", flat=True)) == parameter_ids
    assert WorkflowTemplate.all_objects.count() == 1 and WorkflowFileGroup.objects.count() == 1


def test_export_then_import_round_trips(models, tmp_path):
    organization = OrganizationFactory(slug="studio")
    make_group("refs", ["a.png", "b.png"])
    make_template(
        "full",
        deployments=("a2stage",),
        organization=organization,
        description="Every field",
        parameters=[
            parameter("Positive Prompt", "%prompt%", type="text", ui_type="textarea", description="d", option_name="p"),
            parameter(
                "Steps",
                "%steps%",
                "number",
                default_value="20",
                user_value="25",
                min="1",
                max="50",
                increment="1",
                is_optional=True,
                is_always_visible=True,
                extra_data={"unit": "steps"},
            ),
            parameter(
                "Style", "%style%", "dropdown", default_value="ink", dropdown_items=["ink", "film"], is_hidden=True
            ),
            parameter("Ref", "%ref%", "file", is_optional=True, file_group="refs", file_group_destination="input"),
        ],
        workflow={"1": {"class_type": "X", "inputs": {"a": "%prompt% %steps% %style% %ref%"}}},
        files={"checkpoints": {"file_names": ["a.safetensors"], "support_file_type": "checkpoint"}},
    )
    run("import_workflow_templates", str(FIXTURE))
    target = tmp_path / "templates.json"
    _, err = run("export_workflow_templates", "--out", str(target))
    assert err.strip() == f"2 workflow template(s) and 2 file group(s) written to {target}"
    first = json.loads(target.read_text())
    assert [t["name"] for t in first["workflowTemplates"]] == ["full", "text-to-image-demo"]
    assert first["workflowTemplates"][0]["organization"] == {"domain": organization.domain.code, "slug": "studio"}

    for model in (WorkflowTemplateParameter, WorkflowTemplateFile):
        model.objects.all().delete()
    WorkflowTemplate.all_objects.all().hard_delete()
    WorkflowFileGroup.objects.all().delete()
    out, _ = run("import_workflow_templates", str(target))
    assert out.splitlines()[:2] == ["created: full, text-to-image-demo", "file groups created: demo-loras, refs"]
    assert export() == first
    assert WorkflowTemplate.objects.get(name="full").validation_status == "valid"


def test_the_demo_template_exports_as_it_was_written(models):
    run("import_workflow_templates", str(FIXTURE))
    written = json.loads(FIXTURE.read_text())
    exported = export("--name", "text-to-image-demo")
    assert exported == written


def test_a_changed_template_is_updated_in_place(models):
    run("import_workflow_templates", str(FIXTURE))
    document = json.loads(FIXTURE.read_text())
    template = document["workflowTemplates"][0]
    template["deployments"] = ["a2stage"]
    template["parameters"][3]["max"] = "40"
    del template["parameters"][-2:]  # the LoRA parameters
    pk = WorkflowTemplate.objects.get().pk
    out, _ = run("import_workflow_templates", "-", stdin=json.dumps(document))
    assert out.splitlines() == ["updated: text-to-image-demo"]
    updated = WorkflowTemplate.objects.get()
    assert updated.pk == pk and updated.deployments == ["a2stage"]
    assert updated.parameters.count() == 9
    assert updated.parameters.get(name="Steps").max == "40"
    # The LoRA markers are still in the workflow, which no parameter fills any more: still valid.
    assert updated.validation_status == "valid"


def test_a_template_that_cannot_run_is_imported_as_invalid_with_reasons(models):
    document = json.loads(FIXTURE.read_text())
    template = document["workflowTemplates"][0]
    template["modelID"] = "nope"
    template["parameters"][0]["replaceFromString"] = "%missing%"
    template["parameters"][3]["defaultValue"] = "99"
    template["parameters"][5]["dataType"] = "string"
    template["workflow"]["99"] = {"inputs": {}}
    out, _ = run("import_workflow_templates", "-", stdin=json.dumps(document))
    problems = [
        "Its model 'nope' is not in the catalogue.",
        "Workflow node 99 needs a class_type and an inputs object.",
        "The marker '%missing%' of Positive Prompt does not occur in the workflow.",
        "The default value of Steps must be at most 50 (allowed: from 1 to 50, in steps of 1).",
        "Width must have the dataType number.",
        "The default value of Width must be a number.",
    ]
    assert out.splitlines() == [
        "created: text-to-image-demo",
        "file groups created: demo-loras",
        f"invalid: text-to-image-demo: {' '.join(problems)}",
    ]
    imported = WorkflowTemplate.objects.get()
    assert imported.validation_status == "invalid"
    assert imported.validation_errors == problems


def test_a_malformed_document_changes_nothing_and_names_every_problem(models):
    document = {
        "workflowTemplates": [
            {"name": "", "deployments": ["a2dev"], "parameters": [{"name": "A", "dataType": "text"}]},
            {"name": "ok", "parameters": "none", "workflow": [], "workflowTemplateFiles": {"x": {"fileNames": [1]}}},
            {"name": "ok"},
        ],
        "fileGroups": [{"name": "g", "fileNames": ["a", "a"]}],
    }
    with pytest.raises(CommandError) as caught:
        run("import_workflow_templates", "-", stdin=json.dumps(document))
    assert str(caught.value).splitlines() == [
        "The workflow template document is invalid.",
        "  workflowTemplates[0].deployments: Unknown deployment 'a2dev': use a2stage or a2prod.",
        "  workflowTemplates[0].parameters[0].dataType: Must be one of string, number, boolean, array, object, "
        "file, files, filesGroup, dropdown.",
        "  workflowTemplates[0].parameters[0].replaceFromString: This field is required.",
        "  workflowTemplates[0].name: Must not be empty.",
        "  workflowTemplates[1].parameters: Must be an array of WorkflowTemplateParameter objects.",
        "  workflowTemplates[1].workflowTemplateFiles.x.fileNames: Must be an array of strings.",
        "  workflowTemplates[1].workflow: Must be the ComfyUI workflow (an object of nodes).",
        "  fileGroups[0].fileNames: A file name is listed twice.",
        "  workflowTemplates: 'ok' is listed twice.",
    ]
    assert WorkflowTemplate.all_objects.count() == 0 and WorkflowFileGroup.objects.count() == 0


def test_unreadable_input_is_refused(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_workflow_templates", str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="is not valid JSON"):
        run("import_workflow_templates", str(broken))
    with pytest.raises(CommandError, match="The document must be an object"):
        run("import_workflow_templates", "-", stdin="42")


def test_an_unknown_organization_is_refused(models):
    document = json.loads(FIXTURE.read_text())
    document["workflowTemplates"][0]["organization"] = {"domain": "nowhere", "slug": "ghost"}
    with pytest.raises(CommandError, match="There is no single organization 'ghost' of nowhere"):
        run("import_workflow_templates", "-", stdin=json.dumps(document))
    assert WorkflowTemplate.all_objects.count() == 0


def test_a_bare_array_of_templates_imports_too(models):
    document = json.loads(FIXTURE.read_text())
    out, _ = run("import_workflow_templates", "-", stdin=json.dumps(document["workflowTemplates"]))
    assert out.splitlines()[0] == "created: text-to-image-demo"
    # Its LoRA file group was not in the array: the template says so.
    assert WorkflowTemplate.objects.get().validation_errors == [
        "Lora 1 refers to the file group 'demo-loras', which does not exist.",
        "The default value of Lora 1 must be a file of the group demo-loras (got 'detail-tweaker.safetensors').",
    ]


def test_export_of_named_templates_and_unknown_names(models):
    make_template("a")
    make_template("b")
    assert [t["name"] for t in export("--name", "b")["workflowTemplates"]] == ["b"]
    with pytest.raises(CommandError, match=r"No workflow template named zzz\."):
        run("export_workflow_templates", "--name", "zzz")


def test_deleted_templates_are_not_exported_and_can_be_restored(models):
    template = make_template("a")
    services.delete_templates(templates=[template])
    assert export()["workflowTemplates"] == []
    services.restore_template(template=template)
    assert [t["name"] for t in export()["workflowTemplates"]] == ["a"]


def test_restoring_a_template_whose_name_was_taken_is_a_conflict(models):
    old = make_template("a")
    services.delete_templates(templates=[old])
    make_template("a")
    with pytest.raises(Conflict):
        services.restore_template(template=old)
    old.refresh_from_db()
    assert old.deleted_at is not None


def test_importing_over_a_deleted_template_makes_a_new_one(models):
    run("import_workflow_templates", str(FIXTURE))
    services.delete_templates(templates=list(WorkflowTemplate.objects.all()))
    out, _ = run("import_workflow_templates", str(FIXTURE))
    assert out.splitlines()[0] == "created: text-to-image-demo"
    assert WorkflowTemplate.all_objects.count() == 2 and WorkflowTemplate.objects.count() == 1


def test_the_demo_seed_is_idempotent(models):
    assert list(services.seed_demo_templates()) == [
        "workflow templates created: text-to-image-demo",
        "workflow templates file groups created: demo-loras",
    ]
    assert list(services.seed_demo_templates()) == ["workflow templates unchanged: text-to-image-demo"]


# --- validation -------------------------------------------------------------------------------------


def _problems(**fields):
    template = make_template("t", validation_status="pending", **fields)
    return services.template_problems(template)


def test_a_well_formed_template_has_no_problems(models):
    assert _problems() == []


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ([parameter("Seed", "%seed%", "number", min="x")], "The min of Seed is not a number ('x')."),
        ([parameter("Seed", "%seed%", "number", min="5", max="1")], "The min of Seed is larger than its max."),
        ([parameter("Model", "%model%", "dropdown")], "Model is a dropdown without dropdownItems."),
        (
            [parameter("Model", "%model%", "dropdown", default_value="c", dropdown_items=["a"])],
            "The default value of Model must be one of a (got 'c').",
        ),
        (
            [parameter("Model", "%model%", is_hidden=True)],
            "Model is required and hidden but has no default value: no run could set it.",
        ),
        (
            [parameter("Tiled", "%seed%", "boolean", default_value="maybe")],
            "The default value of Tiled must be true or false (got 'maybe').",
        ),
        (
            [parameter("Width", "%width%", "number", default_value="8192")],
            "The default value of Width must be between 64 and 4096 (got 8192).",
        ),
    ],
)
def test_template_problems_name_the_parameter(models, parameters, problem):
    assert problem in _problems(parameters=parameters)


def test_two_parameters_with_the_same_name_in_another_case_are_a_problem(models):
    template = make_template("t", parameters=[parameter("Seed", "%seed%", "number")])
    WorkflowTemplateParameter.objects.create(template=template, name="seed", replace_from_string="%steps%")
    assert "Two parameters are named 'seed'." in services.template_problems(template)


def test_validate_template_records_the_outcome(models):
    template = make_template("t", validation_status="pending")
    services.validate_template(template=template)
    assert template.validation_status == "valid"
    template.workflow = {}
    template.save()
    services.validate_template(template=template)
    template.refresh_from_db()
    assert template.validation_status == "invalid"
    assert template.validation_errors[0] == "Its workflow is empty: give the ComfyUI workflow in API format."


def test_import_reads_numbers_written_as_json_numbers(models):
    document = copy.deepcopy(json.loads(FIXTURE.read_text()))
    document["workflowTemplates"][0]["parameters"][3].update({"defaultValue": 20, "min": 1, "max": 50, "increment": 1})
    run("import_workflow_templates", "-", stdin=json.dumps(document))
    steps = WorkflowTemplateParameter.objects.get(name="Steps")
    assert (steps.default_value, steps.min, steps.max, steps.increment) == ("20", "1", "50", "1")

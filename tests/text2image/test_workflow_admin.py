"""The workflow template back office: list, edit (re-validated on save), JSON import and export,
soft delete and restore, file groups."""

import json

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.text2image.models import WorkflowFileGroup, WorkflowTemplate
from apps.text2image.services import workflows as services
from tests.factories import PASSWORD, StaffFactory

from .workflows_support import make_group, make_template

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/text2image/workflowtemplate/"
IMPORT = "/admin/text2image/workflowtemplate/import/"


def staff_client(client, role="admin"):
    staff = StaffFactory()
    if role:
        staff.groups.add(Group.objects.get(name=role))
    client.login(username=staff.email, password=PASSWORD)
    return client


@pytest.fixture
def admin_client(client):
    return staff_client(client)


def action(client, name, templates, **extra):
    return client.post(
        CHANGELIST, {"action": name, "_selected_action": [str(t.pk) for t in templates], **extra}, follow=False
    )


def test_the_list_shows_templates_with_deployments_and_validation(admin_client, models):
    make_template("portrait", deployments=("a2stage", "a2prod"))
    make_template("broken", validation_status="invalid")
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "portrait" in body and "broken" in body and "a2stage, a2prod" in body
    assert IMPORT in body  # the "Import JSON" button


def test_the_change_page_shows_parameters_and_files_inline(admin_client, models):
    template = make_template("portrait", files={"checkpoints": {"file_names": ["a"], "support_file_type": "ckpt"}})
    response = admin_client.get(f"{CHANGELIST}{template.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Positive Prompt" in body and "%prompt%" in body and "checkpoints" in body


def _change_form_data(client, url) -> dict:
    """What the change page would post back unchanged: the form's and the inlines' current values."""
    context = client.get(url).context
    data = {}

    def put(prefix, form):
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            key = f"{prefix}{name}"
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, (list, dict)):
                data[key] = json.dumps(value)
            elif value is not None:
                data[key] = str(getattr(value, "pk", value))

    put("", context["adminform"].form)
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({f"{formset.prefix}-{k}": v for k, v in formset.management_form.initial.items()})
        for index, form in enumerate(formset.forms):
            put(f"{formset.prefix}-{index}-", form)
    return data


def test_saving_in_the_admin_validates_the_template(admin_client, models):
    template = make_template("portrait", validation_status="pending")
    url = f"{CHANGELIST}{template.pk}/change/"
    data = _change_form_data(admin_client, url)
    data["model_id"] = "no-such-model"
    response = admin_client.post(url, data, follow=True)
    assert response.status_code == 200
    template.refresh_from_db()
    assert template.model_id == "no-such-model"
    assert template.parameters.count() == 9
    assert template.validation_status == "invalid"
    assert template.validation_errors == ["Its model 'no-such-model' is not in the catalogue."]
    assert "is invalid and cannot run" in response.content.decode()

    data["model_id"] = "f222"
    admin_client.post(url, data)
    template.refresh_from_db()
    assert (template.validation_status, template.validation_errors) == ("valid", [])


def test_import_view_imports_a_file(admin_client, models):
    response = admin_client.get(IMPORT)
    assert response.status_code == 200
    upload = SimpleUploadedFile("t.json", services.DEMO_FIXTURE.read_bytes(), content_type="application/json")
    response = admin_client.post(IMPORT, {"file": upload}, follow=True)
    assert response.redirect_chain[-1][0] == CHANGELIST
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["created: text-to-image-demo", "file groups created: demo-loras"]
    assert WorkflowTemplate.objects.get().validation_status == "valid"


def test_import_view_shows_what_is_wrong_with_a_file(admin_client, models):
    bad = SimpleUploadedFile("t.json", b'{"workflowTemplates": [{"name": ""}]}')
    response = admin_client.post(IMPORT, {"file": bad})
    assert response.status_code == 200
    assert "workflowTemplates[0].name: Must not be empty." in response.content.decode()
    response = admin_client.post(IMPORT, {"file": SimpleUploadedFile("t.json", b"{oops")})
    assert "Not a JSON document" in response.content.decode()
    assert WorkflowTemplate.all_objects.count() == 0


def test_import_needs_the_add_and_change_permissions(client, models):
    support = staff_client(client, role="support")
    assert support.get(IMPORT).status_code == 403
    assert support.get(CHANGELIST).status_code == 200  # support may look


def test_export_action_downloads_the_selected_templates(admin_client, models):
    first, _ = make_template("a"), make_template("b")
    response = action(admin_client, "export_json", [first])
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="workflow-templates.json"'
    document = json.loads(response.content)
    assert [t["name"] for t in document["workflowTemplates"]] == ["a"]


def test_validate_action(admin_client, models):
    good = make_template("good", validation_status="pending")
    bad = make_template("bad", validation_status="pending", model_id="missing")
    response = action(admin_client, "validate", [good, bad])
    assert response.status_code == 302
    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.validation_status, bad.validation_status) == ("valid", "invalid")


def test_delete_is_soft_and_restore_brings_it_back(admin_client, models):
    template = make_template("a")
    response = action(admin_client, "delete_selected", [template], post="yes")
    assert response.status_code == 302
    template = WorkflowTemplate.all_objects.get(pk=template.pk)
    assert template.deleted_at is not None and template.parameters.count() == 9
    assert admin_client.get(f"{CHANGELIST}?deleted=yes").status_code == 200
    action(admin_client, "restore", [template])
    assert WorkflowTemplate.objects.filter(pk=template.pk).exists()


def test_file_groups_are_edited_with_their_files(admin_client):
    group = make_group("loras", ["a.safetensors"])
    response = admin_client.get(f"/admin/text2image/workflowfilegroup/{group.pk}/change/")
    assert response.status_code == 200
    assert "a.safetensors" in response.content.decode()
    assert WorkflowFileGroup.objects.count() == 1

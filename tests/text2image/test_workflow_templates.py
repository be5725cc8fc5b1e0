"""/2/getAggregatedWorkflowTemplates and /2/getFileGroupItems through HTTP, in the AIMG wire format."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.text2image.models import WorkflowTemplate
from tests.factories import MembershipFactory, OrganizationFactory

from .workflows_support import (
    API2_TIER_MESSAGE,
    NOT_SIGNED_IN,
    api2_user,
    error_of,
    make_group,
    make_template,
    ok,
    parameter,
    session_headers,
)

pytestmark = pytest.mark.django_db

TEMPLATES = "/2/getAggregatedWorkflowTemplates"
FILE_GROUP = "/2/getFileGroupItems"


@pytest.fixture
def user():
    return api2_user(tier=1)


@pytest.fixture
def headers(user):
    return session_headers(user)


def names(response) -> list[str]:
    return [template["name"] for template in response.json()["payload"]]


def test_a_template_has_every_field_of_the_annex(api_client, headers):
    make_template(
        "portrait",
        deployments=("a2stage", "a2prod"),
        parameters=[
            parameter(
                "Positive Prompt",
                "%prompt%",
                type="text",
                ui_type="textarea",
                description="What the image shows.",
                option_name="prompt",
                is_always_visible=True,
            ),
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
                extra_data={"unit": "steps"},
            ),
            parameter(
                "Style",
                "%style%",
                "dropdown",
                default_value="film",
                dropdown_items=["film", "ink"],
                is_hidden=True,
            ),
            parameter(
                "Lora 1",
                "%lora1%",
                "file",
                is_optional=True,
                file_group="loras",
                file_group_destination="models/loras",
            ),
        ],
        workflow={"1": {"class_type": "X", "inputs": {"a": "%prompt% %steps% %style% %lora1%"}}},
        files={"checkpoints": {"file_names": ["a.safetensors", "b.safetensors"], "support_file_type": "checkpoint"}},
    )
    response = api_client.get(TEMPLATES, **headers)
    assert response.status_code == 200
    assert response.json() == ok(
        [
            {
                "name": "portrait",
                "deployments": ["a2stage", "a2prod"],
                "parameters": [
                    {
                        "name": "Positive Prompt",
                        "type": "text",
                        "dataType": "string",
                        "uiType": "textarea",
                        "description": "What the image shows.",
                        "defaultValue": "",
                        "replaceFromString": "%prompt%",
                        "isOptional": False,
                        "optionName": "prompt",
                        "isAlwaysVisible": True,
                        "isHidden": False,
                    },
                    {
                        "name": "Steps",
                        "dataType": "number",
                        "description": "",
                        "defaultValue": "20",
                        "userValue": "25",
                        "replaceFromString": "%steps%",
                        "extraData": {"unit": "steps"},
                        "isOptional": True,
                        "min": "1",
                        "max": "50",
                        "increment": "1",
                        "optionName": "",
                        "isAlwaysVisible": False,
                        "isHidden": False,
                    },
                    {
                        "name": "Style",
                        "dataType": "dropdown",
                        "description": "",
                        "defaultValue": "film",
                        "replaceFromString": "%style%",
                        "isOptional": False,
                        "optionName": "",
                        "isAlwaysVisible": False,
                        "isHidden": True,
                        "dropdownItems": ["film", "ink"],
                    },
                    {
                        "name": "Lora 1",
                        "dataType": "file",
                        "description": "",
                        "defaultValue": "",
                        "replaceFromString": "%lora1%",
                        "isOptional": True,
                        "optionName": "",
                        "isAlwaysVisible": False,
                        "isHidden": False,
                        "fileGroup": "loras",
                        "fileGroupDestination": "models/loras",
                    },
                ],
                "workflowTemplateFiles": {
                    "checkpoints": {"fileNames": ["a.safetensors", "b.safetensors"], "supportFileType": "checkpoint"}
                },
            }
        ]
    )
    assert response["X-Request-ID"]


def test_only_valid_live_templates_of_this_deployment_are_listed(api_client, headers, settings):
    settings.API2_DEPLOYMENT = "a2prod"
    make_template("b-prod")
    make_template("a-both", deployments=("a2stage", "a2prod"))
    make_template("stage-only", deployments=("a2stage",))
    make_template("nowhere", deployments=())
    make_template("pending", validation_status=WorkflowTemplate.ValidationStatus.PENDING)
    make_template("invalid", validation_status=WorkflowTemplate.ValidationStatus.INVALID)
    make_template("deleted").delete()
    assert names(api_client.get(TEMPLATES, **headers)) == ["a-both", "b-prod"]

    settings.API2_DEPLOYMENT = "a2stage"
    assert names(api_client.get(TEMPLATES, **headers)) == ["a-both", "stage-only"]


def test_templates_of_an_organization_are_listed_to_its_members_only(api_client, user, headers):
    mine, other = OrganizationFactory(), OrganizationFactory()
    MembershipFactory(organization=mine, user=user)
    make_template("shared")
    make_template("ours", organization=mine)
    make_template("theirs", organization=other)
    assert names(api_client.get(TEMPLATES, **headers)) == ["ours", "shared"]


def test_workflow_template_names_filters_the_list(api_client, headers):
    for name in ("alpha", "beta", "gamma"):
        make_template(name)
    response = api_client.get(TEMPLATES, {"workflowTemplateNames": " gamma, alpha ,unknown,"}, **headers)
    assert names(response) == ["alpha", "gamma"]
    assert names(api_client.get(TEMPLATES, {"workflowTemplateNames": ""}, **headers)) == ["alpha", "beta", "gamma"]


def test_the_list_reads_a_constant_number_of_queries(api_client, headers):
    make_template("t0")
    api_client.get(TEMPLATES, **headers)  # warms the per-process caches (domain, session)
    with CaptureQueriesContext(connection) as one:
        assert len(names(api_client.get(TEMPLATES, **headers))) == 1
    for index in range(1, 6):
        make_template(f"t{index}", files={"f": {"file_names": ["x"], "support_file_type": "y"}})
    with CaptureQueriesContext(connection) as six:
        assert len(names(api_client.get(TEMPLATES, **headers))) == 6
    assert len(six.captured_queries) == len(one.captured_queries)


@pytest.mark.parametrize("path", [TEMPLATES, f"{FILE_GROUP}?fileGroup=loras"])
def test_api2_needs_a_signed_in_user_with_a_pro_tier(api_client, path):
    make_group("loras", ["a"])
    response = api_client.get(path)
    assert response.status_code == 401
    assert error_of(response) == NOT_SIGNED_IN

    response = api_client.get(path, **session_headers(None))  # a guest session
    assert response.status_code == 401
    assert error_of(response) == NOT_SIGNED_IN

    response = api_client.get(path, **session_headers(api2_user(tier=0)))
    assert response.status_code == 403
    assert error_of(response) == API2_TIER_MESSAGE


def test_a_malformed_session_id_is_refused_as_a_credential(api_client):
    response = api_client.get(TEMPLATES, HTTP_X_SESSION_ID="not-a-uuid")
    assert response.status_code == 401
    assert error_of(response) == "The X-Session-ID header must be a valid UUID."


def test_file_group_items_lists_the_group_files_in_order(api_client, headers):
    make_group("loras", ["detail.safetensors", "grain.safetensors", "aquarelle.safetensors"])
    make_group("empty", [])
    response = api_client.get(FILE_GROUP, {"fileGroup": "loras"}, **headers)
    assert response.status_code == 200
    assert response.json() == ok({"fileNames": ["detail.safetensors", "grain.safetensors", "aquarelle.safetensors"]})
    assert api_client.get(FILE_GROUP, {"fileGroup": "empty"}, **headers).json() == ok({"fileNames": []})


def test_file_group_items_refuses_a_missing_or_unknown_group(api_client, headers):
    response = api_client.get(FILE_GROUP, **headers)
    assert response.status_code == 400
    assert error_of(response) == "fileGroup: This field is required."

    response = api_client.get(FILE_GROUP, {"fileGroup": "nope"}, **headers)
    assert response.status_code == 404
    assert error_of(response) == "There is no file group named 'nope'."


def test_wrong_methods_are_refused(api_client, headers):
    response = api_client.post(TEMPLATES, {}, format="json", **headers)
    assert response.status_code == 405
    assert response.json()["hasError"] is True

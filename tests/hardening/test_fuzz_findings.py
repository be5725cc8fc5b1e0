"""What schema fuzzing found, each fixed in the kernel and proven here through HTTP."""

import pytest
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.core.domains import default_domain
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def error(message: str) -> dict:
    return {"hasError": True, "errorMessage": message, "payload": None}


@pytest.fixture
def signed_in():
    session = accounts.create_session(domain=default_domain(), user=UserFactory())
    return {"HTTP_X_SESSION_ID": str(session.pk)}


def test_a_query_parameter_that_is_present_is_validated_even_when_empty(signed_in):
    """An empty value is not "absent" (HTML form reading): it is checked like any other."""
    response = APIClient().get("/getPublicCreations", {"userID": ""}, **signed_in)
    assert response.status_code == 400
    assert response.json() == error("userID: Must be a valid UUID.")
    assert APIClient().get("/getPublicCreations", **signed_in).status_code == 200


@pytest.mark.parametrize("index", ["1e3", "+5", " 5", "5.0", "-1", ""])
def test_a_pagination_index_is_digits_only(signed_in, index):
    response = APIClient().get("/getMyCreations", {"paginationIndex": index}, **signed_in)
    assert response.status_code == 400
    assert response.json()["errorMessage"].startswith("paginationIndex: ")


def test_a_pagination_index_of_digits_is_read(signed_in):
    response = APIClient().get("/getMyCreations", {"paginationIndex": "1700000000000"}, **signed_in)
    assert response.status_code == 200
    assert response.json()["metadata"]["paginationIndex"] == "1700000000000"


def test_an_aimg_body_is_json_a_form_is_refused(signed_in):
    form = APIClient().post("/likeItems", "imageIDs=x", content_type="application/x-www-form-urlencoded", **signed_in)
    assert form.status_code == 415
    assert form.json()["hasError"] is True
    as_json = APIClient().post("/likeItems", {"imageIDs": []}, format="json", **signed_in)
    assert as_json.status_code != 415


def test_a_string_field_takes_only_a_string(signed_in):
    """DRF's CharField turns 5 into "5"; the log ingestion refuses it, as its schema says."""
    body = {"logs": [{"message": "boom", "errorStack": 5}]}
    response = APIClient().post("/ingestLogs", body, format="json", **signed_in)
    assert response.status_code == 400
    assert response.json() == error("logs.0.errorStack: Must be a string.")


def test_a_sartiq_body_with_required_fields_cannot_be_left_out():
    from apps.accounts.services import issue_access_token

    user = UserFactory()
    _, token = issue_access_token(user=user)
    response = APIClient().post("/api/v1/subjects/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 422
    assert {tuple(entry["loc"]) for entry in response.json()["detail"]} >= {("body", "name"), ("body", "age_class")}


def test_the_schema_marks_such_bodies_required_and_documents_every_status():
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    schema = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    create_subject = schema["paths"]["/api/v1/subjects/"]["post"]
    assert create_subject["requestBody"]["required"] is True
    assert {"413", "422", "503", "507"} <= set(create_subject["responses"])
    generate = schema["paths"]["/generateImage"]["post"]
    assert generate["responses"]["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AimgError"
    }
    ocs_format = schema["paths"]["/ocs/v2.php/text2image/is_available"]["get"]["parameters"]
    assert next(p for p in ocs_format if p["name"] == "format")["schema"] == {"type": "string"}

"""Which dialect answers: by the view's base class, else by the path (no route, undialected views,
errors Django handles after the view), and never for the HTML parts of the site."""

import logging

import pytest

from apps.core.dialects.aimg import AIMG
from apps.core.dialects.base import PLAIN
from apps.core.dialects.neuroflash import NEUROFLASH
from apps.core.dialects.ocs import OCS
from apps.core.dialects.registry import dialect_for_path
from apps.core.dialects.sartiq import SARTIQ
from tests.core.dialect_support import SERVER_ERROR, URLCONF, api
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def aimg_error(message: str) -> dict:
    return {"hasError": True, "errorMessage": message, "payload": None}


def ocs_v2_error(statuscode: int, message: str) -> dict:
    return {"ocs": {"meta": {"status": "failure", "statuscode": statuscode, "message": message}, "data": []}}


@pytest.mark.parametrize(
    ("path", "dialect"),
    [
        ("/", AIMG),
        ("/getMyCreations", AIMG),
        ("/2/startWorkflow", AIMG),
        ("/auth/discord", AIMG),
        ("/api/v1/subjects/", SARTIQ),
        ("/api/v1/login/access-token", SARTIQ),
        ("/api/image-service/v1/workspaces/w/images", NEUROFLASH),
        ("/ocs/v1.php/text2image/is_available", OCS),
        ("/ocs/v2.php/taskprocessing/tasks", OCS),
        ("/api/schema/", PLAIN),
        ("/api/docs/", PLAIN),
        ("/health/", PLAIN),
        ("/admin/", None),
        ("/admin/accounts/user/", None),
        ("/static/admin/css/base.css", None),
        ("/media/items/a.png", None),
    ],
)
def test_dialect_for_path(path, dialect):
    assert dialect_for_path(path) is dialect


# --- unknown paths through the project's own URLconf ---------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/noSuchEndpoint", aimg_error("No endpoint at /noSuchEndpoint.")),
        ("/2/noSuchEndpoint", aimg_error("No endpoint at /2/noSuchEndpoint.")),
        ("/api/v1/no-such-resource/", {"detail": "No endpoint at /api/v1/no-such-resource/."}),
        ("/api/no-such-thing/", {"detail": "No endpoint at /api/no-such-thing/."}),
        ("/ocs/v2.php/no/such/thing?format=json", ocs_v2_error(404, "No endpoint at /ocs/v2.php/no/such/thing.")),
    ],
)
def test_an_unknown_path_answers_in_the_dialect_of_its_prefix(path, body):
    response = api().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == body
    assert response["X-Request-ID"]


def test_an_unknown_neuroflash_path_is_a_spring_error():
    path = "/api/image-service/v1/no-such-resource"
    response = api().get(path)
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"timestamp", "status", "error", "message", "path"}
    assert (body["status"], body["error"], body["message"], body["path"]) == (
        404,
        "Not Found",
        f"No endpoint at {path}.",
        path,
    )


def test_an_unknown_admin_path_is_djangos_html_404():
    client = api()
    client.force_login(StaffFactory())
    response = client.get("/admin/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"hasError" not in response.content
    assert b"<" in response.content


def test_an_unknown_static_file_is_an_html_404():
    response = api().get("/static/no-such-file.css")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"hasError" not in response.content


# --- views that name no dialect, and errors Django handles after the view ------------------------


@pytest.mark.urls(URLCONF)
@pytest.mark.parametrize(
    ("prefix", "body"),
    [
        ("/", aimg_error("Nothing here.")),
        ("/api/", {"detail": "Nothing here."}),
        ("/api/v1/test-", {"detail": "Nothing here."}),
        ("/ocs/v2.php/test/", ocs_v2_error(404, "Nothing here.")),
    ],
)
def test_an_undialected_view_errs_in_the_dialect_of_its_path(prefix, body):
    response = api().get(f"{prefix}undialected?format=json")
    assert response.status_code == 404
    assert response.json() == body


@pytest.mark.urls(URLCONF)
@pytest.mark.parametrize(
    ("path", "message_of"),
    [
        ("/testAimgUnrenderable", lambda body: body["errorMessage"]),
        ("/api/v1/test-unrenderable", lambda body: body["detail"]),
        ("/api/image-service/v1/test/unrenderable", lambda body: body["message"]),
        ("/ocs/v2.php/test/unrenderable?format=json", lambda body: body["ocs"]["meta"]["message"]),
    ],
)
def test_a_failure_after_the_view_is_a_500_in_the_dialect_of_the_path(caplog, path, message_of):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api().get(path, HTTP_OCS_APIREQUEST="true")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    request_id = SERVER_ERROR.match(message_of(response.json()))["id"]
    assert response["X-Request-ID"] == request_id
    assert any(r.name == "django.request" and r.exc_info for r in caplog.records)


@pytest.mark.urls(URLCONF)
def test_a_failure_after_an_ocs_v1_view_is_http_200_statuscode_996():
    response = api().get("/ocs/v1.php/test/unrenderable?format=json", HTTP_OCS_APIREQUEST="true")
    assert response.status_code == 200
    meta = response.json()["ocs"]["meta"]
    assert (meta["status"], meta["statuscode"]) == ("failure", 996)

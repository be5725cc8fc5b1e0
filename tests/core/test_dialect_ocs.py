"""Nextcloud OCS dialect: XML or JSON envelope, v1 and v2 status semantics, credentials, 412."""

import logging
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from apps.accounts import services
from apps.core.domains import default_domain
from tests.core.dialect_support import (
    FORBIDDEN,
    NOT_FOUND,
    NOT_SIGNED_IN,
    RATE_LIMITED,
    SERVER_ERROR,
    URLCONF,
    api,
    basic_for,
    bearer_for,
    grant_moderator,
    organizations_at,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLCONF)]

OCS = {"HTTP_OCS_APIREQUEST": "true"}
V1, V2 = "/ocs/v1.php/test/", "/ocs/v2.php/test/"
BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CSRF_MESSAGE = "CSRF check failed: send the header 'OCS-APIRequest: true'."


@pytest.fixture
def client():
    return api()


@pytest.fixture
def user():
    return UserFactory()


def xml_document(response) -> tuple[list[tuple[str, str | None]], ET.Element]:
    """(the meta elements as (tag, text) in order, the data element) of an XML OCS response."""
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(response.content)  # noqa: S314 (the document our own test server rendered)
    assert root.tag == "ocs"
    assert [child.tag for child in root] == ["meta", "data"]
    meta = [(child.tag, child.text) for child in root.find("meta")]
    return meta, root.find("data")


def v1_meta(statuscode: int, message: str, status: str = "failure") -> list:
    return [
        ("status", status),
        ("statuscode", str(statuscode)),
        ("message", message),
        ("totalitems", None),
        ("itemsperpage", None),
    ]


def v2_meta(statuscode: int, message: str, status: str = "failure") -> list:
    return [("status", status), ("statuscode", str(statuscode)), ("message", message)]


def assert_empty(element: ET.Element) -> None:
    assert len(element) == 0
    assert element.text is None


# --- success, XML and JSON -----------------------------------------------------------------------


def test_v2_success_is_xml_by_default(client):
    response = client.get(f"{V2}echo", **OCS)
    assert response.status_code == 200
    meta, data = xml_document(response)
    assert meta == v2_meta(200, "OK", status="ok")
    assert [child.tag for child in data] == [
        "user",
        "session",
        "adminKey",
        "flag",
        "off",
        "nothing",
        "count",
        "tags",
        "nested",
    ]
    assert data.find("flag").text == "1"
    for empty in ("user", "session", "adminKey", "off", "nothing"):
        assert_empty(data.find(empty))
    assert data.find("count").text == "3"
    assert [(e.tag, e.text) for e in data.find("tags")] == [("element", "a"), ("element", "b")]
    assert [(e.tag, e.text) for e in data.find("nested")] == [("key", "value")]


def test_v1_success_is_http_200_statuscode_100_with_paging_fields(client):
    response = client.get(f"{V1}echo", **OCS)
    assert response.status_code == 200
    meta, data = xml_document(response)
    assert meta == v1_meta(100, "OK", status="ok")
    assert data.find("flag").text == "1"


ECHO_DATA = {
    "user": None,
    "session": None,
    "adminKey": False,
    "flag": True,
    "off": False,
    "nothing": None,
    "count": 3,
    "tags": ["a", "b"],
    "nested": {"key": "value"},
}


@pytest.mark.parametrize("how", [{"QUERY_STRING": "format=json"}, {"HTTP_ACCEPT": "application/json"}])
def test_json_on_request(client, how):
    response = client.get(f"{V2}echo", **OCS, **how)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"ocs": {"meta": {"status": "ok", "statuscode": 200, "message": "OK"}, "data": ECHO_DATA}}
    v1 = client.get(f"{V1}echo", **OCS, **how).json()
    assert v1["ocs"]["meta"] == {
        "status": "ok",
        "statuscode": 100,
        "message": "OK",
        "totalitems": "",
        "itemsperpage": "",
    }


@pytest.mark.parametrize(
    "how, content_type",
    [
        ({"QUERY_STRING": "format=json", "HTTP_ACCEPT": "application/xml"}, "application/json"),
        ({"QUERY_STRING": "format=xml", "HTTP_ACCEPT": "application/json"}, "application/xml; charset=utf-8"),
        ({"QUERY_STRING": "format=yaml", "HTTP_ACCEPT": "application/json"}, "application/json"),
        ({"QUERY_STRING": "format=yaml"}, "application/xml; charset=utf-8"),
        ({"HTTP_ACCEPT": "image/png"}, "application/xml; charset=utf-8"),
        ({"HTTP_ACCEPT": "text/xml, application/json"}, "application/xml; charset=utf-8"),
        ({"HTTP_ACCEPT": "text/html;q=0.9, application/json"}, "application/json"),
    ],
)
def test_the_format_is_chosen_as_nextcloud_does_and_never_refused(client, how, content_type):
    """The format parameter wins over Accept; otherwise the first of JSON or XML Accept names; XML
    when neither is named or the parameter is unknown. Never a 406."""
    response = client.get(f"{V2}echo", **OCS, **how)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type


def test_created_is_an_ok_envelope(client):
    response = client.post(f"{V2}echo?format=json", {"name": "fox"}, format="json", **OCS)
    assert response.status_code == 201
    assert response.json()["ocs"] == {
        "meta": {"status": "ok", "statuscode": 201, "message": "OK"},
        "data": {"name": "fox", "size": 1},
    }
    v1 = client.post(f"{V1}echo?format=json", {"name": "fox"}, format="json", **OCS)
    assert v1.status_code == 200
    assert v1.json()["ocs"]["meta"]["statuscode"] == 100


def test_list_items_are_element_entries(client):
    organizations = organizations_at([BASE - timedelta(seconds=i) for i in range(2)])
    _, data = xml_document(client.get(f"{V2}organizations", **OCS))
    assert [child.tag for child in data] == ["element", "element"]
    assert [{field.tag: field.text for field in item} for item in data] == [
        {"id": str(o.pk), "name": o.name, "slug": o.slug, "domain": "default"} for o in organizations
    ]
    json_list = client.get(f"{V2}organizations", {"format": "json"}, **OCS).json()["ocs"]["data"]
    assert [item["id"] for item in json_list] == [str(o.pk) for o in organizations]


def test_an_empty_list_is_an_empty_data_element(client):
    meta, data = xml_document(client.get(f"{V2}organizations", **OCS))
    assert meta == v2_meta(200, "OK", status="ok")
    assert_empty(data)
    assert client.get(f"{V2}organizations", {"format": "json"}, **OCS).json()["ocs"]["data"] == []


def test_text_is_escaped_and_characters_xml_cannot_carry_are_replaced(client):
    [organization] = organizations_at([BASE])
    organization.name = '<b>Tom & "Jerry"</b>\x01\x0b end'
    organization.save(update_fields=["name"])
    _, data = xml_document(client.get(f"{V2}organizations", **OCS))
    assert data.find("element/name").text == '<b>Tom & "Jerry"</b>\ufffd\ufffd end'


# --- credentials and the OCS-APIRequest header ---------------------------------------------------


@pytest.mark.parametrize("prefix", [V1, V2])
def test_basic_auth_with_email_and_password(client, user, prefix):
    response = client.get(f"{prefix}signed-in", {"format": "json"}, **OCS, **basic_for(user))
    assert response.status_code == 200
    assert response.json()["ocs"]["data"]["user"] == user.email


@pytest.mark.parametrize("prefix", [V1, V2])
def test_a_bearer_token_needs_no_ocs_header(client, user, prefix):
    response = client.get(f"{prefix}signed-in", {"format": "json"}, **bearer_for(user))
    assert response.status_code == 200
    assert response.json()["ocs"]["data"]["user"] == user.email


def test_an_api_session_is_accepted(client, user):
    session = services.create_session(domain=default_domain(), user=user)
    response = client.get(f"{V2}signed-in", {"format": "json"}, HTTP_X_SESSION_ID=str(session.pk), **OCS)
    assert response.status_code == 200
    assert response.json()["ocs"]["data"]["user"] == user.email


@pytest.mark.parametrize("prefix", [V1, V2])
def test_a_wrong_password_is_http_401_statuscode_997_in_both_versions(client, user, prefix):
    response = client.get(f"{prefix}signed-in", **OCS, **basic_for(user, password="wrong"))
    assert response.status_code == 401
    meta, data = xml_document(response)
    expected = v1_meta if prefix == V1 else v2_meta
    assert meta == expected(997, "Invalid username or password.")
    assert_empty(data)
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_nul_in_the_basic_user_name_is_a_401(client):
    response = client.get(f"{V2}echo", **OCS, HTTP_AUTHORIZATION="Basic YQBiOmM=")  # "a\0b:c"
    assert response.status_code == 401
    assert xml_document(response)[0] == v2_meta(997, "Invalid username or password.")


@pytest.mark.parametrize("credentials", ["none", "basic"])
def test_without_the_ocs_header_and_without_a_bearer_token_is_a_412(client, user, credentials):
    headers = basic_for(user) if credentials == "basic" else {}
    v2 = client.get(f"{V2}echo", **headers)
    assert v2.status_code == 412
    assert xml_document(v2)[0] == v2_meta(412, CSRF_MESSAGE)
    v1 = client.get(f"{V1}echo", **headers)
    assert v1.status_code == 200
    assert xml_document(v1)[0] == v1_meta(412, CSRF_MESSAGE)


def test_a_method_the_view_does_not_have_is_a_405_before_the_csrf_check(client):
    response = client.put(f"{V2}echo")  # neither the OCS header nor a bearer token
    assert response.status_code == 405
    assert xml_document(response)[0] == v2_meta(405, 'Method "PUT" not allowed.')


# --- error statuses, v1 and v2 -------------------------------------------------------------------

# probe, method, message, (v1 HTTP, v1 statuscode), (v2 HTTP, v2 statuscode)
ERRORS = [
    ("bad-input", "get", "name: Pick a shorter name.; tags.1: Unknown tag.", (200, 400), (400, 400)),
    ("signed-in", "get", NOT_SIGNED_IN, (401, 997), (401, 997)),
    ("missing", "get", "No folder with the id 42.", (200, 998), (404, 404)),
    ("django-missing", "get", NOT_FOUND, (200, 998), (404, 404)),
    ("echo", "put", 'Method "PUT" not allowed.', (200, 405), (405, 405)),
]


@pytest.mark.parametrize(("probe", "method", "message", "v1", "v2"), ERRORS)
def test_error_statuses(client, probe, method, message, v1, v2):
    for prefix, (http_status, statuscode), meta in ((V1, v1, v1_meta), (V2, v2, v2_meta)):
        response = getattr(client, method)(f"{prefix}{probe}", **OCS)
        assert response.status_code == http_status, prefix
        got_meta, data = xml_document(response)
        assert got_meta == meta(statuscode, message)
        assert_empty(data)
        as_json = getattr(client, method)(f"{prefix}{probe}?format=json", **OCS)
        assert as_json.status_code == http_status
        assert as_json.json()["ocs"]["data"] == []
        assert as_json.json()["ocs"]["meta"]["statuscode"] == statuscode


def test_validation_error(client):
    response = client.post(f"{V2}echo?format=json", {"name": ""}, format="json", **OCS)
    assert response.status_code == 400
    assert response.json() == {
        "ocs": {
            "meta": {"status": "failure", "statuscode": 400, "message": "name: This field may not be blank."},
            "data": [],
        }
    }


def test_permission_denied(client, user):
    for prefix, http_status, meta in ((V1, 200, v1_meta), (V2, 403, v2_meta)):
        response = client.get(f"{prefix}moderator", **OCS, **basic_for(user))
        assert response.status_code == http_status
        assert xml_document(response)[0] == meta(403, FORBIDDEN)
    grant_moderator(user)
    assert client.get(f"{V2}moderator", **OCS, **basic_for(user)).status_code == 200


@pytest.mark.parametrize(("prefix", "http_status", "meta"), [(V1, 200, v1_meta), (V2, 404, v2_meta)])
def test_an_unknown_path_under_the_prefix(client, prefix, http_status, meta):
    path = f"{prefix}nothing/here"
    response = client.get(path)
    assert response.status_code == http_status
    statuscode = 998 if prefix == V1 else 404
    assert xml_document(response)[0] == meta(statuscode, f"No endpoint at {path}.")
    for as_json in (client.get(path, {"format": "json"}), client.get(path, HTTP_ACCEPT="application/json")):
        assert as_json.status_code == http_status
        assert as_json.json()["ocs"]["meta"]["statuscode"] == statuscode
        assert as_json["X-Request-ID"]


@pytest.mark.parametrize(("prefix", "http_status", "meta"), [(V1, 200, v1_meta), (V2, 429, v2_meta)])
def test_a_rate_limit_is_429(client, prefix, http_status, meta):
    assert [client.get(f"{prefix}limited", **OCS).status_code for _ in range(2)] == [200, 200]
    response = client.get(f"{prefix}limited", **OCS)
    assert response.status_code == http_status
    assert xml_document(response)[0] == meta(429, RATE_LIMITED)


@pytest.mark.parametrize(("prefix", "http_status", "statuscode"), [(V1, 200, 996), (V2, 500, 500)])
def test_a_crash_is_logged_with_the_request_id(client, caplog, prefix, http_status, statuscode):
    with caplog.at_level(logging.ERROR, logger="atelier.errors"):
        response = client.get(f"{prefix}crash", **OCS)
    assert response.status_code == http_status
    meta, data = xml_document(response)
    assert meta[:2] == [("status", "failure"), ("statuscode", str(statuscode))]
    request_id = SERVER_ERROR.match(meta[2][1])["id"]
    assert response["X-Request-ID"] == request_id
    assert_empty(data)
    [record] = [r for r in caplog.records if r.name == "atelier.errors"]
    assert request_id in record.getMessage()
    assert isinstance(record.exc_info[1], RuntimeError)

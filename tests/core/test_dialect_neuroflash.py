"""Neuroflash dialect: plain JSON, page/size lists with the page block, Spring-style error bodies."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from tests.core.dialect_support import (
    FORBIDDEN,
    NOT_FOUND,
    NOT_SIGNED_IN,
    RATE_LIMITED,
    SERVER_ERROR,
    URLCONF,
    api,
    bearer_for,
    grant_moderator,
    newest_first,
    organizations_at,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLCONF)]

PREFIX = "/api/image-service/v1/test/"
LIST = f"{PREFIX}organizations"
BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ERROR_FIELDS = {"timestamp", "status", "error", "message", "path"}


@pytest.fixture
def client():
    return api()


@pytest.fixture
def user():
    return UserFactory()


def assert_error(response, status: int, reason: str, message: str, *, errors=None) -> dict:
    """The Spring-style body: exact fields, the status twice, a UTC ISO-8601 timestamp, the path."""
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == (ERROR_FIELDS | {"errors"} if errors is not None else ERROR_FIELDS)
    assert body["status"] == status
    assert body["error"] == reason
    assert body["message"] == message
    assert body["path"] == response.request["PATH_INFO"]
    assert body["timestamp"].endswith("Z")
    stamp = datetime.fromisoformat(body["timestamp"])
    assert stamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)
    if errors is not None:
        assert body["errors"] == errors
    return body


def test_success_is_plain_json(client):
    response = client.get(f"{PREFIX}echo")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
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
    assert response["X-Request-ID"]


def test_created(client):
    response = client.post(f"{PREFIX}echo", {"name": "fox"}, format="json")
    assert response.status_code == 201
    assert response.json() == {"name": "fox", "size": 1}


# --- credentials ---------------------------------------------------------------------------------


def test_a_bearer_token_authenticates(client, user):
    response = client.get(f"{PREFIX}signed-in", **bearer_for(user))
    assert response.status_code == 200
    assert response.json()["user"] == user.email


def test_no_credentials_is_a_401(client):
    response = client.get(f"{PREFIX}signed-in")
    assert_error(response, 401, "Unauthorized", NOT_SIGNED_IN)
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_invalid_token_is_a_401(client):
    response = client.get(f"{PREFIX}echo", HTTP_AUTHORIZATION="Bearer atk_0123456789abcdef.nope")
    assert_error(response, 401, "Unauthorized", "Could not validate credentials.")


def test_permission_denied_is_a_403(client, user):
    assert_error(client.get(f"{PREFIX}moderator", **bearer_for(user)), 403, "Forbidden", FORBIDDEN)
    grant_moderator(user)
    assert client.get(f"{PREFIX}moderator", **bearer_for(user)).status_code == 200


# --- 400 -----------------------------------------------------------------------------------------


def test_a_validation_error_is_a_400_with_errors(client):
    response = client.post(f"{PREFIX}echo", {"size": 99}, format="json")
    assert_error(
        response,
        400,
        "Bad Request",
        "name: This field is required.; size: Ensure this value is less than or equal to 10.",
        errors=[
            {"field": "name", "message": "This field is required."},
            {"field": "size", "message": "Ensure this value is less than or equal to 10."},
        ],
    )


def test_invalid_input_with_field_errors(client):
    assert_error(
        client.get(f"{PREFIX}bad-input"),
        400,
        "Bad Request",
        "name: Pick a shorter name.; tags.1: Unknown tag.",
        errors=[{"field": "name", "message": "Pick a shorter name."}, {"field": "tags.1", "message": "Unknown tag."}],
    )


def test_invalid_input_without_field_errors_has_no_errors_list(client):
    assert_error(client.post(f"{PREFIX}bad-input"), 400, "Bad Request", "The prompt is empty.")


# --- 404 / 405 / 429 / 500 -----------------------------------------------------------------------


def test_not_found(client):
    assert_error(client.get(f"{PREFIX}missing"), 404, "Not Found", "No folder with the id 42.")
    assert_error(client.get(f"{PREFIX}django-missing"), 404, "Not Found", NOT_FOUND)


def test_an_unknown_path_under_the_prefix(client):
    path = "/api/image-service/v1/workspaces/w1/imagez"
    assert_error(client.get(path), 404, "Not Found", f"No endpoint at {path}.")


def test_a_wrong_method_is_a_405(client):
    assert_error(client.patch(f"{PREFIX}echo"), 405, "Method Not Allowed", 'Method "PATCH" not allowed.')


def test_a_rate_limit_is_a_429(client):
    assert [client.get(f"{PREFIX}limited").status_code for _ in range(2)] == [200, 200]
    assert_error(client.get(f"{PREFIX}limited"), 429, "Too Many Requests", RATE_LIMITED)


def test_a_crash_is_a_500_logged_with_the_request_id(client, caplog):
    with caplog.at_level(logging.ERROR, logger="atelier.errors"):
        response = client.get(f"{PREFIX}crash")
    assert response.status_code == 500
    body = assert_error(response, 500, "Internal Server Error", response.json()["message"])
    request_id = SERVER_ERROR.match(body["message"])["id"]
    assert response["X-Request-ID"] == request_id
    [record] = [r for r in caplog.records if r.name == "atelier.errors"]
    assert request_id in record.getMessage()
    assert isinstance(record.exc_info[1], RuntimeError)


# --- page / size ---------------------------------------------------------------------------------


def test_a_list_is_the_page_block_and_data(client):
    organizations = organizations_at([BASE - timedelta(seconds=i) for i in range(3)])
    response = client.get(LIST)
    assert response.status_code == 200
    assert response.json() == {
        "page": {"size": 50, "totalElements": 3, "totalPages": 1, "currentPage": 1},
        "data": [{"id": str(o.pk), "name": o.name, "slug": o.slug, "domain": "default"} for o in organizations],
    }


def test_pages_are_one_based_and_cover_every_row_once(client):
    organizations = organizations_at([BASE] * 3 + [BASE + timedelta(milliseconds=i) for i in range(4)])
    walked = []
    for number in (1, 2, 3):
        body = client.get(LIST, {"page": number, "size": 3}).json()
        assert body["page"] == {"size": 3, "totalElements": 7, "totalPages": 3, "currentPage": number}
        walked += [item["id"] for item in body["data"]]
    assert walked == newest_first(organizations)
    past_the_end = client.get(LIST, {"page": 4, "size": 3}).json()
    assert past_the_end == {"page": {"size": 3, "totalElements": 7, "totalPages": 3, "currentPage": 4}, "data": []}


def test_an_empty_list_has_zero_pages(client):
    assert client.get(LIST).json() == {
        "page": {"size": 50, "totalElements": 0, "totalPages": 0, "currentPage": 1},
        "data": [],
    }


def test_size_defaults_to_50_and_allows_200(client):
    organizations_at([BASE + timedelta(microseconds=i) for i in range(201)])
    assert len(client.get(LIST).json()["data"]) == 50
    body = client.get(LIST, {"size": 200}).json()
    assert len(body["data"]) == 200
    assert body["page"] == {"size": 200, "totalElements": 201, "totalPages": 2, "currentPage": 1}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"size": 201}, "size", "Ensure this value is less than or equal to 200."),
        ({"size": 0}, "size", "Ensure this value is greater than or equal to 1."),
        ({"page": 0}, "page", "Ensure this value is greater than or equal to 1."),
        ({"page": "last"}, "page", "A valid integer is required."),
        ({"page": str(10**20)}, "page", "Ensure this value is less than or equal to 10737418."),
    ],
)
def test_invalid_page_or_size_is_a_400(client, params, field, message):
    assert_error(
        client.get(LIST, params),
        400,
        "Bad Request",
        f"{field}: {message}",
        errors=[{"field": field, "message": message}],
    )


@pytest.mark.parametrize("size", [5, 50])
def test_a_page_costs_two_queries_whatever_its_size(client, django_assert_num_queries, size):
    organizations_at([BASE + timedelta(milliseconds=i) for i in range(60)])
    with django_assert_num_queries(2):
        response = client.get(LIST, {"size": size})
    assert len(response.json()["data"]) == size

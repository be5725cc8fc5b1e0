"""Sartiq dialect (FastAPI style): bare objects, {"data", "count"} lists, {"detail"} errors, 422."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts import services
from apps.accounts.models import AccessToken
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

PREFIX = "/api/v1/test-"
LIST = f"{PREFIX}organizations"
BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def client():
    return api()


@pytest.fixture
def user():
    return UserFactory()


def test_success_is_the_bare_object(client):
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


def test_created_is_the_bare_object_with_its_status(client):
    response = client.post(f"{PREFIX}echo", {"name": "fox", "size": 2}, format="json")
    assert response.status_code == 201
    assert response.json() == {"name": "fox", "size": 2}


# --- credentials ---------------------------------------------------------------------------------


def test_a_bearer_token_authenticates_its_user(client, user):
    response = client.get(f"{PREFIX}signed-in", **bearer_for(user))
    assert response.status_code == 200
    assert response.json()["user"] == user.email


def test_no_credentials_is_a_401_with_a_bearer_challenge(client):
    response = client.get(f"{PREFIX}signed-in")
    assert response.status_code == 401
    assert response.json() == {"detail": NOT_SIGNED_IN}
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer nope", "Could not validate credentials."),
        ("Bearer atk_0123456789abcdef.wrong", "Could not validate credentials."),
        ("Bearer a\x00b.c", "Could not validate credentials."),
        ("Bearer two parts", "Invalid bearer header: it must be 'Bearer <token>'."),
    ],
)
def test_an_invalid_token_is_a_401(client, header, message):
    response = client.get(f"{PREFIX}echo", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json() == {"detail": message}
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_an_unusable_token_is_a_401(client, user, state):
    headers = bearer_for(user)
    token = AccessToken.objects.get(user=user)
    if state == "revoked":
        services.revoke_access_token(token=token)
    else:
        AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(f"{PREFIX}signed-in", **headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials."}


def test_a_user_without_the_permission_is_a_403(client, user):
    response = client.get(f"{PREFIX}moderator", **bearer_for(user))
    assert response.status_code == 403
    assert response.json() == {"detail": FORBIDDEN}


def test_a_role_grants_the_permission(client, user):
    grant_moderator(user)
    response = client.get(f"{PREFIX}moderator", **bearer_for(user))
    assert response.status_code == 200
    assert response.json()["user"] == user.email


def test_an_anonymous_request_for_a_permission_is_a_401(client):
    response = client.get(f"{PREFIX}moderator")
    assert response.status_code == 401
    assert response.json() == {"detail": NOT_SIGNED_IN}


# --- 400 / 422 -----------------------------------------------------------------------------------


def test_validation_errors_are_a_422_with_locations(client):
    response = client.post(f"{PREFIX}echo", {"name": "x" * 21, "size": 0}, format="json")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "name"],
                "msg": "Ensure this field has no more than 20 characters.",
                "type": "string_too_long",
            },
            {
                "loc": ["body", "size"],
                "msg": "Ensure this value is greater than or equal to 1.",
                "type": "greater_than_equal",
            },
        ]
    }


def test_a_missing_field_is_a_422_missing(client):
    response = client.post(f"{PREFIX}echo", {}, format="json")
    assert response.status_code == 422
    missing = {"loc": ["body", "name"], "msg": "This field is required.", "type": "missing"}
    assert response.json() == {"detail": [missing]}


def test_invalid_input_with_field_errors_is_a_422(client):
    response = client.get(f"{PREFIX}bad-input")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "name"], "msg": "Pick a shorter name.", "type": "value_error"},
            {"loc": ["body", "tags", 1], "msg": "Unknown tag.", "type": "value_error"},
        ]
    }


def test_invalid_input_without_field_errors_is_a_400_detail(client):
    response = client.post(f"{PREFIX}bad-input")
    assert response.status_code == 400
    assert response.json() == {"detail": "The prompt is empty."}


# --- 404 / 405 / 429 / 500 -----------------------------------------------------------------------


def test_not_found(client):
    response = client.get(f"{PREFIX}missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "No folder with the id 42."}


def test_http404(client):
    response = client.get(f"{PREFIX}django-missing")
    assert response.status_code == 404
    assert response.json() == {"detail": NOT_FOUND}


def test_an_unknown_path_under_the_prefix_is_a_sartiq_404(client):
    response = client.get("/api/v1/subjectz/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "No endpoint at /api/v1/subjectz/."}


def test_a_wrong_method_is_a_405(client):
    response = client.delete(f"{PREFIX}echo")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}
    assert client.post(LIST).json() == {"detail": 'Method "POST" not allowed.'}


def test_a_rate_limit_is_a_429(client):
    assert [client.get(f"{PREFIX}limited").status_code for _ in range(2)] == [200, 200]
    response = client.get(f"{PREFIX}limited")
    assert response.status_code == 429
    assert response.json() == {"detail": RATE_LIMITED}


def test_a_crash_is_a_500_detail_logged_with_the_request_id(client, caplog):
    with caplog.at_level(logging.ERROR, logger="atelier.errors"):
        response = client.get(f"{PREFIX}crash")
    assert response.status_code == 500
    assert set(response.json()) == {"detail"}
    request_id = SERVER_ERROR.match(response.json()["detail"])["id"]
    assert response["X-Request-ID"] == request_id
    [record] = [r for r in caplog.records if r.name == "atelier.errors"]
    assert request_id in record.getMessage()
    assert isinstance(record.exc_info[1], RuntimeError)


# --- skip / limit --------------------------------------------------------------------------------


def test_a_list_is_data_and_count(client):
    organizations = organizations_at([BASE - timedelta(seconds=i) for i in range(3)])
    response = client.get(LIST)
    assert response.status_code == 200
    assert response.json() == {
        "data": [{"id": str(o.pk), "name": o.name, "slug": o.slug, "domain": "default"} for o in organizations],
        "count": 3,
    }


def test_skip_and_limit_page_through_every_row_once(client):
    organizations = organizations_at([BASE] * 4 + [BASE + timedelta(milliseconds=i) for i in range(7)])
    walked = []
    for skip in range(0, 11, 3):
        body = client.get(LIST, {"skip": skip, "limit": 3}).json()
        assert body["count"] == 11
        walked += [item["id"] for item in body["data"]]
    assert walked == newest_first(organizations)


def test_limit_defaults_to_100_and_is_served_as_at_most_1000(client):
    organizations_at([BASE + timedelta(microseconds=i) for i in range(1003)])
    assert len(client.get(LIST).json()["data"]) == 100
    body = client.get(LIST, {"limit": 5000}).json()
    assert body["count"] == 1003
    assert len(body["data"]) == 1000
    assert client.get(LIST, {"limit": 0}).json() == {"data": [], "count": 1003}


@pytest.mark.parametrize(
    ("params", "field", "msg", "error_type"),
    [
        ({"skip": -1}, "skip", "Ensure this value is greater than or equal to 0.", "greater_than_equal"),
        ({"limit": "many"}, "limit", "A valid integer is required.", "value_error"),
        ({"skip": str(10**20)}, "skip", "Ensure this value is less than or equal to 2147483647.", "less_than_equal"),
    ],
)
def test_invalid_skip_or_limit_is_a_422(client, params, field, msg, error_type):
    response = client.get(LIST, params)
    assert response.status_code == 422
    assert response.json() == {"detail": [{"loc": ["query", field], "msg": msg, "type": error_type}]}


@pytest.mark.parametrize("limit", [5, 50])
def test_a_page_costs_two_queries_whatever_its_size(client, django_assert_num_queries, limit):
    organizations_at([BASE + timedelta(milliseconds=i) for i in range(60)])
    with django_assert_num_queries(2):
        response = client.get(LIST, {"limit": limit})
    assert len(response.json()["data"]) == limit

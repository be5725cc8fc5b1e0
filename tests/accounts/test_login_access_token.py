import pytest

from apps.accounts.models import AccessToken
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/login/access-token"


def test_password_grant_returns_a_bearer_token_stored_only_hashed(api_client):
    user = UserFactory()
    response = api_client.post(URL, {"username": user.email, "password": PASSWORD, "grant_type": "password"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type"}
    assert body["token_type"] == "bearer"
    token = AccessToken.objects.get(user=user)
    assert body["access_token"] not in (token.secret_hash, token.prefix)
    assert body["access_token"].startswith(token.prefix + ".")


def test_wrong_password_is_a_400_detail(api_client):
    user = UserFactory()
    response = api_client.post(URL, {"username": user.email, "password": "nope"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Incorrect email or password"}
    assert not AccessToken.objects.exists()


def test_missing_fields_are_a_422_with_locations(api_client):
    response = api_client.post(URL, {"username": "x@example.com"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail == [{"loc": ["body", "password"], "msg": "This field is required.", "type": "missing"}]


def test_a_user_blocked_at_abuse_level_9_gets_no_token(api_client):
    user = UserFactory(abuse_level=9)
    response = api_client.post(URL, {"username": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"detail": "Inactive user"}
    assert not AccessToken.objects.filter(user=user).exists()

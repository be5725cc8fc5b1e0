"""JSON bodies are capped (413 in the dialect's format) before they are read into memory."""

import json

import pytest
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.core.domains import default_domain
from tests.factories import UserFactory


@pytest.mark.django_db
def test_an_oversized_json_body_is_413_in_the_aimg_format(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    user = UserFactory()
    session = accounts.create_session(domain=default_domain(), user=user)
    response = APIClient().post(
        "/setUserKVP",
        data=json.dumps({"key": "k", "value": "x" * 5000}),
        content_type="application/json",
        HTTP_X_SESSION_ID=str(session.pk),
    )
    assert response.status_code == 413
    assert response.json() == {"hasError": True, "errorMessage": "The request body is too large.", "payload": None}
    assert not user.key_values.exists()


@pytest.mark.django_db
def test_a_view_may_allow_a_larger_body(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    session = accounts.create_session(domain=default_domain())
    body = {"logs": [{"message": "y" * 4000}]}
    response = APIClient().post(
        "/ingestLogs", data=json.dumps(body), content_type="application/json", HTTP_X_SESSION_ID=str(session.pk)
    )
    assert response.status_code == 200

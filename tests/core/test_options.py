"""OPTIONS requests answer the allowed methods in the dialect's wire format, for every kind of view."""

import pytest
from rest_framework.test import APIClient

from tests.core.dialect_support import bearer_for
from tests.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/authenticateUser", "POST"),  # AIMG view validating with its own serializers
        ("/pgQuery", "POST"),
        ("/restoreItems", "POST"),  # AIMG ViewSet action
        ("/api/v1/styles/", "GET"),  # Sartiq ViewSet
    ],
)
def test_options_names_the_allowed_methods(path, method):
    headers = bearer_for(UserFactory()) if path.startswith("/api/v1/") else {}
    response = APIClient(raise_request_exception=False).options(path, **headers)
    assert response.status_code == 200
    assert method in response["Allow"]
    body = response.json()
    data = body["payload"] if "hasError" in body else body
    if "hasError" in body:
        assert body["hasError"] is False
    assert method in data["methods"]
    assert set(data) == {"name", "methods"}

"""The OpenAPI document: it validates, documents every credential, and its pages are served."""

from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.core.dialects.aimg import AimgView
from apps.core.dialects.ocs import OcsView
from apps.core.dialects.sartiq import SartiqView

SCHEMES = {
    "sessionId": {"type": "apiKey", "in": "header", "name": "X-Session-ID"},
    "administrationKey": {"type": "apiKey", "in": "header", "name": "X-Administration-Key"},
    "bearerAuth": {"type": "http", "scheme": "bearer"},
    "basicAuth": {"type": "http", "scheme": "basic"},
}


def _generate() -> dict:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def _subset(definition: dict, expected: dict) -> bool:
    return {key: definition.get(key) for key in expected} == expected


def test_schema_validates_without_warnings_and_lists_every_security_scheme():
    schema = _generate()  # raises (SystemExit / CommandError) on an invalid schema or any warning
    assert schema["openapi"].startswith("3.")
    schemes = schema["components"]["securitySchemes"]
    for name, expected in SCHEMES.items():
        assert name in schemes, f"security scheme {name} is missing"
        assert _subset(schemes[name], expected), (name, schemes[name])


class _Probe:
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        return Response({})


class _AimgProbe(_Probe, AimgView):
    pass


class _SartiqProbe(_Probe, SartiqView):
    pass


class _OcsProbe(_Probe, OcsView):
    pass


def test_each_dialect_view_names_its_credentials():
    patterns = [
        path("aimg-probe", _AimgProbe.as_view()),
        path("api/v1/sartiq-probe", _SartiqProbe.as_view()),
        path("ocs/v2.php/ocs-probe", _OcsProbe.as_view()),
    ]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    security = {p: schema["paths"][p]["get"]["security"] for p in schema["paths"]}
    # AIMG: the session header or the admin key, either one alone.
    assert security["/aimg-probe"] == [{"sessionId": []}, {"administrationKey": []}]
    assert security["/api/v1/sartiq-probe"] == [{"bearerAuth": []}]
    assert security["/ocs/v2.php/ocs-probe"] == [
        {"bearerAuth": []},
        {"basicAuth": []},
        {"sessionId": []},
        {"administrationKey": []},
    ]
    for name, expected in SCHEMES.items():
        assert _subset(schema["components"]["securitySchemes"][name], expected)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "content_type"),
    [
        ("/api/schema/", "application/vnd.oai.openapi"),
        ("/api/docs/", "text/html"),
        ("/api/redoc/", "text/html"),
    ],
)
def test_schema_and_documentation_pages_answer(client, url, content_type):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)


@pytest.mark.django_db
def test_served_schema_lists_the_security_schemes(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert set(SCHEMES) <= set(response.json()["components"]["securitySchemes"])

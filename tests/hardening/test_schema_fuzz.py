"""Schema fuzzing: every operation of the OpenAPI document, in-process against the WSGI app.

schemathesis generates requests from the schema (valid and invalid: the "all" generation mode),
sends them as an admin and as a signed-in user with each dialect's own credential, and checks that
no answer is a 5xx, that status codes, content types and bodies conform to the schema, that data
the schema forbids is rejected with a 4xx, and that operations needing a credential refuse a
missing or wrong one.

``make test`` runs a fixed budget (``FUZZ_MAX_EXAMPLES``, 5 examples per operation and persona by
default, derandomized so a run is repeatable); ``make fuzz`` runs 1000 per operation with fresh
randomness. ``FUZZ_MAX_EXAMPLES=0`` skips it; ``FUZZ_ONLY`` (a regular expression of paths) fuzzes
a few operations while fixing them.
"""

import base64
import json
import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.generation.meta import negated_parameters

from apps.accounts import services as accounts
from apps.core.domains import default_domain
from apps.core.schema import dialect_of_path
from tests.factories import PASSWORD, StaffFactory, UserFactory

DEFAULT_BUDGET = 5
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", DEFAULT_BUDGET))
DERANDOMIZE = "FUZZ_MAX_EXAMPLES" not in os.environ or os.environ.get("FUZZ_DERANDOMIZE") == "1"
ONLY = os.environ.get("FUZZ_ONLY", "")
pytestmark = pytest.mark.skipif(not MAX_EXAMPLES, reason="FUZZ_MAX_EXAMPLES=0 turns schema fuzzing off")

# Operations whose side effects reach outside the test process or sign the caller out, which would
# turn the rest of the run into 401s; they have their own tests.
SKIPPED_OPERATIONS = {
    "signOutUser",
}


# Valid-looking requests the server refuses for a reason no schema can state: a rule across fields
# or credentials, or a value that must name data (a model, a queue). For these operations a 400
# or 422 also counts as an answer to schema-valid data; every other check still runs.
SEMANTIC_REFUSALS = {
    "deleteItems": "imageIDs or userID: exactly one of the two",
    "restoreItems": "imageIDs or userID: exactly one of the two",
    "deleteUser": "with an administration key, userID must name the user (a key never deletes its owner)",
    "getUser": "one of userID, email or username",
    "setProfilePictureBanned": "userID or email",
    "setUserAbuseLevel": "userID or email",
    "setUserAdditionalInformation": "userID or email",
    "authenticateUser": "a new password must pass the password policy, including the common-password list",
    "login_access_token": "wrong email or password is a 400, as the published API answers",
    "generateImage": "modelName must name a model of the catalogue (data)",
    "generateVideo": "modelName must name a model of the catalogue (data)",
    "reportItems": "reportQueue must name a report queue (data)",
    "migrateLibrary": "the source and destination users must differ",
    "redeemGiftCard": "a code is 20 characters of the gift-card alphabet once separators are dropped",
    "setAdminProvidedPremiumTier": "deactivationDate: RFC 3339 allows date-times Python cannot hold",
    "create_guidelines": "a shot-type rule's rule_value depends on its rule_type",
    "update_guidelines": "a shot-type rule's rule_value depends on its rule_type",
    "patch_guidelines": "a shot-type rule's rule_value depends on its rule_type",
    "upload_subject_base_images_zip": "the file must be a ZIP archive",
    "setItemProperties": "at least one of isPublic or publicApprovalStatus",
    "createBillingPlan": "an external payment provider needs its paymentUrl",
    "create_shot_type": "an image input must be a real image (a URL, base64, an upload, or a media resource)",
    "create_style": "an image input must be a real image (a URL, base64, an upload, or a media resource)",
    "create_subject": "an image input must be a real image (a URL, base64, an upload, or a media resource)",
    "create_background_preset": "an image input must be a real image (a URL, base64, an upload, or a media resource)",
    "injectBoostyAdminAccountCookies": "cookies: a Cookie Editor export (non-empty array of cookies, or its JSON text)",
}
SEMANTIC_STATUSES = ["2xx", "3xx", 400, 401, 403, 404, 409, 422, 429]


# OCS v1 answers every failure but a 401 with HTTP 200 and the status in the body (Nextcloud's
# protocol, which clients rely on), so an HTTP status cannot tell a v1 refusal from a success, nor
# pick the response schema to check: v1 paths are only checked for server errors. Every v1 route is
# the v2 view under another prefix, and v2 runs every check.
V1_CHECKS = [schemathesis.checks.not_a_server_error]


def _schema_dict() -> dict:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))


@pytest.fixture
def _no_connection_recycling():
    """Requests run inside the test's transaction: keep Django from closing its connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _credentials(persona: str) -> dict:
    domain = default_domain()
    who = StaffFactory(is_superuser=True) if persona == "admin" else UserFactory()
    session = accounts.create_session(domain=domain, user=who)
    _, bearer = accounts.issue_access_token(user=who)
    # Each persona sends one credential per dialect (an administration key alone authenticates
    # its owner), so a check that spoils "the" credential really leaves the request without one.
    if persona == "admin":
        _, key = accounts.create_admin_key(user=who)
        aimg = {"X-Administration-Key": key}
    else:
        aimg = {"X-Session-ID": str(session.pk)}
    basic = base64.b64encode(f"{who.email}:{PASSWORD}".encode()).decode()
    return {
        "aimg": aimg,
        "plain": {},
        "sartiq": {"Authorization": f"Bearer {bearer}"},
        "neuroflash": {"Authorization": f"Bearer {bearer}"},
        "ocs": {"Authorization": f"Basic {basic}", "OCS-APIRequest": "true", "Accept": "application/json"},
    }


@pytest.fixture
def api_schema(db, _no_connection_recycling):
    config = schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
            "phases": {"stateful": {"enabled": False}},
            "operations": [
                {
                    "include-operation-id": sorted(SEMANTIC_REFUSALS),
                    "checks": {"positive_data_acceptance": {"expected-statuses": SEMANTIC_STATUSES}},
                }
            ],
        }
    )
    schema = schemathesis.openapi.from_dict(_schema_dict(), config=config)
    schema.app = WSGIHandler()
    return schema


schema = schemathesis.pytest.from_fixture("api_schema").exclude(operation_id=list(SKIPPED_OPERATIONS))
if ONLY:  # FUZZ_ONLY: a regular expression of paths, to fuzz a few operations while fixing them
    schema = schema.include(path_regex=ONLY)


SETTINGS = hypothesis_settings(
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.slow
@schema.parametrize()
@SETTINGS
def test_operation_as_admin(case):
    _call_and_validate(case, "admin")


@pytest.mark.slow
@schema.parametrize()
@SETTINGS
def test_operation_as_user(case):
    _call_and_validate(case, "user")


# Credentials a security scheme of the schema names: the persona's own replace whatever was
# generated for them, and the case is marked as carrying explicit credentials, so schemathesis's
# authentication check probes the operation without them and with wrong ones, and expects a 401
# or 403 wherever the schema says a credential is required.
SECURITY_HEADERS = {"x-session-id", "x-administration-key", "authorization"}


def _call_and_validate(case, persona: str):
    persona_headers = _credentials_cache(persona)[dialect_of_path(case.operation.path)]
    headers = dict(case.headers or {})
    for name, value in persona_headers.items():  # the dialect's other headers (OCS-APIRequest, Accept)
        if name.lower() not in SECURITY_HEADERS:
            headers.setdefault(name, value)
    negated = {name.lower() for name, _ in negated_parameters(case.meta)}
    if not negated & SECURITY_HEADERS:  # a case about a missing or bad credential keeps its own
        headers = {name: value for name, value in headers.items() if name.lower() not in SECURITY_HEADERS}
        headers.update({name: value for name, value in persona_headers.items() if name.lower() in SECURITY_HEADERS})
        case._has_explicit_auth = True
    case.headers = headers
    if case.operation.path.startswith("/ocs/v1.php/"):
        case.call_and_validate(checks=V1_CHECKS)
    else:
        case.call_and_validate()


_CACHE: dict = {}


def _credentials_cache(persona: str) -> dict:
    # One user per persona and test (the database is rolled back after each test).
    from django.db import connection

    key = (persona, id(connection.connection))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _credentials(persona)
    return _CACHE[key]

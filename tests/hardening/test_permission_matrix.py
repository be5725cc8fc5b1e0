"""The permission matrix of every documented endpoint, generated from the specs' endpoint list.

For each endpoint of ``endpoints.tsv`` (kept as ``tests/hardening/endpoints.tsv``) and each caller —
anonymous, a guest session, a user, a moderator and an admin, each with the credential its dialect
takes — the answer is recorded. The matrix then proves:

- every endpoint exists in the URL conf (a row of ``docs/api-coverage.md`` that is not ``missing``
  must resolve);
- no caller gets a 5xx, whatever it sends (here: nothing but the credential);
- every row the spec marks ``admin`` refuses anonymous callers, guest sessions and users (401 or
  403), and the admin is not refused;
- a moderator (staff with the ``moderator`` role) is let into exactly the admin rows its role's
  permissions grant (``MODERATOR_MAY``: the moderation endpoints; see docs/decisions.md, "Staff
  roles on the admin endpoints") and refused everywhere else.

Leaks of another user's private data are checked in ``test_private_data.py``.
"""

import csv
import re
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.core.domains import default_domain
from tests.core.dialect_support import bearer_for, grant_moderator
from tests.factories import PASSWORD, StaffFactory, UserFactory

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ENDPOINTS = HERE / "endpoints.tsv"
COVERAGE = ROOT / "docs" / "api-coverage.md"
CALLERS = ("anonymous", "guest", "user", "moderator", "admin")
SAMPLE_UUID = "00000000-0000-4000-8000-000000000001"
# Admin rows the moderator role's permissions open (accounts.moderate_user, items.approve_item,
# items.view_item, the reports permissions); every other admin row refuses moderators.
MODERATOR_MAY = {
    ("POST", "/setProfilePictureBanned"),
    ("POST", "/setUserAbuseLevel"),
    ("POST", "/setPublicApprovalStatus"),
    ("GET", "/getItems"),
    ("GET", "/getReports"),
    ("POST", "/closeReports"),
    ("GET", "/downloadReportsForEpoch"),
}


def _rows() -> list[dict]:
    with ENDPOINTS.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _missing() -> set[tuple[str, str]]:
    """(method, path) of the rows docs/api-coverage.md still marks missing."""
    missing = set()
    for line in COVERAGE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[5] == "missing":
            missing.add((cells[2], cells[3].strip("`")))
    return missing


ROWS = _rows()
MISSING = _missing()


def _concrete(path: str) -> str:
    """The documented path with its parameters filled: integers for OCS ids, UUIDs elsewhere."""

    def fill(match):
        name = match.group(1)
        if name in ("id", "index") and path.startswith("/ocs/"):
            return "1" if name == "id" else "0"
        if name == "appId":
            return "assistant"
        return SAMPLE_UUID

    concrete = re.sub(r"\{(\w+)\}", fill, path)
    if path.startswith("/ocs/"):
        return concrete
    return concrete


def _ocs_paths(row) -> list[str]:
    """OCS rows are served under both /ocs/v2.php/ and /ocs/v1.php/."""
    path = _concrete(row["path"])
    if path.startswith("/ocs/v2.php/"):
        return [path, path.replace("/ocs/v2.php/", "/ocs/v1.php/", 1)]
    return [path]


def _id(row) -> str:
    return f"{row['dialect']}-{row['method']}-{row['path']}"


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_every_served_endpoint_is_routed(row):
    if (row["method"], row["path"]) in MISSING:
        pytest.skip("marked missing in docs/api-coverage.md")
    for path in _ocs_paths(row):
        try:
            resolve(path.split("?")[0])
        except Resolver404:
            pytest.fail(f"{row['method']} {path} is not routed although docs/api-coverage.md says it is served")


@pytest.fixture
def callers(db):
    """Each caller's request headers, per dialect."""
    domain = default_domain()
    user = UserFactory()
    moderator = StaffFactory()
    grant_moderator(moderator)
    admin = StaffFactory(is_superuser=True)
    _, admin_key = accounts.create_admin_key(user=admin)

    def session_of(who):
        return {"HTTP_X_SESSION_ID": str(accounts.create_session(domain=domain, user=who).pk)}

    def basic(who):
        import base64

        token = base64.b64encode(f"{who.email}:{PASSWORD}".encode()).decode()
        return {"HTTP_AUTHORIZATION": f"Basic {token}"}

    guest = session_of(None)
    headers = {
        "aimg": {
            "anonymous": {},
            "guest": guest,
            "user": session_of(user),
            "moderator": session_of(moderator),
            "admin": {**session_of(admin), "HTTP_X_ADMINISTRATION_KEY": admin_key},
        },
        "sartiq": {
            "anonymous": {},
            "guest": {},
            "user": bearer_for(user),
            "moderator": bearer_for(moderator),
            "admin": bearer_for(admin),
        },
        "neuroflash": {
            "anonymous": {},
            "guest": {},
            "user": bearer_for(user),
            "moderator": bearer_for(moderator),
            "admin": bearer_for(admin),
        },
        "ocs": {
            "anonymous": {"HTTP_OCS_APIREQUEST": "true"},
            "guest": {"HTTP_OCS_APIREQUEST": "true", **guest},
            "user": {"HTTP_OCS_APIREQUEST": "true", **basic(user)},
            "moderator": {"HTTP_OCS_APIREQUEST": "true", **basic(moderator)},
            "admin": {"HTTP_OCS_APIREQUEST": "true", **basic(admin)},
        },
    }
    return headers


def _call(client: APIClient, method: str, path: str, headers: dict):
    if path.startswith("/ocs/"):
        path += ("&" if "?" in path else "?") + "format=json"
    return getattr(client, method.lower())(path, format="json", **headers)


SERVED = [row for row in ROWS if (row["method"], row["path"]) not in MISSING]


@pytest.mark.django_db
@pytest.mark.parametrize("row", SERVED, ids=_id)
def test_matrix_row(row, callers):
    client = APIClient(raise_request_exception=False)
    answers = {}
    for caller in CALLERS:
        for path in _ocs_paths(row):
            response = _call(client, row["method"], path, callers[row["dialect"]][caller])
            answers[(caller, path)] = response.status_code
            assert response.status_code < 500, f"{caller}: {row['method']} {path} answered {response.status_code}"
    if row["access"] == "admin":
        for (caller, path), status in answers.items():
            if caller == "admin" or (caller == "moderator" and (row["method"], row["path"]) in MODERATOR_MAY):
                assert status not in (401, 403), f"{caller} refused: {row['method']} {path} → {status}"
            else:
                assert status in (401, 403), f"{caller} not refused: {row['method']} {path} → {status}"

"""Helpers of the subject tests: clients, images, shot types, and subjects made over HTTP."""

import base64
import io
import uuid

from PIL import Image

from apps.accounts.models import Membership
from apps.guidelines.models import ShotType
from tests.core.dialect_support import api, bearer_for
from tests.factories import MembershipFactory, OrganizationFactory
from tests.sartiq_schema import assert_matches, schema_for

BASE = "/api/v1/subjects"
NOT_SIGNED_IN = "You are not signed in."
ADMIN_ONLY = "Only administrators may do this."
NOT_FOUND = {"detail": "Subject not found."}
TASK_STATUSES = ["PENDING", "PROCESSING", "COMPLETED", "FAILED"]


def png(color=(200, 30, 30), size=(64, 48)) -> bytes:
    """A small PNG: ``color`` on the left half and blue on the right."""
    image = Image.new("RGB", size, color)
    image.paste((20, 40, 220), (size[0] // 2, 0, size[0], size[1]))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(color=(10, 120, 60), size=(48, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def data_uri(color=(200, 30, 30), size=(64, 48)) -> str:
    return "data:image/png;base64," + base64.b64encode(png(color, size)).decode()


class Caller:
    """A signed-in (or anonymous) client of the subject API."""

    def __init__(self, user=None):
        self.user = user
        self.client = api()
        self.headers = bearer_for(user) if user is not None else {}

    def get(self, path, params=None):
        return self.client.get(path, params or {}, **self.headers)

    def post(self, path, body=None, **kwargs):
        kwargs.setdefault("format", "json")
        return self.client.post(path, body, **kwargs, **self.headers)

    def put(self, path, body=None, **kwargs):
        kwargs.setdefault("format", "json")
        return self.client.put(path, body, **kwargs, **self.headers)

    def patch(self, path, body=None, **kwargs):
        kwargs.setdefault("format", "json")
        return self.client.patch(path, body, **kwargs, **self.headers)

    def delete(self, path, params=None):
        from urllib.parse import urlencode

        query = "?" + urlencode(params) if params else ""
        return self.client.delete(path + query, **self.headers)

    def create(self, *, query: str = "", **fields) -> dict:
        """A new subject (a cover image is made up unless given); its SubjectPublic body."""
        body = {"name": "Anna", "age_class": "adult", "cover_image": data_uri(), **fields}
        response = self.post(f"{BASE}/{query}", body)
        assert response.status_code == 200, response.json()
        payload = response.json()
        assert_matches(payload, "SubjectPublic")
        return payload

    def upload_zip(self, content: bytes, *, query: str = "", name: str = "subject.zip"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(name, content, content_type="application/zip")
        return self.client.post(
            f"{BASE}/base-images/upload{query}", {"file": upload}, format="multipart", **self.headers
        )


def shot_type(owner, name: str, **fields) -> ShotType:
    fields.setdefault("view_angle", "front")
    fields.setdefault("framing", "full_body")
    return ShotType.objects.create(owner=owner, name=name, **fields)


def organization_of(owner, *members):
    """An organization ``owner`` owns, with ``members`` as plain members."""
    organization = OrganizationFactory()
    MembershipFactory(organization=organization, user=owner, role=Membership.Role.OWNER)
    for member in members:
        MembershipFactory(organization=organization, user=member, role=Membership.Role.MEMBER)
    return organization


def stored_names(storage, directory: str) -> set[str]:
    """Every file under ``directory`` of ``storage``, recursively."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return set()
    names = {f"{directory}/{name}" for name in files}
    for sub in directories:
        names |= stored_names(storage, f"{directory}/{sub}")
    return names


def random_id() -> str:
    return str(uuid.uuid4())


def assert_task(body: dict) -> None:
    """A SubjectBaseImagesUploadTaskPublic body (the annex names TaskStatus-Output but does not
    define it; its values are Atelier's task statuses)."""
    import jsonschema

    schema = schema_for("SubjectBaseImagesUploadTaskPublic")
    schema["components"]["schemas"]["TaskStatus-Output"] = {"type": "string", "enum": TASK_STATUSES}
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, problems

"""Helpers of the style tests: clients, users, images, and styles made over HTTP."""

import base64
import io
import uuid

from PIL import Image

from apps.accounts.models import Membership
from tests.core.dialect_support import api, bearer_for
from tests.factories import MembershipFactory, OrganizationFactory
from tests.sartiq_schema import assert_matches

BASE = "/api/v1/styles"
NOT_SIGNED_IN = "You are not signed in."
ADMIN_ONLY = "Only administrators may do this."
NOT_FOUND = {"detail": "Style not found."}


def png(color=(200, 30, 30), size=(64, 48), *, solid: bool = False) -> bytes:
    """A small PNG: ``color`` on the left half and blue on the right, or ``color`` only."""
    image = Image.new("RGB", size, color)
    if not solid:
        image.paste((20, 40, 220), (size[0] // 2, 0, size[0], size[1]))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def data_uri(color=(200, 30, 30), size=(64, 48)) -> str:
    return "data:image/png;base64," + base64.b64encode(png(color, size)).decode()


def plain_base64(color=(10, 160, 40)) -> str:
    return base64.b64encode(png(color)).decode()


class Caller:
    """A signed-in (or anonymous) client of the style API."""

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
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        return self.client.delete(path + query, **self.headers)

    def create(self, *, query: str = "", **fields) -> dict:
        """A new style (a cover image is made up unless given); its StylePublic body."""
        body = {"name": "Vintage Denim", "cover_image": data_uri(), **fields}
        response = self.post(f"{BASE}/{query}", body)
        assert response.status_code == 200, response.json()
        payload = response.json()
        assert_matches(payload, "StylePublic")
        return payload


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

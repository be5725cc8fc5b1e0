"""Helpers of the items tests: items, sessions and AIMG envelopes."""

import uuid
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from apps.accounts import services as accounts
from apps.core.domains import default_domain
from apps.core.models import FileObject
from apps.folders.models import Folder
from apps.items.models import Item
from tests.factories import StaffFactory

NOT_SIGNED_IN = "You are not signed in."
FORBIDDEN = "You are not allowed to access the requested resource."


def ok(payload) -> dict:
    return {"hasError": False, "errorMessage": None, "payload": payload}


def session_for(user=None):
    return accounts.create_session(domain=default_domain(), user=user)


def as_session(session) -> dict:
    return {"HTTP_X_SESSION_ID": str(session.pk)}


def as_user(user) -> dict:
    return as_session(session_for(user))


def staff_with_role(role: str | None):
    staff = StaffFactory()
    if role:
        staff.groups.add(Group.objects.get(name=role))
    return staff


def as_admin_key(staff) -> dict:
    _, secret = accounts.create_admin_key(user=staff)
    return {"HTTP_X_ADMINISTRATION_KEY": secret}


def file_object(name="picture.png") -> FileObject:
    file_id = uuid.uuid4().hex
    storage_name = default_storage.save(f"files/test/{file_id}", ContentFile(b"\x89PNG\r\n\x1a\n"))
    return FileObject.objects.create(
        id=file_id, file_name=name, content_type="image/png", size=8, checksum="0" * 64, storage_name=storage_name
    )


def make_item(owner=None, *, at=None, **fields) -> Item:
    at = at or timezone.now()
    fields.setdefault("completed_at", at)
    fields.setdefault("reference_at", at)
    fields.setdefault("prompt", "a lighthouse at dusk")
    return Item.objects.create(owner=owner, **fields)


def make_folder(owner, *, public: bool = False, name: str = "Folder") -> Folder:
    return Folder.objects.create(owner=owner, is_public=public, name=name)


def millis(value: datetime) -> int:
    return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def iso(value) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

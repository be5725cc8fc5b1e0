"""The administrators' style endpoints over HTTP: list, detail, assign-owner, lora-trigger and
upload-lora, with their permission matrix (anonymous 401, user 403, superuser 200)."""

import os
import tempfile
import uuid

import pytest

from apps.styles.models import Style
from tests.factories import UserFactory
from tests.sartiq_schema import assert_matches, assert_validation_error

from .lora_support import raw_safetensors, small_lora
from .support import ADMIN_ONLY, BASE, NOT_FOUND, NOT_SIGNED_IN, organization_of, random_id, stored_names

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


@pytest.fixture
def style(alice):
    return alice.create(name="Admin Target", tags=["a"])


def admin_calls(style_id: str, owner_id: str):
    """(method, path, body, what a superuser gets) of each administrators' endpoint."""
    return [
        ("get", f"{BASE}/admin/", None, "StylesAdmin"),
        ("get", f"{BASE}/admin/{style_id}", None, "StyleAdmin"),
        ("patch", f"{BASE}/admin/{style_id}/assign-owner", {"new_owner_id": owner_id}, "StylePublic"),
        ("patch", f"{BASE}/admin/{style_id}/lora-trigger", {"lora_trigger": "x"}, "StylePublic"),
        ("post", f"{BASE}/admin/{style_id}/upload-lora", None, "StylePublic"),
        ("post", f"{BASE}/{style_id}/restore", None, "StylePublic"),
    ]


@pytest.mark.parametrize("index", range(6))
def test_the_permission_matrix_of_the_admin_endpoints(anonymous, alice, admin, style, index):
    method, path, body, schema = admin_calls(style["id"], str(alice.user.pk))[index]
    response = getattr(anonymous, method)(path, body)
    assert response.status_code == 401
    assert response.json() == {"detail": NOT_SIGNED_IN}
    assert response["WWW-Authenticate"] == "Bearer"
    staff = type(alice)(UserFactory(is_staff=True))  # staff is not enough: the Sartiq admin is a superuser
    for caller in (alice, staff):
        refused = getattr(caller, method)(path, body)
        assert refused.status_code == 403
        assert refused.json()["detail"] in (ADMIN_ONLY, "Only administrators may restore a style.")
    if method == "post" and path.endswith("upload-lora"):
        response = admin.post(path, {"file": lora_file(small_lora()), "lora_trigger": "t"}, format="multipart")
    else:
        response = getattr(admin, method)(path, body)
    assert response.status_code == 200, response.json()
    assert_matches(response.json(), schema)


# --- list and detail -----------------------------------------------------------------------------------


def test_the_admin_list_shows_every_style_with_deleted_ones(alice, bob, admin, style):
    theirs = bob.create(name="Theirs")
    organization = organization_of(bob.user)
    team = bob.create(name="Team", organization_id=str(organization.pk))
    bob.delete(f"{BASE}/{theirs['id']}")
    response = admin.get(f"{BASE}/admin/")
    assert response.status_code == 200
    body = response.json()
    assert_matches(body, "StylesAdmin")
    assert body["count"] == 3
    listed = {item["id"]: item for item in body["data"]}
    assert set(listed) == {style["id"], theirs["id"], team["id"]}
    assert listed[theirs["id"]]["deleted_at"] is not None
    scoped = admin.get(f"{BASE}/admin/", {"organization_id": str(organization.pk)}).json()
    assert [item["id"] for item in scoped["data"]] == [team["id"]]
    assert admin.get(f"{BASE}/admin/", {"organization_id": random_id()}).status_code == 404
    page = admin.get(f"{BASE}/admin/", {"skip": 1, "limit": 1}).json()
    assert (page["count"], len(page["data"])) == (3, 1)


def test_the_admin_detail_has_the_admin_fields_even_when_deleted(alice, admin, style):
    response = admin.get(f"{BASE}/admin/{style['id']}")
    assert response.status_code == 200
    assert_matches(response.json(), "StyleAdmin")
    assert response.json()["id"] == style["id"]
    alice.delete(f"{BASE}/{style['id']}")
    deleted = admin.get(f"{BASE}/admin/{style['id']}").json()
    assert deleted["deleted_at"] is not None
    assert admin.get(f"{BASE}/admin/{random_id()}").json() == NOT_FOUND
    assert admin.get(f"{BASE}/admin/not-a-uuid").json() == NOT_FOUND


# --- assign owner --------------------------------------------------------------------------------------


def test_assign_owner_gives_the_style_to_another_user(alice, bob, admin, style):
    body = {"new_owner_id": str(bob.user.pk)}
    assert_matches(body, "AssignOwnerRequest", strict=False)
    response = admin.patch(f"{BASE}/admin/{style['id']}/assign-owner", body)
    assert response.status_code == 200
    assert_matches(response.json(), "StylePublic")
    assert (response.json()["owner_id"], response.json()["organization_id"]) == (str(bob.user.pk), None)
    assert bob.get(f"{BASE}/{style['id']}").status_code == 200
    assert alice.get(f"{BASE}/{style['id']}").json() == NOT_FOUND


def test_assign_owner_into_an_organization(bob, admin, style):
    organization = organization_of(bob.user)
    response = admin.patch(
        f"{BASE}/admin/{style['id']}/assign-owner?organization_id={organization.pk}",
        {"new_owner_id": str(bob.user.pk), "id": random_id(), "created_at": "2024-01-01T00:00:00Z"},
    )
    assert response.status_code == 200
    assert response.json()["organization_id"] == str(organization.pk)
    assert response.json()["owner_id"] == str(bob.user.pk)


def test_assign_owner_refuses_an_owner_outside_the_organization(alice, bob, admin, style):
    organization = organization_of(alice.user)
    response = admin.patch(
        f"{BASE}/admin/{style['id']}/assign-owner?organization_id={organization.pk}",
        {"new_owner_id": str(bob.user.pk)},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "new_owner_id"]
    assert Style.objects.get(pk=style["id"]).owner == alice.user


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "new_owner_id"]),
        ({"new_owner_id": "someone"}, ["body", "new_owner_id"]),
        ({"new_owner_id": str(uuid.UUID(int=7))}, ["body", "new_owner_id"]),
    ],
)
def test_assign_owner_bad_input_is_a_422(admin, style, body, loc):
    response = admin.patch(f"{BASE}/admin/{style['id']}/assign-owner", body)
    assert response.status_code == 422
    assert_validation_error(response.json())
    assert response.json()["detail"][0]["loc"] == loc


def test_assign_owner_of_an_unknown_style_is_a_404(admin, bob):
    response = admin.patch(f"{BASE}/admin/{random_id()}/assign-owner", {"new_owner_id": str(bob.user.pk)})
    assert response.json() == NOT_FOUND


# --- LoRA trigger --------------------------------------------------------------------------------------


def test_the_lora_trigger_is_set_and_cleared_when_omitted(admin, style):
    path = f"{BASE}/admin/{style['id']}/lora-trigger"
    response = admin.patch(path, {"lora_trigger": "vntgdnm"})
    assert response.status_code == 200
    assert_matches(response.json(), "StyleAdmin")
    assert response.json()["lora_trigger"] == "vntgdnm"
    assert admin.patch(path, {}).json()["lora_trigger"] is None
    assert admin.patch(path, {"lora_trigger": "again"}, format="multipart").json()["lora_trigger"] == "again"
    assert admin.patch(path, {"lora_trigger": None}).json()["lora_trigger"] is None
    admin.patch(path, {"lora_trigger": "form"}, format="multipart")
    assert admin.client.patch(path, **admin.headers).json()["lora_trigger"] is None  # no body at all


def test_a_too_long_lora_trigger_is_a_422(admin, style):
    response = admin.patch(f"{BASE}/admin/{style['id']}/lora-trigger", {"lora_trigger": "x" * 129})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "lora_trigger"]


# --- LoRA upload ---------------------------------------------------------------------------------------


def lora_file(content: bytes, name: str = "style.safetensors"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def upload(caller, style_id, **form):
    return caller.post(f"{BASE}/admin/{style_id}/upload-lora", form, format="multipart")


def test_a_valid_safetensors_lora_is_stored_and_recorded(admin, style, storage):
    content = small_lora()
    response = upload(admin, style["id"], file=lora_file(content), lora_trigger=" vntgdnm ")
    assert response.status_code == 200
    body = response.json()
    assert_matches(body, "StylePublic")
    assert (body["lora_status"], body["lora_trigger"]) == ("ready", "vntgdnm")
    path = body["local_model_path"]
    assert path.startswith(f"loras/styles/{style['id']}/") and path.endswith(".safetensors")
    with storage.open(path, "rb") as stored:
        assert stored.read() == content
    row = Style.objects.get(pk=style["id"])
    assert (row.lora_file, row.lora_file_size) == (path, len(content))


def test_a_new_upload_replaces_the_old_file_once_committed(admin, style, storage, django_capture_on_commit_callbacks):
    first = upload(admin, style["id"], file=lora_file(small_lora()), lora_trigger="one").json()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = upload(admin, style["id"], file=lora_file(b"\x80\x04pickle", "style.ckpt"), lora_trigger="two")
    second = second.json()
    assert len(callbacks) == 1
    assert second["local_model_path"].endswith(".ckpt")
    assert stored_names(storage, "loras") == {second["local_model_path"]}
    assert first["local_model_path"] != second["local_model_path"]


@pytest.mark.parametrize("name", ["style.pt", "style.pth", "style.bin", "STYLE.CKPT"])
def test_the_other_lora_formats_are_stored_as_sent(admin, style, name):
    response = upload(admin, style["id"], file=lora_file(b"PK\x03\x04 torch zip", name), lora_trigger="t")
    assert response.status_code == 200
    assert response.json()["local_model_path"].endswith(os.path.splitext(name)[1].lower())


@pytest.mark.parametrize("name", ["style.zip", "style.safetensors.exe", "style", "style.onnx"])
def test_a_wrong_extension_is_a_422(admin, style, storage, name):
    response = upload(admin, style["id"], file=lora_file(small_lora(), name), lora_trigger="t")
    assert response.status_code == 422
    assert_validation_error(response.json())
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "file"]]
    message = response.json()["detail"][0]["msg"]
    assert message.startswith("A LoRA file must end in .safetensors, .ckpt, .pt, .pth, .bin")
    assert stored_names(storage, "loras") == set()
    assert Style.objects.get(pk=style["id"]).lora_status == "none"


@pytest.mark.parametrize(
    "content",
    [
        b"garbage that is not a header",
        raw_safetensors(b"{not json}"),
        raw_safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8),
        small_lora()[:-3],
    ],
)
def test_a_corrupt_safetensors_header_is_a_422(admin, style, storage, content):
    response = upload(admin, style["id"], file=lora_file(content), lora_trigger="t")
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert errors[0]["loc"] == ["body", "file"]
    assert errors[0]["msg"].startswith("The file is not a valid .safetensors file: ")
    assert stored_names(storage, "loras") == set()


@pytest.mark.parametrize(
    ("form", "loc"),
    [
        ({"lora_trigger": "t"}, ["body", "file"]),
        ({"file": "not a file", "lora_trigger": "t"}, ["body", "file"]),
        ({"with_file": True}, ["body", "lora_trigger"]),
        ({"with_file": True, "lora_trigger": "x" * 129}, ["body", "lora_trigger"]),
        ({"with_file": True, "lora_trigger": "   "}, ["body", "lora_trigger"]),
    ],
)
def test_the_form_needs_a_file_and_a_trigger(admin, style, form, loc):
    if form.pop("with_file", False):
        form["file"] = lora_file(small_lora())
    response = upload(admin, style["id"], **form)
    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]


def test_an_empty_lora_file_is_a_422(admin, style):
    response = upload(admin, style["id"], file=lora_file(b"", "style.bin"), lora_trigger="t")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_a_lora_upload_for_an_unknown_style_is_a_404(admin):
    response = upload(admin, random_id(), file=lora_file(small_lora()), lora_trigger="t")
    assert response.json() == NOT_FOUND


class _Stream:
    """A request body read in chunks from several parts (bytes, or open files), never joined."""

    def __init__(self, parts):
        self.parts = list(parts)

    def read(self, size=-1):
        while self.parts:
            part = self.parts[0]
            chunk = part[:size] if isinstance(part, bytes) else part.read(size)
            if isinstance(part, bytes):
                self.parts[0] = part[len(chunk) :] if size >= 0 else b""
            if chunk:
                return chunk
            self.parts.pop(0)
        return b""

    def readline(self, size=-1):
        line = b""
        while not line.endswith(b"\n") and (size < 0 or len(line) < size):
            byte = self.read(1)
            if not byte:
                break
            line += byte
        return line


def send_streamed(caller, style_id, *, path: str, size: int, name: str = "huge.safetensors"):
    """POST a multipart LoRA upload whose file is the file at ``path`` (``size`` bytes), streamed."""
    boundary = "----atelier-test-boundary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="lora_trigger"\r\n\r\nhuge\r\n'
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    with open(path, "rb") as source:
        stream = _Stream([head, source, tail])
        return caller.client.post(
            f"{BASE}/admin/{style_id}/upload-lora",
            b"",
            content_type=f"multipart/form-data; boundary={boundary}",
            **{"wsgi.input": stream, "CONTENT_LENGTH": str(len(head) + size + len(tail))},
            **caller.headers,
        )


def sparse_file(size: int) -> str:
    """A file of ``size`` bytes that takes no room on disk (and none in memory)."""
    handle, path = tempfile.mkstemp(suffix=".safetensors")
    os.ftruncate(handle, size)
    os.close(handle)
    return path


def test_a_101_mb_lora_is_a_413_and_nothing_is_stored(admin, style, storage):
    path = sparse_file(101 * MIB)
    try:
        response = send_streamed(admin, style["id"], path=path, size=101 * MIB)
    finally:
        os.unlink(path)
    assert response.status_code == 413
    assert response.json() == {"detail": "LoRA files may be at most 100 MB; send a smaller file."}
    assert stored_names(storage, "loras") == set()
    assert Style.objects.get(pk=style["id"]).lora_status == "none"


def test_the_cap_is_enforced_while_the_file_is_read(admin, style, storage, settings):
    # The declared length fits the allowance for form fields, so the bytes themselves are counted.
    settings.LORA_MAX_BYTES = 4096
    path = sparse_file(4097)
    try:
        response = send_streamed(admin, style["id"], path=path, size=4097, name="big.bin")
    finally:
        os.unlink(path)
    assert response.status_code == 413
    assert response.json() == {"detail": "LoRA files may be at most 4,096 bytes; send a smaller file."}
    assert stored_names(storage, "loras") == set()
    exact = sparse_file(4096)
    try:
        accepted = send_streamed(admin, style["id"], path=exact, size=4096, name="fits.bin")
    finally:
        os.unlink(exact)
    assert accepted.status_code == 200
    assert accepted.json()["lora_status"] == "ready"

"""AIMG file server over HTTP: uploadFile, getFile, getFileMetadata, removeFile, in the AIMG wire format."""

import hashlib
import http.server
import io
import json
import logging
import re
import threading
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.core.domains import default_domain
from apps.core.models import FileObject
from apps.core.services import files
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

FORBIDDEN = "You are not allowed to access the requested resource."
NOT_SIGNED_IN = "You are not signed in."
METADATA_KEYS = {
    "id",
    "publicUrl",
    "fileName",
    "contentType",
    "fileSize",
    "createdDate",
    "checksum",
    "checksumAlgorithm",
    "ownerId",
}
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LEGACY_HOST = "127.0.0.2"


def error(message: str) -> dict:
    return {"hasError": True, "errorMessage": message, "payload": None}


def encoded(fmt: str, size=(400, 200)) -> bytes:
    """A small two-colour picture (so that resizing has something to average) in ``fmt``."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 40, 220), (size[0] // 2, 0, size[0], size[1]))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


PNG = encoded("PNG")
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def size_of(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as image:
        return image.size


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture(autouse=True)
def storage(settings):
    """A fresh in-memory default storage for each test."""
    settings.STORAGES = {**settings.STORAGES}
    return default_storage


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def admin():
    staff = StaffFactory()
    staff.groups.add(Group.objects.get(name="admin"))
    return staff


@pytest.fixture
def admin_key(admin):
    _, secret = accounts.create_admin_key(user=admin)
    return {"HTTP_X_ADMINISTRATION_KEY": secret}


def upload(client, headers, content=PNG, *, name="photo.png", content_type="image/png", **fields):
    data = {"file": SimpleUploadedFile(name, content, content_type=content_type), **fields}
    return client.post("/uploadFile", data, format="multipart", **headers)


def stored(content=PNG, *, name="photo.png", file_id=None, owner=None) -> FileObject:
    return files.upload_file(source=ContentFile(content, name=name), file_id=file_id, owner=owner)


# --- uploadFile ------------------------------------------------------------------------------------------


def test_upload_answers_the_file_metadata_object(client, admin, admin_key, storage):
    response = upload(client, admin_key)
    assert response.status_code == 200
    envelope = response.json()
    assert envelope["hasError"] is False and envelope["errorMessage"] is None
    payload = envelope["payload"]
    assert set(payload) == METADATA_KEYS
    assert uuid.UUID(payload["id"])  # generated when the client gives none
    assert payload["publicUrl"] == f"http://testserver/getFile?id={payload['id']}"
    assert payload["fileName"] == "photo.png"
    assert payload["contentType"] == "image/png"
    assert payload["fileSize"] == len(PNG) and isinstance(payload["fileSize"], int)
    assert payload["checksum"] == hashlib.sha256(PNG).hexdigest()
    assert payload["checksumAlgorithm"] == "sha256"
    assert payload["ownerId"] == str(admin.pk)
    assert ISO_8601.match(payload["createdDate"])

    row = FileObject.objects.get(pk=payload["id"])
    assert payload["createdDate"] == row.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert (row.width, row.height) == (400, 200)
    with storage.open(row.storage_name, "rb") as handle:
        assert handle.read() == PNG  # the bytes as sent, not re-encoded


def test_a_client_chosen_id_names_the_file_and_its_storage(client, admin_key, storage):
    response = upload(client, admin_key, name="../../etc/Holiday.png", id="album-2024.cover_1")
    assert response.status_code == 200
    payload = response.json()["payload"]
    assert payload["id"] == "album-2024.cover_1"
    assert payload["fileName"] == "Holiday.png"
    row = FileObject.objects.get(pk="album-2024.cover_1")
    assert re.fullmatch(r"files/[0-9a-f]{2}/album-2024\.cover_1-[0-9a-f]{12}", row.storage_name)
    assert storage.exists(row.storage_name)


def test_the_filename_field_wins_and_is_sanitised(client, admin_key):
    response = upload(client, admin_key, filename="dir\\sub/re\u202eport\x07.png")
    assert response.status_code == 200
    assert response.json()["payload"]["fileName"] == "report.png"


def test_a_long_filename_is_cut_to_255_characters_keeping_its_extension(client, admin_key):
    response = upload(client, admin_key, filename="a" * 400 + ".png")
    name = response.json()["payload"]["fileName"]
    assert len(name) == 255 and name.endswith("a.png")


def test_a_taken_id_is_a_409_even_after_removal(client, admin_key):
    stored(file_id="taken")
    response = upload(client, admin_key, id="taken")
    assert response.status_code == 409
    assert response.json() == error(
        "A file with the id 'taken' already exists. Choose another id, or remove that file first."
    )
    files.remove_file(file_id="taken")
    assert upload(client, admin_key, id="taken").status_code == 409
    assert FileObject.all_objects.filter(pk="taken").count() == 1


@pytest.mark.parametrize("bad_id", ["-starts-with-dash", "a/b", "x" * 129, "with space", "caf\u00e9", "a\x00b"])
def test_a_malformed_id_is_a_400(client, admin_key, bad_id, storage):
    response = upload(client, admin_key, id=bad_id)
    assert response.status_code == 400
    assert response.json()["errorMessage"].startswith("id: ")
    assert not FileObject.all_objects.exists()


@pytest.mark.parametrize(
    "metadata",
    [
        "not json",
        "[1, 2]",
        '"a string"',
        '{"ratio": NaN}',
        '{"name": "nul\\u0000"}',
        json.dumps({"blob": "x" * (16 * 1024)}),
        "[" * 40 + "]" * 40,
        "{" + '"a":{' * 40 + "}" * 41,
    ],
)
def test_custom_metadata_must_be_a_small_json_object(client, admin_key, metadata):
    response = upload(client, admin_key, customMetadata=metadata)
    assert response.status_code == 400
    assert response.json()["errorMessage"].startswith("customMetadata: ")
    assert not FileObject.all_objects.exists()


def test_custom_metadata_is_kept(client, admin_key):
    response = upload(client, admin_key, customMetadata='{"album": "summer", "tags": ["sea", 1]}')
    assert response.status_code == 200
    row = FileObject.objects.get(pk=response.json()["payload"]["id"])
    assert row.custom_metadata == {"album": "summer", "tags": ["sea", 1]}


def test_no_key_is_401_and_an_invalid_key_is_401(client):
    response = upload(client, {})
    assert response.status_code == 401
    assert response.json() == error(NOT_SIGNED_IN)
    response = upload(client, {"HTTP_X_ADMINISTRATION_KEY": "akey_0123456789abcdef.wrong"})
    assert response.status_code == 401
    assert response.json() == error("The administration key is not valid.")
    assert not FileObject.all_objects.exists()


def test_a_signed_in_user_who_is_not_an_admin_is_403(client):
    session = accounts.create_session(domain=default_domain(), user=UserFactory())
    response = upload(client, {"HTTP_X_SESSION_ID": str(session.pk)})
    assert response.status_code == 403
    assert response.json() == error(FORBIDDEN)


def test_a_staff_key_without_the_permission_is_403(client):
    _, secret = accounts.create_admin_key(user=StaffFactory())
    response = upload(client, {"HTTP_X_ADMINISTRATION_KEY": secret})
    assert response.status_code == 403
    assert not FileObject.all_objects.exists()


def test_a_superusers_key_may_upload(client):
    _, secret = accounts.create_admin_key(user=StaffFactory(is_superuser=True))
    assert upload(client, {"HTTP_X_ADMINISTRATION_KEY": secret}).status_code == 200


def test_the_type_comes_from_the_bytes_never_from_the_client(client, admin_key):
    response = upload(client, admin_key, name="x.pdf", content_type="text/html")
    payload = response.json()["payload"]
    assert (payload["contentType"], payload["fileName"]) == ("image/png", "x.pdf")
    served = client.get("/getFile", {"id": payload["id"]})
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert body(served) == PNG


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (bytes(range(256)) * 8, "application/octet-stream"),
        (b"<html><script>alert(1)</script></html>", "text/plain; charset=utf-8"),
        ('{"caf\u00e9": 1}'.encode(), "text/plain; charset=utf-8"),
        (b"text with a \x00 byte", "application/octet-stream"),
        (b"\xff\xfeinvalid utf-8 \xc3", "application/octet-stream"),
        (PDF, "application/pdf"),
        (b"PK\x03\x04" + b"\x00" * 60, "application/zip"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40, "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 40, "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 40, "video/webm"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x10" + b"\x00" * 40, "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 60, "audio/mpeg"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40, "audio/wav"),
        (encoded("WEBP"), "image/webp"),
        (encoded("JPEG"), "image/jpeg"),
        (encoded("GIF"), "image/gif"),
    ],
)
def test_the_content_type_is_sniffed(client, admin_key, content, expected):
    response = upload(client, admin_key, content, name="upload.png", content_type="image/png")
    assert response.status_code == 200, response.json()
    assert response.json()["payload"]["contentType"] == expected
    served = client.get("/getFile", {"id": response.json()["payload"]["id"]})
    assert served["Content-Type"] == expected
    assert body(served) == content


@pytest.mark.parametrize("content", [PNG[:-40], b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, b"GIF89a" + b"\x00" * 5])
def test_a_file_that_starts_like_an_image_must_decode(client, admin_key, content):
    response = upload(client, admin_key, content)
    assert response.status_code == 400
    assert "cannot be decoded" in response.json()["errorMessage"]
    assert not FileObject.all_objects.exists()


def test_an_empty_file_is_a_400(client, admin_key):
    response = upload(client, admin_key, b"")
    assert response.status_code == 400
    assert response.json() == error("file: The file is empty. Choose a file and upload it again.")


def test_the_size_cap_is_a_413_and_nothing_is_stored(client, admin_key, settings, storage, monkeypatch):
    settings.FILE_SERVER_MAX_BYTES = 1000
    real_upload_file = files.upload_file

    def must_not_run(**kwargs):
        raise AssertionError("the upload should have been refused while it was read")

    monkeypatch.setattr(files, "upload_file", must_not_run)
    response = upload(client, admin_key, b"x" * 1001, name="big.txt", content_type="text/plain")
    assert response.status_code == 413
    assert response.json() == error("Files may be at most 1,000 bytes (0.000953674 MB); send a smaller file.")
    assert not FileObject.all_objects.exists()
    monkeypatch.setattr(files, "upload_file", real_upload_file)
    assert upload(client, admin_key, b"x" * 1000, name="ok.txt").status_code == 200


def test_the_service_enforces_the_cap_while_reading(settings, storage):
    settings.FILE_SERVER_MAX_BYTES = 10
    with pytest.raises(files.MediaTooLarge):
        files.upload_file(source=ContentFile(b"0123456789A", name="a.txt"), file_id="big")
    assert not FileObject.all_objects.exists()
    with pytest.raises(FileNotFoundError):
        storage.listdir("files")


def test_an_upload_spooled_to_disk_is_stored_byte_for_byte(client, admin_key, storage, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    content = hashlib.sha512(b"seed").digest() * (3 * 1024 * 1024 // 64)  # 3 MiB
    response = upload(client, admin_key, content, name="blob.bin", content_type="application/x-anything")
    assert response.status_code == 200
    payload = response.json()["payload"]
    assert payload["fileSize"] == len(content)
    assert payload["checksum"] == hashlib.sha256(content).hexdigest()
    with storage.open(FileObject.objects.get(pk=payload["id"]).storage_name, "rb") as handle:
        assert handle.read() == content
    head = client.head("/getFile", {"id": payload["id"]})
    assert head.status_code == 200
    assert head["Content-Length"] == str(len(content))


def test_one_file_per_upload(client, admin_key):
    data = {"file": [SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")]}
    response = client.post("/uploadFile", data, format="multipart", **admin_key)
    assert response.status_code == 400
    assert response.json() == error("file: Send one file per upload.")


# --- getFile -------------------------------------------------------------------------------------------


def test_get_file_serves_the_bytes_inline_with_cache_headers(client):
    file = stored(file_id="pic")
    response = client.get("/getFile", {"id": "pic"})  # no credentials needed
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="photo.png"'
    assert response["Content-Length"] == str(len(PNG))
    assert response["ETag"] == f'"{file.checksum}"'
    assert response["Cache-Control"] == "public, max-age=86400"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body(response) == PNG


def test_a_non_ascii_name_is_given_as_filename_star(client):
    stored(name='Fr\u00fchling "1".png', file_id="spring")
    response = client.get("/getFile", {"id": "spring"})
    assert response["Content-Disposition"] == (
        "inline; filename=\"Fr_hling _1_.png\"; filename*=UTF-8''Fr%C3%BChling%20%221%22.png"
    )


@pytest.mark.parametrize("header", ['"{etag}"', 'W/"{etag}"', '"other", "{etag}"', "*"])
def test_a_matching_if_none_match_is_a_304_without_a_body(client, header):
    file = stored(file_id="pic")
    response = client.get("/getFile", {"id": "pic"}, HTTP_IF_NONE_MATCH=header.format(etag=file.checksum))
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == f'"{file.checksum}"'
    assert response["Cache-Control"] == "public, max-age=86400"


def test_a_stale_if_none_match_gets_the_file(client):
    stored(file_id="pic")
    response = client.get("/getFile", {"id": "pic"}, HTTP_IF_NONE_MATCH='"0123"')
    assert response.status_code == 200
    assert body(response) == PNG


def corrupt(file: FileObject, storage) -> bytes:
    """Flip the first byte of the stored file (same size); returns the damaged bytes."""
    damaged = bytes([PNG[0] ^ 0xFF]) + PNG[1:]
    storage.delete(file.storage_name)
    assert storage.save(file.storage_name, ContentFile(damaged)) == file.storage_name
    return damaged


def test_a_checksum_mismatch_is_an_error_and_no_byte_is_sent(client, storage, caplog):
    file = stored(file_id="pic")
    corrupt(file, storage)
    with caplog.at_level(logging.ERROR, logger="atelier.files"):
        response = client.get("/getFile", {"id": "pic"})
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == error(
        "The stored file failed its checksum check, so it was not sent. Ask for it with skipChecksum=true to get "
        "the stored bytes anyway, or upload it again."
    )
    assert PNG[1:64] not in response.content
    assert any("pic failed its checksum check" in record.getMessage() for record in caplog.records)


def test_skip_checksum_serves_the_stored_bytes_anyway(client, storage):
    file = stored(file_id="pic")
    damaged = corrupt(file, storage)
    response = client.get("/getFile", {"id": "pic", "skipChecksum": "true"})
    assert response.status_code == 200
    assert body(response) == damaged


def test_missing_stored_bytes_are_an_error(client, storage):
    file = stored(file_id="pic")
    storage.delete(file.storage_name)
    response = client.get("/getFile", {"id": "pic"})
    assert response.status_code == 500
    assert response.json() == error("The stored bytes of this file cannot be read.")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF"])
def test_fit_keeps_the_aspect_ratio_inside_the_box(client, fmt):
    original = encoded(fmt, size=(400, 200))
    stored(original, name=f"picture.{fmt.lower()}", file_id="pic")
    response = client.get("/getFile", {"id": "pic", "width": 100, "height": 100, "mode": "fit"})
    assert response.status_code == 200
    content = body(response)
    assert size_of(content) == (100, 50)
    assert response["Content-Type"] == FileObject.objects.get(pk="pic").content_type
    assert response["Content-Disposition"] == f'inline; filename="picture.{fmt.lower()}"'
    only_width = client.get("/getFile", {"id": "pic", "width": 80})
    assert size_of(body(only_width)) == (80, 40)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF"])
def test_fill_gives_exactly_the_size(client, fmt):
    stored(encoded(fmt, size=(400, 200)), file_id="pic")
    response = client.get("/getFile", {"id": "pic", "width": 90, "height": 120, "mode": "fill"})
    assert response.status_code == 200
    assert size_of(body(response)) == (90, 120)


def test_a_resized_copy_is_stored_and_served_from_storage_next_time(client, storage, monkeypatch):
    file = stored(file_id="pic")
    calls = []
    original_resize = files.resize

    def counting_resize(*args, **kwargs):
        calls.append(kwargs)
        return original_resize(*args, **kwargs)

    monkeypatch.setattr(files, "resize", counting_resize)
    first = client.get("/getFile", {"id": "pic", "width": 50, "height": 50, "mode": "fill"})
    assert first.status_code == 200
    name = files.variant_name(file=file, width=50, height=50, mode="fill")
    assert name == f"files/variants/{file.storage_name.removeprefix('files/')}/50x50-fill.png"
    assert storage.exists(name)
    assert len(calls) == 1

    second = client.get("/getFile", {"id": "pic", "width": 50, "height": 50, "mode": "fill"})
    assert second.status_code == 200
    assert len(calls) == 1  # not resized again
    first_bytes, second_bytes = body(first), body(second)
    assert second_bytes == first_bytes
    with storage.open(name, "rb") as handle:
        assert handle.read() == second_bytes
    assert second["ETag"] == f'"{file.checksum}-50x50-fill"'
    not_modified = client.get(
        "/getFile", {"id": "pic", "width": 50, "height": 50, "mode": "fill"}, HTTP_IF_NONE_MATCH=second["ETag"]
    )
    assert not_modified.status_code == 304


def test_a_resized_copy_skips_the_checksum_check(client, storage):
    file = stored(file_id="pic")
    client.get("/getFile", {"id": "pic", "width": 40})
    corrupt(file, storage)
    assert client.get("/getFile", {"id": "pic"}).status_code == 500
    assert client.get("/getFile", {"id": "pic", "width": 40}).status_code == 200


@pytest.mark.parametrize(
    ("content", "query", "message"),
    [
        (PDF, {"width": 100}, "width: Only PNG, JPEG and GIF images can be resized; this file is application/pdf."),
        (
            encoded("WEBP"),
            {"height": 100},
            "height: Only PNG, JPEG and GIF images can be resized; this file is image/webp.",
        ),
        (PNG, {"width": 100, "mode": "fill"}, "mode: The fill mode needs both a width and a height."),
        (PNG, {"width": 0}, "width: Ensure this value is greater than or equal to 1."),
        (PNG, {"width": 4097}, "width: Ensure this value is less than or equal to 4096."),
        (PNG, {"width": "wide"}, "width: A valid integer is required."),
        (PNG, {"width": 10, "mode": "stretch"}, 'mode: "stretch" is not a valid choice.'),
    ],
)
def test_bad_resize_requests_are_400(client, storage, content, query, message):
    file = stored(content, file_id="doc")
    response = client.get("/getFile", {"id": "doc", **query})
    assert response.status_code == 400
    assert response.json() == error(message)
    _, names = storage.listdir(f"files/{file.storage_name.split('/')[1]}")
    assert not storage.exists(files.variant_directory(file))
    assert len(names) == 1


def test_get_file_needs_an_id(client):
    response = client.get("/getFile")
    assert response.status_code == 400
    assert response.json() == error("id: This field is required.")


@pytest.mark.parametrize("file_id", ["missing", "not/an/id", "x" * 200])
def test_an_unknown_id_is_a_404(client, file_id):
    response = client.get("/getFile", {"id": file_id})
    assert response.status_code == 404
    assert response.json() == error(f"No file has the id '{file_id}'.")


def test_an_accept_header_that_names_no_json_still_gets_the_file_and_json_errors(client):
    stored(file_id="pic")
    response = client.get("/getFile", {"id": "pic"}, HTTP_ACCEPT="image/png")
    assert response.status_code == 200 and body(response) == PNG
    response = client.get("/getFile", {"id": "nope"}, HTTP_ACCEPT="image/png")
    assert response.status_code == 404
    assert response.json() == error("No file has the id 'nope'.")


# --- fs: the old file server ---------------------------------------------------------------------------


class _Legacy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files = {"old,0a1b": (b"\x89PNG old bytes from the old server", "image/png")}

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.server.paths.append(self.path)
        requested = self.path.removeprefix("/legacy/").replace("%2C", ",")
        found = self.files.get(requested)
        content, content_type = found or (b"not found", "text/plain")
        self.send_response(200 if found else 500 if requested == "broken" else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


@pytest.fixture(scope="module")
def legacy_server():
    server = http.server.ThreadingHTTPServer((LEGACY_HOST, 0), _Legacy)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def legacy(legacy_server, settings):
    """The old file server on 127.0.0.2 (allowed to be fetched in these tests only)."""
    legacy_server.paths = []
    port = legacy_server.server_address[1]
    settings.SAFE_FETCH_ALLOWED_NETWORKS = [f"{LEGACY_HOST}/32"]
    settings.SAFE_FETCH_EXTRA_PORTS = [port]
    settings.FILE_SERVER_LEGACY_BASE_URL = f"http://{LEGACY_HOST}:{port}/legacy/"
    return legacy_server


def test_fs_relays_an_unknown_id_from_the_old_server(client, legacy):
    response = client.get("/getFile", {"id": "old,0a1b", "fs": "true"})
    assert response.status_code == 200
    assert body(response) == b"\x89PNG old bytes from the old server"
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="old,0a1b"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert legacy.paths == ["/legacy/old%2C0a1b"]
    assert not FileObject.all_objects.exists()


def test_fs_unknown_on_both_servers_is_a_404(client, legacy):
    response = client.get("/getFile", {"id": "nowhere", "fs": "true"})
    assert response.status_code == 404
    assert response.json() == error("No file has the id 'nowhere'.")
    assert legacy.paths == ["/legacy/nowhere"]


def test_a_failing_old_server_is_a_502_that_does_not_name_it(client, legacy):
    response = client.get("/getFile", {"id": "broken", "fs": "true"})
    assert response.status_code == 502
    assert response.json() == error("The old file server could not deliver this file. Try again later.")


def test_without_fs_the_old_server_is_not_asked(client, legacy):
    response = client.get("/getFile", {"id": "old,0a1b"})
    assert response.status_code == 404
    assert client.get("/getFile", {"id": "old,0a1b", "fs": "false"}).status_code == 404
    assert legacy.paths == []


def test_fs_without_an_old_server_configured_is_a_404(client, settings):
    settings.FILE_SERVER_LEGACY_BASE_URL = ""
    response = client.get("/getFile", {"id": "old,0a1b", "fs": "true"})
    assert response.status_code == 404


def test_a_local_file_wins_over_the_old_server(client, legacy):
    stored(file_id="here")
    response = client.get("/getFile", {"id": "here", "fs": "true"})
    assert body(response) == PNG
    assert legacy.paths == []


# --- getFileMetadata ---------------------------------------------------------------------------------------


def test_get_file_metadata_has_the_annex_shape(client, admin, admin_key, django_assert_num_queries):
    file = stored(file_id="meta", owner=admin)
    with django_assert_num_queries(5):
        response = client.get("/getFileMetadata", {"id": "meta"}, **admin_key)
    assert response.status_code == 200
    assert response.json() == {
        "hasError": False,
        "errorMessage": None,
        "payload": {
            "id": "meta",
            "publicUrl": "http://testserver/getFile?id=meta",
            "fileName": "photo.png",
            "contentType": "image/png",
            "fileSize": len(PNG),
            "createdDate": file.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "checksum": hashlib.sha256(PNG).hexdigest(),
            "checksumAlgorithm": "sha256",
            "ownerId": str(admin.pk),
        },
    }


def test_owner_id_is_left_out_when_unknown_and_the_public_base_url_is_used(client, admin_key, settings):
    settings.FILE_SERVER_PUBLIC_BASE_URL = "https://files.example.com/aimg/"
    stored(file_id="a.b")
    payload = client.get("/getFileMetadata", {"id": "a.b"}, **admin_key).json()["payload"]
    assert "ownerId" not in payload
    assert payload["publicUrl"] == "https://files.example.com/aimg/getFile?id=a.b"


def test_the_checksum_algorithm_follows_the_setting(client, admin_key, settings):
    settings.FILE_SERVER_CHECKSUM_ALGORITHM = "md5"
    payload = upload(client, admin_key).json()["payload"]
    assert (payload["checksumAlgorithm"], payload["checksum"]) == ("md5", hashlib.md5(PNG).hexdigest())  # noqa: S324
    assert body(client.get("/getFile", {"id": payload["id"]})) == PNG  # verified with md5


def test_get_file_metadata_of_an_unknown_or_removed_file_is_404(client, admin_key):
    stored(file_id="gone")
    files.remove_file(file_id="gone")
    for file_id in ("gone", "never"):
        response = client.get("/getFileMetadata", {"id": file_id}, **admin_key)
        assert response.status_code == 404
        assert response.json() == error(f"No file has the id '{file_id}'.")


def test_get_file_metadata_is_for_admins(client):
    stored(file_id="meta")
    assert client.get("/getFileMetadata", {"id": "meta"}).status_code == 401
    session = accounts.create_session(domain=default_domain(), user=UserFactory())
    response = client.get("/getFileMetadata", {"id": "meta"}, HTTP_X_SESSION_ID=str(session.pk))
    assert response.status_code == 403


# --- removeFile ----------------------------------------------------------------------------------------


def test_remove_file_hides_it_drops_its_variants_and_keeps_the_bytes(client, admin_key, storage):
    file = stored(file_id="bye")
    client.get("/getFile", {"id": "bye", "width": 30})
    variant = files.variant_name(file=file, width=30, height=None, mode="fit")
    assert storage.exists(variant)

    response = client.delete("/removeFile?id=bye", **admin_key)
    assert response.status_code == 200
    assert response.json() == {"hasError": False, "errorMessage": None, "payload": {"success": True}}

    assert client.get("/getFile", {"id": "bye"}).status_code == 404
    assert client.get("/getFile", {"id": "bye", "width": 30}).status_code == 404
    assert not storage.exists(variant)
    assert storage.exists(file.storage_name)  # until purge_deleted
    assert FileObject.all_objects.get(pk="bye").deleted_at is not None

    files.restore_file(file=FileObject.all_objects.get(pk="bye"))
    restored = client.get("/getFile", {"id": "bye"})
    assert restored.status_code == 200 and body(restored) == PNG


def test_a_removed_file_is_not_looked_for_on_the_old_server(client, legacy):
    stored(file_id="removed")
    files.remove_file(file_id="removed")
    assert client.get("/getFile", {"id": "removed", "fs": "true"}).status_code == 404
    assert legacy.paths == []


def test_remove_file_of_an_unknown_id_is_404(client, admin_key):
    response = client.delete("/removeFile?id=nothing", **admin_key)
    assert response.status_code == 404
    assert response.json() == error("No file has the id 'nothing'.")
    stored(file_id="twice")
    assert client.delete("/removeFile?id=twice", **admin_key).status_code == 200
    assert client.delete("/removeFile?id=twice", **admin_key).status_code == 404


def test_remove_file_is_for_admins(client):
    stored(file_id="keep")
    assert client.delete("/removeFile?id=keep").status_code == 401
    _, secret = accounts.create_admin_key(user=StaffFactory())
    assert client.delete("/removeFile?id=keep", HTTP_X_ADMINISTRATION_KEY=secret).status_code == 403
    assert FileObject.objects.filter(pk="keep").exists()


def test_restore_of_a_live_file_changes_nothing():
    file = stored(file_id="live")
    before = file.updated_at
    assert files.restore_file(file=file).deleted_at is None
    assert FileObject.objects.get(pk="live").updated_at == before


def test_making_new_resized_copies_is_rate_limited_but_serving_kept_ones_is_not(client, monkeypatch):
    from apps.core.api import files as file_views

    monkeypatch.setattr(file_views, "NEW_VARIANT_RATE", "2/m")
    stored(file_id="pic")
    assert client.get("/getFile", {"id": "pic", "width": 10}).status_code == 200
    assert client.get("/getFile", {"id": "pic", "width": 11}).status_code == 200
    refused = client.get("/getFile", {"id": "pic", "width": 12})
    assert refused.status_code == 429
    assert refused.json() == error("Too many requests. Slow down and try again later.")
    for _ in range(3):
        assert client.get("/getFile", {"id": "pic", "width": 10}).status_code == 200
    assert client.get("/getFile", {"id": "pic"}).status_code == 200


# --- back office ---------------------------------------------------------------------------------------


@pytest.fixture
def back_office():
    from django.test import Client

    browser = Client()
    browser.force_login(StaffFactory(is_superuser=True))
    return browser


def test_the_back_office_lists_removed_files_and_restores_them_through_the_service(back_office, monkeypatch):
    stored(file_id="kept")
    stored(file_id="undo")
    files.remove_file(file_id="undo")
    listing = back_office.get("/admin/core/fileobject/", {"state": "deleted"})
    assert listing.status_code == 200
    assert b">undo<" in listing.content and b">kept<" not in listing.content
    assert back_office.get("/admin/core/fileobject/undo/change/").status_code == 200

    restored = []
    real_restore = files.restore_file
    monkeypatch.setattr(files, "restore_file", lambda *, file: restored.append(file.pk) or real_restore(file=file))
    response = back_office.post(
        "/admin/core/fileobject/", {"action": "restore_selected", "_selected_action": ["undo", "kept"]}
    )
    assert response.status_code == 302
    assert restored == ["undo"]
    assert FileObject.objects.filter(pk="undo").exists()


def test_deleting_in_the_back_office_is_removing(back_office, client, storage):
    file = stored(file_id="bye")
    client.get("/getFile", {"id": "bye", "width": 20})
    assert storage.exists(files.variant_directory(file))
    response = back_office.post("/admin/core/fileobject/bye/delete/", {"post": "yes"})
    assert response.status_code == 302
    row = FileObject.all_objects.get(pk="bye")
    assert row.deleted_at is not None
    assert storage.exists(file.storage_name)
    assert storage.listdir(files.variant_directory(file)) == ([], [])


def test_purging_in_the_back_office_skips_live_files(back_office, storage):
    live = stored(file_id="live")
    gone = stored(file_id="gone")
    files.remove_file(file_id="gone")
    response = back_office.post(
        "/admin/core/fileobject/", {"action": "purge_selected", "_selected_action": ["live", "gone"]}
    )
    assert response.status_code == 302
    assert list(FileObject.all_objects.values_list("pk", flat=True)) == ["live"]
    assert storage.exists(live.storage_name) and not storage.exists(gone.storage_name)

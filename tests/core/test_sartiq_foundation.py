"""The shared Sartiq foundation: image inputs (every MediaInput form), MediaResource fields, presigned
uploads (local and S3), the media file route, and releasing and purging media."""

import hashlib
import io
import random
from dataclasses import replace
from datetime import timedelta

import boto3
import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from apps.accounts.models import Membership
from apps.core.errors import InvalidInput
from apps.core.models import MediaResource, Upload
from apps.core.sartiq import media as media_module
from apps.core.sartiq.media import (
    media_resource_public,
    media_url,
    referrers,
    release_media,
    resolve_media_input,
    thumbnail_url,
)
from apps.core.services import retention, uploads
from tests import sartiq_support
from tests.factories import OrganizationFactory, UserFactory
from tests.sartiq_schema import assert_matches
from tests.sartiq_support import b64, client_for, data_uri, image_bytes, member

pytestmark = pytest.mark.django_db

UPLOADS = "/api/v1/uploads/"

image_servers = sartiq_support.image_servers
image_server = sartiq_support.image_server
private_server = sartiq_support.private_server


@pytest.fixture
def user():
    return UserFactory()


def _errors(excinfo) -> dict:
    return {tuple(path): messages for path, messages in excinfo.value.errors.items()}


def _stored(resource) -> bytes:
    with default_storage.open(resource.storage_name, "rb") as stream:
        return stream.read()


# --- each input form --------------------------------------------------------------------------------


def test_base64_becomes_a_measured_media_resource(user):
    resource = resolve_media_input(b64(image_bytes(40, 20, (10, 200, 30))), user=user, field="image")

    stored = _stored(resource)
    assert resource.owner == user and resource.source == "base64"
    assert (resource.width, resource.height, resource.aspect_ratio, resource.orientation) == (40, 20, 2.0, "landscape")
    assert resource.content_hash == hashlib.sha256(stored).hexdigest()
    assert resource.file_size == len(stored)
    assert resource.extension == "png" and resource.mime_type == "image/png"
    assert resource.dominant_color == "#0ac81e"
    assert resource.color_profile == "sRGB"
    body = media_resource_public(resource)
    assert_matches(body, "MediaResourcePublic")
    assert body == {
        "id": str(resource.pk),
        "url": f"/api/v1/media/{resource.pk}/{resource.content_hash}.png",
        "resource_type": "image",
        "content_hash": resource.content_hash,
        "extension": "png",
        "file_size": len(stored),
        "width": 40,
        "height": 20,
        "aspect_ratio": 2.0,
        "orientation": "landscape",
        "dominant_color": "#0ac81e",
        "color_profile": "sRGB",
        "duration": None,
        "alt_text": None,
        "caption": None,
        "protected": False,
        "created_at": body["created_at"],
    }


def test_a_data_uri_keeps_its_format_and_loses_its_metadata(user):
    jpeg = io.BytesIO()
    Image.new("RGB", (20, 30), (0, 0, 255)).save(jpeg, "JPEG", exif=Image.Exif())
    resource = resolve_media_input(data_uri(jpeg.getvalue(), "image/jpeg"), user=user, field="image")
    assert (resource.extension, resource.orientation, resource.source) == ("jpg", "portrait", "data_uri")
    assert b"Exif" not in _stored(resource)


def test_an_http_url_is_fetched_through_the_safe_fetch(user, image_server):
    url = image_server.serve("/look.png", image_bytes(16, 16))
    resource = resolve_media_input(url, user=user, field="image")
    assert image_server.hits == ["/look.png"]
    assert (resource.source, resource.source_url, resource.orientation) == ("url", url, "square")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://127.0.0.1:{private}/secret.png", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://10.1.2.3/x.png", "private"),
        ("http://[::1]:{private}/x.png", "loopback"),
        ("ftp://example.com/x.png", "http"),
    ],
)
def test_ssrf_urls_are_refused_at_the_field(user, private_server, value, message):
    url = value.format(private=private_server.port)
    with pytest.raises(InvalidInput) as refused:
        resolve_media_input(url, user=user, field="reference_image_url")
    errors = _errors(refused)
    assert list(errors) == [("reference_image_url",)]
    assert message in errors[("reference_image_url",)][0]
    assert private_server.hits == []


def test_an_oversized_image_url_is_refused_without_reading_it_all(user, image_server, monkeypatch):
    monkeypatch.setattr(media_module, "STUDIO_MEDIA", replace(media_module.STUDIO_MEDIA, max_bytes=2048))
    url = image_server.serve("/big.png", image_bytes(400, 400, (1, 2, 3)) + b"\0" * 10_000)
    with pytest.raises(InvalidInput) as refused:
        resolve_media_input(url, user=user, field="image")
    assert _errors(refused)[("image",)] == [
        "The image at the URL is too large: images may be at most 0.00195312 MB (2,048 bytes)."
    ]
    assert not MediaResource.objects.exists()


def test_an_oversized_base64_image_is_refused(user, monkeypatch):
    monkeypatch.setattr(media_module, "STUDIO_MEDIA", replace(media_module.STUDIO_MEDIA, max_bytes=1024))
    noisy = Image.frombytes("RGB", (64, 64), random.Random(7).randbytes(64 * 64 * 3))
    buffer = io.BytesIO()
    noisy.save(buffer, "PNG")
    assert len(buffer.getvalue()) > 1024
    with pytest.raises(InvalidInput) as refused:
        resolve_media_input(b64(buffer.getvalue()), user=user, field="image")
    assert "at most" in _errors(refused)[("image",)][0]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda server: server.serve("/broken.png", image_bytes()[:60]), "incomplete"),
        (lambda server: server.serve("/page", b"<html>hello</html>", "text/html"), "not an image"),
        (lambda server: server.serve("/gone.png", b"", status=404), "404"),
    ],
)
def test_corrupt_or_missing_images_at_a_url_are_refused(user, image_server, make, message):
    with pytest.raises(InvalidInput) as refused:
        resolve_media_input(make(image_server), user=user, field="image")
    assert message in _errors(refused)[("image",)][0].lower() or message in _errors(refused)[("image",)][0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("not base64 at all!", "base64"),
        ("data:image/png,abc", "base64-encoded"),
        (b64(b"plain text, not a picture"), "not an image"),
        ("/api/v1/elsewhere", "upload or media URL of this server"),
    ],
)
def test_bad_strings_are_refused(user, value, message):
    with pytest.raises(InvalidInput) as refused:
        resolve_media_input(value, user=user, field="image")
    assert message in _errors(refused)[("image",)][0]


def test_plain_base64_of_a_jpeg_starts_with_a_slash(user):
    encoded = b64(image_bytes(12, 10, fmt="JPEG"))
    assert encoded.startswith("/9j/")
    assert resolve_media_input(encoded, user=user, field="image").extension == "jpg"


def test_a_failed_request_leaves_no_stored_image_behind(user):
    from apps.core.sartiq.media import discard_stored_media_on_error

    with pytest.raises(InvalidInput), discard_stored_media_on_error():
        kept = resolve_media_input(b64(image_bytes()), user=user, field="first")
        resolve_media_input("not base64!", user=user, field="second")
    assert not default_storage.exists(kept.storage_name)
    assert not default_storage.exists(kept.thumbnail_name)


def test_a_media_input_with_a_url_sets_the_annex_fields(user):
    value = {"url": data_uri(image_bytes()), "alt_text": "Front view", "caption": "SS25", "protected": True}
    resource = resolve_media_input(value, user=user, field="image")
    assert (resource.alt_text, resource.caption, resource.protected) == ("Front view", "SS25", True)


def test_a_media_input_refers_to_an_existing_resource_and_updates_its_annex(user):
    resource = resolve_media_input(b64(image_bytes()), user=user, field="image")
    value = {"media_resource_id": str(resource.pk), "alt_text": "Back", "width": 9999, "url": "ignored"}
    again = resolve_media_input(value, user=user, field="image")
    assert again.pk == resource.pk
    again.refresh_from_db()
    assert again.alt_text == "Back"
    assert again.width == resource.width  # measured values are never taken from the client
    assert MediaResource.objects.count() == 1


def test_a_media_resource_id_must_be_usable_by_the_caller(user):
    other = resolve_media_input(b64(image_bytes()), user=UserFactory(), field="image")
    with pytest.raises(InvalidInput) as refused:
        resolve_media_input({"media_resource_id": str(other.pk)}, user=user, field=("framings", 0, "image"))
    assert list(_errors(refused)) == [("framings", 0, "image", "media_resource_id")]


def test_organization_members_share_the_organization_media(user):
    organization = OrganizationFactory()
    colleague = member(organization)
    member(organization, user=user)
    shared = resolve_media_input(b64(image_bytes()), user=colleague, organization=organization, field="image")
    assert resolve_media_input({"media_resource_id": str(shared.pk)}, user=user, field="image").pk == shared.pk


@pytest.mark.parametrize(
    ("value", "loc"),
    [
        ({}, ("image",)),
        ({"url": None, "media_resource_id": None}, ("image",)),
        ({"media_resource_id": "nope"}, ("image", "media_resource_id")),
        ({"url": "x", "protected": "maybe"}, ("image", "protected")),
        (42, ("image",)),
    ],
)
def test_malformed_media_inputs_name_the_field(user, value, loc):
    with pytest.raises(InvalidInput) as refused:
        resolve_media_input(value, user=user, field="image")
    assert loc in _errors(refused)


def test_none_is_no_image(user):
    assert resolve_media_input(None, user=user, field="image") is None


def test_an_own_media_url_refers_to_the_resource_and_someone_elses_is_copied(user):
    mine = resolve_media_input(b64(image_bytes()), user=user, field="image")
    assert resolve_media_input(media_url(mine), user=user, field="image").pk == mine.pk
    assert resolve_media_input(f"https://api.example.com{media_url(mine)}", user=user, field="image").pk == mine.pk

    stranger = UserFactory()
    copy = resolve_media_input(media_url(mine), user=stranger, field="image")
    assert copy.pk != mine.pk and copy.owner == stranger and copy.content_hash == mine.content_hash


# --- the media file route ---------------------------------------------------------------------------


def test_the_media_route_serves_the_bytes_and_the_thumbnail(user):
    resource = resolve_media_input(b64(image_bytes(600, 300)), user=user, field="image")
    client = client_for()

    response = client.get(media_url(resource))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "immutable" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == _stored(resource)

    thumb = client.get(thumbnail_url(resource))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(b"".join(thumb.streaming_content))).size == (512, 256)


def test_the_media_route_refuses_wrong_names_and_deleted_media(user):
    resource = resolve_media_input(b64(image_bytes()), user=user, field="image")
    client = client_for()
    wrong = client.get(f"/api/v1/media/{resource.pk}/{'0' * 64}.png")
    assert wrong.status_code == 404 and wrong.json() == {"detail": "Media not found."}
    resource.delete()
    assert client.get(media_url(resource)).status_code == 404


# --- presigned uploads (local storage) --------------------------------------------------------------


def _new_upload(client, **body):
    response = client.post(UPLOADS, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_local_upload_round_trip(user, django_capture_on_commit_callbacks):
    client = client_for(user)
    target = _new_upload(client, filename="../../etc/passwd.png", content_type="image/png")
    assert set(target) == {"id", "method", "upload_url", "fields", "headers", "file_url", "expires_at", "max_bytes"}
    assert target["method"] == "PUT" and target["fields"] == {}
    assert target["file_url"] == f"/api/v1/uploads/{target['id']}"
    assert target["max_bytes"] == 25 * 1024 * 1024
    upload = Upload.objects.get(pk=target["id"])
    assert upload.storage_name == f"sartiq/uploads/{upload.pk}.png"  # the client's name is never a path

    sent = client_for().put(target["upload_url"], data=image_bytes(50, 50), content_type="image/png")
    assert sent.status_code == 200, sent.content
    assert sent.json()["received"] is True and sent.json()["size"] == len(image_bytes(50, 50))

    with django_capture_on_commit_callbacks(execute=True):
        resource = resolve_media_input(target["file_url"], user=user, field="image")
    assert (resource.source, resource.width) == ("upload", 50)
    assert not default_storage.exists(upload.storage_name)  # the raw bytes are gone, the media stays
    assert resolve_media_input(target["upload_url"], user=user, field="image").pk == resource.pk
    status = client.get(target["file_url"]).json()
    assert status["media_resource_id"] == str(resource.pk)


def test_an_upload_url_works_once(user):
    target = _new_upload(client_for(user))
    anonymous = client_for()
    assert anonymous.put(target["upload_url"], data=image_bytes(), content_type="image/png").status_code == 200
    again = anonymous.put(target["upload_url"], data=image_bytes(), content_type="image/png")
    assert again.status_code == 409
    assert again.json() == {"detail": "This upload URL has been used already; ask for a new one."}


def test_an_upload_takes_a_multipart_file_too(user):
    target = _new_upload(client_for(user))
    sent = client_for().post(
        target["upload_url"], {"file": ContentFile(image_bytes(), name="a.png")}, format="multipart"
    )
    assert sent.status_code == 200, sent.content
    assert resolve_media_input(target["file_url"], user=user, field="image").source == "upload"


def test_an_expired_upload_url_is_refused(user):
    target = _new_upload(client_for(user))
    Upload.objects.filter(pk=target["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_for().put(target["upload_url"], data=image_bytes(), content_type="image/png")
    assert response.status_code == 410
    assert response.json() == {"detail": "This upload URL has expired; ask for a new one."}


def test_a_tampered_upload_url_is_refused(user):
    target = _new_upload(client_for(user))
    response = client_for().put(target["upload_url"] + "x", data=image_bytes(), content_type="image/png")
    assert response.status_code == 403
    other = _new_upload(client_for(user))
    swapped = other["upload_url"].split("?")[0] + "?" + target["upload_url"].split("?")[1]
    assert client_for().put(swapped, data=image_bytes(), content_type="image/png").status_code == 403


def test_an_upload_over_its_size_is_refused(user, monkeypatch):
    monkeypatch.setattr(uploads, "STUDIO_MEDIA", replace(uploads.STUDIO_MEDIA, max_bytes=1000))
    target = _new_upload(client_for(user))
    assert target["max_bytes"] == 1000
    response = client_for().put(target["upload_url"], data=b"\x89PNG" + b"\0" * 2000, content_type="image/png")
    assert response.status_code == 413
    assert response.json() == {"detail": "An upload may be at most 1000 bytes; send a smaller image."}
    multipart = client_for().post(
        target["upload_url"], {"file": ContentFile(b"\0" * 200_000, name="a.png")}, format="multipart"
    )
    assert multipart.status_code == 413
    # A refused attempt does not use the URL up.
    assert client_for().put(target["upload_url"], data=b"\0" * 10, content_type="image/png").status_code == 200


def test_a_declared_size_over_the_limit_is_refused_up_front(user):
    response = client_for(user).post(UPLOADS, {"size": 26 * 1024 * 1024}, format="json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "size"]


def test_uploads_need_a_signed_in_user():
    response = client_for().post(UPLOADS, {}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "You are not signed in."}


def test_an_upload_url_is_usable_only_by_its_owner_and_after_the_bytes_arrived(user):
    target = _new_upload(client_for(user))
    with pytest.raises(InvalidInput) as early:
        resolve_media_input(target["file_url"], user=user, field="image")
    assert "Nothing has been uploaded" in _errors(early)[("image",)][0]
    client_for().put(target["upload_url"], data=image_bytes(), content_type="image/png")
    with pytest.raises(InvalidInput) as stranger:
        resolve_media_input(target["file_url"], user=UserFactory(), field="image")
    assert "no upload of yours" in _errors(stranger)[("image",)][0]
    assert client_for(UserFactory()).get(target["file_url"]).status_code == 404


def test_corrupt_uploaded_bytes_are_refused_when_used(user):
    target = _new_upload(client_for(user))
    client_for().put(target["upload_url"], data=image_bytes()[:70], content_type="image/png")
    with pytest.raises(InvalidInput) as refused:
        resolve_media_input({"url": target["file_url"]}, user=user, field="image")
    assert list(_errors(refused)) == [("image", "url")]


def test_stale_uploads_are_purged_with_their_bytes(user):
    target = _new_upload(client_for(user))
    client_for().put(target["upload_url"], data=image_bytes(), content_type="image/png")
    upload = Upload.objects.get(pk=target["id"])
    fresh = _new_upload(client_for(user))
    Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(days=2))

    assert uploads.purge_stale_uploads(older_than=timedelta(days=1)) == 1
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert not default_storage.exists(upload.storage_name)
    assert Upload.objects.filter(pk=fresh["id"]).exists()


# --- presigned uploads (S3) -------------------------------------------------------------------------

BUCKET = "atelier-media"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_endpoint, settings):
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "k",
                "secret_key": "s",
                "addressing_style": "path",
                "file_overwrite": False,
                "location": "media",
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_with_s3_the_target_is_a_presigned_post(user, s3_storage):
    target = _new_upload(client_for(user), content_type="image/png")
    assert target["method"] == "POST"
    assert target["upload_url"].startswith("http://127.0.0.1:")
    assert target["fields"]["key"] == f"media/sartiq/uploads/{target['id']}.png"
    assert {"key", "policy", "Content-Type"} <= set(target["fields"])

    sent = requests.post(
        target["upload_url"], data=target["fields"], files={"file": ("a.png", image_bytes(30, 10))}, timeout=10
    )
    assert sent.status_code in (200, 204), sent.text

    resource = resolve_media_input(target["file_url"], user=user, field="image")
    assert (resource.width, resource.height) == (30, 10)
    assert s3_storage.head_object(Bucket=BUCKET, Key=f"media/{resource.storage_name}")["ContentLength"] > 0
    redirect = client_for().get(media_url(resource))
    assert redirect.status_code == 302
    assert redirect["Location"].startswith(f"{target['upload_url'].rstrip('/')}/media/sartiq/media/{resource.pk}")


def test_with_s3_nothing_sent_is_refused_when_used(user, s3_storage):
    target = _new_upload(client_for(user))
    with pytest.raises(InvalidInput) as refused:
        resolve_media_input(target["file_url"], user=user, field="image")
    assert "Nothing has been uploaded" in _errors(refused)[("image",)][0]


# --- releasing and purging media --------------------------------------------------------------------


def test_release_soft_deletes_unreferenced_media_and_keeps_protected_ones(user):
    loose = resolve_media_input(b64(image_bytes()), user=user, field="image")
    kept = resolve_media_input({"url": b64(image_bytes()), "protected": True}, user=user, field="image")
    assert referrers(loose) == 0
    assert release_media([loose, kept, None]) == [loose]
    assert MediaResource.all_objects.get(pk=loose.pk).deleted_at is not None
    assert MediaResource.objects.filter(pk=kept.pk).exists()


def test_released_media_is_purged_with_its_files_after_retention(user):
    resource = resolve_media_input(b64(image_bytes()), user=user, field="image")
    release_media([resource])
    names = (resource.storage_name, resource.thumbnail_name)
    report = retention.purge_rows(MediaResource, [resource.pk], now=timezone.now())
    assert report.ids == [resource.pk]
    assert not MediaResource.all_objects.filter(pk=resource.pk).exists()
    assert not any(default_storage.exists(name) for name in names)


def test_purge_rows_leaves_live_rows_alone(user):
    resource = resolve_media_input(b64(image_bytes()), user=user, field="image")
    assert retention.purge_rows(MediaResource, [resource.pk]).ids == []
    assert default_storage.exists(resource.storage_name)


def test_organization_roles_for_media(user):
    organization = OrganizationFactory()
    owner = member(organization, Membership.Role.OWNER)
    resource = resolve_media_input(b64(image_bytes()), user=owner, organization=organization, field="image")
    assert resource.organization == organization
    with pytest.raises(InvalidInput):
        resolve_media_input({"media_resource_id": str(resource.pk)}, user=user, field="image")


def test_urls_live_under_the_public_base_url_and_are_still_recognised(user, settings):
    settings.SARTIQ_PUBLIC_BASE_URL = "https://studio.example.com/backend/"
    resource = resolve_media_input(b64(image_bytes()), user=user, field="image")
    assert (
        media_url(resource)
        == f"https://studio.example.com/backend/api/v1/media/{resource.pk}/{resource.content_hash}.png"
    )
    assert resolve_media_input(media_url(resource), user=user, field="image").pk == resource.pk
    target = _new_upload(client_for(user))
    assert target["file_url"] == f"https://studio.example.com/backend/api/v1/uploads/{target['id']}"
    assert target["upload_url"].startswith(f"https://studio.example.com/backend/api/v1/uploads/{target['id']}/content?")

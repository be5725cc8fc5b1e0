"""A subject's base images over HTTP: add (JSON ``image_url`` + ``shot_type_id``), list (filter by shot
type), delete by URL; one per shot type, the replaced image released."""

import pytest

from apps.core.models import MediaResource
from apps.subjects.models import SubjectBaseImage
from tests.factories import UserFactory
from tests.sartiq_schema import assert_matches, assert_validation_error

from .support import BASE, Caller, data_uri, organization_of, png, random_id, shot_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def front(alice):
    return shot_type(alice.user, "front_full_body")


@pytest.fixture
def back(alice):
    return shot_type(alice.user, "back_full_body", view_angle="back")


def add(caller, subject_id, shot_type_id, image_url, *, query=""):
    return caller.post(
        f"{BASE}/{subject_id}/base_images{query}", {"shot_type_id": str(shot_type_id), "image_url": image_url}
    )


def upload_url(caller, content: bytes) -> str:
    target = caller.post("/api/v1/uploads/", {"filename": "base.png", "content_type": "image/png"}).json()
    sent = caller.client.put(target["upload_url"], content, content_type="application/octet-stream")
    assert sent.status_code == 200, sent.json()
    return target["file_url"]


def test_an_uploaded_image_becomes_the_base_image_of_a_shot_type(alice, front):
    subject = alice.create()
    body = {"shot_type_id": str(front.pk), "image_url": upload_url(alice, png((1, 2, 3)))}
    assert_matches(body, "BaseImageCreate")
    response = alice.post(f"{BASE}/{subject['id']}/base_images", body)
    assert response.status_code == 200, response.json()
    created = response.json()
    assert_matches(created, "BaseImagePublic")
    assert (created["shot_type_id"], created["shot_type_label"]) == (str(front.pk), "front_full_body")
    listed = alice.get(f"{BASE}/{subject['id']}/base_images")
    assert listed.status_code == 200
    assert_matches(listed.json(), "BaseImageListResponse")
    assert listed.json() == {"data": [created]}
    assert alice.get(f"{BASE}/{subject['id']}").json()["base_images"] == [created]


def test_adding_again_replaces_the_image_and_releases_the_old_one(alice, front):
    subject = alice.create()
    first = add(alice, subject["id"], front.pk, data_uri((1, 1, 1))).json()
    second = add(alice, subject["id"], front.pk, data_uri((2, 2, 2))).json()
    assert first["image_url"] != second["image_url"]
    assert SubjectBaseImage.objects.count() == 1
    old = MediaResource.all_objects.get(pk=first["image_url"].split("/")[4])
    assert old.deleted_at is not None


def test_the_list_filters_by_shot_type(alice, front, back):
    subject = alice.create()
    add(alice, subject["id"], front.pk, data_uri((1, 1, 1)))
    back_image = add(alice, subject["id"], back.pk, data_uri((2, 2, 2))).json()
    body = alice.get(f"{BASE}/{subject['id']}/base_images", {"shot_type": str(back.pk)}).json()
    assert body == {"data": [back_image]}
    assert len(alice.get(f"{BASE}/{subject['id']}/base_images").json()["data"]) == 2
    response = alice.get(f"{BASE}/{subject['id']}/base_images", {"shot_type": "nope"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "shot_type"]


def test_delete_by_url_removes_the_base_image(alice, front, settings):
    subject = alice.create()
    created = add(alice, subject["id"], front.pk, data_uri()).json()
    for url in ("/api/v1/media/nope/x.png", ""):
        response = alice.delete(f"{BASE}/{subject['id']}/base_images", {"url": url})
        assert (response.status_code, response.json()) == (
            404,
            {"detail": "The subject has no base image with this URL."},
        )
    settings.SARTIQ_PUBLIC_BASE_URL = "https://studio.example.com"
    absolute = alice.get(f"{BASE}/{subject['id']}/base_images").json()["data"][0]["image_url"]
    assert absolute == "https://studio.example.com" + created["image_url"]
    response = alice.delete(f"{BASE}/{subject['id']}/base_images", {"url": absolute})
    assert (response.status_code, response.json()) == (200, {"message": "Base image deleted successfully"})
    assert not SubjectBaseImage.objects.exists()
    media = MediaResource.all_objects.get(pk=created["image_url"].split("/")[4])
    assert media.deleted_at is not None
    response = alice.delete(f"{BASE}/{subject['id']}/base_images")
    assert response.status_code == 422
    assert_validation_error(response.json())
    assert response.json()["detail"][0]["loc"] == ["query", "url"]


def test_bad_base_image_input_is_a_422_at_its_field(alice, bob, front):
    subject = alice.create()
    private = shot_type(bob.user, "private", public=False)
    cases = [
        ({"image_url": data_uri()}, ["body", "shot_type_id"]),
        ({"shot_type_id": str(front.pk)}, ["body", "image_url"]),
        ({"shot_type_id": str(front.pk), "image_url": 5}, ["body", "image_url"]),
        ({"shot_type_id": str(private.pk), "image_url": data_uri()}, ["body", "shot_type_id"]),
        ({"shot_type_id": random_id(), "image_url": data_uri()}, ["body", "shot_type_id"]),
        ({"shot_type_id": str(front.pk), "image_url": "/api/v1/uploads/" + random_id()}, ["body", "image_url"]),
        ({"shot_type_id": str(front.pk), "image_url": "not an image"}, ["body", "image_url"]),
    ]
    for body, loc in cases:
        response = alice.post(f"{BASE}/{subject['id']}/base_images", body)
        assert response.status_code == 422, (body, response.json())
        assert [error["loc"] for error in response.json()["detail"]] == [loc]
    assert not SubjectBaseImage.objects.exists()


def test_base_images_follow_the_subject_permissions(alice, bob, front):
    organization = organization_of(alice.user, bob.user)
    team = alice.create(organization_id=str(organization.pk))
    public = alice.create(name="Public", public=True)
    private = alice.create(name="Private")
    outsider = Caller(UserFactory())
    assert add(bob, team["id"], front.pk, data_uri()).status_code == 200
    assert add(outsider, public["id"], front.pk, data_uri()).status_code == 403
    assert outsider.get(f"{BASE}/{public['id']}/base_images").status_code == 200
    assert outsider.get(f"{BASE}/{private['id']}/base_images").status_code == 404
    assert outsider.delete(f"{BASE}/{public['id']}/base_images", {"url": "x"}).status_code == 403
    assert add(outsider, private["id"], front.pk, data_uri()).status_code == 404
    assert add(outsider, random_id(), front.pk, data_uri()).status_code == 404

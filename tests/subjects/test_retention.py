"""A deleted subject keeps its LoRA file and images until it is purged (``purge_deleted`` after the
retention, ``manage.py purge_deleted``, or the back office); purging removes the LoRA, the upload
archives and every image nothing else uses."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from apps.core.errors import Conflict
from apps.core.models import MediaResource
from apps.core.services import retention
from apps.subjects import ingest, services
from apps.subjects.models import Subject, SubjectBaseImage, SubjectBaseImagesUploadTask, SubjectImage
from tests.styles.lora_support import small_lora

from .support import BASE, data_uri, shot_type, stored_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject_with_files(alice, admin):
    """A subject with a cover, a portrait, a data image, a portfolio image, a base image and a LoRA."""
    front = shot_type(alice.user, "front")
    subject = alice.create(
        name="Doomed",
        portrait_image=data_uri((1, 1, 1)),
        data_images=[data_uri((2, 2, 2))],
        portfolio_images=[{"url": data_uri((3, 3, 3))}],
        base_images=[{"shot_type_id": str(front.pk), "image_url": data_uri((4, 4, 4))}],
    )
    lora = SimpleUploadedFile("doomed.safetensors", small_lora())
    response = admin.post(
        f"{BASE}/admin/{subject['id']}/upload-lora", {"file": lora, "lora_trigger": "dmd"}, format="multipart"
    )
    assert response.status_code == 200
    return response.json()


def media_ids(subject: dict) -> set[str]:
    ids = {subject["cover_image_media"]["id"], subject["portrait_image_media"]["id"]}
    ids |= {item["id"] for item in subject["data_images_media"] + subject["portfolio_images_media"]}
    ids |= {item["image_url"].split("/")[4] for item in subject["base_images"]}
    return ids


def files(storage) -> set[str]:
    return stored_names(storage, "loras") | stored_names(storage, "sartiq/media")


def test_a_soft_delete_keeps_every_file(alice, storage, subject_with_files):
    before = files(storage)
    assert len(before) == 1 + 5 * 2  # the LoRA, and each image with its thumbnail
    assert alice.delete(f"{BASE}/{subject_with_files['id']}").status_code == 200
    assert files(storage) == before
    assert MediaResource.objects.filter(pk__in=media_ids(subject_with_files)).count() == 5


def test_purging_removes_the_lora_the_images_and_the_archives(alice, storage, subject_with_files):
    task = SubjectBaseImagesUploadTask.objects.create(
        owner=alice.user, subject_id=subject_with_files["id"], archive_name=f"{ingest.ARCHIVE_PREFIX}/left.zip"
    )
    storage.save(task.archive_name, SimpleUploadedFile("x.zip", b"zip"))
    alice.delete(f"{BASE}/{subject_with_files['id']}")
    reports = retention.purge_deleted(older_than=timedelta(0))
    report = next(r for r in reports if r.label == "subjects.Subject")
    assert [str(pk) for pk in report.ids] == [subject_with_files["id"]]
    assert not Subject.all_objects.filter(pk=subject_with_files["id"]).exists()
    assert not SubjectImage.objects.exists() and not SubjectBaseImage.objects.exists()
    assert not MediaResource.all_objects.filter(pk__in=media_ids(subject_with_files)).exists()
    assert files(storage) == set()
    assert stored_names(storage, ingest.ARCHIVE_PREFIX) == set()


def test_images_another_subject_uses_are_kept(alice, storage, subject_with_files):
    other = alice.create(
        name="Keeper", cover_image={"media_resource_id": subject_with_files["cover_image_media"]["id"]}
    )
    alice.delete(f"{BASE}/{subject_with_files['id']}")
    retention.purge_deleted(older_than=timedelta(0))
    kept = MediaResource.objects.get(pk=other["cover_image_media"]["id"])
    assert storage.exists(kept.storage_name)


def test_the_retention_period_is_respected_by_the_command(alice, subject_with_files):
    alice.delete(f"{BASE}/{subject_with_files['id']}")
    Subject.all_objects.filter(pk=subject_with_files["id"]).update(deleted_at=timezone.now() - timedelta(days=10))
    out = StringIO()
    call_command("purge_deleted", "--older-than", "30", stdout=out)
    assert Subject.all_objects.filter(pk=subject_with_files["id"]).exists()
    call_command("purge_deleted", "--older-than", "5", stdout=out)
    assert not Subject.all_objects.filter(pk=subject_with_files["id"]).exists()


def test_a_live_subject_is_never_purged(alice, subject_with_files):
    with pytest.raises(Conflict):
        services.purge_subject(subject=Subject.objects.get(pk=subject_with_files["id"]))
    assert Subject.objects.filter(pk=subject_with_files["id"]).exists()


def test_a_restored_subject_has_its_files_back(alice, admin, storage, subject_with_files):
    before = files(storage)
    alice.delete(f"{BASE}/{subject_with_files['id']}")
    restored = admin.post(f"{BASE}/{subject_with_files['id']}/restore").json()
    assert restored["lora_status"] == "ready" and restored["cover_image_url"] == subject_with_files["cover_image_url"]
    assert files(storage) == before


def test_purging_a_shot_type_purges_the_subjects_base_images_for_it(alice, storage):
    front = shot_type(alice.user, "front")
    subject = alice.create(base_images=[{"shot_type_id": str(front.pk), "image_url": data_uri((6, 6, 6))}])
    media_id = subject["base_images"][0]["image_url"].split("/")[4]
    name = MediaResource.objects.get(pk=media_id).storage_name
    assert alice.delete(f"/api/v1/shot-types/{front.pk}").status_code == 200
    retention.purge_deleted(older_than=timedelta(0))
    assert not SubjectBaseImage.objects.exists()
    assert not MediaResource.all_objects.filter(pk=media_id).exists() and not storage.exists(name)
    assert alice.get(f"{BASE}/{subject['id']}").json()["cover_image_url"] == subject["cover_image_url"]

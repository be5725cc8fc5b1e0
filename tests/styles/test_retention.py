"""A deleted style keeps its LoRA file and images until it is purged: by the daily
``apps.core.tasks.purge_deleted`` after SOFT_DELETE_RETENTION_DAYS, or by ``purge_deleted --older-than``."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.core import tasks
from apps.core.models import MediaResource
from apps.core.services import retention
from apps.styles import services
from apps.styles.models import Style, StyleDataImage

from .lora_support import small_lora
from .support import BASE, data_uri, stored_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def style_with_files(alice, admin):
    """A style with a cover, two data images and an uploaded LoRA."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    style = alice.create(name="Doomed", data_images=[data_uri((1, 2, 3)), data_uri((4, 5, 6))])
    lora = SimpleUploadedFile("doomed.safetensors", small_lora())
    response = admin.post(
        f"{BASE}/admin/{style['id']}/upload-lora", {"file": lora, "lora_trigger": "dmd"}, format="multipart"
    )
    assert response.status_code == 200
    return response.json()


def media_ids(style: dict) -> set[str]:
    return {style["cover_image_media"]["id"], *(item["id"] for item in style["data_images_media"])}


def deleted_days_ago(style_id, days: int) -> None:
    Style.all_objects.filter(pk=style_id).update(deleted_at=timezone.now() - timedelta(days=days))


def test_a_soft_delete_keeps_every_file(alice, storage, style_with_files):
    before = stored_names(storage, "loras") | stored_names(storage, "sartiq/media")
    assert len(before) == 1 + 3 * 2  # the LoRA, and each image with its thumbnail
    assert alice.delete(f"{BASE}/{style_with_files['id']}").status_code == 200
    assert stored_names(storage, "loras") | stored_names(storage, "sartiq/media") == before
    assert MediaResource.objects.filter(pk__in=media_ids(style_with_files)).count() == 3


def test_purging_removes_the_lora_file_and_the_images(alice, storage, style_with_files):
    alice.delete(f"{BASE}/{style_with_files['id']}")
    reports = retention.purge_deleted(older_than=timedelta(0))
    report = next(r for r in reports if r.label == "styles.Style")
    assert [str(pk) for pk in report.ids] == [style_with_files["id"]]
    assert not Style.all_objects.filter(pk=style_with_files["id"]).exists()
    assert not StyleDataImage.objects.exists()
    assert not MediaResource.all_objects.filter(pk__in=media_ids(style_with_files)).exists()
    assert stored_names(storage, "loras") == set()
    assert stored_names(storage, "sartiq/media") == set()


def test_images_that_are_still_used_or_protected_survive_the_purge(alice, storage):
    keeper = alice.create(name="Keeper")
    shared = keeper["cover_image_media"]["id"]
    doomed = alice.create(
        name="Doomed",
        cover_image={"media_resource_id": shared},
        data_images=[{"url": data_uri((7, 7, 7)), "protected": True}, data_uri((8, 8, 8))],
    )
    protected, plain = (item["id"] for item in doomed["data_images_media"])
    alice.delete(f"{BASE}/{doomed['id']}")
    retention.purge_deleted(older_than=timedelta(0))
    assert set(MediaResource.objects.values_list("pk", flat=True)) == {
        MediaResource.objects.get(pk=shared).pk,
        MediaResource.objects.get(pk=protected).pk,
    }
    assert not MediaResource.all_objects.filter(pk=plain).exists()
    assert alice.get(f"{BASE}/{keeper['id']}").json()["cover_image_media"]["id"] == shared


def test_the_daily_task_purges_after_the_retention_period(alice, storage, settings, style_with_files):
    settings.SOFT_DELETE_RETENTION_DAYS = 30
    recent = alice.create(name="Recent")
    alice.delete(f"{BASE}/{style_with_files['id']}")
    alice.delete(f"{BASE}/{recent['id']}")
    deleted_days_ago(style_with_files["id"], 31)
    deleted_days_ago(recent["id"], 29)
    result = tasks.purge_deleted()
    assert result["styles.Style"] == {"purged": 1, "failed": 0}
    assert not Style.all_objects.filter(pk=style_with_files["id"]).exists()
    assert Style.all_objects.filter(pk=recent["id"]).exists()
    assert stored_names(storage, "loras") == set()


def test_the_command_purges_what_is_older_than_its_days(alice, storage, style_with_files):
    alice.delete(f"{BASE}/{style_with_files['id']}")
    deleted_days_ago(style_with_files["id"], 3)
    out = StringIO()
    call_command("purge_deleted", "--older-than", "5", stdout=out)
    assert Style.all_objects.filter(pk=style_with_files["id"]).exists()
    call_command("purge_deleted", "--older-than", "2", stdout=out)
    assert f"purged styles.Style {style_with_files['id']}" in out.getvalue()
    assert not Style.all_objects.filter(pk=style_with_files["id"]).exists()
    assert stored_names(storage, "loras") == set()


def test_a_restored_style_is_not_purged(alice, admin, style_with_files):
    alice.delete(f"{BASE}/{style_with_files['id']}")
    admin.post(f"{BASE}/{style_with_files['id']}/restore")
    retention.purge_deleted(older_than=timedelta(0))
    assert Style.objects.filter(pk=style_with_files["id"]).exists()


def test_purge_style_refuses_a_live_style(style_with_files):
    from apps.core.errors import Conflict

    with pytest.raises(Conflict):
        services.purge_style(style=Style.objects.get(pk=style_with_files["id"]))
    assert Style.objects.filter(pk=style_with_files["id"]).exists()

"""purge_deleted: soft-deleted rows older than the retention go for good, with their stored files."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.accounts.models import User
from apps.core.models import Domain, FileObject
from apps.core.services import files, retention

pytestmark = pytest.mark.django_db

CONTENT = b"some bytes to keep or purge"


@pytest.fixture(autouse=True)
def storage(settings):
    settings.STORAGES = {**settings.STORAGES}
    return default_storage


def removed(file_id: str, *, days_ago: float, variant: bool = True) -> FileObject:
    """A removed file (deleted ``days_ago``) with one resized copy in storage."""
    file = files.upload_file(source=ContentFile(CONTENT, name=f"{file_id}.txt"), file_id=file_id)
    if variant:
        default_storage.save(f"{files.variant_directory(file)}/10xauto-fit.png", ContentFile(b"variant"))
    files.remove_file(file_id=file_id)
    FileObject.all_objects.filter(pk=file_id).update(deleted_at=timezone.now() - timedelta(days=days_ago))
    return FileObject.all_objects.get(pk=file_id)


def purge(*args) -> str:
    out = StringIO()
    call_command("purge_deleted", *args, stdout=out)
    return out.getvalue()


def test_rows_older_than_the_retention_go_with_their_bytes_and_variants(storage):
    old = removed("old", days_ago=31)
    old_variant = f"{files.variant_directory(old)}/10xauto-fit.png"
    storage.save(old_variant, ContentFile(b"made after the removal"))  # a copy that raced the removal
    recent = removed("recent", days_ago=29)
    live = files.upload_file(source=ContentFile(CONTENT, name="live.txt"), file_id="live")

    output = purge("--older-than", "30")

    assert "purged core.FileObject old\n" in output
    assert "Purged 1 core.FileObject row(s) deleted before " in output
    assert not FileObject.all_objects.filter(pk="old").exists()
    assert not storage.exists(old.storage_name)
    assert not storage.exists(old_variant)
    assert FileObject.all_objects.filter(pk="recent").exists()
    assert storage.exists(recent.storage_name)
    assert FileObject.objects.filter(pk="live").exists()
    assert storage.exists(live.storage_name)


def test_running_again_is_harmless_and_a_purged_id_can_be_used_again():
    removed("old", days_ago=40)
    purge("--older-than", "30")
    assert "Purged 0 core.FileObject row(s)" in purge("--older-than", "30")
    again = files.upload_file(source=ContentFile(b"new bytes", name="new.txt"), file_id="old")
    assert again.size == len(b"new bytes")


def test_dry_run_lists_and_deletes_nothing(storage):
    old = removed("old", days_ago=10)
    output = purge("--older-than", "7", "--dry-run")
    assert "would purge core.FileObject old\n" in output
    assert "Would purge 1 core.FileObject row(s)" in output
    assert FileObject.all_objects.filter(pk="old").exists()
    assert storage.exists(old.storage_name)


def test_zero_days_purges_every_removed_row_but_no_live_one():
    removed("a", days_ago=0.001)
    files.upload_file(source=ContentFile(CONTENT, name="b.txt"), file_id="b")
    purge("--older-than", "0")
    assert list(FileObject.all_objects.values_list("pk", flat=True)) == ["b"]


def test_a_row_restored_before_its_turn_is_kept(monkeypatch, storage):
    first = removed("first", days_ago=40)
    second = removed("second", days_ago=40)
    original_cleanup = retention._registry["core.FileObject"].cleanup

    def cleanup_and_restore_the_other(row):
        original_cleanup(row)
        if row.pk == "first":
            files.restore_file(file=FileObject.all_objects.get(pk="second"))

    monkeypatch.setitem(
        retention._registry,
        "core.FileObject",
        retention.Retained(model=FileObject, cleanup=cleanup_and_restore_the_other),
    )
    purge("--older-than", "30")
    assert not FileObject.all_objects.filter(pk="first").exists()
    assert FileObject.objects.filter(pk="second").exists()
    assert storage.exists(second.storage_name)
    assert not storage.exists(first.storage_name)


def test_a_failing_cleanup_keeps_the_row_and_fails_the_command(monkeypatch, storage):
    file = removed("stuck", days_ago=40)

    def broken(row):
        raise OSError("storage is read-only")

    monkeypatch.setitem(retention._registry, "core.FileObject", retention.Retained(model=FileObject, cleanup=broken))
    err = StringIO()
    with pytest.raises(CommandError, match="could not be purged"):
        call_command("purge_deleted", "--older-than", "30", stdout=StringIO(), stderr=err)
    assert "failed core.FileObject stuck: storage is read-only" in err.getvalue()
    assert FileObject.all_objects.filter(pk="stuck").exists()
    assert storage.exists(file.storage_name)


@pytest.mark.parametrize("value", ["-1", "soon", "1.5"])
def test_older_than_must_be_a_whole_number_of_days(value):
    with pytest.raises(CommandError, match="older-than"):
        purge("--older-than", value)


def test_older_than_is_required():
    with pytest.raises(CommandError, match="--older-than"):
        purge()


def test_other_apps_can_register_their_soft_deletable_models(monkeypatch):
    monkeypatch.setattr(retention, "_registry", dict(retention._registry))
    cleaned = []
    retention.register(User, cleanup=lambda row: cleaned.append(row.pk))
    user = User.objects.create(domain=Domain.objects.get(is_default=True), email="gone@example.com", username="gone")
    user.delete()
    User.all_objects.filter(pk=user.pk).update(deleted_at=timezone.now() - timedelta(days=100))
    output = purge("--older-than", "90")
    assert f"purged accounts.User {user.pk}\n" in output
    assert cleaned == [user.pk]
    assert not User.all_objects.filter(pk=user.pk).exists()


def test_only_soft_deletable_models_can_be_registered():
    with pytest.raises(TypeError, match="not a soft-deletable model"):
        retention.register(Domain)


@pytest.mark.django_db
def test_the_daily_task_purges_past_the_configured_retention(settings):
    from apps.core.tasks import purge_deleted

    settings.SOFT_DELETE_RETENTION_DAYS = 30
    old = FileObject.all_objects.create(
        id="old-file",
        file_name="a.bin",
        content_type="application/octet-stream",
        size=0,
        checksum="x",
        storage_name="files/aa/old-file-t",
        deleted_at=timezone.now() - timedelta(days=31),
    )
    recent = FileObject.all_objects.create(
        id="recent-file",
        file_name="b.bin",
        content_type="application/octet-stream",
        size=0,
        checksum="x",
        storage_name="files/aa/recent-file-t",
        deleted_at=timezone.now() - timedelta(days=3),
    )
    assert purge_deleted.delay().get()["core.FileObject"]["purged"] == 1
    assert not FileObject.all_objects.filter(pk=old.pk).exists()
    assert FileObject.all_objects.filter(pk=recent.pk).exists()

    settings.SOFT_DELETE_RETENTION_DAYS = 0
    assert purge_deleted.delay().get() == {}
    assert FileObject.all_objects.filter(pk=recent.pk).exists()

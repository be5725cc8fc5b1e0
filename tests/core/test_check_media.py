"""manage.py check_media: every file the database refers to is in the media store (the last step of
a restore, docs/operations.md "Backups")."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from apps.core.sartiq import lora
from apps.core.sartiq.media import store_image
from apps.core.services import files
from apps.styles.models import Style
from tests.factories import UserFactory
from tests.styles.lora_support import small_lora
from tests.text2image.engine_support import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(settings):
    settings.STORAGES = {**settings.STORAGES}
    return default_storage


def check() -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("check_media", stdout=out, stderr=err)
    finally:
        check.err = err.getvalue()
    return out.getvalue()


def test_every_kind_of_stored_file_is_checked_and_a_missing_one_fails(storage):
    user = UserFactory()
    file = files.upload_file(source=png_bytes(), file_name="a.png", owner=user)
    media = store_image(png_bytes(), user=user)
    style = Style.objects.create(owner=user, name="Vintage", slug="vintage")
    style = lora.store_lora(
        obj=style, upload=SimpleUploadedFile("s.safetensors", small_lora()), lora_trigger="v", kind="styles"
    )
    media.delete()  # soft-deleted rows count: they can be restored
    assert check() == "4 stored file(s) referenced, 0 missing.\n"

    storage.delete(media.thumbnail_name)
    storage.delete(style.lora_file)
    with pytest.raises(CommandError, match="2 referenced file"):
        check()
    assert check.err.splitlines() == sorted([f"missing {media.thumbnail_name}", f"missing {style.lora_file}"])
    assert file.storage_name not in check.err

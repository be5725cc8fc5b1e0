"""Reads of the core app."""

import re

from .models import FILE_ID_PATTERN, FileObject

_FILE_ID = re.compile(FILE_ID_PATTERN)


def is_file_id(value) -> bool:
    """Whether ``value`` can name a file of the file server (FILE_ID_PATTERN)."""
    return isinstance(value, str) and _FILE_ID.fullmatch(value) is not None


def file_by_id(file_id: str, *, include_deleted: bool = False) -> FileObject | None:
    """The file ``file_id`` (a removed one too when ``include_deleted``), or None. One query at most:
    an id that cannot exist is answered without asking the database."""
    if not is_file_id(file_id):
        return None
    manager = FileObject.all_objects if include_deleted else FileObject.objects
    return manager.filter(pk=file_id).first()


def file_id_taken(file_id: str) -> bool:
    """Whether a file, live or removed (and not yet purged), already has this id."""
    return FileObject.all_objects.filter(pk=file_id).exists()


def stored_file_names() -> set[str]:
    """Every name in the media store a row refers to: file-server files (generated items and their
    thumbnails among them), Sartiq media and their thumbnails, uploads received and not yet used,
    and the LoRA files of the catalogue. Soft-deleted rows count (they can be restored)."""
    from django.apps import apps

    from .models import MediaResource, Upload
    from .sartiq.lora import LoraModel

    names = set(FileObject.all_objects.values_list("storage_name", flat=True))
    for name, thumbnail in MediaResource.all_objects.values_list("storage_name", "thumbnail_name"):
        names.update((name, thumbnail))
    received = Upload.objects.filter(received_at__isnull=False, media_resource__isnull=True)
    names.update(received.values_list("storage_name", flat=True))
    for model in apps.get_models():
        if issubclass(model, LoraModel):
            names.update(model._base_manager.exclude(lora_file="").values_list("lora_file", flat=True))
    return {name for name in names if name}


def missing_stored_files(*, storage=None) -> tuple[int, list[str]]:
    """(how many stored files rows refer to, the names of those the media store does not have)."""
    from django.core.files.storage import default_storage

    storage = storage or default_storage
    names = stored_file_names()
    return len(names), sorted(name for name in names if not storage.exists(name))

"""Normalizing files already in storage (uploads too large to process in the request)."""

import posixpath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.core.errors import InvalidInput, NotFound

from .checksums import checksum
from .pipeline import process_image
from .policies import MediaPolicy


def derived_names(name: str, *, extension: str, thumbnail_extension: str) -> tuple[str, str]:
    """Where the normalized file and its thumbnail of the stored file ``name`` go by default:
    ``a/b/photo.jpg`` gives ``a/b/photo.normalized.webp`` and ``a/b/photo.thumbnail.webp``."""
    directory, filename = posixpath.split(name)
    stem = filename.rsplit(".", 1)[0] if "." in filename.lstrip(".") else filename
    base = posixpath.join(directory, stem)
    return f"{base}.normalized.{extension}", f"{base}.thumbnail.{thumbnail_extension}"


def normalize_stored_image(
    name: str,
    *,
    policy: MediaPolicy,
    storage=None,
    output_name: str | None = None,
    thumbnail_name: str | None = None,
    checksum_algorithm: str = "sha256",
) -> dict:
    """Process the stored file ``name`` under ``policy`` and store the normalized image and its
    thumbnail beside it (or under the names given). The source is left as it is, so running this
    again gives the same files and the same metadata."""
    storage = storage or default_storage
    if not storage.exists(name):
        raise NotFound(f"There is no stored file named {name!r}.")
    with storage.open(name, "rb") as source:
        processed = process_image(source, policy=policy, checksum_algorithm=checksum_algorithm)
    default_output, default_thumbnail = derived_names(
        name, extension=processed.extension, thumbnail_extension=processed.thumbnail_extension
    )
    output_name = output_name or default_output
    thumbnail_name = thumbnail_name or default_thumbnail
    if name in (output_name, thumbnail_name) or output_name == thumbnail_name:
        raise InvalidInput("The normalized image, its thumbnail and the source need three different names.")
    return {
        **processed.metadata(),
        "source_name": name,
        "name": _put(storage, output_name, processed.content),
        "thumbnail_name": _put(storage, thumbnail_name, processed.thumbnail),
    }


def _put(storage, name: str, content: bytes) -> str:
    """Store ``content`` under exactly ``name``: kept when the same bytes are already there,
    replaced when other bytes are."""
    if storage.exists(name):
        with storage.open(name, "rb") as existing:
            if existing.size == len(content) and checksum(existing) == checksum(content):
                return name
        storage.delete(name)
    saved = storage.save(name, ContentFile(content))
    if saved != name:
        # Another run stored the same name in between; its bytes come from the same source and
        # policy, so they are these bytes. Drop the duplicate.
        storage.delete(saved)
    return name

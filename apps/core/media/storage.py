"""Writing to the media store with clear failures, and normalizing files already in storage
(uploads too large to process in the request).

Every upload path stores bytes through ``save_file`` (or inside ``storage_errors()``), so a store
that is full or cannot be reached is a clear error, never a 500: ``StorageFull`` (507) for a full
disk or quota (ENOSPC, EDQUOT, an S3 store answering "storage full"), ``StorageUnavailable`` (503)
for anything else the store refuses (connection refused or timed out, I/O errors, S3 5xx or access
errors). Nothing that failed is recorded: the callers write their rows only after the bytes are
stored (or in the transaction the error rolls back).
"""

import contextlib
import errno
import logging
import posixpath

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage

from apps.core.errors import InvalidInput, NotFound, StorageFull, StorageUnavailable

from .checksums import checksum
from .pipeline import process_image
from .policies import MediaPolicy

logger = logging.getLogger("atelier.storage")

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# What S3-compatible stores answer when they are out of space (MinIO, Ceph, SeaweedFS quotas).
FULL_S3_CODES = frozenset({"XMinioStorageFull", "QuotaExceeded", "InsufficientStorage", "StorageFull"})


def storage_failure(exc: BaseException) -> StorageFull | StorageUnavailable | None:
    """The service error a failure of the media store stands for; None when ``exc`` is not one
    (a missing file is not: callers treat it themselves)."""
    if isinstance(exc, (StorageFull, StorageUnavailable)):
        return exc
    if isinstance(exc, FileNotFoundError):
        return None
    if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
        return StorageFull()
    if isinstance(exc, ClientError):
        response = exc.response if isinstance(exc.response, dict) else {}
        code = (response.get("Error") or {}).get("Code")
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        return StorageFull() if code in FULL_S3_CODES or status == 507 else StorageUnavailable()
    if isinstance(exc, (BotoCoreError, OSError)):
        return StorageUnavailable()
    return None


@contextlib.contextmanager
def storage_errors():
    """Failures of the media store inside the block become StorageFull (507) or StorageUnavailable
    (503); anything else passes through unchanged."""
    try:
        yield
    except Exception as exc:
        failure = storage_failure(exc)
        if failure is None or failure is exc:
            raise
        logger.error("The media store failed: %s: %s", type(exc).__name__, exc)
        raise failure from exc


def save_file(storage, name: str, content) -> str:
    """``storage.save(name, content)``, a failure of the store raised as StorageFull (507) or
    StorageUnavailable (503). A file the local file system wrote in part is removed again."""
    local = isinstance(storage, FileSystemStorage)
    existed = local and storage.exists(name)
    try:
        return storage.save(name, content)
    except Exception as exc:
        failure = storage_failure(exc)
        if failure is None or failure is exc:
            raise
        logger.error("The media store could not store %s: %s: %s", name, type(exc).__name__, exc)
        if local and not existed:
            with contextlib.suppress(Exception):
                storage.delete(name)
        raise failure from exc


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
    saved = save_file(storage, name, ContentFile(content))
    if saved != name:
        # Another run stored the same name in between; its bytes come from the same source and
        # policy, so they are these bytes. Drop the duplicate.
        storage.delete(saved)
    return name

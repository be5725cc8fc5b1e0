"""Presigned uploads (``POST /api/v1/uploads/``): the client sends image bytes straight to storage.

With S3 storage the target is an S3 presigned POST (the bucket checks the expiry and the size); with
any other storage it is a signed, one-time local URL that accepts the bytes (``PUT`` raw body, or
``POST`` multipart with a ``file`` field) until it expires, up to the size limit. Either way the
client then puts the upload's ``file_url`` into an image field, and the bytes go through the media
pipeline there (``apps.core.sartiq.media.consume_upload``).
"""

import logging
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.core.errors import Conflict, Gone, InvalidInput, NotFound, PermissionDenied
from apps.core.media import STUDIO_MEDIA, MediaTooLarge
from apps.core.media.storage import save_file
from apps.core.models import Upload

logger = logging.getLogger("atelier.uploads")

UPLOAD_PREFIX = "sartiq/uploads"
SIGNING_SALT = "atelier.sartiq.upload"
CONTENT_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
DEFAULT_EXPIRY_SECONDS = 900
CHUNK_SIZE = 256 * 1024
# Spooled in memory up to this size, then on disk.
SPOOL_BYTES = 1024 * 1024


@dataclass
class UploadTarget:
    """Where and how the client sends the bytes of ``upload``."""

    upload: Upload
    method: str
    upload_url: str
    fields: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


def max_upload_bytes() -> int:
    return STUDIO_MEDIA.max_bytes


def expiry_seconds() -> int:
    return int(getattr(settings, "SARTIQ_UPLOAD_EXPIRY_SECONDS", DEFAULT_EXPIRY_SECONDS))


def is_s3(storage) -> bool:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages[s3] is a runtime dependency
        return False
    return isinstance(storage, S3Storage)


def file_url(upload: Upload) -> str:
    """What the client names in an image field once the bytes are sent."""
    return _absolute(reverse("core:sartiq-upload", kwargs={"pk": upload.pk}))


def create_upload(
    *, user, filename: str = "", content_type: str = "", size: int | None = None, storage=None
) -> UploadTarget:
    """A new upload target for ``user``. ``size`` (when given) is checked against the limit now;
    the bytes are checked again when they arrive."""
    storage = storage or default_storage
    limit = max_upload_bytes()
    if size is not None and size > limit:
        raise InvalidInput(errors={("size",): [f"An image may be at most {limit} bytes; this one is {size}."]})
    if content_type and content_type not in CONTENT_TYPES:
        raise InvalidInput(errors={("content_type",): [f"Upload one of {', '.join(sorted(CONTENT_TYPES))}."]})
    upload_id = uuid.uuid4()
    extension = CONTENT_TYPES.get(content_type, "bin")
    # The client's file name is kept for people to read; it never becomes part of a storage path.
    upload = Upload.objects.create(
        id=upload_id,
        owner=user,
        storage_name=f"{UPLOAD_PREFIX}/{upload_id}.{extension}",
        filename=(filename or "")[:255],
        content_type=content_type,
        max_bytes=limit,
        expires_at=timezone.now() + timedelta(seconds=expiry_seconds()),
        direct=is_s3(storage),
    )
    if upload.direct:
        return _presigned_post(upload, storage)
    token = signing.dumps(str(upload.pk), salt=SIGNING_SALT)
    url = _absolute(f"{reverse('core:sartiq-upload-content', kwargs={'pk': upload.pk})}?token={token}")
    headers = {"Content-Type": content_type} if content_type else {}
    return UploadTarget(upload=upload, method="PUT", upload_url=url, headers=headers)


def _presigned_post(upload: Upload, storage) -> UploadTarget:
    from storages.utils import clean_name

    key = storage._normalize_name(clean_name(upload.storage_name))
    fields, conditions = {}, [["content-length-range", 1, upload.max_bytes]]
    if upload.content_type:
        fields["Content-Type"] = upload.content_type
        conditions.append({"Content-Type": upload.content_type})
    post = storage.connection.meta.client.generate_presigned_post(
        Bucket=storage.bucket_name,
        Key=key,
        Fields=fields,
        Conditions=conditions,
        ExpiresIn=expiry_seconds(),
    )
    return UploadTarget(upload=upload, method="POST", upload_url=post["url"], fields=dict(post["fields"]))


def upload_for(*, upload_id, user) -> Upload:
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None or (upload.owner_id != user.pk and not user.is_superuser):
        raise NotFound(f"No upload has the id '{upload_id}'.")
    return upload


def check_token(*, upload_id, token: str, now: datetime | None = None) -> Upload:
    """The local upload ``token`` is for, while it may still receive bytes."""
    now = now or timezone.now()
    try:
        signed_id = signing.loads(token or "", salt=SIGNING_SALT, max_age=expiry_seconds())
    except signing.SignatureExpired:
        raise Gone("This upload URL has expired; ask for a new one.") from None
    except signing.BadSignature:
        raise PermissionDenied("This upload URL is not valid.") from None
    if signed_id != str(upload_id):
        raise PermissionDenied("This upload URL is not valid.")
    upload = Upload.objects.filter(pk=upload_id, direct=False).first()
    if upload is None:
        raise NotFound("This upload no longer exists; ask for a new one.")
    if upload.expires_at <= now:
        raise Gone("This upload URL has expired; ask for a new one.")
    if upload.received_at is not None:
        raise Conflict("This upload URL has been used already; ask for a new one.")
    return upload


def receive_upload(*, upload_id, token: str, stream, content_length: int | None, storage=None) -> Upload:
    """Store the bytes sent to a local upload URL: once, before it expires, within its size limit.

    ``stream`` is read in chunks and spooled (in memory up to 1 MB, then on disk) before it goes to
    storage, so a large or endless body is never held in memory and is cut off at the limit.
    """
    storage = storage or default_storage
    upload = check_token(upload_id=upload_id, token=token)
    if content_length is not None and content_length > upload.max_bytes:
        raise too_large(upload.max_bytes)
    # One sender at a time: a second request while the first is still sending is refused.
    claimed = Upload.objects.filter(pk=upload.pk, received_at__isnull=True, receiving_since__isnull=True).update(
        receiving_since=timezone.now()
    )
    if not claimed:
        raise Conflict("This upload URL is being used or has been used already; ask for a new one.")
    try:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            size = _copy_capped(stream, spool, upload)
            if size == 0:
                raise InvalidInput("The upload is empty: send the image's bytes.")
            spool.seek(0)
            stored = save_file(storage, upload.storage_name, File(spool, name=upload.storage_name))
            if stored != upload.storage_name:
                storage.delete(stored)
                raise Conflict("This upload has been received already.")
    except BaseException:
        Upload.objects.filter(pk=upload.pk, received_at__isnull=True).update(receiving_since=None)
        raise
    Upload.objects.filter(pk=upload.pk).update(received_at=timezone.now(), size=size, updated_at=timezone.now())
    upload.refresh_from_db()
    logger.info("Upload %s received (%d bytes)", upload.pk, size)
    return upload


def _copy_capped(stream, spool, upload: Upload) -> int:
    size = 0
    while True:
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            return size
        size += len(chunk)
        if size > upload.max_bytes:
            raise too_large(upload.max_bytes)
        spool.write(chunk)


def too_large(max_bytes: int) -> MediaTooLarge:
    return MediaTooLarge(f"An upload may be at most {max_bytes} bytes; send a smaller image.")


def purge_stale_uploads(*, older_than: timedelta, now: datetime | None = None, storage=None) -> int:
    """Delete uploads whose URL expired more than ``older_than`` ago, with any bytes they still hold
    in storage (used uploads have handed theirs to a MediaResource already). Returns how many."""
    storage = storage or default_storage
    cutoff = (now or timezone.now()) - older_than
    purged = 0
    for upload in Upload.objects.filter(expires_at__lt=cutoff).order_by("expires_at").iterator():
        try:
            storage.delete(upload.storage_name)
        except Exception:
            logger.exception("Upload %s: its bytes could not be deleted; kept for the next run", upload.pk)
            continue
        with transaction.atomic():
            Upload.objects.filter(pk=upload.pk).delete()
        purged += 1
    return purged


def _absolute(path: str) -> str:
    base = (getattr(settings, "SARTIQ_PUBLIC_BASE_URL", "") or "").rstrip("/")
    return f"{base}{path}" if base else path

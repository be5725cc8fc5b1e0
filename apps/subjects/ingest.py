"""ZIP uploads of a subject's images (``POST /api/v1/subjects/base-images/upload``), the service side.

``start_upload`` stores the archive, creates the ``SubjectBaseImagesUploadTask`` (PENDING) and, once
the transaction commits, queues ``apps.subjects.tasks.ingest_base_images`` (a broker that cannot take
it withdraws the upload again: QueueUnavailable, 503; a store that is full or unreachable refuses
the archive before anything is written: 507 / 503); the worker calls
``run_upload``, which reads the archive member by member (``apps.core.media.archive``) and updates
the task's counters, ``progress`` and ``result_data`` while it runs.

The layout of an archive (names compared case-insensitively; a single folder holding everything,
as made by zipping a folder, is looked into as if it were the root)::

    metadata.json            the subject's fields, when the upload creates the subject
    cover.jpg                the cover image (replaces the subject's)
    portrait.jpg             the portrait image (replaces the subject's)
    front_full_body.jpg      a base image: the file name (without extension) names the shot type
    back_full_body.png       ... by its name, or its default shot type (DefaultShotTypes)
    portfolio/               every image in this folder (and its subfolders) joins the portfolio
        look-1.jpg

Images are ``.jpg``, ``.jpeg``, ``.png`` or ``.webp`` files, and go through the media pipeline
(``STUDIO_MEDIA``): the extension only picks the members to try, the bytes decide. A member that
cannot be used is skipped with its reason in ``result_data["skipped"]``; it never stops the others.
When the subject has no cover at the end, the first base image stored becomes its cover.
"""

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from apps.core import queueing
from apps.core.errors import InvalidInput, NotFound, StorageFull, StorageUnavailable
from apps.core.media import STUDIO_MEDIA
from apps.core.media.archive import ArchiveLimits, ArchiveRejected, Member, MemberSkipped, Skipped, open_archive
from apps.core.media.storage import save_file, storage_errors
from apps.core.sartiq.media import discard_stored_media_on_error, media_url, release_media, store_image

from . import services
from .models import MAX_PORTFOLIO_IMAGES, Subject, SubjectBaseImagesUploadTask, SubjectImage, TaskStatus

logger = logging.getLogger("atelier.subjects.ingest")

METADATA_NAME = "metadata.json"
METADATA_MAX_BYTES = 64 * 1024
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "webp"})
PORTFOLIO_FOLDER = "portfolio"
COVER_STEM = "cover"
PORTRAIT_STEM = "portrait"
ARCHIVE_PREFIX = "subjects/archives"
#: At most this many skipped members are listed in ``result_data`` (the rest are counted).
MAX_LISTED_SKIPS = 1000
#: The task row is written at least this often (seconds) while members are skipped in a row.
PROGRESS_INTERVAL = 0.25


def max_upload_bytes() -> int:
    """SUBJECT_ZIP_MAX_BYTES: the largest archive accepted (512 MiB by default)."""
    return settings.SUBJECT_ZIP_MAX_BYTES


def archive_limits() -> ArchiveLimits:
    """The caps of an upload: SUBJECT_ZIP_MAX_MEMBERS (10,000), SUBJECT_ZIP_MAX_UNCOMPRESSED_BYTES
    (2 GiB), SUBJECT_ZIP_MAX_RATIO (100); a member may be as large as a studio image (25 MiB)."""
    return ArchiveLimits(
        max_members=settings.SUBJECT_ZIP_MAX_MEMBERS,
        max_total_bytes=settings.SUBJECT_ZIP_MAX_UNCOMPRESSED_BYTES,
        max_member_bytes=STUDIO_MEDIA.max_bytes,
        max_ratio=settings.SUBJECT_ZIP_MAX_RATIO,
    )


# --- the layout ---------------------------------------------------------------------------------------


def root_folder(entries) -> str | None:
    """The folder every usable member is in, when there is exactly one (and it is not the
    portfolio folder); None otherwise."""
    roots = set()
    for entry in entries:
        if not isinstance(entry, Member):
            continue
        if len(entry.parts) < 2:
            return None
        roots.add(entry.parts[0].casefold())
        if len(roots) > 1:
            return None
    if len(roots) != 1 or PORTFOLIO_FOLDER in roots:
        return None
    return roots.pop()


def relative_parts(member: Member, root: str | None) -> tuple[str, ...]:
    if root is not None and member.parts[0].casefold() == root:
        return member.parts[1:]
    return member.parts


def is_metadata(entry, root: str | None) -> bool:
    """Whether ``entry`` is the archive's metadata.json (at its root)."""
    return isinstance(entry, Member) and [part.casefold() for part in relative_parts(entry, root)] == [METADATA_NAME]


def _metadata_error(message: str) -> InvalidInput:
    return InvalidInput(message, errors={("file", METADATA_NAME): [message]})


def read_metadata(source, *, required: bool) -> dict | None:
    """The object in the archive's ``metadata.json`` (at its root), None when there is none and it
    is not ``required``. The archive is checked on the way (``ArchiveRejected``: a 422 at ``file``)."""
    with open_archive(source, limits=archive_limits()) as archive:
        entries = list(archive.members())
        root = root_folder(entries)
        member = next(
            (
                entry
                for entry in entries
                if isinstance(entry, Member)
                and [part.casefold() for part in relative_parts(entry, root)] == [METADATA_NAME]
            ),
            None,
        )
        if member is None:
            if required:
                raise _metadata_error(
                    "The archive has no metadata.json: give subject_id to add images to a subject, or put the "
                    "new subject's fields in metadata.json at the root of the archive."
                )
            return None
        if member.size > METADATA_MAX_BYTES:
            raise _metadata_error(f"metadata.json may be at most {METADATA_MAX_BYTES // 1024} KB.")
        try:
            raw = member.read()
        except MemberSkipped as exc:
            raise _metadata_error(f"metadata.json cannot be read: {exc.reason}") from None
    try:
        value = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _metadata_error("metadata.json is not valid UTF-8 JSON.") from None
    if not isinstance(value, dict):
        raise _metadata_error("metadata.json must hold a JSON object with the subject's fields.")
    return value


# --- starting an upload ---------------------------------------------------------------------------


def start_upload(*, user, archive, subject: Subject | None = None, organization=None, subject_data=None):
    """Store ``archive`` (an uploaded file, already checked by ``read_metadata``) and create its
    task; with ``subject_data`` (validated metadata.json) a new subject of ``user`` in
    ``organization`` is created first. The worker is queued once the transaction commits."""
    created = subject is None
    if created:
        subject = services.create_subject(user=user, owner=user, organization=organization, data=subject_data)
    task_id = uuid.uuid4()
    archive.seek(0)
    name = save_file(default_storage, f"{ARCHIVE_PREFIX}/{task_id}.zip", archive)
    try:
        task = SubjectBaseImagesUploadTask.objects.create(
            id=task_id,
            owner=user,
            subject=subject,
            created_subject=created,
            archive_name=name,
            archive_size=archive.size or 0,
        )
    except BaseException:
        services.delete_stored_archive(name)
        raise
    enqueue(task.pk)
    logger.info("Upload %s of subject %s queued by %s (%d bytes)", task.pk, subject.pk, user.pk, task.archive_size)
    return task


def enqueue(task_id) -> None:
    """Queue the worker for ``task_id`` once the transaction commits. A broker that cannot take it
    withdraws the upload (``withdraw_unsent_upload``) and raises QueueUnavailable (503): never a
    task left PENDING forever, nor a stored archive or a new subject nobody asked for any more."""
    from .tasks import ingest_base_images

    queueing.send_after_commit(
        ingest_base_images, args=(str(task_id),), undo=lambda: withdraw_unsent_upload(task_id=task_id)
    )


def withdraw_unsent_upload(*, task_id) -> bool:
    """Remove an upload whose message never reached the broker: its task, its stored archive, and
    the subject it created (with that subject's files). False when the task is no longer pending."""
    with transaction.atomic():
        task = SubjectBaseImagesUploadTask.objects.select_for_update().filter(pk=task_id).first()
        if task is None or task.status != TaskStatus.PENDING or task.started_at is not None:
            return False
        subject = None
        if task.created_subject:
            subject = Subject.all_objects.select_for_update().filter(pk=task.subject_id).first()
        SubjectBaseImagesUploadTask.objects.filter(pk=task.pk).delete()
        if subject is not None:
            services.delete_subject_files(subject)
            subject.hard_delete()
    if task.archive_name:
        services.delete_stored_archive(task.archive_name)
    logger.warning("Upload %s withdrawn: its message could not be sent to the queue", task_id)
    return True


# --- running an upload (the worker) ---------------------------------------------------------------


def run_upload(task_id) -> SubjectBaseImagesUploadTask | None:
    """Process the upload ``task_id`` (idempotent: a finished task is left alone, a task whose
    worker died is taken over and started again; base images are replaced, portfolio images are
    not added twice)."""
    task = _claim(task_id)
    if task is None:
        return SubjectBaseImagesUploadTask.objects.filter(pk=task_id).first()
    try:
        subject = Subject.objects.filter(pk=task.subject_id).first()
        if subject is None:
            return _finish(task.pk, failed="The subject was deleted before its images were processed.")
        with _local_copy(task.archive_name) as path, open_archive(path, limits=archive_limits()) as archive:
            _Run(task, subject, archive).run()
    except ArchiveRejected as exc:
        return _finish(task.pk, failed=exc.message)
    except (StorageFull, StorageUnavailable) as exc:
        logger.warning("Upload %s stopped: the media store failed (%s)", task.pk, exc.code)
        return _finish(
            task.pk,
            failed=f"{exc.message} The images stored before are kept; send the archive again for the others.",
        )
    except _ArchiveMissing:
        return _finish(task.pk, failed="The uploaded archive is no longer stored; send it again.")
    except Exception as exc:
        logger.exception("Upload %s failed", task.pk)
        return _finish(task.pk, failed=f"The archive could not be processed ({type(exc).__name__}); send it again.")
    return _finish(task.pk)


def _claim(task_id) -> SubjectBaseImagesUploadTask | None:
    """Mark the task PROCESSING when it is PENDING, or PROCESSING for longer than a task may run
    (its worker died); None when another worker has it or it is finished."""
    now = timezone.now()
    stale = now - timedelta(seconds=int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 1800)))
    claimed = SubjectBaseImagesUploadTask.objects.filter(
        Q(status=TaskStatus.PENDING) | Q(status=TaskStatus.PROCESSING, started_at__lt=stale), pk=task_id
    ).update(
        status=TaskStatus.PROCESSING,
        started_at=now,
        progress=0,
        total_items=0,
        processed_items=0,
        images_processed=0,
        images_skipped=0,
        portfolio_images_processed=0,
        error_message=None,
    )
    return SubjectBaseImagesUploadTask.objects.get(pk=task_id) if claimed else None


def _finish(task_id, *, failed: str | None = None):
    task = SubjectBaseImagesUploadTask.objects.filter(pk=task_id).first()
    if task is None:
        return None
    changes = {"completed_at": timezone.now(), "archive_name": ""}
    if failed is None:
        changes.update(status=TaskStatus.COMPLETED, progress=100)
    else:
        changes.update(status=TaskStatus.FAILED, error_message=failed)
    SubjectBaseImagesUploadTask.objects.filter(pk=task_id).update(**changes)
    if task.archive_name:
        services.delete_stored_archive(task.archive_name)
    task.refresh_from_db()
    logger.info("Upload %s %s", task.pk, task.status)
    return task


class _ArchiveMissing(Exception):
    pass


@contextlib.contextmanager
def _local_copy(name: str):
    """A path to the stored archive on this machine: the file itself on local storage, otherwise a
    temporary copy (removed afterwards)."""
    if not name:
        raise _ArchiveMissing
    if isinstance(default_storage, FileSystemStorage):
        path = default_storage.path(name)
        if not os.path.isfile(path):
            raise _ArchiveMissing
        yield path
        return
    with tempfile.NamedTemporaryFile(suffix=".zip") as copy:
        try:
            with storage_errors(), default_storage.open(name, "rb") as stream:
                shutil.copyfileobj(stream, copy, 1024 * 1024)
        except FileNotFoundError:
            raise _ArchiveMissing from None
        copy.flush()
        yield copy.name


@dataclass
class _Run:
    """One pass over an archive for one task."""

    task: SubjectBaseImagesUploadTask
    subject: Subject
    archive: object
    counts: dict = field(default_factory=dict)
    result: dict = field(default_factory=dict)
    last_write: float = 0.0
    first_base_media: object = None

    def run(self) -> None:
        from apps.guidelines import selectors as guidelines

        entries = list(self.archive.members())
        self.root = root_folder(entries)
        self.shot_types = guidelines.shot_types_by_key(
            user=self.task.owner, organization=self.subject.organization, owner=self.subject.owner
        )
        self.seen_shot_types: set = set()
        self.counts = {
            "total_items": len(entries),
            "processed_items": 0,
            "images_processed": 0,
            "images_skipped": 0,
            "portfolio_images_processed": 0,
        }
        self.result = {
            "subject_id": str(self.subject.pk),
            "created_subject": self.task.created_subject,
            "root_folder": self.root,
            "cover_image_url": None,
            "portrait_image_url": None,
            "base_images": [],
            "portfolio_images": [],
            "skipped": [],
            "skipped_not_listed": 0,
        }
        self._write(force=True)
        for entry in entries:
            stored = self._handle(entry)
            self.counts["processed_items"] += 1
            self._write(force=stored)
        self._complete()

    # --- one member -------------------------------------------------------------------------------

    def _handle(self, entry) -> bool:
        """Process one member; True when it stored an image."""
        if isinstance(entry, Skipped):
            self._skip(entry.name, entry.code, entry.reason)
            return False
        parts = relative_parts(entry, self.root)
        folded = [part.casefold() for part in parts]
        if folded == [METADATA_NAME]:
            if not self.task.created_subject:
                self._skip(
                    entry.name, "metadata_ignored", "metadata.json is only read when the upload creates a subject."
                )
            return False
        if entry.extension not in IMAGE_EXTENSIONS:
            self._skip(entry.name, "not_an_image", "Only .jpg, .jpeg, .png and .webp files are read.")
            return False
        try:
            if folded[0] == PORTFOLIO_FOLDER and len(parts) > 1:
                return self._portfolio(entry)
            if len(parts) > 1:
                self._skip(entry.name, "unknown_folder", "Only the portfolio/ folder is read; other folders are not.")
                return False
            stem = entry.stem.casefold()
            if stem == COVER_STEM:
                return self._cover_or_portrait(entry, "cover_image")
            if stem == PORTRAIT_STEM:
                return self._cover_or_portrait(entry, "portrait_image")
            return self._base_image(entry)
        except MemberSkipped as exc:
            self._skip(entry.name, exc.code, exc.reason)
        except InvalidInput as exc:
            self._skip(entry.name, "not_an_image", _first_message(exc))
        return False

    def _store(self, entry: Member):
        content = entry.read()
        return store_image(
            content,
            user=self.task.owner,
            organization=self.subject.organization,
            source="zip",
            field=("file", entry.name),
        )

    def _base_image(self, entry: Member) -> bool:
        from apps.guidelines.selectors import shot_key

        shot_type = self.shot_types.get(shot_key(entry.stem))
        if shot_type is None:
            self._skip(entry.name, "unknown_shot_type", f"No shot type you can use is named '{entry.stem}'.")
            return False
        if shot_type.pk in self.seen_shot_types:
            self._skip(
                entry.name, "duplicate_shot_type", f"An earlier member already gave the '{shot_type.name}' base image."
            )
            return False
        with discard_stored_media_on_error(), transaction.atomic():
            media = self._store(entry)
            subject = self._live_subject()
            services.set_base_image(user=self.task.owner, subject=subject, shot_type=shot_type, media=media)
        self.seen_shot_types.add(shot_type.pk)
        self.counts["images_processed"] += 1
        self.result["base_images"].append(
            {
                "file": entry.name,
                "shot_type_id": str(shot_type.pk),
                "shot_type_label": shot_type.name,
                "image_url": media_url(media),
            }
        )
        if self.first_base_media is None:
            self.first_base_media = media
        return True

    def _cover_or_portrait(self, entry: Member, attribute: str) -> bool:
        if self.result[f"{attribute}_url"] is not None:
            self._skip(entry.name, "duplicate", f"An earlier member already gave the {attribute.replace('_', ' ')}.")
            return False
        with discard_stored_media_on_error(), transaction.atomic():
            media = self._store(entry)
            subject = self._live_subject()
            previous = getattr(subject, attribute)
            setattr(subject, attribute, media)
            subject.save(update_fields=[attribute, "updated_at"])
            if previous is not None and previous.pk != media.pk:
                release_media([previous])
            if attribute == "cover_image":
                services.refresh_readiness(subject_ids=[subject.pk])
        self.counts["images_processed"] += 1
        self.result[f"{attribute}_url"] = media_url(media)
        return True

    def _portfolio(self, entry: Member) -> bool:
        try:
            with discard_stored_media_on_error(), transaction.atomic():
                media = self._store(entry)
                subject = self._live_subject()
                links = SubjectImage.objects.filter(subject=subject, kind=SubjectImage.Kind.PORTFOLIO)
                if links.filter(media__content_hash=media.content_hash).exists():
                    raise MemberSkipped("duplicate", "This image is in the portfolio already.")
                last = links.aggregate(last=Max("position"), count=Count("id"))
                if last["count"] >= MAX_PORTFOLIO_IMAGES:
                    raise MemberSkipped("portfolio_full", f"A portfolio holds at most {MAX_PORTFOLIO_IMAGES} images.")
                position = 0 if last["last"] is None else last["last"] + 1
                SubjectImage.objects.create(
                    subject=subject, kind=SubjectImage.Kind.PORTFOLIO, media=media, position=position
                )
                Subject.objects.filter(pk=subject.pk).update(updated_at=timezone.now())
        except MemberSkipped as exc:  # the image stored for the check is rolled back with its files
            self._skip(entry.name, exc.code, exc.reason)
            return False
        self.counts["portfolio_images_processed"] += 1
        self.result["portfolio_images"].append({"file": entry.name, "image_url": media_url(media)})
        return True

    def _live_subject(self) -> Subject:
        subject = Subject.objects.select_for_update().filter(pk=self.subject.pk).first()
        if subject is None:
            raise NotFound("The subject was deleted while its images were processed.")
        return subject

    def _skip(self, name: str, code: str, reason: str) -> None:
        self.counts["images_skipped"] += 1
        if len(self.result["skipped"]) < MAX_LISTED_SKIPS:
            self.result["skipped"].append({"file": name, "code": code, "reason": reason})
        else:
            self.result["skipped_not_listed"] += 1

    # --- progress -------------------------------------------------------------------------------

    def _write(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_write < PROGRESS_INTERVAL:
            return
        self.last_write = now
        total = self.counts["total_items"]
        progress = self.counts["processed_items"] * 100 // total if total else 0
        updated = SubjectBaseImagesUploadTask.objects.filter(pk=self.task.pk, status=TaskStatus.PROCESSING).update(
            **self.counts, progress=min(progress, 99), result_data=self.result
        )
        if not updated:
            raise RuntimeError("The upload task is no longer being processed by this worker.")

    def _complete(self) -> None:
        with transaction.atomic():
            subject = Subject.objects.select_for_update().filter(pk=self.subject.pk).first()
            if subject is not None and subject.cover_image_id is None and self.first_base_media is not None:
                subject.cover_image = self.first_base_media
                subject.save(update_fields=["cover_image", "updated_at"])
                self.result["cover_image_url"] = media_url(self.first_base_media)
            if subject is not None:
                services.refresh_readiness(subject_ids=[subject.pk])
                self.result["ready"] = Subject.objects.filter(pk=subject.pk).values_list("ready", flat=True).first()
            self._write(force=True)


def _first_message(exc: InvalidInput) -> str:
    for messages in (exc.errors or {}).values():
        for message in messages if isinstance(messages, (list, tuple)) else [messages]:
            return str(message)
    return exc.message

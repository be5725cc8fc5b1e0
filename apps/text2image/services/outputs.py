"""What a finished run leaves behind: normalized files, filled items, and the completed job.

``prepare`` sends every output of the provider through the media pipeline (``GENERATED_ITEM``:
format sniffed, re-encoded, metadata stripped, thumbnail made); nothing a generation server sent is
stored as it came. ``complete`` stores the files and fills the items in the transaction that marks
the job completed, conditional on the run still holding the job: a cancelled or reaped run stores
nothing, and a job's items are filled once. File ids derive from the job (``t2i-<job>-<n>``), so a
run that died half-way leaves no row behind to collide with its retry. When the media store is full
or unreachable, the files stored so far are deleted again and the job fails with a message saying
so (``OutputsNotStored``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.core.errors import AtelierError, StorageFull, StorageUnavailable
from apps.core.media import GENERATED_ITEM, MediaPolicy, MediaRejected, process_image
from apps.core.media.pipeline import ProcessedImage
from apps.items.models import Item

from ..models import GenerationJob
from ..providers.base import GenerationResult, ProviderError
from ..signals import generation_flagged

logger = logging.getLogger("atelier.generation")

# Video frames: normalized like items, with a small thumbnail (they are shown one by one).
GENERATED_FRAME = MediaPolicy(
    name="generated_frame",
    label="video frames",
    max_bytes=GENERATED_ITEM.max_bytes,
    quality=90,
    thumbnail_size=(64, 64),
    thumbnail_format="WEBP",
)
MAX_INFO_CHARS = 20_000


@dataclass
class PreparedOutput:
    index: int
    is_main: bool
    file_name: str
    note: str = ""
    image: ProcessedImage | None = None
    frames: list[ProcessedImage] = field(default_factory=list)
    raw: bytes = b""  # a non-image side output, kept as it came (the file server sniffs its type)
    content_type: str = ""


def _process(data: bytes, policy: MediaPolicy, what: str) -> ProcessedImage:
    try:
        return process_image(data, policy=policy)
    except MediaRejected as exc:
        raise ProviderError(f"The generation server returned {what} that is not a usable image: {exc.message}") from exc


def prepare(job: GenerationJob, result: GenerationResult) -> list[PreparedOutput]:
    """Normalize the provider's outputs (ProviderError when there is no usable main output)."""
    if not any(output.is_main_output for output in result.outputs):
        raise ProviderError("The generation server returned no image.")
    prepared = []
    for index, output in enumerate(result.outputs):
        name = output.file_name or f"{job.model_id}-{index}"
        entry = PreparedOutput(index=index, is_main=output.is_main_output, file_name=name)
        if output.is_main_output:
            entry.image = _process(output.data, GENERATED_ITEM, "a file")
            entry.frames = [_process(frame, GENERATED_FRAME, "a video frame") for frame in output.frames]
        else:
            try:
                entry.image = process_image(output.data, policy=GENERATED_ITEM)
            except MediaRejected:
                entry.raw, entry.content_type = output.data, output.content_type
        prepared.append(entry)
    return prepared


def _store(content: bytes, *, file_id: str, file_name: str, owner, kept: list):
    from apps.core.services.files import upload_file

    file = upload_file(source=content, file_name=file_name, file_id=file_id, owner=owner)
    kept.append(file.storage_name)
    return file


def _discard(names: list) -> None:
    """Delete the bytes of files stored by a completion that failed (their rows rolled back)."""
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("The stored output %s could not be deleted", name)


def _with_extension(name: str, extension: str) -> str:
    stem = name.rsplit("/", 1)[-1]
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    return f"{stem}.{extension}"


def _trimmed(info: dict) -> dict:
    """The provider's details, kept only while they are small (a ComfyUI history can be huge)."""
    import json

    try:
        text = json.dumps(info, default=str)
    except (TypeError, ValueError):
        return {}
    return info if len(text) <= MAX_INFO_CHARS else {"truncated": text[:MAX_INFO_CHARS]}


def _seeds(result: GenerationResult, key: str) -> list:
    values = (result.info or {}).get(key)
    return values if isinstance(values, list) else []


def complete(
    job: GenerationJob, token: str, result: GenerationResult, prepared: list[PreparedOutput], *, log: list
) -> GenerationJob:
    """Store the outputs and complete the job (see the module's docstring). When the media store is
    full or unreachable, the files stored so far are deleted again and OutputsNotStored says so (the
    job then fails with that message: nothing half-stored, no item pointing at a missing file)."""
    kept: list[str] = []
    try:
        return _complete(job, token, result, prepared, log=log, kept=kept)
    except (StorageFull, StorageUnavailable) as exc:
        _discard(kept)
        raise OutputsNotStored(
            f"The generated images could not be stored: {exc.message[:1].lower()}{exc.message[1:]}"
        ) from exc
    except BaseException:
        _discard(kept)
        raise


class OutputsNotStored(AtelierError):
    """The media store could not take a run's outputs: the job fails with this message."""

    status_code = 503
    code = "outputs_not_stored"


def _complete(
    job: GenerationJob, token: str, result: GenerationResult, prepared: list[PreparedOutput], *, log: list, kept: list
) -> GenerationJob:
    now = timezone.now()
    flagged_items = []
    with transaction.atomic():
        held = (
            GenerationJob.objects.select_for_update()
            .filter(pk=job.pk, claim_token=token, status=GenerationJob.Status.RUNNING)
            .first()
        )
        if held is None:
            logger.info("Generation job %s finished after it was cancelled or taken back; result dropped", job.pk)
            return GenerationJob.objects.get(pk=job.pk)
        items = list(
            Item.all_objects.select_for_update().filter(generation_id=str(job.pk)).order_by("created_at", "id")
        )
        seeds, subseeds = _seeds(result, "all_seeds"), _seeds(result, "all_subseeds")
        entries, filled = [], []
        mains = [entry for entry in prepared if entry.is_main]
        for position, entry in enumerate(mains):
            item = items[position] if position < len(items) else _extra_item(items, position, now)
            stored = _store_main(job, entry, position, kept)
            changes = {
                "file": stored["file"],
                "thumbnail": stored["thumbnail"],
                "width": entry.image.width,
                "height": entry.image.height,
                "size_bytes": entry.image.size,
                "status": Item.Status.COMPLETED,
                "completed_at": now,
                "reference_at": now,
                "updated_at": now,
            }
            if position < len(seeds) and isinstance(seeds[position], int):
                changes["seed"] = seeds[position]
            if position < len(subseeds) and isinstance(subseeds[position], int):
                changes["subseed"] = subseeds[position]
            if stored["frames"]:
                changes["parameters"] = {**(item.parameters or {}), "frames": [f.pk for f in stored["frames"]]}
            Item.all_objects.filter(pk=item.pk).update(**changes)
            filled.append(item.pk)
            entries.append(_entry(entry, stored["file"], item_id=item.pk))
        for entry in prepared:
            if not entry.is_main:
                entries.append(_entry(entry, _store_side(job, entry, kept), item_id=None))
        unfilled = [item.pk for item in items[len(mains) :]]
        if unfilled:
            Item.all_objects.filter(pk__in=unfilled).update(status=Item.Status.FAILED, deleted_at=now, updated_at=now)
        GenerationJob.objects.filter(pk=job.pk).update(
            status=GenerationJob.Status.COMPLETED,
            finished_at=now,
            progress=1,
            log=[*log, *[str(line)[:500] for line in result.log]][-200:],
            info={**(held.info or {}), "result": _trimmed(result.info or {})},
            provider_ref=(result.provider_ref or held.provider_ref)[:200],
            output_files=entries,
            error_message="",
            claim_token="",
            lease_expires_at=None,
            updated_at=now,
        )
        if held.folder_id and held.owner_id:
            _place_in_folder(held, filled)
        if held.flagged_terms:
            flagged_items = list(
                Item.objects.filter(pk__in=filled, owner__isnull=False).select_related("owner").order_by("created_at")
            )
            transaction.on_commit(lambda: _send_flagged(held, flagged_items))
    kept.clear()  # their rows are written: the files belong to the job now
    logger.info("Generation job %s completed with %d item(s)", job.pk, len(mains))
    return GenerationJob.objects.get(pk=job.pk)


def _store_main(job: GenerationJob, entry: PreparedOutput, position: int, kept: list) -> dict:
    image = entry.image
    base = f"t2i-{job.pk}-{position}"
    file = _store(
        image.content,
        file_id=base,
        file_name=_with_extension(entry.file_name, image.extension),
        owner=job.owner,
        kept=kept,
    )
    thumbnail = _store(
        image.thumbnail,
        file_id=f"{base}-thumb",
        file_name=_with_extension(f"{entry.file_name}-thumbnail", image.thumbnail_extension),
        owner=job.owner,
        kept=kept,
    )
    frames = [
        _store(
            frame.content,
            file_id=f"{base}-f{number}",
            file_name=_with_extension(f"{entry.file_name}-frame-{number}", frame.extension),
            owner=job.owner,
            kept=kept,
        )
        for number, frame in enumerate(entry.frames)
    ]
    return {"file": file, "thumbnail": thumbnail, "frames": frames}


def _store_side(job: GenerationJob, entry: PreparedOutput, kept: list):
    file_id = f"t2i-{job.pk}-side{entry.index}"
    if entry.image is not None:
        name = _with_extension(entry.file_name, entry.image.extension)
        return _store(entry.image.content, file_id=file_id, file_name=name, owner=job.owner, kept=kept)
    return _store(entry.raw, file_id=file_id, file_name=entry.file_name, owner=job.owner, kept=kept)


def _entry(entry: PreparedOutput, file, *, item_id) -> dict:
    """A WorkflowOutputFileEntry, with the stored file's id (the API turns it into downloadURL)."""
    data = {
        "fileId": file.pk,
        "fileName": file.file_name,
        "isMainOutput": entry.is_main,
        "width": file.width or 0,
        "height": file.height or 0,
        "type": file.content_type,
    }
    if entry.note:
        data["note"] = entry.note
    if item_id is not None:
        data["itemId"] = str(item_id)
    return data


def _extra_item(items: list[Item], position: int, now) -> Item:
    """One more item of the batch, when a run makes more main outputs than were asked for."""
    template = items[0]
    extra = Item.objects.create(
        **{
            name: getattr(template, name)
            for name in (
                "owner_id",
                "guest_session_id",
                "media_kind",
                "model_media_type",
                "batch_id",
                "generation_id",
                "prompt",
                "negative_prompt",
                "raw_prompt",
                "raw_negative_prompt",
                "generator_version",
                "workflow_template_name",
                "workflow_run_parameters",
                "model",
                "model_name",
                "parameters",
                "seed",
                "subseed",
                "subseed_strength",
                "steps",
                "cfg_scale",
                "sampler",
                "restore_faces",
                "loras",
            )
        },
        status=Item.Status.QUEUED,
        created_at=template.created_at + timedelta(microseconds=position),
        reference_at=now,
    )
    items.append(extra)
    return extra


def _place_in_folder(job: GenerationJob, item_ids: list) -> None:
    """Put the new items in the folder the request named; they stay in the root folder when it is
    gone or no longer the owner's (the generation itself succeeded)."""
    if not item_ids:
        return
    from apps.folders import selectors as folder_selectors
    from apps.folders import services as folder_services

    try:
        with transaction.atomic():
            reference = (job.info or {}).get("folder_ref") or str(job.folder_id)
            folder = folder_selectors.resolve_target_folder(user=job.owner, folder_id=reference)
            if folder is not None:
                folder_services.place_new_items(folder=folder, item_ids=item_ids)
    except AtelierError as exc:
        logger.warning("Items of generation job %s stay in the root folder: %s", job.pk, exc.message)


def _send_flagged(job: GenerationJob, items: list[Item]) -> None:
    try:
        generation_flagged.send(
            sender=GenerationJob,
            items=items,
            terms=list(job.flagged_terms),
            prompt=job.raw_prompt,
            filtered_prompt=job.prompt,
        )
    except Exception:
        logger.exception("The flagged prompt of generation job %s could not be reported", job.pk)

"""LoRA files of the Sartiq catalogue (styles, subjects): upload, checks, storage and removal.

An upload is a multipart form with ``file`` and ``lora_trigger`` (both required). The file is never
held in memory: ``LoraUploadHandler`` spools it to a temporary file on disk while counting its
bytes, refuses a wrong extension as soon as the file part starts (422), and stops reading as soon as
the file passes ``LORA_MAX_BYTES`` (413). ``store_lora`` then streams the temporary file to Django's
storage in chunks.

``.safetensors`` files are checked before they are stored: an 8-byte little-endian header length,
then that many bytes of a JSON object whose tensors (``dtype``, ``shape``, ``data_offsets``) tile
the rest of the file exactly, as the safetensors format requires. The other formats (``.ckpt``,
``.pt``, ``.pth``, ``.bin``) are pickles or zip archives that Atelier never loads; they are stored
as sent.

Storage layout, derived from the object and never from the client's file name (only its
extension is kept)::

    loras/<kind>/<object id>/<random token><extension>

A new upload replaces the object's previous file, which is deleted once the change is committed.
The file of a soft-deleted object stays until the object is purged (``delete_lora_file``).
"""

import json
import logging
import math
import os
import secrets
import struct

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import models, transaction
from rest_framework import serializers

from apps.core.errors import InvalidInput
from apps.core.media import MediaTooLarge
from apps.core.media.storage import save_file

logger = logging.getLogger("atelier.lora")

MIB = 1024 * 1024
LORA_EXTENSIONS = (".safetensors", ".ckpt", ".pt", ".pth", ".bin")
LORA_FIELD = "file"
LORA_TRIGGER_MAX_LENGTH = 128
STORAGE_PREFIX = "loras"
#: Multipart framing and the form fields besides the file: what a request may hold above the cap.
FORM_ALLOWANCE = 256 * 1024
#: The largest safetensors header read (LoRA headers are a few kilobytes to a few hundred).
SAFETENSORS_MAX_HEADER_BYTES = 16 * MIB
#: Bits per element of each safetensors dtype.
SAFETENSORS_DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "I64": 64,
    "U64": 64,
    "F64": 64,
}
_METADATA_KEY = "__metadata__"


class LoraStatus(models.TextChoices):
    """Where an object's LoRA stands (the ``lora_status`` string of the Sartiq API)."""

    NONE = "none", "No LoRA"
    TRAINING = "training", "Training"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class LoraModel(models.Model):
    """The LoRA fields of a catalogue object. ``lora_file`` is the stored file Atelier owns (set only
    by ``store_lora``); ``local_model_path`` is what the API shows and may name a model elsewhere."""

    local_model_path = models.CharField(max_length=1000, null=True, blank=True)
    lora_trigger = models.CharField(max_length=LORA_TRIGGER_MAX_LENGTH, null=True, blank=True)
    lora_status = models.CharField(max_length=20, choices=LoraStatus.choices, default=LoraStatus.NONE)
    lora_file = models.CharField(
        "stored LoRA file", max_length=500, blank=True, default="", editable=False, help_text="Name in storage."
    )
    lora_file_size = models.BigIntegerField("LoRA file size (bytes)", null=True, blank=True, editable=False)

    class Meta:
        abstract = True


# --- checks -----------------------------------------------------------------------------------------


def max_bytes() -> int:
    """LORA_MAX_BYTES: the largest LoRA file accepted."""
    return int(settings.LORA_MAX_BYTES)


def too_large(limit: int | None = None) -> MediaTooLarge:
    limit = max_bytes() if limit is None else limit
    return MediaTooLarge(f"LoRA files may be at most {_size_text(limit)}; send a smaller file.")


def _size_text(size: int) -> str:
    return f"{size // MIB} MB" if size % MIB == 0 else f"{size:,} bytes"


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, errors={(LORA_FIELD,): [message]})


def check_extension(file_name: str | None) -> str:
    """The lower-cased extension of ``file_name``; a 422 unless it is a LoRA format."""
    _, extension = os.path.splitext((file_name or "").strip())
    extension = extension.lower()
    if extension not in LORA_EXTENSIONS:
        raise _invalid(f"A LoRA file must end in {', '.join(LORA_EXTENSIONS)}; {file_name or 'this file'!r} does not.")
    return extension


def check_safetensors(stream, *, size: int) -> dict:
    """The header of the safetensors file ``stream`` (``size`` bytes long), or a 422 saying what is
    wrong with it. Only the header is read; the stream is left where it was."""
    position = stream.tell()
    try:
        return _read_safetensors_header(stream, size)
    finally:
        stream.seek(position)


def _read_safetensors_header(stream, size: int) -> dict:
    def bad(reason: str) -> InvalidInput:
        return _invalid(f"The file is not a valid .safetensors file: {reason}.")

    if size < 8:
        raise bad("it is shorter than the 8-byte header length")
    stream.seek(0)
    (header_length,) = struct.unpack("<Q", stream.read(8))
    if header_length > size - 8:
        raise bad(f"its header length ({header_length} bytes) is larger than the file")
    if header_length > SAFETENSORS_MAX_HEADER_BYTES:
        raise bad(f"its header is larger than {_size_text(SAFETENSORS_MAX_HEADER_BYTES)}")
    raw = stream.read(header_length)
    if len(raw) != header_length:
        raise bad("its header is cut short")
    if not raw.startswith(b"{"):
        raise bad("its header is not a JSON object")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad("its header is not valid UTF-8 JSON") from None
    if not isinstance(header, dict):
        raise bad("its header is not a JSON object")
    metadata = header.get(_METADATA_KEY)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(value, str) for value in metadata.values())
    ):
        raise bad("its __metadata__ must map names to strings")
    buffer_size = size - 8 - header_length
    spans = []
    for name, info in header.items():
        if name == _METADATA_KEY:
            continue
        spans.append((*_tensor_span(name, info, bad), name))
    end = 0
    for begin, finish, name in sorted(spans):
        if begin != end:
            gap = "overlaps another tensor" if begin < end else "leaves a gap before it"
            raise bad(f"the data of tensor {name!r} {gap}")
        end = finish
    if end != buffer_size:
        raise bad(f"its tensors cover {end} bytes of data, but the file holds {buffer_size}")
    return header


def _tensor_span(name: str, info, bad) -> tuple[int, int]:
    if not isinstance(info, dict):
        raise bad(f"tensor {name!r} is not described by an object")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in SAFETENSORS_DTYPE_BITS:
        raise bad(f"tensor {name!r} has an unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(_whole(dim) for dim in shape):
        raise bad(f"the shape of tensor {name!r} is not a list of non-negative integers")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_whole(value) for value in offsets)):
        raise bad(f"the data_offsets of tensor {name!r} are not two non-negative integers")
    begin, end = offsets
    if end < begin:
        raise bad(f"the data_offsets of tensor {name!r} end before they begin")
    bits = math.prod(shape) * SAFETENSORS_DTYPE_BITS[dtype]
    if bits % 8 or end - begin != bits // 8:
        raise bad(f"tensor {name!r} has {end - begin} bytes of data where its dtype and shape need {bits / 8:g}")
    return begin, end


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _no_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


# --- the upload (API side) ------------------------------------------------------------------------------


class LoraUploadHandler(TemporaryFileUploadHandler):
    """Spools uploaded files to disk, refusing a request whose declared length cannot fit, a LoRA
    part whose name has the wrong extension, and any file data past ``limit`` bytes in all."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # noqa: N803
        if content_length and content_length > self.limit + FORM_ALLOWANCE:
            raise too_large(self.limit)

    def new_file(self, field_name, file_name, *args, **kwargs):
        if field_name == LORA_FIELD:
            check_extension(file_name)
        super().new_file(field_name, file_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.upload_interrupted()
            raise too_large(self.limit)
        return super().receive_data_chunk(raw_data, start)


class LoraUploadSerializer(serializers.Serializer):
    """The form of a LoRA upload: ``file`` and ``lora_trigger`` (both required)."""

    file = serializers.FileField(allow_empty_file=False, use_url=False)
    lora_trigger = serializers.CharField(max_length=LORA_TRIGGER_MAX_LENGTH)


def read_lora_upload(request) -> dict:
    """The validated form (``file``, ``lora_trigger``) of a multipart LoRA upload. Call it before
    anything reads ``request.data``: it installs ``LoraUploadHandler`` as the only upload handler."""
    request._request.upload_handlers = [LoraUploadHandler(request._request, limit=max_bytes())]
    try:
        data = request.data
    except RequestDataTooBig:
        raise MediaTooLarge("The form fields besides the file are too large.") from None
    except SuspiciousOperation:
        raise InvalidInput("The multipart request is malformed or has too many fields.") from None
    if len(request.FILES.getlist(LORA_FIELD)) > 1:
        raise _invalid("Send one LoRA file per upload.")
    form = LoraUploadSerializer(data=data)
    form.is_valid(raise_exception=True)
    return form.validated_data


# --- storage (service side) -----------------------------------------------------------------------------


def storage_name_for(*, kind: str, obj, extension: str) -> str:
    return f"{STORAGE_PREFIX}/{kind}/{obj.pk}/{secrets.token_hex(16)}{extension}"


def store_lora(*, obj: LoraModel, upload, lora_trigger: str, kind: str, storage=None) -> LoraModel:
    """Check ``upload`` (extension, size, safetensors header), stream it to storage and record it
    on ``obj``: ``lora_trigger``, ``local_model_path`` (the stored name), ``lora_status`` ready.
    The file it replaces is deleted after the commit. Returns the updated object."""
    storage = storage or default_storage
    extension = check_extension(getattr(upload, "name", None))
    size = upload.size
    if size is None or size > max_bytes():
        raise too_large()
    if size == 0:
        raise _invalid("The LoRA file is empty.")
    trigger = (lora_trigger or "").strip()
    if not trigger:
        raise InvalidInput("A LoRA needs its trigger word.", errors={("lora_trigger",): ["Give the trigger word."]})
    if extension == ".safetensors":
        check_safetensors(upload, size=size)
    upload.seek(0)
    stored = save_file(storage, storage_name_for(kind=kind, obj=obj, extension=extension), upload)
    try:
        with transaction.atomic():
            current = type(obj)._base_manager.select_for_update().get(pk=obj.pk)
            previous = current.lora_file
            current.lora_file = stored
            current.lora_file_size = size
            current.local_model_path = stored
            current.lora_trigger = trigger
            current.lora_status = LoraStatus.READY
            fields = ["lora_file", "lora_file_size", "local_model_path", "lora_trigger", "lora_status"]
            if any(field.name == "updated_at" for field in current._meta.concrete_fields):
                fields.append("updated_at")
            current.save(update_fields=fields)
            if previous and previous != stored:
                transaction.on_commit(lambda: _delete_quietly(storage, previous))
    except BaseException:
        _delete_quietly(storage, stored)
        raise
    logger.info("LoRA %s stored for %s %s (%d bytes)", stored, kind, obj.pk, size)
    return current


def delete_lora_file(obj: LoraModel, *, storage=None) -> None:
    """Delete the stored LoRA file of ``obj`` (the row is left as it is). A missing file is fine."""
    if obj.lora_file:
        (storage or default_storage).delete(obj.lora_file)


def _delete_quietly(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.exception("The LoRA file %s could not be deleted", name)

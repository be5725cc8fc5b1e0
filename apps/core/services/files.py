"""The AIMG file server: uploads, downloads, resized variants, removal, restore and purge.

A file server keeps bytes as they were sent: nothing is re-encoded. What a file is comes from its
bytes (never from the client's name or content type): PNG, JPEG, GIF and WebP images (which must
decode), a few common signatures, UTF-8 text, and ``application/octet-stream`` for the rest.

Storage layout (Django's default storage), derived from the id and never from a client's file name:

    files/<shard>/<id>-<token>                       the uploaded bytes
    files/variants/<shard>/<id>-<token>/<w>x<h>-<mode>.<ext>   resized copies, made on demand

``<shard>`` is the first two hex digits of the id's SHA-256; ``<token>`` is random per upload, so an
upload never overwrites another one (two racing uploads of one id, or an id reused after a purge)
and a re-uploaded id never meets the variants of its predecessor. A missing side is ``auto``.
"""

import codecs
import hashlib
import hmac
import io
import json
import logging
import re
import secrets
import unicodedata
import uuid
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import Image

from apps.core import selectors
from apps.core.errors import AtelierError, Conflict, InvalidInput, NotFound, StorageFull, StorageUnavailable
from apps.core.media import FILE_SERVER_IMAGE, SUPPORTED_CHECKSUMS, MediaRejected, MediaTooLarge, resize
from apps.core.media.checksums import hasher
from apps.core.media.pipeline import VARIANT_SOURCE
from apps.core.media.storage import save_file, storage_errors
from apps.core.models import FileObject
from apps.core.net import FetchFailed, FetchTooLarge, UnsafeURL, safe_stream

logger = logging.getLogger("atelier.files")

MIB = 1024 * 1024
CHUNK_SIZE = MIB
STORAGE_PREFIX = "files"
VARIANT_PREFIX = "files/variants"
FILE_NAME_MAX_CHARS = 255
CUSTOM_METADATA_MAX_BYTES = 16 * 1024
CUSTOM_METADATA_MAX_DEPTH = 32
TEXT_TYPE = "text/plain; charset=utf-8"
BINARY_TYPE = "application/octet-stream"
#: Content types getFile resizes (the spec: png, jpg, jpeg, gif), with the variant's extension.
RESIZABLE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}
RESIZE_MODES = ("fit", "fill")
_HEAD_BYTES = 4096
_IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
_DISPLAY = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "WEBP": "WebP"}
_EXIF_ORIENTATION = 0x0112
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VP", b"dash", b"mmp4"}
)
# A media type as an upstream server may send it: type/subtype and optional parameters, printable ASCII.
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;[\x20-\x7e]*)?$")


class StoredFileDamaged(AtelierError):
    """The stored bytes of a file are missing, unreadable or fail their checksum. A server fault:
    answered 500 (AIMG: "We had a problem with our server") and logged; no byte of it is sent."""

    status_code = 500
    default_message = "The stored file failed its checksum check, so it was not sent."
    code = "stored_file_damaged"


@dataclass(frozen=True)
class Served:
    """Bytes ready to be sent: an open binary file, its content type and entity tag (quoted)."""

    stream: object
    content_type: str
    etag: str


@dataclass(frozen=True)
class _Scan:
    size: int
    checksum: str
    content_type: str
    width: int | None
    height: int | None


# --- settings ----------------------------------------------------------------------------------------


def checksum_algorithm() -> str:
    """FILE_SERVER_CHECKSUM_ALGORITHM, checked."""
    name = str(getattr(settings, "FILE_SERVER_CHECKSUM_ALGORITHM", "sha256")).strip().lower()
    if name not in SUPPORTED_CHECKSUMS:
        raise ImproperlyConfigured(
            f"FILE_SERVER_CHECKSUM_ALGORITHM must be one of {', '.join(SUPPORTED_CHECKSUMS)}, not {name!r}."
        )
    return name


def max_upload_bytes() -> int:
    return int(settings.FILE_SERVER_MAX_BYTES)


# --- input checks --------------------------------------------------------------------------------------


def validate_file_id(value) -> str:
    if not selectors.is_file_id(value):
        message = (
            "The id must have 1 to 128 characters (letters, digits, '.', '_' and '-') and start with a "
            "letter or a digit."
        )
        raise InvalidInput(message, errors={("id",): [message]})
    return value


def clean_file_name(value, *, fallback: str) -> str:
    """A file name safe to store and show: the last path segment, without control or invisible
    formatting characters, at most 255 characters (the extension kept); ``fallback`` when nothing is left."""
    name = unicodedata.normalize("NFC", str(value or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp")).strip()
    if name in ("", ".", ".."):
        name = fallback
    if len(name) > FILE_NAME_MAX_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 16:
            name = f"{stem[: FILE_NAME_MAX_CHARS - len(extension) - 1].rstrip()}.{extension}"
        else:
            name = name[:FILE_NAME_MAX_CHARS]
    return name


def check_custom_metadata(value) -> dict:
    """``value`` if it is a JSON object that fits (16 KiB, 32 levels, no NUL, finite numbers)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad_metadata('customMetadata must be a JSON object, e.g. {"album": "summer"}.')
    try:
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        raise _bad_metadata("customMetadata must hold JSON values only (finite numbers, no NaN).") from None
    if len(encoded.encode()) > CUSTOM_METADATA_MAX_BYTES:
        raise _bad_metadata(f"customMetadata may be at most {CUSTOM_METADATA_MAX_BYTES // 1024} KiB of JSON.")
    if "\\u0000" in encoded or "\x00" in encoded:
        raise _bad_metadata("customMetadata may not contain NUL characters.")
    if _depth(value) > CUSTOM_METADATA_MAX_DEPTH:
        raise _bad_metadata(f"customMetadata may be nested at most {CUSTOM_METADATA_MAX_DEPTH} levels deep.")
    return value


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


def _bad_metadata(message: str) -> InvalidInput:
    return InvalidInput(message, errors={("customMetadata",): [message]})


# --- upload --------------------------------------------------------------------------------------------


def upload_file(
    *,
    source,
    file_name: str | None = None,
    file_id: str | None = None,
    custom_metadata: dict | None = None,
    owner=None,
    storage=None,
) -> FileObject:
    """Store ``source`` (a Django file, an upload, or bytes) as a new file and return its row.

    The bytes are read in chunks: size (capped by FILE_SERVER_MAX_BYTES, 413), checksum and type
    are measured on the way; images must decode. An id that a live or removed file has is a 409.
    """
    storage = storage or default_storage
    if isinstance(source, (bytes, bytearray)):
        source = ContentFile(bytes(source))
    elif not hasattr(source, "chunks"):
        source = File(source)
    file_id = str(uuid.uuid4()) if file_id is None else validate_file_id(file_id)
    name = clean_file_name(file_name if file_name is not None else getattr(source, "name", ""), fallback=file_id)
    metadata = check_custom_metadata(custom_metadata)
    if selectors.file_id_taken(file_id):
        raise _taken(file_id)
    algorithm = checksum_algorithm()
    scan = _scan(source, max_bytes=max_upload_bytes(), algorithm=algorithm)

    # Storage back ends that keep a content type (S3) take it from the file: the sniffed one, never the client's.
    source.content_type = scan.content_type
    stored = save_file(storage, storage_name_for(file_id), source)
    try:
        with transaction.atomic():
            file = FileObject.objects.create(
                id=file_id,
                file_name=name,
                content_type=scan.content_type,
                size=scan.size,
                checksum=scan.checksum,
                checksum_algorithm=algorithm,
                storage_name=stored,
                width=scan.width,
                height=scan.height,
                custom_metadata=metadata,
                owner=owner,
            )
    except IntegrityError as exc:
        storage.delete(stored)
        raise _taken(file_id) from exc
    except BaseException:
        storage.delete(stored)
        raise
    logger.info("File %s stored (%s, %d bytes, %s)", file.pk, file.content_type, file.size, stored)
    return file


def storage_name_for(file_id: str) -> str:
    shard = hashlib.sha256(file_id.encode()).hexdigest()[:2]
    return f"{STORAGE_PREFIX}/{shard}/{file_id}-{secrets.token_hex(6)}"


def _taken(file_id: str) -> Conflict:
    return Conflict(f"A file with the id '{file_id}' already exists. Choose another id, or remove that file first.")


def _scan(source, *, max_bytes: int, algorithm: str) -> _Scan:
    digest = hasher(algorithm)
    decoder = codecs.getincrementaldecoder("utf-8")()
    text, head, size = True, bytearray(), 0
    for chunk in source.chunks(CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        digest.update(chunk)
        if len(head) < _HEAD_BYTES:
            head += chunk[: _HEAD_BYTES - len(head)]
        if text and b"\x00" in chunk:
            text = False
        elif text:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                text = False
    if size == 0:
        raise MediaRejected("The file is empty. Choose a file and upload it again.", code="empty_file", field="file")
    if text:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            text = False
    content_type, image_format = sniff(bytes(head), text=text)
    width = height = None
    if image_format:
        if size > FILE_SERVER_IMAGE.max_bytes:
            raise MediaTooLarge(
                f"Images on the file server may be at most {FILE_SERVER_IMAGE.max_bytes // MIB} MB; "
                f"this one is {size / MIB:.1f} MB."
            )
        width, height = _check_image(source, image_format)
    return _Scan(size=size, checksum=digest.hexdigest(), content_type=content_type, width=width, height=height)


def too_large(max_bytes: int) -> MediaTooLarge:
    return MediaTooLarge(f"Files may be at most {max_bytes:,} bytes ({max_bytes / MIB:g} MB); send a smaller file.")


def _is_mp3_frame(head: bytes) -> bool:
    if len(head) < 3 or head[0] != 0xFF:
        return False
    second, third = head[1], head[2]
    return (
        second & 0xE0 == 0xE0  # frame sync
        and (second >> 3) & 0b11 != 0b01  # MPEG version (01 is reserved)
        and (second >> 1) & 0b11 == 0b01  # layer III
        and third >> 4 != 0b1111  # bitrate index
        and (third >> 2) & 0b11 != 0b11  # sampling rate
    )


def _is_id3(head: bytes) -> bool:
    return head[:3] == b"ID3" and len(head) >= 10 and head[3] in (2, 3, 4) and all(b < 0x80 for b in head[6:10])


def _iso_media_type(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand == b"qt  ":
        return "video/quicktime"
    if brand == b"M4A ":
        return "audio/mp4"
    if brand in _MP4_BRANDS:
        return "video/mp4"
    return None


def sniff(head: bytes, *, text: bool) -> tuple[str, str | None]:
    """The content type of a file from its first bytes (and whether all of it is UTF-8 text), with
    the Pillow format name when it is an image the file server accepts."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _IMAGE_TYPES["PNG"], "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return _IMAGE_TYPES["JPEG"], "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _IMAGE_TYPES["GIF"], "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _IMAGE_TYPES["WEBP"], "WEBP"
    if head.startswith(b"%PDF-"):
        return "application/pdf", None
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "application/zip", None
    if iso := _iso_media_type(head):
        return iso, None
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ("video/webm" if b"webm" in head[:64] else "video/x-matroska"), None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav", None
    if _is_id3(head) or _is_mp3_frame(head):
        return "audio/mpeg", None
    return (TEXT_TYPE if text else BINARY_TYPE), None


def _check_image(source, fmt: str) -> tuple[int, int]:
    """The upright size of an image that opens as ``fmt``, verifies and decodes; MediaRejected otherwise."""
    shown = _DISPLAY[fmt]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source.seek(0)
            with Image.open(source, formats=[fmt]) as image:
                width, height = image.size
                if width <= 0 or height <= 0 or width * height > FILE_SERVER_IMAGE.max_pixels:
                    raise MediaRejected(
                        f"The {shown} image is {width}x{height} pixels; images on the file server may have at most "
                        f"{FILE_SERVER_IMAGE.max_pixels / 1e6:g} megapixels.",
                        code="too_many_pixels",
                        field="file",
                    )
                image.verify()
            source.seek(0)
            with Image.open(source, formats=[fmt]) as image:
                image.load()
                orientation = image.getexif().get(_EXIF_ORIENTATION)
    except MediaRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRejected(
            f"The {shown} image has far too many pixels to be accepted.", code="too_many_pixels", field="file"
        ) from exc
    except Exception as exc:
        raise MediaRejected(
            f"The file starts like a {shown} image but cannot be decoded: it is damaged or incomplete. "
            "Save the image again and upload the new file.",
            code="corrupt_image",
            field="file",
        ) from exc
    finally:
        source.seek(0)
    if orientation in _SWAPPING_ORIENTATIONS:
        return height, width
    return width, height


# --- download ------------------------------------------------------------------------------------------


def etag_for(file: FileObject) -> str:
    return f'"{file.checksum}"'


def open_file_for_download(*, file: FileObject, verify: bool = True, storage=None) -> Served:
    """The stored bytes of ``file``, open for streaming. With ``verify`` the whole file is hashed
    first (one pass) and checked against the recorded checksum and size: StoredFileDamaged (500,
    logged) on a mismatch, before any byte is sent."""
    storage = storage or default_storage
    try:
        stream = storage.open(file.storage_name, "rb")
    except Exception as exc:
        logger.error("File %s: its stored bytes (%s) cannot be opened", file.pk, file.storage_name, exc_info=exc)
        raise StoredFileDamaged("The stored bytes of this file cannot be read.") from exc
    if verify:
        try:
            size, actual = verify_stored_file(file=file, stream=stream)
        except BaseException:
            stream.close()
            raise
        if size != file.size or not hmac.compare_digest(actual, file.checksum):
            stream.close()
            logger.error(
                "File %s failed its checksum check: %s %s expected (%d bytes), %s found (%d bytes) in %s",
                file.pk,
                file.checksum_algorithm,
                file.checksum,
                file.size,
                actual,
                size,
                file.storage_name,
            )
            raise StoredFileDamaged(
                "The stored file failed its checksum check, so it was not sent. Ask for it with "
                "skipChecksum=true to get the stored bytes anyway, or upload it again."
            )
    return Served(stream=stream, content_type=file.content_type, etag=etag_for(file))


def verify_stored_file(*, file: FileObject, stream) -> tuple[int, str]:
    """Size and checksum (the file's own algorithm) of the stored bytes; ``stream`` is left at its start."""
    digest = hasher(file.checksum_algorithm)
    size = 0
    try:
        stream.seek(0)
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
        stream.seek(0)
    except Exception as exc:
        logger.error("File %s: its stored bytes (%s) cannot be read", file.pk, file.storage_name, exc_info=exc)
        raise StoredFileDamaged("The stored bytes of this file cannot be read.") from exc
    return size, digest.hexdigest()


# --- resized variants ----------------------------------------------------------------------------------


def check_resizable(*, file: FileObject, width: int | None, height: int | None, mode: str) -> None:
    """InvalidInput (400) unless ``file`` can be resized to this box."""
    if file.content_type not in RESIZABLE_TYPES:
        message = f"Only PNG, JPEG and GIF images can be resized; this file is {file.content_type}."
        raise InvalidInput(message, errors={("width" if width else "height",): [message]})
    if mode not in RESIZE_MODES:
        message = f"The mode must be one of {', '.join(RESIZE_MODES)}."
        raise InvalidInput(message, errors={("mode",): [message]})
    if not width and not height:
        raise InvalidInput("Give a width, a height or both to resize an image.")
    if mode == "fill" and not (width and height):
        message = "The fill mode needs both a width and a height."
        raise InvalidInput(message, errors={("mode",): [message]})


def variant_directory(file: FileObject) -> str:
    stored = file.storage_name.removeprefix(f"{STORAGE_PREFIX}/")
    return f"{VARIANT_PREFIX}/{stored}"


def variant_name(*, file: FileObject, width: int | None, height: int | None, mode: str) -> str:
    extension = RESIZABLE_TYPES[file.content_type]
    return f"{variant_directory(file)}/{width or 'auto'}x{height or 'auto'}-{mode}.{extension}"


def variant_etag(*, file: FileObject, width: int | None, height: int | None, mode: str) -> str:
    return f'"{file.checksum}-{width or "auto"}x{height or "auto"}-{mode}"'


def get_variant(
    *,
    file: FileObject,
    width: int | None,
    height: int | None,
    mode: str = "fit",
    before_making: Callable[[], None] | None = None,
    storage=None,
) -> Served:
    """The resized copy of an image, from storage when it was made before, otherwise made now
    (through the media pipeline's ``resize``) and stored. The checksum is not checked (the spec).
    ``before_making`` runs only when a new copy is about to be made (and may refuse by raising)."""
    storage = storage or default_storage
    check_resizable(file=file, width=width, height=height, mode=mode)
    name = variant_name(file=file, width=width, height=height, mode=mode)
    etag = variant_etag(file=file, width=width, height=height, mode=mode)
    with storage_errors():
        exists = storage.exists(name)
    if exists:
        try:
            with storage_errors():
                stream = storage.open(name, "rb")
        except FileNotFoundError:
            pass  # removed in between (the file was removed or purged): made again below
        else:
            return Served(stream=stream, content_type=file.content_type, etag=etag)
    if before_making is not None:
        before_making()
    content = _resized(file, width, height, mode, storage)
    try:
        saved = save_file(storage, name, ContentFile(content))
    except (StorageFull, StorageUnavailable):
        # The copy is only a cache: served now, made again next time.
        logger.warning("The resized copy %s of file %s could not be kept", name, file.pk)
    else:
        if saved != name:
            # Another request made the same variant in between: same source, same box, same bytes.
            storage.delete(saved)
    return Served(stream=io.BytesIO(content), content_type=file.content_type, etag=etag)


def _resized(file: FileObject, width, height, mode, storage) -> bytes:
    if file.size > VARIANT_SOURCE.max_bytes:
        raise MediaTooLarge(f"Images larger than {VARIANT_SOURCE.max_bytes // MIB} MB cannot be resized.")
    try:
        with storage.open(file.storage_name, "rb") as stream:
            original = stream.read()
    except Exception as exc:
        logger.error("File %s: its stored bytes (%s) cannot be read", file.pk, file.storage_name, exc_info=exc)
        raise StoredFileDamaged("The stored bytes of this file cannot be read.") from exc
    try:
        content, _ = resize(original, width=width, height=height, mode=mode)
    except MediaRejected as exc:
        if exc.code == "invalid_size":
            raise
        logger.error("File %s: its stored image cannot be decoded for resizing (%s)", file.pk, exc.code)
        raise StoredFileDamaged("The stored image cannot be decoded, so it cannot be resized.") from exc
    return content


def delete_variants(*, file: FileObject, storage=None) -> int:
    """Delete every resized copy of ``file``; returns how many there were."""
    storage = storage or default_storage
    directory = variant_directory(file)
    try:
        _, names = storage.listdir(directory)
    except FileNotFoundError:
        return 0
    for name in names:
        storage.delete(f"{directory}/{name}")
    return len(names)


# --- removal, restore, purge ---------------------------------------------------------------------------


def remove_file(*, file_id: str, storage=None) -> FileObject:
    """Remove a live file: the row is soft-deleted (restorable until purged) and its resized copies
    are deleted now; the original bytes stay until ``purge_deleted``. NotFound for an unknown id."""
    file = selectors.file_by_id(file_id)
    if file is None:
        raise not_found(file_id)
    with transaction.atomic():
        removed, _ = file.delete()
    if not removed:
        raise not_found(file_id)
    try:
        delete_variants(file=file, storage=storage)
    except Exception:
        # The removal stands; purge_deleted deletes the variants with the original.
        logger.exception("File %s: its resized copies could not be deleted now", file.pk)
    logger.info("File %s removed", file.pk)
    return file


def restore_file(*, file: FileObject) -> FileObject:
    """Undo the removal of ``file`` (its variants are made again on demand)."""
    if file.deleted_at is None:
        return file
    with transaction.atomic():
        file.restore()
    logger.info("File %s restored", file.pk)
    return file


def delete_stored_files(file: FileObject, *, storage=None) -> None:
    """Delete the original bytes of ``file``, then its resized copies (the row stays)."""
    storage = storage or default_storage
    storage.delete(file.storage_name)
    delete_variants(file=file, storage=storage)


def purge(*, file: FileObject, storage=None) -> None:
    """Delete a removed file for good: its bytes, its variants, then its row. Live files are refused."""
    if file.deleted_at is None:
        raise Conflict(f"The file '{file.pk}' is not removed; remove it before purging it.")
    delete_stored_files(file, storage=storage)
    file.hard_delete()
    logger.info("File %s purged", file.pk)


def not_found(file_id: str) -> NotFound:
    return NotFound(f"No file has the id '{file_id}'.")


# --- the old file server -------------------------------------------------------------------------------


@dataclass
class LegacyFile:
    """A file relayed from the old file server: iterate it once for its bytes; ``close`` hangs up."""

    content_type: str
    content_length: int | None
    _stack: ExitStack
    _stream: object

    def __iter__(self):
        try:
            yield from self._stream
        except AtelierError as exc:
            # The status line is sent already: the connection can only be cut short.
            logger.warning("Relaying a file from the old file server stopped: %s", exc.message)
            raise
        finally:
            self.close()

    def close(self) -> None:
        self._stack.close()


def legacy_enabled() -> bool:
    return bool(getattr(settings, "FILE_SERVER_LEGACY_BASE_URL", ""))


def fetch_legacy_file(
    *, file_id: str, width: int | None = None, height: int | None = None, mode: str | None = None
) -> LegacyFile:
    """Open ``<FILE_SERVER_LEGACY_BASE_URL>/<id>`` through safe_stream (resize parameters passed on,
    as the old server resizes too). Nothing is stored. NotFound when it has no such file either."""
    base = getattr(settings, "FILE_SERVER_LEGACY_BASE_URL", "")
    if not base:
        raise not_found(file_id)
    url = f"{base.rstrip('/')}/{quote(file_id, safe='')}"
    resize_query = {key: value for key, value in (("width", width), ("height", height)) if value}
    if resize_query:
        url = f"{url}?{urlencode({**resize_query, 'mode': mode or 'fit'})}"
    stack = ExitStack()
    try:
        stream = stack.enter_context(
            safe_stream(
                url,
                max_bytes=max_upload_bytes(),
                total_timeout=float(getattr(settings, "FILE_SERVER_LEGACY_TIMEOUT", 120.0)),
            )
        )
    except FetchFailed as exc:
        if exc.upstream_status in (404, 410):
            raise not_found(file_id) from None
        logger.warning("The old file server did not deliver %s: %s", file_id, exc.message)
        raise FetchFailed("The old file server could not deliver this file. Try again later.") from None
    except (UnsafeURL, FetchTooLarge) as exc:
        logger.error("The old file server cannot be used for %s: %s", file_id, exc.message)
        raise FetchFailed("The old file server could not deliver this file.") from None
    declared = stream.headers.get("content-type", "").strip()
    content_type = declared if _MEDIA_TYPE.match(declared) else BINARY_TYPE
    return LegacyFile(content_type=content_type, content_length=stream.content_length, _stack=stack, _stream=stream)

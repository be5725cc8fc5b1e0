"""Image fields of Sartiq resources: every accepted input becomes a MediaResource.

An image field accepts

- an ``http(s)`` URL, fetched through ``apps.core.net.safe_fetch`` (public addresses only);
- a base64 string or a ``data:`` URI;
- the ``file_url`` (or the local ``upload_url``) of a presigned upload from ``POST /api/v1/uploads/``;
- the URL of an existing MediaResource (``media_url``), which refers to it;
- a MediaInput object: ``url`` (any of the above) or ``media_resource_id`` (an existing resource the
  user may use), with the annex fields ``alt_text``, ``caption`` and ``protected``. ``width``,
  ``height``, ``dominant_color``, ``color_profile`` and ``duration`` are measured on the bytes, so
  values sent for them are not used.

New bytes go through the media pipeline (``process_image`` with ``STUDIO_MEDIA``): sniffed,
size-capped, decompression-bomb checked, re-encoded without metadata, measured. Every refusal is an
``InvalidInput`` located at the field, which the Sartiq dialect answers with 422 and
``loc: ["body", <field>...]``.
"""

import base64
import binascii
import contextvars
import logging
import re
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.urls import Resolver404, resolve, reverse
from rest_framework import serializers

from apps.core.errors import AtelierError, InvalidInput
from apps.core.media import STUDIO_MEDIA, MediaRejected, MediaTooLarge, process_image
from apps.core.media.storage import save_file, storage_errors, storage_failure
from apps.core.models import MediaResource, Upload
from apps.core.net import FetchFailed, FetchTooLarge, UnsafeURL, safe_fetch

from .ownership import can_use_media, is_admin

logger = logging.getLogger("atelier.media")

MEDIA_PREFIX = "sartiq/media"
COLOR_PROFILE = "sRGB"  # the pipeline converts ICC-tagged colours to sRGB and writes no profile
ANNEX_FIELDS = ("alt_text", "caption", "protected")
NOT_AN_INPUT = (
    "The image must be an http(s) URL, an upload or media URL of this server, or base64 (plain or as a "
    "data: URI); this is none of them."
)
_DATA_URI = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[\w.+-]+=[^;,]*)*)(?P<b64>;base64)?,", re.I)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
MAX_PATH_LENGTH = 2048
_BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/_\-\s]*={0,2}\s*$")
_DATETIME = serializers.DateTimeField()

Field = str | tuple


class MediaInputSerializer(serializers.Serializer):
    """The MediaInput object of the spec's annex."""

    url = serializers.CharField(required=False, allow_null=True, trim_whitespace=False)
    media_resource_id = serializers.UUIDField(required=False, allow_null=True)
    alt_text = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    caption = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    protected = serializers.BooleanField(required=False, default=False)
    width = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    height = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    duration = serializers.FloatField(required=False, allow_null=True, min_value=0)
    dominant_color = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    color_profile = serializers.CharField(required=False, allow_null=True, allow_blank=True)

    def validate(self, attrs):
        if not attrs.get("url") and not attrs.get("media_resource_id"):
            raise serializers.ValidationError("Give the image's url or the media_resource_id of an existing one.")
        return attrs


# --- public API ------------------------------------------------------------------------------------


def resolve_media_input(value, *, user, organization=None, field: Field) -> MediaResource | None:
    """The MediaResource for an image field's value (None for None). See the module docstring for
    the accepted forms. New resources belong to ``user`` and ``organization``. ``field`` is the
    field's name, or its path as a tuple (``("framings", 0, "image")``), for error locations."""
    loc = field if isinstance(field, tuple) else (field,)
    if value is None:
        return None
    if isinstance(value, str):
        return _from_string(value, user=user, organization=organization, loc=loc, annex={})
    if isinstance(value, dict):
        form = MediaInputSerializer(data=value)
        if not form.is_valid():
            raise InvalidInput(errors=_nested_errors(form.errors, loc))
        data = form.validated_data
        annex = {name: data[name] for name in ANNEX_FIELDS if name in value}
        if data.get("media_resource_id"):
            resource = _existing(data["media_resource_id"], user=user, loc=(*loc, "media_resource_id"))
            return _apply_annex(resource, annex)
        return _from_string(data["url"], user=user, organization=organization, loc=(*loc, "url"), annex=annex)
    raise InvalidInput(
        errors={loc: ["Give the image as a URL, a base64 or data: string, an upload URL or a MediaInput object."]}
    )


def media_url(resource: MediaResource) -> str:
    """Where the resource's bytes are served: ``/api/v1/media/<id>/<content_hash>.<ext>``, under
    SARTIQ_PUBLIC_BASE_URL when it is set. The URL names the content, so it never goes stale."""
    path = reverse("core:sartiq-media", kwargs={"pk": resource.pk, "filename": media_filename(resource)})
    return _absolute(path)


def thumbnail_url(resource: MediaResource) -> str | None:
    if not resource.thumbnail_name:
        return None
    extension = resource.thumbnail_name.rsplit(".", 1)[-1]
    filename = f"{resource.content_hash}.thumbnail.{extension}"
    return _absolute(reverse("core:sartiq-media", kwargs={"pk": resource.pk, "filename": filename}))


def media_filename(resource: MediaResource) -> str:
    return f"{resource.content_hash}.{resource.extension}"


def media_resource_public(resource: MediaResource | None) -> dict | None:
    """The MediaResourcePublic object of ``resource`` (None for None)."""
    if resource is None:
        return None
    return {
        "id": str(resource.pk),
        "url": media_url(resource),
        "resource_type": str(resource.resource_type),
        "content_hash": resource.content_hash,
        "extension": resource.extension,
        "file_size": resource.file_size,
        "width": resource.width,
        "height": resource.height,
        "aspect_ratio": resource.aspect_ratio,
        "orientation": resource.orientation or None,
        "dominant_color": resource.dominant_color or None,
        "color_profile": resource.color_profile or None,
        "duration": resource.duration,
        "alt_text": resource.alt_text,
        "caption": resource.caption,
        "protected": resource.protected,
        "created_at": _DATETIME.to_representation(resource.created_at),
    }


def media_url_or_none(resource: MediaResource | None) -> str | None:
    return media_url(resource) if resource is not None else None


_stored_names: contextvars.ContextVar[list | None] = contextvars.ContextVar("sartiq_stored_media", default=None)


@contextmanager
def discard_stored_media_on_error():
    """Files stored by ``store_image`` inside this block are deleted again when the block fails (its
    rows roll back with the transaction, their bytes would be left behind)."""
    names: list[str] = []
    token = _stored_names.set(names)
    try:
        yield
    except BaseException:
        for name in names:
            _delete_quietly(default_storage, name)
        raise
    finally:
        _stored_names.reset(token)


def store_image(
    content, *, user, organization=None, source: str = "", source_url: str = "", annex=None, field: Field = "file"
) -> MediaResource:
    """Run ``content`` (bytes or a binary file) through the pipeline and keep it as a new resource."""
    loc = field if isinstance(field, tuple) else (field,)
    try:
        processed = process_image(content, policy=STUDIO_MEDIA)
    except (MediaRejected, MediaTooLarge) as exc:
        raise InvalidInput(errors={loc: [exc.message]}) from None
    resource_id = uuid.uuid4()
    name = f"{MEDIA_PREFIX}/{resource_id}.{processed.extension}"
    thumbnail_name = f"{MEDIA_PREFIX}/{resource_id}.thumbnail.{processed.thumbnail_extension}"
    pending = _stored_names.get()
    stored = save_file(default_storage, name, ContentFile(processed.content))
    if pending is not None:
        pending.append(stored)
    try:
        stored_thumbnail = save_file(default_storage, thumbnail_name, ContentFile(processed.thumbnail))
    except BaseException:
        _delete_quietly(default_storage, stored)
        raise
    if pending is not None:
        pending.append(stored_thumbnail)
    annex = annex or {}
    return MediaResource.objects.create(
        id=resource_id,
        owner=user if getattr(user, "pk", None) else None,
        organization=organization,
        resource_type=MediaResource.ResourceType.IMAGE,
        storage_name=stored,
        thumbnail_name=stored_thumbnail,
        mime_type=processed.mime_type,
        content_hash=processed.checksum,
        extension=processed.extension,
        file_size=processed.size,
        width=processed.width,
        height=processed.height,
        aspect_ratio=round(processed.width / processed.height, 4),
        orientation=processed.orientation,
        dominant_color=processed.dominant_color,
        color_profile=COLOR_PROFILE,
        alt_text=annex.get("alt_text"),
        caption=annex.get("caption"),
        protected=bool(annex.get("protected", False)),
        source=source,
        source_url=source_url[:2000],
    )


# --- references, release and purge ------------------------------------------------------------------


def referrers(resource: MediaResource, *, ignoring=()) -> int:
    """How many rows refer to ``resource`` through a foreign key or many-to-many field (uploads
    excepted), leaving out the ``ignoring`` rows (model instances). Soft-deleted rows count: they
    can be restored."""
    ignored = {(type(row)._meta.label, row.pk) for row in ignoring}
    total = 0
    # Hidden relations (related_name "+") count too.
    relations = [
        field
        for field in MediaResource._meta.get_fields(include_hidden=True)
        if field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one or field.many_to_many)
    ]
    for relation in relations:
        model = relation.related_model
        if model is Upload:
            continue
        manager = getattr(model, "all_objects", model._default_manager)
        if relation.many_to_many:
            rows = relation.through.objects.filter(**{relation.field.m2m_reverse_field_name(): resource.pk})
            pks = rows.values_list(relation.field.m2m_field_name(), flat=True)
            total += sum(1 for pk in pks if (model._meta.label, pk) not in ignored)
            continue
        if not isinstance(relation.field, models.ForeignKey):
            continue
        pks = manager.filter(**{relation.field.name: resource.pk}).values_list("pk", flat=True)
        total += sum(1 for pk in pks if (model._meta.label, pk) not in ignored)
    return total


def release_media(resources, *, ignoring=(), purge: bool = False) -> list[MediaResource]:
    """Let go of media a resource no longer uses: each one nothing else refers to (and that is not
    protected) is soft-deleted, or with ``purge`` deleted for good with its files. Returns those."""
    released = []
    seen = set()
    for resource in resources:
        if resource is None or resource.pk in seen:
            continue
        seen.add(resource.pk)
        if resource.protected or referrers(resource, ignoring=ignoring):
            continue
        if purge:
            purge_media(resource)
        else:
            resource.delete()
        released.append(resource)
    return released


def delete_media_files(resource: MediaResource, *, storage=None) -> None:
    """Delete the stored bytes and thumbnail of ``resource`` (the row stays)."""
    storage = storage or default_storage
    storage.delete(resource.storage_name)
    if resource.thumbnail_name:
        storage.delete(resource.thumbnail_name)


def purge_media(resource: MediaResource, *, storage=None) -> None:
    """Delete ``resource`` for good: files, then the row (rows that referred to it lose the reference)."""
    delete_media_files(resource, storage=storage)
    resource.hard_delete()


def restore_media(resource: MediaResource | None) -> None:
    """Undo the soft delete of a resource's media when the resource comes back."""
    if resource is not None and resource.deleted_at is not None:
        resource.restore()


# --- the input forms ------------------------------------------------------------------------------


def _from_string(value: str, *, user, organization, loc: tuple, annex: dict) -> MediaResource:
    text = value.strip()
    if not text:
        raise InvalidInput(
            errors={loc: ["The image is empty: give a URL, a base64 or data: string, or an upload URL."]}
        )
    if text[:5].lower() == "data:":
        content = _decode_data_uri(text, loc)
        return store_image(content, user=user, organization=organization, source="data_uri", annex=annex, field=loc)
    if text[:8].lower().startswith(("http://", "https://")):
        own = _own_url(urlsplit(text).path, user=user, organization=organization, loc=loc, annex=annex)
        if own is not None:
            return own
        return _from_url(text, user=user, organization=organization, loc=loc, annex=annex)
    if _SCHEME.match(text):
        raise InvalidInput(errors={loc: ["Only http and https URLs can be fetched."]})
    # A site-relative upload or media URL; anything else starting with "/" is base64 ("/9j/" is JPEG).
    if text.startswith("/") and len(text) <= MAX_PATH_LENGTH:
        own = _own_url(urlsplit(text).path, user=user, organization=organization, loc=loc, annex=annex)
        if own is not None:
            return own
    content = _decode_base64(text, loc)
    return store_image(content, user=user, organization=organization, source="base64", annex=annex, field=loc)


def _from_url(url: str, *, user, organization, loc: tuple, annex: dict) -> MediaResource:
    try:
        result = safe_fetch(url, max_bytes=STUDIO_MEDIA.max_bytes)
    except FetchTooLarge:
        raise InvalidInput(
            errors={loc: [f"The image at the URL is too large: images may be at most {_limit()}."]}
        ) from None
    except (UnsafeURL, FetchFailed) as exc:
        raise InvalidInput(errors={loc: [exc.message]}) from None
    return store_image(
        result.content, user=user, organization=organization, source="url", source_url=url, annex=annex, field=loc
    )


def _own_url(path: str, *, user, organization, loc: tuple, annex: dict) -> MediaResource | None:
    """The resource an upload or media URL of this server stands for; None for any other path."""
    base_path = urlsplit(getattr(settings, "SARTIQ_PUBLIC_BASE_URL", "") or "").path.rstrip("/")
    if base_path and path.startswith(base_path + "/"):
        path = path[len(base_path) :]
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.namespace != "core":
        return None
    if match.url_name in ("sartiq-upload", "sartiq-upload-content"):
        resource = consume_upload(match.kwargs["pk"], user=user, organization=organization, loc=loc)
        return _apply_annex(resource, annex)
    if match.url_name == "sartiq-media":
        resource = MediaResource.objects.filter(pk=match.kwargs["pk"]).first()
        if resource is None:
            raise InvalidInput(errors={loc: ["This media URL names no media resource."]})
        if can_use_media(user, resource):
            return _apply_annex(resource, annex)
        # The URL lets anyone read the bytes; someone else's resource is copied, never shared.
        with storage_errors(), default_storage.open(resource.storage_name, "rb") as stream:
            return store_image(stream, user=user, organization=organization, source="copy", annex=annex, field=loc)
    return None


def consume_upload(upload_id, *, user, organization=None, loc: tuple = ("image",)) -> MediaResource:
    """The MediaResource made of a presigned upload's bytes (made on first use, the same one after)."""
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(pk=upload_id).first()
        if upload is None or (upload.owner_id != getattr(user, "pk", None) and not is_admin(user)):
            raise InvalidInput(errors={loc: ["This upload URL names no upload of yours."]})
        if upload.media_resource_id is not None:
            resource = MediaResource.objects.filter(pk=upload.media_resource_id).first()
            if resource is None:
                raise InvalidInput(errors={loc: ["The image of this upload has been deleted; upload it again."]})
            return resource
        storage = default_storage
        if not upload.direct and upload.received_at is None:
            raise InvalidInput(errors={loc: ["Nothing has been uploaded to this upload URL yet."]})
        try:
            size = storage.size(upload.storage_name)
        except FileNotFoundError:
            raise InvalidInput(
                errors={loc: ["Nothing has been uploaded to this upload URL (or it expired)."]}
            ) from None
        except Exception as exc:
            failure = storage_failure(exc)
            if failure is not None:  # the store is full or unreachable: 507 / 503, not the client's fault
                raise failure from exc
            with storage_errors():
                missing = not storage.exists(upload.storage_name)
            if missing:
                raise InvalidInput(errors={loc: ["Nothing has been uploaded to this upload URL."]}) from None
            raise AtelierError("The uploaded file cannot be read.") from exc
        if size > upload.max_bytes:
            raise InvalidInput(
                errors={loc: [f"The uploaded file is larger than the {upload.max_bytes} bytes allowed."]}
            )
        with storage_errors(), storage.open(upload.storage_name, "rb") as stream:
            resource = store_image(
                stream, user=upload.owner, organization=organization, source="upload", annex={}, field=loc
            )
        upload.media_resource = resource
        upload.size = size
        upload.save(update_fields=["media_resource", "size", "updated_at"])
        name = upload.storage_name
        transaction.on_commit(lambda: _delete_quietly(storage, name))
    return resource


def _delete_quietly(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.exception("The stored file %s could not be deleted", name)


def _existing(media_id, *, user, loc: tuple) -> MediaResource:
    resource = MediaResource.objects.filter(pk=media_id).first()
    if resource is None or not can_use_media(user, resource):
        raise InvalidInput(errors={loc: [f"No media resource you can use has the id '{media_id}'."]})
    return resource


def _apply_annex(resource: MediaResource, annex: dict) -> MediaResource:
    changed = [name for name, value in annex.items() if getattr(resource, name) != value]
    if changed:
        for name in changed:
            setattr(resource, name, annex[name])
        resource.save(update_fields=[*changed, "updated_at"])
    return resource


def _decode_data_uri(text: str, loc: tuple) -> bytes:
    match = _DATA_URI.match(text)
    if match is None or not match.group("b64"):
        raise InvalidInput(errors={loc: ["A data: URI must be base64-encoded: data:image/png;base64,...."]})
    return _decode_base64(text[match.end() :], loc)


def _decode_base64(text: str, loc: tuple) -> bytes:
    limit = STUDIO_MEDIA.max_bytes
    if len(text) > 2 * limit:  # far past the cap whatever the whitespace: not worth decoding
        raise InvalidInput(errors={loc: [f"The image is too large: images may be at most {_limit()}."]})
    if not _BASE64_CHARS.match(text):
        raise InvalidInput(errors={loc: [NOT_AN_INPUT]})
    compact = "".join(text.split())
    compact += "=" * (-len(compact) % 4)
    try:
        if "-" in compact or "_" in compact:
            return base64.urlsafe_b64decode(compact)
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(errors={loc: [NOT_AN_INPUT]}) from None


def _nested_errors(errors, loc: tuple) -> dict:
    out = {}
    for name, messages in errors.items():
        path = loc if name == "non_field_errors" else (*loc, name)
        out[path] = [str(message) for message in messages]
    return out


def _limit() -> str:
    limit = STUDIO_MEDIA.max_bytes
    return f"{limit / (1024 * 1024):g} MB ({limit:,} bytes)"


def _absolute(path: str) -> str:
    base = (getattr(settings, "SARTIQ_PUBLIC_BASE_URL", "") or "").rstrip("/")
    return f"{base}{path}" if base else path

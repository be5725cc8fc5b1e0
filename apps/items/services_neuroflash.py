"""Neuroflash workspace images: who may act in a workspace, the image list, upload and removal.

A workspace is an ``accounts.Organization``; its images are Items with ``workspace`` set. The bytes
of an upload (an http(s) URL fetched through ``apps.core.net``, or an inline ``data:`` URI) go
through the media pipeline under ``WORKSPACE_IMAGE`` and are stored as two file-server files (the
image and its thumbnail), each with a random id of its own, never the image id.

Access: members of the workspace read, upload, and delete the images they created. The staff roles
NF_ADMIN, NF_CUSTOMER_SUPPORT and ADMIN_SERVICE (groups, see ``apps/accounts/roles.py``) hold
``VIEW_ANY`` and ``DELETE_ANY``: they read and delete the images of every workspace of their site,
member or not. Uploading always needs membership.
"""

import base64
import binascii
import logging
import re
import uuid
from urllib.parse import unquote_to_bytes

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import Membership, Organization
from apps.core.errors import InvalidInput, NotFound, PermissionDenied
from apps.core.media import WORKSPACE_IMAGE, MediaTooLarge, ProcessedImage, process_image
from apps.core.models import FileObject
from apps.core.net import safe_fetch
from apps.core.services import files

from .models import Item

logger = logging.getLogger("atelier.items")

#: Read the images of any workspace of the site without being a member.
VIEW_ANY = "items.view_workspace_images"
#: Delete any image of any workspace of the site.
DELETE_ANY = "items.delete_workspace_images"
#: The Neuroflash staff roles; each group holds VIEW_ANY and DELETE_ANY.
ROLES = ("NF_ADMIN", "NF_CUSTOMER_SUPPORT", "ADMIN_SERVICE")

POLICY = WORKSPACE_IMAGE
FIELD = "imageUrl"
FETCH_TIMEOUT = 30.0
NOT_A_MEMBER = "You are not a member of this workspace."
NOT_YOURS = (
    "Only the creator of an image, or a user with the NF_ADMIN, NF_CUSTOMER_SUPPORT or ADMIN_SERVICE role, "
    "can delete it."
)
_BASE64_JUNK = re.compile(r"\s+")


# --- access --------------------------------------------------------------------------------------


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def workspace_not_found(workspace_id) -> NotFound:
    return NotFound(f"No workspace has the id '{workspace_id}'.")


def image_not_found(image_id) -> NotFound:
    return NotFound(f"No image has the id '{image_id}' in this workspace.")


def is_member(*, user, workspace: Organization) -> bool:
    return Membership.objects.filter(user=user, organization=workspace).exists()


def workspace_for(*, user, workspace_id, upload: bool = False) -> Organization:
    """The live workspace ``workspace_id`` of the user's site when ``user`` may act in it.

    NotFound (404) when there is no such workspace (a malformed id included); PermissionDenied (403)
    for a user who is not a member, unless ``upload`` is false and the user holds ``VIEW_ANY``.
    """
    pk = _uuid_or_none(workspace_id)
    workspace = Organization.objects.filter(pk=pk, domain_id=user.domain_id).first() if pk else None
    if workspace is None:
        raise workspace_not_found(workspace_id)
    if is_member(user=user, workspace=workspace):
        return workspace
    if not upload and user.has_perm(VIEW_ANY):
        return workspace
    raise PermissionDenied(NOT_A_MEMBER)


# --- reads ---------------------------------------------------------------------------------------


class WorkspaceImageFilter(django_filters.FilterSet):
    """The list's query filters, named as the spec names them."""

    generationId = django_filters.CharFilter(field_name="generation_id", max_length=128)  # noqa: N815
    modelId = django_filters.CharFilter(field_name="model", max_length=200)  # noqa: N815
    createdByUserId = django_filters.UUIDFilter(field_name="owner_id")  # noqa: N815

    class Meta:
        model = Item
        fields = ["generationId", "modelId", "createdByUserId"]


def workspace_images(*, workspace: Organization, query=None) -> QuerySet[Item]:
    """Live images of the workspace, newest first (ties broken by id), narrowed by ``query``
    (``generationId``, ``modelId``, ``createdByUserId``); InvalidInput (400) for a bad filter."""
    queryset = Item.objects.filter(workspace=workspace).order_by("-created_at", "-id")
    if not query:
        return queryset
    filterset = WorkspaceImageFilter(data=query, queryset=queryset)
    if not filterset.is_valid():
        raise InvalidInput(
            errors={(name,): list(messages) for name, messages in filterset.errors.items()}, location="query"
        )
    return filterset.qs


def workspace_image(*, workspace: Organization, image_id) -> Item:
    """The live image ``image_id`` of the workspace; NotFound (404) otherwise."""
    pk = _uuid_or_none(image_id)
    item = Item.objects.filter(pk=pk, workspace=workspace).select_related("file").first() if pk else None
    if item is None:
        raise image_not_found(image_id)
    return item


def can_delete(*, user, item: Item) -> bool:
    return item.owner_id == user.pk or user.has_perm(DELETE_ANY)


# --- upload --------------------------------------------------------------------------------------


def _field_error(message: str) -> InvalidInput:
    return InvalidInput(message, errors={(FIELD,): [message]})


def _max_encoded_length(max_bytes: int) -> int:
    return 4 * ((max_bytes + 2) // 3)


def decode_data_uri(value: str, *, max_bytes: int) -> bytes:
    """The bytes of a ``data:[<media type>][;base64],<data>`` URI; the declared media type is ignored
    (the pipeline sniffs the format). Base64 data longer than ``max_bytes`` decoded is refused (413)
    before it is decoded."""
    header, comma, payload = value[len("data:") :].partition(",")
    if not comma:
        raise _field_error("A data: URI needs a comma before its data, e.g. data:image/png;base64,iVBORw0KGgo….")
    if header.rsplit(";", 1)[-1].strip().lower() == "base64":
        compact = _BASE64_JUNK.sub("", payload)
        if "%" in compact:
            compact = unquote_to_bytes(compact).decode("ascii", "replace")
        if len(compact) > _max_encoded_length(max_bytes):
            raise _too_large(max_bytes)
        try:
            data = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            raise _field_error("The base64 data of the data: URI is not valid base64.") from None
    else:
        data = unquote_to_bytes(payload)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def _too_large(max_bytes: int) -> MediaTooLarge:
    return MediaTooLarge(f"Workspace images may be at most {max_bytes // (1024 * 1024)} MB; send a smaller image.")


def read_image_source(image_url: str, *, policy=None) -> bytes:
    """The raw bytes behind ``imageUrl``: a data: URI decoded, anything else fetched through the
    safe fetch (http and https to public addresses only, capped at the policy's size)."""
    policy = policy or POLICY
    if image_url[:5].lower() == "data:":
        return decode_data_uri(image_url, max_bytes=policy.max_bytes)
    return safe_fetch(image_url, max_bytes=policy.max_bytes, total_timeout=FETCH_TIMEOUT).content


def _store(content: bytes, *, name: str, owner) -> FileObject:
    return files.upload_file(source=content, file_name=name, owner=owner)


def upload_workspace_image(*, workspace: Organization, user, image_url: str, policy=None) -> Item:
    """Create an image in the workspace from ``image_url`` (http(s) URL or data: URI).

    Errors: UnsafeURL (400) for a refused URL; FetchFailed (502) / FetchTimeout (504) when it cannot
    be fetched; MediaTooLarge / FetchTooLarge (413) over the policy's size; MediaRejected (400) for
    bytes that are not an acceptable image. The upload is its own generation: it gets a new
    ``generation_id``, an empty prompt and model.
    """
    policy = policy or POLICY
    raw = read_image_source(image_url, policy=policy)
    processed: ProcessedImage = process_image(raw, policy=policy, field=FIELD)
    image_id = uuid.uuid4()
    stored: list[FileObject] = []
    try:
        with transaction.atomic():
            main = _store(processed.content, name=f"{image_id}.{processed.extension}", owner=user)
            stored.append(main)
            thumb = _store(
                processed.thumbnail, name=f"{image_id}.thumbnail.{processed.thumbnail_extension}", owner=user
            )
            stored.append(thumb)
            now = timezone.now()
            item = Item.objects.create(
                id=image_id,
                owner=user,
                workspace=workspace,
                media_kind=Item.MediaKind.IMAGE,
                model_media_type=(
                    Item.ModelMediaType.ANIMATED_IMAGE if processed.animated else Item.ModelMediaType.STATIC_IMAGE
                ),
                file=main,
                thumbnail=thumb,
                width=processed.width,
                height=processed.height,
                size_bytes=processed.size,
                status=Item.Status.COMPLETED,
                generation_id=str(uuid.uuid4()),
                completed_at=now,
                reference_at=now,
                created_at=now,
            )
    except BaseException:
        for file in stored:
            try:
                files.delete_stored_files(file)
            except Exception:
                logger.exception(
                    "Workspace image %s: the stored bytes of file %s could not be deleted", image_id, file.pk
                )
        raise
    logger.info("Workspace image %s uploaded to workspace %s (%d bytes)", item.pk, workspace.pk, item.size_bytes)
    return item


# --- removal -------------------------------------------------------------------------------------


def delete_workspace_image(*, user, item: Item) -> None:
    """Soft-delete the image (restorable until ``purge_deleted``); only its creator or a holder of
    ``DELETE_ANY`` may. PermissionDenied (403) for anyone else, NotFound when it is already gone."""
    if not can_delete(user=user, item=item):
        raise PermissionDenied(NOT_YOURS)
    with transaction.atomic():
        removed, _ = item.delete()
    if not removed:
        raise image_not_found(item.pk)
    logger.info("Workspace image %s deleted by %s", item.pk, user.pk)

"""Writes on styles: create, update, archive, delete and restore, owners, LoRA files, purge.

Images (``cover_image``, ``data_images``) arrive in any MediaInput form and are resolved by
``apps.core.sartiq.media``. An image a style stops using is released: soft-deleted when nothing else
uses it (and it is not protected), then purged with its files by ``purge_deleted``. A soft-deleted
style keeps its LoRA file and images until it is purged itself (``delete_style_files``).
"""

import logging
import secrets

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from apps.core.errors import Conflict, InvalidInput
from apps.core.sartiq import lora
from apps.core.sartiq.media import release_media, resolve_media_input
from apps.core.sartiq.ownership import is_admin, membership_role
from apps.core.sartiq.viewsets import apply_ownership

from . import selectors
from .models import NAME_MAX_LENGTH, Style, StyleDataImage

logger = logging.getLogger("atelier.styles")

LORA_KIND = "styles"
_SLUG_FALLBACK = "style"
# Numbered candidates tried before a random suffix (``vintage-denim-2`` … ``-99``).
_NUMBERED_SLUGS = 99
# Plain fields an update copies as given; the value None means "leave as it is" for those the
# database cannot hold empty, and "clear" for the others.
_NOT_NULL_FIELDS = ("name", "style_category", "default_lora_weight", "public", "enabled", "archived")
_NULLABLE_FIELDS = ("description", "brand", "prompt_keywords", "lora_trigger")
_UNSET = object()


# --- create ------------------------------------------------------------------------------------------


def create_style(*, user, owner, organization, data: dict) -> Style:
    """A new style of ``owner`` (in ``organization`` or personal) from the validated StyleCreate
    ``data``; its slug is made from the name and never changes."""
    style = Style(
        owner=owner,
        organization=organization,
        name=data["name"],
        description=data.get("description"),
        brand=data.get("brand"),
        style_category=data["style_category"],
        local_model_path=data.get("local_model_path"),
        lora_trigger=data.get("lora_trigger"),
        default_lora_weight=data["default_lora_weight"],
        prompt_keywords=data.get("prompt_keywords"),
        public=data["public"],
        tags=normalize_tags(data.get("tags")),
    )
    style.cover_image = resolve_media_input(
        data["cover_image"], user=user, organization=organization, field="cover_image"
    )
    images = _resolve_data_images(data.get("data_images") or [], user=user, organization=organization)
    _insert_with_slug(style)
    _set_data_images(style, images)
    logger.info("Style %s (%s) created by %s", style.pk, style.slug, user.pk)
    return style


def slug_base(name: str) -> str:
    return slugify(name)[:NAME_MAX_LENGTH].strip("-") or _SLUG_FALLBACK


def _slug_candidates(base: str):
    yield base
    for number in range(2, _NUMBERED_SLUGS + 1):
        yield f"{base}-{number}"
    while True:
        yield f"{base}-{secrets.token_hex(4)}"


def _taken_slugs(base: str) -> set[str]:
    return set(Style.all_objects.filter(slug__startswith=base).values_list("slug", flat=True))


def _insert_with_slug(style: Style) -> None:
    """Insert ``style`` under the first free slug made from its name. Slugs of deleted styles stay
    taken (a restored style keeps its slug); two creations racing for one slug both succeed."""
    base = slug_base(style.name)
    taken = _taken_slugs(base)
    for candidate in _slug_candidates(base):
        if candidate in taken:
            continue
        style.slug = candidate
        try:
            with transaction.atomic():
                style.save(force_insert=True)
            return
        except IntegrityError:
            if not Style.all_objects.filter(slug=candidate).exists():
                raise
            taken.add(candidate)


def normalize_tags(tags) -> list[str]:
    """Tags as stored: trimmed, without empty ones or repeats, in the order given."""
    seen = []
    for tag in tags or []:
        tag = tag.strip()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def _resolve_data_images(values, *, user, organization) -> list:
    return [
        resolve_media_input(value, user=user, organization=organization, field=("data_images", index))
        for index, value in enumerate(values)
    ]


def _set_data_images(style: Style, images: list) -> None:
    StyleDataImage.objects.filter(style=style).delete()
    StyleDataImage.objects.bulk_create(
        StyleDataImage(style=style, media=media, position=position) for position, media in enumerate(images)
    )


# --- update ------------------------------------------------------------------------------------------


def update_style(*, user, style: Style, data: dict, ownership: dict) -> Style:
    """Apply a partial StyleUpdate: fields present in ``data`` change (see ``_NOT_NULL_FIELDS``),
    images given replace the old ones (which are released), ``ownership`` moves the style."""
    style = Style.objects.select_for_update().get(pk=style.pk)
    changed = apply_ownership(style, ownership)
    organization = style.organization
    for name in _NOT_NULL_FIELDS:
        if data.get(name) is not None and getattr(style, name) != data[name]:
            setattr(style, name, data[name])
            changed.append(name)
    for name in _NULLABLE_FIELDS:
        if name in data and getattr(style, name) != data[name]:
            setattr(style, name, data[name])
            changed.append(name)
    if data.get("tags") is not None:
        style.tags = normalize_tags(data["tags"])
        changed.append("tags")
    released = []
    if "cover_image" in data:
        previous = style.cover_image
        style.cover_image = resolve_media_input(
            data["cover_image"], user=user, organization=organization, field="cover_image"
        )
        changed.append("cover_image")
        if previous is not None and previous != style.cover_image:
            released.append(previous)
    new_images = None
    if data.get("data_images") is not None:
        old_images = selectors.data_images(style)
        new_images = _resolve_data_images(data["data_images"], user=user, organization=organization)
        released.extend(media for media in old_images if media not in new_images)
    if changed:
        style.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    if new_images is not None:
        _set_data_images(style, new_images)
        if not changed:
            style.save(update_fields=["updated_at"])
    if released:
        release_media(released)
    return style


def set_archived(*, style: Style, archived: bool) -> Style:
    """Archive or unarchive ``style`` (an archived style stays readable and usable by its owners)."""
    if style.archived != archived:
        style.archived = archived
        style.save(update_fields=["archived", "updated_at"])
    return style


# --- delete, restore, purge --------------------------------------------------------------------------


def delete_style(*, style: Style) -> None:
    """Soft delete: the style disappears; its LoRA file and images stay until it is purged."""
    style.delete()
    logger.info("Style %s deleted", style.pk)


def restore_style(*, style: Style) -> Style:
    """Undo the delete of ``style`` (same slug, same files)."""
    if style.deleted_at is not None:
        style.restore()
        logger.info("Style %s restored", style.pk)
    style.refresh_from_db()
    return style


def delete_style_files(style: Style) -> None:
    """The retention clean-up of a purged style: its LoRA file, and each image nothing else uses
    (and that is not protected) with its files. The row itself is deleted by the caller."""
    lora.delete_lora_file(style)
    links = list(StyleDataImage.objects.filter(style=style).select_related("media"))
    media = [style.cover_image, *(link.media for link in links)]
    release_media(media, ignoring=(style, *links), purge=True)


def purge_style(*, style: Style) -> None:
    """Delete a deleted style for good now, with its files (the back office's purge action)."""
    if style.deleted_at is None:
        raise Conflict(f"The style '{style.slug}' is not deleted; delete it before purging it.")
    with transaction.atomic():
        style = Style.all_objects.select_for_update().get(pk=style.pk)
        delete_style_files(style)
        style.hard_delete()
    logger.info("Style %s purged", style.pk)


# --- administration ------------------------------------------------------------------------------


def assign_owner(*, style: Style, owner, organization=_UNSET) -> Style:
    """Give ``style`` to ``owner``, and move it into ``organization`` when one is given. The owner of
    an organization's style must be a member of it."""
    target = style.organization if organization is _UNSET else organization
    if target is not None and not is_admin(owner) and membership_role(owner, target) is None:
        message = "The new owner is not a member of the style's organization."
        raise InvalidInput(message, errors={("new_owner_id",): [message]})
    style.owner = owner
    style.organization = target
    style.save(update_fields=["owner", "organization", "updated_at"])
    logger.info("Style %s given to %s (organization %s)", style.pk, owner.pk, getattr(target, "pk", None))
    return style


def set_lora_trigger(*, style: Style, lora_trigger: str | None) -> Style:
    """Set the LoRA trigger word of ``style``; empty or None clears it."""
    style.lora_trigger = (lora_trigger or "").strip() or None
    style.save(update_fields=["lora_trigger", "updated_at"])
    return style


def upload_lora(*, style: Style, upload, lora_trigger: str) -> Style:
    """Store ``upload`` as the LoRA of ``style`` (see ``apps.core.sartiq.lora.store_lora``)."""
    return lora.store_lora(obj=style, upload=upload, lora_trigger=lora_trigger, kind=LORA_KIND)

"""Writes of the guidelines app: shot types, background presets, resolution presets.

Callers (the Sartiq ViewSets, the back office) have checked ownership and organization rules
(apps.core.sartiq.ownership) already; these functions validate what depends on the data, turn image
inputs into MediaResource rows and save.
"""

import logging

from django.db import IntegrityError, transaction

from apps.core.errors import Conflict
from apps.core.sartiq.media import release_media, resolve_media_input
from apps.core.sartiq.viewsets import apply_ownership
from apps.core.services import retention

from . import selectors
from .models import BackgroundPreset, BackgroundPresetFraming, ResolutionPreset, ShotType

logger = logging.getLogger("atelier.guidelines")

# Request field -> model attribute of the shot type images.
SHOT_TYPE_IMAGES = {"reference_image_url": "reference_image", "shot_type_ref_image_url": "shot_type_ref_image"}


def _name_taken(name: str) -> Conflict:
    return Conflict(f"A shot type named '{name}' already exists.")


def _save(instance, *, conflict: Conflict) -> None:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise conflict from None


# --- shot types ------------------------------------------------------------------------------------


@transaction.atomic
def create_shot_type(*, user, owner, organization, data: dict) -> ShotType:
    data = dict(data)
    if selectors.shot_type_name_taken(name=data["name"], owner=owner, organization=organization):
        raise _name_taken(data["name"])
    for field, attribute in SHOT_TYPE_IMAGES.items():
        data[attribute] = resolve_media_input(data.pop(field, None), user=user, organization=organization, field=field)
    shot_type = ShotType(owner=owner, organization=organization, **data)
    _save(shot_type, conflict=_name_taken(shot_type.name))
    logger.info("Shot type %s created by %s", shot_type.pk, user.pk)
    return shot_type


@transaction.atomic
def update_shot_type(*, user, shot_type: ShotType, data: dict, ownership: dict) -> ShotType:
    """Partial update: only the fields in ``data`` change; ``ownership`` transfers it. Images that
    are replaced or removed are released (soft-deleted unless something else uses them)."""
    data = dict(data)
    images = {field: data.pop(field) for field in SHOT_TYPE_IMAGES if field in data}
    renamed = "name" in data and data["name"] != shot_type.name
    for name, value in data.items():
        setattr(shot_type, name, value)
    moved = apply_ownership(shot_type, ownership)
    # Checked before any image is stored: a refused update leaves nothing behind.
    if (renamed or moved) and selectors.shot_type_name_taken(
        name=shot_type.name, owner=shot_type.owner, organization=shot_type.organization, exclude=shot_type
    ):
        raise _name_taken(shot_type.name)
    replaced = []
    for field, value in images.items():
        attribute = SHOT_TYPE_IMAGES[field]
        new = resolve_media_input(value, user=user, organization=shot_type.organization, field=field)
        old = getattr(shot_type, attribute)
        if old is not None and (new is None or new.pk != old.pk):
            replaced.append(old)
        setattr(shot_type, attribute, new)
    _save(shot_type, conflict=_name_taken(shot_type.name))
    release_media(replaced)
    return shot_type


@transaction.atomic
def delete_shot_type(*, shot_type: ShotType) -> None:
    """Soft delete: the shot type and its images stay until the retention period has passed."""
    shot_type.delete()


@transaction.atomic
def restore_shot_type(*, shot_type: ShotType) -> ShotType:
    if shot_type.deleted_at is None:
        return shot_type
    if selectors.shot_type_name_taken(
        name=shot_type.name, owner=shot_type.owner, organization=shot_type.organization, exclude=shot_type
    ):
        raise Conflict(f"Another shot type is named '{shot_type.name}' now; rename it before restoring this one.")
    shot_type.restore()
    return shot_type


def release_shot_type_media(shot_type: ShotType) -> None:
    """Retention clean-up: purge the images only this shot type used, with their files."""
    release_media(shot_type.images(), ignoring=(shot_type,), purge=True)


# --- background presets ---------------------------------------------------------------------------


def _make_framings(*, user, preset: BackgroundPreset, framings: list, organization) -> None:
    rows = []
    for position, entry in enumerate(framings):
        image = resolve_media_input(
            entry["image"], user=user, organization=organization, field=("framings", position, "image")
        )
        rows.append(
            BackgroundPresetFraming(preset=preset, position=position, framing=entry.get("framing"), image=image)
        )
    BackgroundPresetFraming.objects.bulk_create(rows)


@transaction.atomic
def create_background_preset(*, user, owner, organization, data: dict) -> BackgroundPreset:
    data = dict(data)
    framings = data.pop("framings")
    preset = BackgroundPreset.objects.create(owner=owner, organization=organization, **data)
    _make_framings(user=user, preset=preset, framings=framings, organization=organization)
    return preset


@transaction.atomic
def update_background_preset(*, user, preset: BackgroundPreset, data: dict, ownership: dict) -> BackgroundPreset:
    """Partial update; ``framings``, when given, replaces every framing of the preset."""
    data = dict(data)
    framings = data.pop("framings", None)
    for name, value in data.items():
        setattr(preset, name, value)
    apply_ownership(preset, ownership)
    preset.save()
    if framings is not None:
        old = list(preset.framings.select_related("image"))
        BackgroundPresetFraming.objects.filter(preset=preset).delete()
        _make_framings(user=user, preset=preset, framings=framings, organization=preset.organization)
        release_media([row.image for row in old])
    return preset


@transaction.atomic
def delete_background_preset(*, preset: BackgroundPreset) -> None:
    preset.delete()


@transaction.atomic
def restore_background_preset(*, preset: BackgroundPreset) -> BackgroundPreset:
    preset.restore()
    return preset


def release_background_preset_media(preset: BackgroundPreset) -> None:
    """Retention clean-up: purge the framing images only this preset used, with their files."""
    framings = list(BackgroundPresetFraming.objects.filter(preset=preset).select_related("image"))
    release_media([row.image for row in framings], ignoring=(preset, *framings), purge=True)


# --- resolution presets ---------------------------------------------------------------------------


@transaction.atomic
def create_resolution_preset(*, user, owner, organization, data: dict) -> ResolutionPreset:
    return ResolutionPreset.objects.create(owner=owner, organization=organization, **data)


@transaction.atomic
def update_resolution_preset(*, user, preset: ResolutionPreset, data: dict, ownership: dict) -> ResolutionPreset:
    for name, value in data.items():
        setattr(preset, name, value)
    apply_ownership(preset, ownership)
    preset.save()
    return preset


@transaction.atomic
def delete_resolution_preset(*, preset: ResolutionPreset) -> None:
    preset.delete()


@transaction.atomic
def restore_resolution_preset(*, preset: ResolutionPreset) -> ResolutionPreset:
    preset.restore()
    return preset


# --- back office --------------------------------------------------------------------------------


def purge_now(queryset) -> retention.PurgeReport:
    """Delete the soft-deleted rows of ``queryset`` for good now, files first (the retention clean-up
    registered for the model); live rows are never purged."""
    return retention.purge_rows(queryset.model, queryset.filter(deleted_at__isnull=False).values_list("pk", flat=True))

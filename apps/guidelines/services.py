"""Writes of the guidelines app: shot types, background presets, resolution presets, shooting
guidelines (pose presets and set designs are edited in the back office).

Callers (the Sartiq ViewSets, the back office) have checked ownership and organization rules
(apps.core.sartiq.ownership) already; these functions validate what depends on the data, turn image
inputs into MediaResource rows and save.
"""

import logging

from django.db import IntegrityError, transaction

from apps.core.errors import Conflict, InvalidInput
from apps.core.sartiq.media import release_media, resolve_media_input
from apps.core.sartiq.viewsets import apply_ownership
from apps.core.services import retention

from . import selectors
from .models import (
    BackgroundPreset,
    BackgroundPresetFraming,
    GuidelinePosePreset,
    GuidelineShotType,
    GuidelineSubject,
    PosePreset,
    ResolutionPreset,
    SetBaseImage,
    SetDesign,
    SetReferenceImage,
    SetSubjectPortrait,
    ShootingGuidelines,
    ShotType,
    ShotTypeRule,
)

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
    """Soft delete: the shot type and its images stay until the retention period has passed. The
    subjects of guidelines that listed it no longer need a base image for it."""
    shot_type.delete()
    _refresh_subjects(selectors.subject_ids_needing_shot_type(shot_type.pk))


@transaction.atomic
def restore_shot_type(*, shot_type: ShotType) -> ShotType:
    if shot_type.deleted_at is None:
        return shot_type
    if selectors.shot_type_name_taken(
        name=shot_type.name, owner=shot_type.owner, organization=shot_type.organization, exclude=shot_type
    ):
        raise Conflict(f"Another shot type is named '{shot_type.name}' now; rename it before restoring this one.")
    shot_type.restore()
    _refresh_subjects(selectors.subject_ids_needing_shot_type(shot_type.pk))
    return shot_type


def release_shot_type_media(shot_type: ShotType) -> None:
    """Retention clean-up: purge the images only this shot type used, with their files, and the
    subjects' base images for it (their rows go with the shot type)."""
    from apps.subjects import selectors as subjects

    bases = subjects.base_images_of_shot_type(shot_type)
    images = [*shot_type.images(), *(row.media for row in bases)]
    release_media(images, ignoring=(shot_type, *bases), purge=True)


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


# --- shooting guidelines -------------------------------------------------------------------------

# Request field -> (model attribute, what it names, visible rows of the caller) of single references.
_REFERENCES = {
    "resolution_preset_id": ("resolution_preset", "resolution preset", selectors.visible_resolution_presets),
    "background_preset_id": ("background_preset", "background preset", selectors.visible_background_presets),
    "set_design_id": ("set_design", "set design", selectors.visible_set_designs),
}


def _visible_subjects(*, user, organization):
    from apps.subjects import selectors as subjects

    return subjects.visible_subjects(user=user, organization=organization)


_LISTS = {
    "shot_type_ids": ("shot type", selectors.visible_shot_types),
    "subject_ids": ("subject", _visible_subjects),
    "pose_preset_ids": ("pose preset", selectors.visible_pose_presets),
}
_PLAIN_FIELDS = ("name", "auto_start_look_generations", "allow_back_shots_without_back_image")
_OPAQUE_IDS = ("stylist_id", "export_configuration_id")
TEMPLATE_FIELD = "generative_workflow_template_id"


def _resolve_list(ids, field: str, what: str, visible, errors: dict) -> list:
    found = {row.pk: row for row in visible.filter(pk__in=ids)}
    rows = []
    for index, pk in enumerate(ids):
        if pk not in found:
            errors[(field, index)] = [f"No {what} you can use has the id '{pk}'."]
        elif found[pk] not in rows:
            rows.append(found[pk])
    return rows


def _resolve_references(*, user, organization, data: dict) -> dict:
    """The rows the ids of ``data`` name, each checked to exist and to be usable by ``user`` in a
    resource of ``organization``; one 422 naming every field that fails."""
    errors: dict = {}
    resolved: dict = {}
    for field, (attribute, what, visible) in _REFERENCES.items():
        if field not in data:
            continue
        pk = data[field]
        row = None
        if pk is not None:
            row = visible(user=user, organization=organization).filter(pk=pk).first()
            if row is None:
                errors[(field,)] = [f"No {what} you can use has the id '{pk}'."]
        resolved[attribute] = row
    for field, (what, visible) in _LISTS.items():
        if data.get(field) is not None:
            resolved[field] = _resolve_list(
                data[field], field, what, visible(user=user, organization=organization), errors
            )
    if data.get("shot_type_rules") is not None:
        shot_types = selectors.visible_shot_types(user=user, organization=organization)
        groups = []
        for index, group in enumerate(data["shot_type_rules"]):
            field = ("shot_type_rules", index, "shot_type_ids")
            found = {row.pk: row for row in shot_types.filter(pk__in=group["shot_type_ids"])}
            for position, pk in enumerate(group["shot_type_ids"]):
                if pk not in found:
                    errors[(*field, position)] = [f"No shot type you can use has the id '{pk}'."]
            groups.append((group["rule_kind"], group["rule_value"], [found.get(pk) for pk in group["shot_type_ids"]]))
        resolved["shot_type_rules"] = groups
    if TEMPLATE_FIELD in data:
        resolved["generative_workflow_template"] = _template(
            data[TEMPLATE_FIELD], user=user, organization=organization, errors=errors
        )
    if errors:
        raise InvalidInput(errors=errors)
    return resolved


def _template(template_id, *, user, organization, errors: dict):
    if template_id is None:
        return None
    from apps.text2image import selectors as engine

    template = engine.workflow_template_for_guideline(user=user, organization=organization, template_id=template_id)
    if template is None:
        scope = "this organization" if organization is not None else "personal guidelines"
        errors[(TEMPLATE_FIELD,)] = [
            f"No validated workflow template usable by {scope} has the id '{template_id}' (it may belong to "
            "another organization, or not be validated yet)."
        ]
    return template


def _set_links(model, guideline, field: str, rows: list) -> None:
    model.objects.filter(guideline=guideline).delete()
    model.objects.bulk_create(
        model(guideline=guideline, position=position, **{field: row}) for position, row in enumerate(rows)
    )


def _set_rules(guideline, groups: list) -> None:
    ShotTypeRule.objects.filter(guideline=guideline).delete()
    ShotTypeRule.objects.bulk_create(
        ShotTypeRule(
            guideline=guideline, rule_kind=kind, rule_value=value, shot_type=shot_type, group=group, position=position
        )
        for group, (kind, value, shot_types) in enumerate(groups)
        for position, shot_type in enumerate(shot_types)
    )


def _refresh_subjects(subject_ids) -> None:
    from apps.subjects import services as subjects

    subjects.refresh_readiness(subject_ids=subject_ids)


def refresh_guideline_subjects(subject_ids) -> None:
    """Recompute whether these subjects are ready (after the back office changed guidelines)."""
    _refresh_subjects(subject_ids)


@transaction.atomic
def create_guidelines(*, user, owner, organization, data: dict) -> ShootingGuidelines:
    """New shooting guidelines of ``owner`` from validated ShootingGuidelinesCreate ``data``: the
    links and the shot-type rules are created in the same transaction."""
    resolved = _resolve_references(user=user, organization=organization, data=data)
    guideline = ShootingGuidelines.objects.create(
        owner=owner,
        organization=organization,
        name=data["name"],
        auto_start_look_generations=data["auto_start_look_generations"],
        allow_back_shots_without_back_image=data["allow_back_shots_without_back_image"],
        resolution_preset=resolved.get("resolution_preset"),
        background_preset=resolved.get("background_preset"),
        set_design=resolved.get("set_design"),
        stylist_id=data.get("stylist_id"),
        export_configuration_id=data.get("export_configuration_id"),
        generative_workflow_template=resolved.get("generative_workflow_template"),
    )
    _set_links(GuidelineShotType, guideline, "shot_type", resolved.get("shot_type_ids", []))
    _set_links(GuidelineSubject, guideline, "subject", resolved.get("subject_ids", []))
    _set_links(GuidelinePosePreset, guideline, "pose_preset", resolved.get("pose_preset_ids", []))
    _set_rules(guideline, resolved.get("shot_type_rules") or [])
    _refresh_subjects(row.pk for row in resolved.get("subject_ids", []))
    logger.info("Shooting guidelines %s created by %s", guideline.pk, user.pk)
    return guideline


@transaction.atomic
def update_guidelines(*, user, guideline: ShootingGuidelines, data: dict, ownership: dict) -> ShootingGuidelines:
    """Partial update. Lists given replace the old ones; ``shot_type_rules`` given replaces every
    rule (``[]`` clears them) and is left alone when absent. Moving the guidelines to another
    organization checks their workflow template again."""
    guideline = ShootingGuidelines.objects.select_for_update().get(pk=guideline.pk)
    before = selectors.guideline_subject_ids(guideline)
    apply_ownership(guideline, ownership)
    organization = guideline.organization
    checked = dict(data)
    if "organization" in ownership and TEMPLATE_FIELD not in checked and guideline.generative_workflow_template_id:
        checked[TEMPLATE_FIELD] = guideline.generative_workflow_template_id
    resolved = _resolve_references(user=user, organization=organization, data=checked)
    for name in _PLAIN_FIELDS:
        if name in data:
            setattr(guideline, name, data[name])
    for name in _OPAQUE_IDS:
        if name in data:
            setattr(guideline, name, data[name])
    for _, (attribute, _, _) in _REFERENCES.items():
        if attribute in resolved:
            setattr(guideline, attribute, resolved[attribute])
    if "generative_workflow_template" in resolved:
        guideline.generative_workflow_template = resolved["generative_workflow_template"]
    guideline.save()
    if "shot_type_ids" in resolved:
        _set_links(GuidelineShotType, guideline, "shot_type", resolved["shot_type_ids"])
    if "subject_ids" in resolved:
        _set_links(GuidelineSubject, guideline, "subject", resolved["subject_ids"])
    if "pose_preset_ids" in resolved:
        _set_links(GuidelinePosePreset, guideline, "pose_preset", resolved["pose_preset_ids"])
    if "shot_type_rules" in resolved:
        _set_rules(guideline, resolved["shot_type_rules"])
    _refresh_subjects(before | selectors.guideline_subject_ids(guideline))
    return guideline


@transaction.atomic
def delete_guidelines(*, guideline: ShootingGuidelines) -> None:
    """Soft delete; its subjects no longer need its shot types."""
    guideline.delete()
    _refresh_subjects(selectors.guideline_subject_ids(guideline))


@transaction.atomic
def restore_guidelines(*, guideline: ShootingGuidelines) -> ShootingGuidelines:
    guideline.restore()
    _refresh_subjects(selectors.guideline_subject_ids(guideline))
    return guideline


def release_pose_preset_media(preset: PosePreset) -> None:
    """Retention clean-up: purge the pose image only this preset used, with its files."""
    release_media([preset.pose_image], ignoring=(preset,), purge=True)


def release_set_design_media(set_design: SetDesign) -> None:
    """Retention clean-up: purge the images only this set design used, with their files."""
    rows = [
        *SetBaseImage.objects.filter(set_design=set_design).select_related("image"),
        *SetReferenceImage.objects.filter(set_design=set_design).select_related("image"),
        *SetSubjectPortrait.objects.filter(set_design=set_design).select_related("image"),
    ]
    release_media([row.image for row in rows], ignoring=(set_design, *rows), purge=True)

"""Writes on subjects: create, update, base images, readiness, copy, delete, restore and purge,
owners, LoRA files; the ZIP uploads of base images are in ``apps.subjects.ingest``.

Images arrive in any MediaInput form and are resolved by ``apps.core.sartiq.media``. An image a
subject stops using is released: soft-deleted when nothing else uses it (and it is not protected),
then purged with its files. A soft-deleted subject keeps its LoRA file and images until it is purged
itself (``delete_subject_files``).

**Ready.** A subject is ready when it has a cover image and a base image for every shot type its
shooting guidelines need (``apps.guidelines.selectors.shot_types_required_for_subjects``: the live
shot types of every live guideline that lists the subject, back-view ones excepted where the
guideline allows back shots without a back image), and nobody held it back with ``ready: false``.
``refresh_readiness`` recomputes it whenever one of those inputs changes.
"""

import logging
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.text import slugify

from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.core.sartiq import lora
from apps.core.sartiq.media import release_media, resolve_media_input
from apps.core.sartiq.ownership import is_admin, membership_role
from apps.core.sartiq.viewsets import apply_ownership

from . import selectors
from .models import (
    NAME_MAX_LENGTH,
    Subject,
    SubjectBaseImage,
    SubjectBaseImagesUploadTask,
    SubjectImage,
    SubjectMeasurements,
)

logger = logging.getLogger("atelier.subjects")

LORA_KIND = "subjects"
_SLUG_FALLBACK = "subject"
_NUMBERED_SLUGS = 99
# Plain fields an update copies as given. For these, None means "leave as it is" (the database
# cannot hold them empty); for the nullable ones, None clears the value.
_NOT_NULL_FIELDS = ("name", "age_class", "gender", "public")
_NULLABLE_FIELDS = ("surname", "description", "ethnicity", "positive_prompt", "negative_prompt", "body_type")
MEASUREMENT_FIELDS = ("height_cm", "bust_cm", "waist_cm", "hips_cm", "shoe_eu", "eye_color", "hair_color")
_UNSET = object()


# --- create ------------------------------------------------------------------------------------------


def create_subject(*, user, owner, organization, data: dict) -> Subject:
    """A new subject of ``owner`` (in ``organization`` or personal) from validated SubjectCreate
    ``data``. ``cover_image`` may be absent (a subject made from a ZIP gets its cover from it)."""
    subject = Subject(
        owner=owner,
        organization=organization,
        name=data["name"],
        surname=data.get("surname"),
        description=data.get("description"),
        age_class=data["age_class"],
        gender=data.get("gender") or Subject._meta.get_field("gender").default,
        subject_type=data.get("subject_type") or Subject._meta.get_field("subject_type").default,
        body_type=data.get("body_type"),
        positive_prompt=data.get("positive_prompt"),
        negative_prompt=data.get("negative_prompt"),
        ethnicity=data.get("ethnicity"),
        public=bool(data.get("public", False)),
        local_model_path=data.get("local_model_path"),
        lora_trigger=data.get("lora_trigger"),
        lora_status=data.get("lora_status") or lora.LoraStatus.NONE,
    )
    subject.cover_image = resolve_media_input(
        data.get("cover_image"), user=user, organization=organization, field="cover_image"
    )
    subject.portrait_image = resolve_media_input(
        data.get("portrait_image"), user=user, organization=organization, field="portrait_image"
    )
    data_images = _resolve_images(data.get("data_images") or [], "data_images", user=user, organization=organization)
    portfolio = _resolve_images(
        data.get("portfolio_images") or [], "portfolio_images", user=user, organization=organization
    )
    base_images = _resolve_base_images(data.get("base_images") or [], user=user, organization=organization)
    insert_with_slug(subject)
    _set_images(subject, SubjectImage.Kind.DATA, data_images)
    _set_images(subject, SubjectImage.Kind.PORTFOLIO, portfolio)
    for shot_type, media in base_images:
        SubjectBaseImage.objects.create(subject=subject, shot_type=shot_type, media=media)
    if data.get("measurements") is not None:
        _save_measurements(subject, data["measurements"])
    refresh_readiness(subject_ids=[subject.pk])
    logger.info("Subject %s (%s) created by %s", subject.pk, subject.slug, user.pk)
    return selectors.live_subject(subject.pk)


def slug_base(subject: Subject) -> str:
    text = f"{subject.name} {subject.surname or ''}"
    return slugify(text)[:NAME_MAX_LENGTH].strip("-") or _SLUG_FALLBACK


def _slug_candidates(base: str):
    yield base
    for number in range(2, _NUMBERED_SLUGS + 1):
        yield f"{base}-{number}"
    while True:
        yield f"{base}-{secrets.token_hex(4)}"


def insert_with_slug(subject: Subject) -> None:
    """Insert ``subject`` under the first free slug made from its name. Slugs of deleted subjects
    stay taken (a restored subject keeps its slug); two creations racing for one slug both succeed."""
    base = slug_base(subject)
    taken = set(Subject.all_objects.filter(slug__startswith=base).values_list("slug", flat=True))
    for candidate in _slug_candidates(base):
        if candidate in taken:
            continue
        subject.slug = candidate
        try:
            with transaction.atomic():
                subject.save(force_insert=True)
            return
        except IntegrityError:
            if not Subject.all_objects.filter(slug=candidate).exists():
                raise
            taken.add(candidate)


def _resolve_images(values, field: str, *, user, organization) -> list:
    return [
        resolve_media_input(value, user=user, organization=organization, field=(field, index))
        for index, value in enumerate(values)
    ]


def _set_images(subject: Subject, kind: str, images: list) -> None:
    SubjectImage.objects.filter(subject=subject, kind=kind).delete()
    SubjectImage.objects.bulk_create(
        SubjectImage(subject=subject, kind=kind, media=media, position=position)
        for position, media in enumerate(images)
    )


def _resolve_base_images(entries, *, user, organization) -> list:
    """(shot type, media) for each BaseImageCreate entry; one entry per shot type."""
    seen, out = set(), []
    for index, entry in enumerate(entries):
        shot_type = visible_shot_type(
            entry["shot_type_id"], user=user, organization=organization, field=("base_images", index, "shot_type_id")
        )
        if shot_type.pk in seen:
            message = "Another entry already gives the base image of this shot type."
            raise InvalidInput(errors={("base_images", index, "shot_type_id"): [message]})
        seen.add(shot_type.pk)
        media = resolve_media_input(
            entry["image_url"], user=user, organization=organization, field=("base_images", index, "image_url")
        )
        out.append((shot_type, media))
    return out


def visible_shot_type(shot_type_id, *, user, organization, field):
    """The live shot type ``shot_type_id`` a subject of ``organization`` may have a base image for;
    a 422 at ``field`` otherwise."""
    from apps.guidelines import selectors as guidelines

    shot_type = guidelines.visible_shot_types(user=user, organization=organization).filter(pk=shot_type_id).first()
    if shot_type is None:
        loc = field if isinstance(field, tuple) else (field,)
        raise InvalidInput(errors={loc: [f"No shot type you can use has the id '{shot_type_id}'."]})
    return shot_type


def _save_measurements(subject: Subject, values: dict) -> SubjectMeasurements:
    measurements = SubjectMeasurements.objects.filter(subject=subject).first() or SubjectMeasurements(subject=subject)
    for name in MEASUREMENT_FIELDS:
        if name in values:
            setattr(measurements, name, values[name])
    measurements.save()
    return measurements


# --- update ------------------------------------------------------------------------------------------


def update_subject(*, user, subject: Subject, data: dict, ownership: dict) -> Subject:
    """Apply a partial SubjectUpdate: fields present in ``data`` change (see ``_NOT_NULL_FIELDS``);
    images given replace the old ones (which are released); ``measurements`` changes the fields it
    names (null deletes them); ``ready`` false holds the subject back, true releases it (a 422 when
    it is not complete); ``ownership`` moves the subject."""
    subject = Subject.objects.select_for_update().get(pk=subject.pk)
    changed = apply_ownership(subject, ownership)
    organization = subject.organization
    for name in _NOT_NULL_FIELDS:
        if data.get(name) is not None and getattr(subject, name) != data[name]:
            setattr(subject, name, data[name])
            changed.append(name)
    for name in _NULLABLE_FIELDS:
        if name in data and getattr(subject, name) != data[name]:
            setattr(subject, name, data[name])
            changed.append(name)
    released = []
    for field, attribute in (("cover_image", "cover_image"), ("portrait_image", "portrait_image")):
        if field not in data:
            continue
        previous = getattr(subject, attribute)
        new = resolve_media_input(data[field], user=user, organization=organization, field=field)
        setattr(subject, attribute, new)
        changed.append(attribute)
        if previous is not None and previous != new:
            released.append(previous)
    replaced_images = {}
    for field, kind in (("data_images", SubjectImage.Kind.DATA), ("portfolio_images", SubjectImage.Kind.PORTFOLIO)):
        if data.get(field) is not None:
            old = list(SubjectImage.objects.filter(subject=subject, kind=kind).select_related("media"))
            new = _resolve_images(data[field], field, user=user, organization=organization)
            replaced_images[kind] = new
            released.extend(link.media for link in old if link.media not in new)
    if data.get("ready") is not None:
        held_back = not data["ready"]
        if subject.held_back != held_back:
            subject.held_back = held_back
            changed.append("held_back")
        if held_back and subject.ready:
            subject.ready = False
            changed.append("ready")
    subject.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    for kind, images in replaced_images.items():
        _set_images(subject, kind, images)
    if "measurements" in data:
        if data["measurements"] is None:
            SubjectMeasurements.objects.filter(subject=subject).delete()
        else:
            _save_measurements(subject, data["measurements"])
    if released:
        release_media(released)
    refresh_readiness(subject_ids=[subject.pk])
    if data.get("ready"):
        missing = missing_for_ready(Subject.objects.get(pk=subject.pk))
        if missing:
            raise InvalidInput(errors={("ready",): [f"The subject is not complete: {'; '.join(missing)}."]})
    return selectors.live_subject(subject.pk)


# --- readiness ---------------------------------------------------------------------------------------


def _needs(subject_ids) -> tuple[dict, dict, dict]:
    from apps.guidelines import selectors as guidelines

    subject_ids = list(subject_ids)
    needed = guidelines.shot_types_required_for_subjects(subject_ids)
    present: dict = {subject_id: set() for subject_id in subject_ids}
    rows = selectors.live_base_images().filter(subject_id__in=subject_ids).values_list("subject_id", "shot_type_id")
    for subject_id, shot_type_id in rows:
        present[subject_id].add(shot_type_id)
    states = {
        pk: (cover_id, held_back)
        for pk, cover_id, held_back in Subject.all_objects.filter(pk__in=subject_ids).values_list(
            "pk", "cover_image_id", "held_back"
        )
    }
    return needed, present, states


def refresh_readiness(*, subject_ids) -> None:
    """Recompute ``ready`` of these subjects (deleted ones too) from their cover, their base images
    and what their guidelines need; rows change only where the answer changed."""
    subject_ids = list(dict.fromkeys(subject_ids))
    if not subject_ids:
        return
    needed, present, states = _needs(subject_ids)
    ready, not_ready = [], []
    for pk, (cover_id, held_back) in states.items():
        complete = cover_id is not None and needed.get(pk, set()) <= present.get(pk, set())
        (ready if complete and not held_back else not_ready).append(pk)
    if ready:
        Subject.all_objects.filter(pk__in=ready, ready=False).update(ready=True)
    if not_ready:
        Subject.all_objects.filter(pk__in=not_ready, ready=True).update(ready=False)


def missing_for_ready(subject: Subject) -> list[str]:
    """What ``subject`` lacks to be ready, in words (empty when it is complete)."""
    from apps.guidelines.models import ShotType

    needed, present, _ = _needs([subject.pk])
    missing = []
    if subject.cover_image_id is None:
        missing.append("it has no cover image")
    lacking = needed.get(subject.pk, set()) - present.get(subject.pk, set())
    if lacking:
        names = sorted(ShotType.objects.filter(pk__in=lacking).values_list("name", flat=True))
        missing.append(f"base images are missing for the shot types {', '.join(names)}")
    return missing


# --- base images -------------------------------------------------------------------------------------


def set_base_image(*, user, subject: Subject, shot_type, media) -> SubjectBaseImage:
    """Make ``media`` the base image of ``subject`` for ``shot_type``, replacing (and releasing)
    the previous one."""
    row = SubjectBaseImage.objects.select_for_update().filter(subject=subject, shot_type=shot_type).first()
    previous = None
    if row is None:
        row = SubjectBaseImage.objects.create(subject=subject, shot_type=shot_type, media=media)
    elif row.media_id != media.pk:
        previous = row.media
        row.media = media
        row.save(update_fields=["media", "updated_at"])
    if previous is not None:
        release_media([previous])
    Subject.objects.filter(pk=subject.pk).update(updated_at=timezone.now())
    refresh_readiness(subject_ids=[subject.pk])
    return row


def add_base_image(*, user, subject: Subject, shot_type_id, image_url: str) -> SubjectBaseImage:
    """BaseImageCreate: the image (an upload's URL, or any image input) becomes the base image of
    ``subject`` for the shot type."""
    shot_type = visible_shot_type(shot_type_id, user=user, organization=subject.organization, field="shot_type_id")
    media = resolve_media_input(image_url, user=user, organization=subject.organization, field="image_url")
    return set_base_image(user=user, subject=subject, shot_type=shot_type, media=media)


def media_id_from_url(url: str):
    """The id of the media resource a media URL of this server names, or None."""
    text = (url or "").strip()
    base = (getattr(settings, "SARTIQ_PUBLIC_BASE_URL", "") or "").rstrip("/")
    path = text[len(base) :] if base and text.startswith(base + "/") else urlsplit(text).path
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.kwargs.get("pk") if match.url_name == "sartiq-media" else None


def delete_base_image(*, subject: Subject, url: str) -> None:
    """Delete the base image of ``subject`` whose URL is ``url``; its image is released."""
    media_id = media_id_from_url(url)
    row = selectors.base_image_by_media(subject, media_id) if media_id is not None else None
    if row is None:
        raise NotFound("The subject has no base image with this URL.")
    media = row.media
    row.delete()
    release_media([media])
    Subject.objects.filter(pk=subject.pk).update(updated_at=timezone.now())
    refresh_readiness(subject_ids=[subject.pk])


# --- copy, delete, restore, purge --------------------------------------------------------------------


def copy_subject(*, user, subject: Subject) -> Subject:
    """A copy of ``subject`` for ``user`` (personal, private): its fields, measurements and image
    references (the same media resources), with a fresh slug. Not copied: the LoRA (file, trigger,
    status), the hold on readiness, upload tasks and guideline memberships."""
    copy = Subject(
        owner=user,
        organization=None,
        name=subject.name,
        surname=subject.surname,
        description=subject.description,
        age_class=subject.age_class,
        gender=subject.gender,
        subject_type=subject.subject_type,
        body_type=subject.body_type,
        positive_prompt=subject.positive_prompt,
        negative_prompt=subject.negative_prompt,
        ethnicity=subject.ethnicity,
        public=False,
        enabled=subject.enabled,
        cover_image=subject.cover_image,
        portrait_image=subject.portrait_image,
        copied_from=subject,
    )
    insert_with_slug(copy)
    SubjectImage.objects.bulk_create(
        SubjectImage(subject=copy, kind=link.kind, media_id=link.media_id, position=link.position)
        for link in SubjectImage.objects.filter(subject=subject)
    )
    SubjectBaseImage.objects.bulk_create(
        SubjectBaseImage(subject=copy, shot_type_id=row.shot_type_id, media_id=row.media_id)
        for row in SubjectBaseImage.objects.filter(subject=subject)
    )
    measurements = SubjectMeasurements.objects.filter(subject=subject).first()
    if measurements is not None:
        SubjectMeasurements.objects.create(
            subject=copy, **{name: getattr(measurements, name) for name in MEASUREMENT_FIELDS}
        )
    refresh_readiness(subject_ids=[copy.pk])
    logger.info("Subject %s copied to %s by %s", subject.pk, copy.pk, user.pk)
    return selectors.live_subject(copy.pk)


def delete_subject(*, subject: Subject) -> None:
    """Soft delete: the subject disappears (from guidelines too); its LoRA file and images stay
    until it is purged."""
    subject.delete()
    logger.info("Subject %s deleted", subject.pk)


def restore_subject(*, subject: Subject) -> Subject:
    """Undo the delete of ``subject`` (same slug, same files)."""
    if subject.deleted_at is not None:
        subject.restore()
        logger.info("Subject %s restored", subject.pk)
    refresh_readiness(subject_ids=[subject.pk])
    return selectors.subject_for_admin(subject.pk)


def delete_subject_files(subject: Subject) -> None:
    """The retention clean-up of a purged subject: its LoRA file, its stored upload archives, and
    each image nothing else uses (and that is not protected) with its files. The row itself is
    deleted by the caller."""
    lora.delete_lora_file(subject)
    tasks = SubjectBaseImagesUploadTask.objects.filter(subject=subject).exclude(archive_name="")
    for name in tasks.values_list("archive_name", flat=True):
        delete_stored_archive(name)
    links = list(SubjectImage.objects.filter(subject=subject).select_related("media"))
    bases = list(SubjectBaseImage.objects.filter(subject=subject).select_related("media"))
    media = [subject.cover_image, subject.portrait_image, *(row.media for row in links), *(row.media for row in bases)]
    release_media(media, ignoring=(subject, *links, *bases), purge=True)


def delete_stored_archive(name: str) -> None:
    """Delete an upload's archive from storage; a failure is logged (the purge retries later)."""
    try:
        default_storage.delete(name)
    except Exception:
        logger.exception("The stored archive %s could not be deleted", name)


def purge_subject(*, subject: Subject) -> None:
    """Delete a deleted subject for good now, with its files (the back office's purge action)."""
    if subject.deleted_at is None:
        raise Conflict(f"The subject '{subject.slug}' is not deleted; delete it before purging it.")
    with transaction.atomic():
        subject = Subject.all_objects.select_for_update().get(pk=subject.pk)
        delete_subject_files(subject)
        subject.hard_delete()
    logger.info("Subject %s purged", subject.pk)


# --- administration ------------------------------------------------------------------------------


def _check_member(owner, organization, field: str) -> None:
    if organization is not None and not is_admin(owner) and membership_role(owner, organization) is None:
        message = "The new owner is not a member of the subject's organization."
        raise InvalidInput(message, errors={(field,): [message]})


def assign_owner(*, subject: Subject, owner, organization=_UNSET) -> Subject:
    """Give ``subject`` to ``owner``, and move it into ``organization`` when one is given. The owner
    of an organization's subject must be a member of it."""
    target = subject.organization if organization is _UNSET else organization
    _check_member(owner, target, "new_owner_id")
    subject.owner = owner
    subject.organization = target
    subject.save(update_fields=["owner", "organization", "updated_at"])
    logger.info("Subject %s given to %s (organization %s)", subject.pk, owner.pk, getattr(target, "pk", None))
    return subject


def assign_subjects(*, subject_ids: list, owner, organization=_UNSET) -> list[Subject]:
    """Give every live subject of ``subject_ids`` to ``owner`` (and move them into
    ``organization``), all or none: an unknown id is a 422 naming its position."""
    rows = {row.pk: row for row in Subject.objects.select_for_update().filter(pk__in=subject_ids)}
    unknown = {
        ("subject_ids", index): [f"No subject has the id '{subject_id}'."]
        for index, subject_id in enumerate(subject_ids)
        if subject_id not in rows
    }
    if unknown:
        raise InvalidInput(errors=unknown)
    assigned = []
    for subject_id in dict.fromkeys(subject_ids):
        subject = rows[subject_id]
        target = subject.organization if organization is _UNSET else organization
        try:
            _check_member(owner, target, "user_id")
        except InvalidInput:
            message = f"The user is not a member of the organization of the subject '{subject.slug}'."
            raise InvalidInput(message, errors={("user_id",): [message]}, location="path") from None
        subject.owner = owner
        subject.organization = target
        subject.save(update_fields=["owner", "organization", "updated_at"])
        assigned.append(subject)
    logger.info("%d subject(s) given to %s", len(assigned), owner.pk)
    return assigned


def set_lora_trigger(*, subject: Subject, lora_trigger: str | None) -> Subject:
    """Set the LoRA trigger word of ``subject``; empty or None clears it."""
    subject.lora_trigger = (lora_trigger or "").strip() or None
    subject.save(update_fields=["lora_trigger", "updated_at"])
    return subject


def upload_lora(*, subject: Subject, upload, lora_trigger: str) -> Subject:
    """Store ``upload`` as the LoRA of ``subject`` (see ``apps.core.sartiq.lora.store_lora``)."""
    return lora.store_lora(obj=subject, upload=upload, lora_trigger=lora_trigger, kind=LORA_KIND)

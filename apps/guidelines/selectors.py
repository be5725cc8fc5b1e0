"""Reads of the guidelines app: base querysets (with what serializing needs) and lookups."""

import re

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from apps.core.sartiq.ownership import accessible_queryset, has_public_flag, is_admin

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
    ViewAngle,
)


def shot_types() -> QuerySet:
    return ShotType.objects.select_related("reference_image", "shot_type_ref_image")


def background_presets() -> QuerySet:
    framings = BackgroundPresetFraming.objects.select_related("image").order_by("position")
    return BackgroundPreset.objects.prefetch_related(Prefetch("framings", queryset=framings))


def resolution_presets() -> QuerySet:
    return ResolutionPreset.objects.all()


def shot_type_by_name(*, user, name: str, organization_id=None) -> ShotType | None:
    """The shot type named ``name`` the user can read: the user's own (or the organization's) first,
    then a public one (the oldest, so the answer is stable)."""
    queryset = accessible_queryset(shot_types(), user=user, organization_id=organization_id).filter(name=name)
    own = When(organization_id__isnull=False, then=Value(0)) if organization_id else When(owner=user, then=Value(0))
    return (
        queryset.annotate(_rank=Case(own, default=Value(1), output_field=IntegerField()))
        .order_by("_rank", "created_at", "id")
        .first()
    )


def shot_type_name_taken(*, name: str, owner, organization, exclude=None) -> bool:
    """Whether a live shot type of the same scope (the organization, or the owner's personal ones)
    already has ``name``."""
    queryset = ShotType.objects.filter(name=name)
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    else:
        queryset = queryset.filter(owner=owner, organization__isnull=True)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk)
    return queryset.exists()


# --- what other resources may use, and what subjects need ----------------------------------------

#: Shot types seen from behind: with ``allow_back_shots_without_back_image`` they need no base image.
BACK_VIEW_ANGLES = frozenset({ViewAngle.BACK, ViewAngle.BACK_LEFT, ViewAngle.BACK_RIGHT})


def visible(queryset: QuerySet, *, user, organization=None) -> QuerySet:
    """The rows of ``queryset`` that ``user`` may refer to from a resource of ``organization``
    (None: a personal one): that organization's and the public ones; for a personal resource, the
    user's own, those of the user's organizations and the public ones. Superusers may use all."""
    if is_admin(user):
        return queryset
    if organization is not None:
        condition = Q(organization=organization)
        if has_public_flag(queryset.model):
            condition |= Q(public=True)
        return queryset.filter(condition)
    return accessible_queryset(queryset, user=user)


def visible_shot_types(*, user, organization=None) -> QuerySet:
    return visible(ShotType.objects.all(), user=user, organization=organization)


def shot_types_by_key(*, user, organization=None, owner=None) -> dict:
    """The shot types a subject's base image may be for, by their normalized name (``shot_key``)
    and, where no name claims it, by their ``default_shot_type``. When several share a key, those of
    the subject's scope (its organization, or ``owner``'s personal ones) win, then the oldest."""
    queryset = visible_shot_types(user=user, organization=organization)
    if organization is not None:
        own = When(organization=organization, then=Value(0))
    else:
        own = When(owner=owner or user, organization__isnull=True, then=Value(0))
    ranked = queryset.annotate(_rank=Case(own, default=Value(1), output_field=IntegerField())).order_by(
        "_rank", "created_at", "id"
    )
    by_name, by_default = {}, {}
    for shot_type in ranked:
        by_name.setdefault(shot_key(shot_type.name), shot_type)
        if shot_type.default_shot_type:
            by_default.setdefault(shot_type.default_shot_type, shot_type)
    return {**by_default, **by_name}


def shot_key(name: str) -> str:
    """A shot type name as a file name stem matches it: case-folded, runs of blanks, hyphens and
    dots made one underscore (``Front full-body`` -> ``front_full_body``)."""
    return re.sub(r"[\s.\-_]+", "_", (name or "").strip().casefold()).strip("_")


def shot_types_required_for_subjects(subject_ids) -> dict:
    """For each subject id, the ids of the shot types it needs a base image for: the live shot
    types of every live shooting guideline that lists it, except back-view ones for guidelines that
    allow back shots without a back image."""
    subject_ids = list(subject_ids)
    memberships = list(
        GuidelineSubject.objects.filter(subject_id__in=subject_ids, guideline__deleted_at__isnull=True).values_list(
            "subject_id", "guideline_id", "guideline__allow_back_shots_without_back_image"
        )
    )
    needed: dict = {subject_id: set() for subject_id in subject_ids}
    if not memberships:
        return needed
    shots: dict = {}
    rows = GuidelineShotType.objects.filter(
        guideline_id__in={guideline_id for _, guideline_id, _ in memberships}, shot_type__deleted_at__isnull=True
    ).values_list("guideline_id", "shot_type_id", "shot_type__view_angle")
    for guideline_id, shot_type_id, view_angle in rows:
        shots.setdefault(guideline_id, []).append((shot_type_id, view_angle))
    for subject_id, guideline_id, back_optional in memberships:
        for shot_type_id, view_angle in shots.get(guideline_id, ()):
            if back_optional and view_angle in BACK_VIEW_ANGLES:
                continue
            needed[subject_id].add(shot_type_id)
    return needed


def subject_ids_of_guidelines(guideline_ids) -> set:
    """The subjects listed by these guidelines (deleted guidelines too)."""
    return set(
        GuidelineSubject.objects.filter(guideline_id__in=list(guideline_ids)).values_list("subject_id", flat=True)
    )


def subject_ids_needing_shot_type(shot_type_id) -> set:
    """The subjects of the guidelines that list the shot type."""
    guidelines = GuidelineShotType.objects.filter(shot_type_id=shot_type_id).values("guideline_id")
    return set(GuidelineSubject.objects.filter(guideline_id__in=guidelines).values_list("subject_id", flat=True))


# --- shooting guidelines -------------------------------------------------------------------------


def _shot_type_media(prefix: str = "shot_type") -> tuple[str, str]:
    return f"{prefix}__reference_image", f"{prefix}__shot_type_ref_image"


def shooting_guidelines() -> QuerySet:
    """Live guidelines with everything ShootingGuidelinesPublic shows, in a constant number of
    queries for a page of any size. Deleted shot types, subjects and pose presets are left out of
    the lists (they come back when restored)."""
    from apps.subjects import selectors as subjects

    shot_type_links = (
        GuidelineShotType.objects.filter(shot_type__deleted_at__isnull=True)
        .select_related("shot_type", *_shot_type_media())
        .order_by("position")
    )
    subject_links = (
        GuidelineSubject.objects.filter(subject__deleted_at__isnull=True)
        .prefetch_related(Prefetch("subject", queryset=subjects.subjects()))
        .order_by("position")
    )
    pose_links = (
        GuidelinePosePreset.objects.filter(pose_preset__deleted_at__isnull=True)
        .select_related("pose_preset", "pose_preset__pose_image")
        .order_by("position")
    )
    rules = (
        ShotTypeRule.objects.filter(shot_type__deleted_at__isnull=True)
        .select_related("shot_type", *_shot_type_media())
        .order_by("group", "position")
    )
    return ShootingGuidelines.objects.select_related("set_design").prefetch_related(
        Prefetch("shot_type_links", queryset=shot_type_links),
        Prefetch("subject_links", queryset=subject_links),
        Prefetch("pose_preset_links", queryset=pose_links),
        Prefetch("shot_type_rules", queryset=rules),
        Prefetch("set_design__base_images", queryset=SetBaseImage.objects.select_related("image")),
        Prefetch("set_design__reference_images", queryset=SetReferenceImage.objects.select_related("image")),
        Prefetch("set_design__subject_portraits", queryset=SetSubjectPortrait.objects.select_related("image")),
    )


def live_guideline(pk) -> ShootingGuidelines | None:
    return shooting_guidelines().filter(pk=pk).first()


def guideline_shot_types(guideline: ShootingGuidelines) -> list:
    return [link.shot_type for link in guideline.shot_type_links.all() if link.shot_type.deleted_at is None]


def guideline_subjects(guideline: ShootingGuidelines) -> list:
    return [link.subject for link in guideline.subject_links.all() if link.subject.deleted_at is None]


def guideline_pose_presets(guideline: ShootingGuidelines) -> list:
    return [link.pose_preset for link in guideline.pose_preset_links.all() if link.pose_preset.deleted_at is None]


def rule_groups(guideline: ShootingGuidelines) -> list[dict]:
    """The guideline's rules in group form: ``{"rule_kind", "rule_value", "shot_types"}`` in order."""
    groups: dict = {}
    for rule in guideline.shot_type_rules.all():
        if rule.shot_type.deleted_at is not None:
            continue
        group = groups.setdefault(
            (rule.group, rule.rule_kind, rule.rule_value),
            {"rule_kind": rule.rule_kind, "rule_value": rule.rule_value, "shot_types": []},
        )
        group["shot_types"].append(rule.shot_type)
    return [groups[key] for key in sorted(groups, key=lambda key: key[0])]


def guideline_subject_ids(guideline: ShootingGuidelines) -> set:
    return set(GuidelineSubject.objects.filter(guideline=guideline).values_list("subject_id", flat=True))


def visible_pose_presets(*, user, organization=None) -> QuerySet:
    return visible(PosePreset.objects.all(), user=user, organization=organization)


def visible_resolution_presets(*, user, organization=None) -> QuerySet:
    return visible(ResolutionPreset.objects.all(), user=user, organization=organization)


def visible_background_presets(*, user, organization=None) -> QuerySet:
    return visible(BackgroundPreset.objects.all(), user=user, organization=organization)


def visible_set_designs(*, user, organization=None) -> QuerySet:
    return visible(SetDesign.objects.all(), user=user, organization=organization)

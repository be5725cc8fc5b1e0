"""Reads of the guidelines app: base querysets (with what serializing needs) and lookups."""

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When

from apps.core.sartiq.ownership import accessible_queryset

from .models import BackgroundPreset, BackgroundPresetFraming, ResolutionPreset, ShotType


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

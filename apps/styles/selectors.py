"""Reads on styles: querysets with everything a response shows, and permission-scoped lookups."""

from django.db.models import Prefetch, QuerySet

from apps.core.sartiq.ownership import accessible_queryset, organization_for

from .models import Style, StyleDataImage


def _with_media(queryset: QuerySet) -> QuerySet:
    links = StyleDataImage.objects.select_related("media").order_by("position")
    return queryset.select_related("cover_image").prefetch_related(Prefetch("data_image_links", queryset=links))


def styles() -> QuerySet:
    """Live styles, ready to be serialized (two queries for a page, whatever its size)."""
    return _with_media(Style.objects.all())


def styles_for_admin(*, user, organization_id=None) -> QuerySet:
    """Every style, soft-deleted ones too (administrators restore them), newest first; with
    ``organization_id``, that organization's (404 when it does not exist)."""
    queryset = _with_media(Style.all_objects.all())
    if organization_id is not None:
        queryset = queryset.filter(organization=organization_for(user=user, organization_id=organization_id))
    return queryset.order_by("-created_at", "-id")


def style_for_admin(pk) -> Style | None:
    """The style ``pk``, deleted or not."""
    return _with_media(Style.all_objects.filter(pk=pk)).first()


def live_style(pk) -> Style | None:
    return styles().filter(pk=pk).first()


def style_by_slug(*, user, slug: str, organization_id=None) -> Style | None:
    """The live style with ``slug`` when ``user`` may read it (see ``accessible_queryset``)."""
    return accessible_queryset(styles(), user=user, organization_id=organization_id).filter(slug=slug).first()


def data_images(style: Style) -> list:
    """The style's data images in order (from the prefetch when there is one)."""
    return [link.media for link in sorted(style.data_image_links.all(), key=lambda link: link.position)]

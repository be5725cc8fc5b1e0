"""Reads of the tags app: a user's tag vocabulary, most used first."""

from django.db.models import QuerySet

from .models import Tag


def user_tags(user, *, names: list[str] | None = None) -> QuerySet[Tag]:
    """The tags ``user`` ever applied (in use now or not), optionally only those named; none for a guest."""
    if user is None or not user.is_authenticated:
        return Tag.objects.none()
    tags = Tag.objects.filter(owner=user)
    if names is not None:
        tags = tags.filter(name__in=names)
    return tags

"""AIMG "Tags Management": getTagsList, addTagsToItem, removeTagsFromItem, setTagsForItem.

Tags apply to the caller's items and folders (``folderID`` wins when both ids are given; a folder id
is ``p-<uuid>`` for a public folder, a bare UUID for a private one). Names are lower-cased and must
match the spec's pattern (1 to 32 URL-safe characters); a bad name refuses the whole request with
400. An item or folder carries at most 10 tags: ``setTagsForItem`` with more is 400, an
``addTagsToItem`` that would make 11 is 409 (it conflicts with what the item carries); nothing
changes either way. ``getTagsList`` answers the caller's own vocabulary by usage count, most used
first, at most 100 per page. Bodies are JSON.
"""

import uuid

from django.urls import path
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from apps.core.dialects.aimg import (
    AimgViewSet,
    PaginationQuery,
    body,
    millisecond_bounds,
    pagination_parameters,
)
from apps.core.dialects.base import parse_query
from apps.core.dialects.fields import UUID_PATTERN
from apps.core.dialects.parsers import LimitedJSONParser
from apps.core.dialects.permissions import HasApiSession, IsSignedIn
from apps.core.errors import InvalidInput, NotFound

from .. import selectors, services
from ..models import MAX_TAGS, Tag
from .schemas import TAG_LIST

TAGS = ["Tags Management"]
MAX_LISTED = 100  # "the list of tags (up to 100)"
# What normalize_tags accepts: the allowed characters in either case, blanks around them.
TAG_SCHEMA = {"type": "string", "pattern": "^\\s*[A-Za-z0-9$\\-_.+!*'()]{1,32}\\s*$"}


# --- getTagsList ---------------------------------------------------------------------------------------


class TagListQuery(PaginationQuery):
    tags = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_TAGS_PER_REQUEST * 40)


class TagPagination(BasePagination):
    """Tags by usage count, most used first (least used first when reversed), then by name.

    A page holds at most ``MAX_LISTED`` tags (``limit`` above it is served as 100); ``skipCount``
    pages further, and ``totalCount`` is exact. The reference timestamp of a tag is when it was
    first applied: ``paginationIndex`` keeps the tags first applied before it (after it, reversed).
    The order is not by that time, so no ``nextPaginationIndex`` can continue it: it is null.
    """

    def paginate_queryset(self, queryset, request, view=None):
        params = parse_query(TagListQuery, request)
        self.limit = min(params["limit"], MAX_LISTED)
        self.index = params["paginationIndex"]
        self.reverse = params["reversePagination"]
        self.skip = params["skipCount"]
        if self.index:
            first, last = millisecond_bounds(self.index)
            queryset = queryset.filter(created_at__gt=last) if self.reverse else queryset.filter(created_at__lt=first)
        self.total_count = queryset.count()
        order = ("usage_count", "-name") if self.reverse else ("-usage_count", "name")
        self.page = list(queryset.order_by(*order)[self.skip : self.skip + self.limit])
        return self.page

    def get_paginated_response(self, data):
        metadata = {
            "paginationIndex": str(self.index),
            "nextPaginationIndex": None,
            "reversePagination": self.reverse,
            "skipCount": self.skip,
            "limit": self.limit,
            "count": len(self.page),
            "totalCount": self.total_count,
        }
        response = Response(body(data, metadata=metadata))
        response.dialect_final = True
        return response


def _names(raw: str) -> list[str] | None:
    """The comma-separated ``tags`` filter (an empty one names none)."""
    if not raw.strip():
        return None
    return services.normalize_tags([part.strip() for part in raw.split(",")])


# --- tag changes ---------------------------------------------------------------------------------------


@extend_schema_field({"type": "array", "items": TAG_SCHEMA, "maxItems": services.MAX_TAGS_PER_REQUEST})
class TagNamesField(serializers.Field):
    """A JSON array of tag names, normalized (lower-cased, trimmed, repeats removed)."""

    def to_internal_value(self, data):
        try:
            return services.normalize_tags(data, field_name=self.field_name or "tags")
        except InvalidInput as exc:
            raise serializers.ValidationError(next(iter(exc.errors.values()))) from None

    def to_representation(self, value):
        return list(value)


@extend_schema_field({"type": "array", "items": TAG_SCHEMA, "maxItems": MAX_TAGS})
class TagSetField(TagNamesField):
    """The whole new set of tags (at most ``MAX_TAGS``, checked by the service after normalizing)."""


@extend_schema_field({"type": "string", "format": "uuid"})
class ImageIdField(serializers.Field):
    default_error_messages = {"invalid": "Must be a valid UUID."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return uuid.UUID(data.strip())
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value):
        return str(value)


@extend_schema_field(
    {
        "type": "string",
        "pattern": f"^(p-)?{UUID_PATTERN}$",
        "description": "A folder id: a UUID for a private folder, 'p-' and a UUID for a public one.",
    }
)
class TaggedFolderIdField(serializers.Field):
    def to_internal_value(self, data):
        from apps.folders.selectors import parse_folder_id

        try:
            return parse_folder_id(data, public=None, field="folderID")
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.errors[("folderID",)]) from None

    def to_representation(self, value):
        return str(value)


class _TagsBody(serializers.Serializer):
    imageID = ImageIdField(required=False)  # noqa: N815
    folderID = TaggedFolderIdField(required=False)  # noqa: N815

    def validate(self, attrs):
        if "imageID" not in attrs and "folderID" not in attrs:
            raise serializers.ValidationError(
                {"imageID": ["Give imageID or folderID (folderID wins when both are given)."]}
            )
        return attrs


class TagsBody(_TagsBody):
    tags = TagNamesField()


class SetTagsBody(_TagsBody):
    tags = TagSetField()


class _TargetRequired(OpenApiSerializerExtension):
    """Documents "at least one of imageID and folderID" (``anyOf`` of the two ``required``)."""

    target_class = "apps.tags.api.aimg._TagsBody"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["anyOf"] = [{"required": ["imageID"]}, {"required": ["folderID"]}]
        return schema


_OUTCOME = inline_serializer(
    "TagsOutcome",
    {
        "success": serializers.BooleanField(),
        "modified": serializers.ListField(child=serializers.CharField()),
        "actual": serializers.ListField(child=serializers.CharField()),
    },
)
_SET_OUTCOME = inline_serializer(
    "SetTagsOutcome",
    {"success": serializers.BooleanField(), "actual": serializers.ListField(child=serializers.CharField())},
)
_TOO_MANY = OpenApiResponse(description="The item or folder would carry more than 10 tags.")


# --- views ---------------------------------------------------------------------------------------------


class TagViewSet(AimgViewSet):
    queryset = Tag.objects.none()  # for the schema; actions read through the selectors
    pagination_class = TagPagination
    parser_classes = (LimitedJSONParser,)

    def get_permissions(self):
        return [HasApiSession() if self.action == "list_tags" else IsSignedIn()]

    def _target(self, data):
        """The caller's folder (``folderID`` first) or item to tag."""
        from apps.folders import selectors as folders
        from apps.items import selectors as items

        user = self.request.user
        if "folderID" in data:
            return folders.own_folder(user, data["folderID"])
        item = items.owned_items(user).filter(pk=data["imageID"]).first()
        if item is None:
            raise NotFound("No item with this imageID is in your library.")
        return item

    def _change(self, request, body_class, change):
        form = body_class(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        return change(target=self._target(data), tags=data["tags"])

    @extend_schema(
        operation_id="getTagsList",
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "tags",
                {"type": "array", "items": TAG_SCHEMA, "maxItems": services.MAX_TAGS_PER_REQUEST},
                OpenApiParameter.QUERY,
                style="form",
                explode=False,
                description="Comma-separated tag names: only these tags.",
            ),
            *pagination_parameters("tags"),
        ],
        responses={200: TAG_LIST},
    )
    def list_tags(self, request):
        data = parse_query(TagListQuery, request)
        tags = selectors.user_tags(request.user, names=_names(data.get("tags", "")))
        page = self.paginator.paginate_queryset(tags, request, view=self)
        return self.paginator.get_paginated_response(
            [{"name": tag.name, "usageCount": tag.usage_count} for tag in page]
        )

    @extend_schema(operation_id="addTagsToItem", tags=TAGS, request=TagsBody, responses={200: _OUTCOME, 409: _TOO_MANY})
    def add_tags(self, request):
        outcome = self._change(request, TagsBody, services.add_tags)
        return Response({"success": outcome.success, "modified": outcome.modified, "actual": outcome.actual})

    @extend_schema(operation_id="removeTagsFromItem", tags=TAGS, request=TagsBody, responses={200: _OUTCOME})
    def remove_tags(self, request):
        outcome = self._change(request, TagsBody, services.remove_tags)
        return Response({"success": outcome.success, "modified": outcome.modified, "actual": outcome.actual})

    @extend_schema(operation_id="setTagsForItem", tags=TAGS, request=SetTagsBody, responses={200: _SET_OUTCOME})
    def set_tags(self, request):
        outcome = self._change(request, SetTagsBody, services.set_tags)
        return Response({"success": outcome.success, "actual": outcome.actual})


def _route(route: str, method: str, action: str):
    return path(route, TagViewSet.as_view({method: action}), name=route)


urlpatterns = [
    _route("getTagsList", "get", "list_tags"),
    _route("addTagsToItem", "post", "add_tags"),
    _route("removeTagsFromItem", "post", "remove_tags"),
    _route("setTagsForItem", "post", "set_tags"),
]

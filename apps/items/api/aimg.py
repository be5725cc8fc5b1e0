"""AIMG Image Management: reading items and libraries, and reactions.

Every endpoint needs an ``X-Session-ID`` (a guest session reads its own items); reactions need a
signed-in user; ``getItems`` needs the ``items.view_item`` permission (admins). Lists are keyset
paginated on the reference timestamp (``reference_at``), per the Pagination annex.
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.response import Response

from apps.core.dialects.aimg import MAX_LIMIT, AimgViewSet, KeysetPagination, pagination_parameters
from apps.core.dialects.base import parse_query
from apps.core.dialects.fields import UUID_PATTERN, StrictUUIDField
from apps.core.dialects.permissions import (
    HasApiSession,
    IsSignedIn,
    api_session,
    has_perm,
)
from apps.core.errors import NotFound

from .. import selectors, services
from ..models import Item, Reaction
from .schemas import IMAGE, IMAGE_INFO, IMAGE_INFOS, IMAGES, ITEM_RESULTS, SAMPLES
from .serializers import image_info_payload, image_payload, image_payloads, sample_payload

TAGS = ["Image Management"]
# Columns the Image object never shows: lists leave them unread.
NOT_IN_IMAGE = (
    "prompt",
    "negative_prompt",
    "raw_prompt",
    "raw_negative_prompt",
    "workflow_run_parameters",
    "parameters",
    "input_image_ids",
    "loras",
)
MAX_IDS = 1000
ROOT = "root"


# --- permissions and helpers -------------------------------------------------------------------------


class ItemPagination(KeysetPagination):
    """The kernel's keyset pagination, with endpoint-specific metadata (``totalCount``, ``proLimitHit``)."""

    def __init__(self):
        self.extra = {}

    def metadata(self) -> dict:
        return {**super().metadata(), **self.extra}


# --- queries -----------------------------------------------------------------------------------------


class OptionalBooleanField(serializers.BooleanField):
    """A boolean query parameter that is absent (not false) when not given."""

    default_empty_html = empty


class FolderField(serializers.CharField):
    """A folder id — ``p-<uuid>`` for a public folder, a bare UUID for a private one — or ``root``
    (the items outside any folder). ``public`` True takes public folder ids only."""

    default_error_messages = {"invalid": "Must be a folder id ('p-' and a UUID for a public folder) or 'root'."}

    def __init__(self, *, allow_root: bool = True, public: bool | None = None, **kwargs):
        self.allow_root = allow_root
        self.public = public
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        from apps.core.errors import InvalidInput
        from apps.folders.selectors import parse_folder_id

        value = super().to_internal_value(data).strip()
        if self.allow_root and value == ROOT:
            return ROOT
        try:
            return parse_folder_id(value, public=self.public, field=self.field_name or "folderID")
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.errors.get((self.field_name or "folderID",), exc.message)) from None


class ImageIdQuery(serializers.Serializer):
    imageID = serializers.UUIDField()  # noqa: N815


class MtypeQuery(serializers.Serializer):
    mtype = serializers.ChoiceField(choices=Item.MediaKind.choices, required=False)


class MyCreationsQuery(MtypeQuery):
    folderID = FolderField(required=False)  # noqa: N815
    isPublic = OptionalBooleanField(required=False)  # noqa: N815
    publicApprovalStatus = serializers.ChoiceField(choices=Item.ApprovalStatus.choices, required=False)  # noqa: N815


class AdminItemsQuery(MyCreationsQuery):
    userID = serializers.UUIDField(required=False)  # noqa: N815


class PublicCreationsQuery(MtypeQuery):
    userID = serializers.UUIDField(required=False)  # noqa: N815
    folderID = FolderField(required=False, allow_root=False, public=True)  # noqa: N815


class BatchQuery(serializers.Serializer):
    batchID = serializers.UUIDField()  # noqa: N815


class SampleQuery(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=100)


class ImageIdsBody(serializers.Serializer):
    imageIDs = serializers.ListField(  # noqa: N815
        child=StrictUUIDField(), allow_empty=False, max_length=MAX_IDS
    )


def _filter_library(items, data: dict):
    """Apply mtype / isPublic / publicApprovalStatus (the filters totalCount ignores)."""
    if data.get("mtype"):
        items = items.filter(media_kind=data["mtype"])
    if data.get("isPublic") is not None:
        items = items.filter(is_public=data["isPublic"])
    if data.get("publicApprovalStatus"):
        items = items.filter(public_approval_status=data["publicApprovalStatus"])
    return items


def _in_folder(items, folder):
    """The items in ``folder`` (a parsed folder id of either kind), at the root, or all (None)."""
    if folder is None:
        return items
    if folder == ROOT:
        return items.filter(folder__isnull=True)
    return items.filter(folder_id=folder.pk, folder__is_public=folder.is_public)


# --- schema helpers ----------------------------------------------------------------------------------


def _q(name, kind=str, description="", required=False, enum=None) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=required, description=description, enum=enum)


PAGINATION_PARAMETERS = pagination_parameters("items")
FOLDER_ID = {"type": "string", "pattern": f"^(root|(p-)?{UUID_PATTERN})$"}
MTYPE_PARAMETER = _q("mtype", str, "image or video; both when absent.", enum=["image", "video"])
APPROVAL_PARAMETER = _q(
    "publicApprovalStatus", str, "Only items in this approval state.", enum=["none", "pending", "approved", "rejected"]
)
IMAGE_ID_PARAMETER = _q("imageID", OpenApiTypes.UUID, "The id of the item.", required=True)


# --- reads -------------------------------------------------------------------------------------------


class ItemReadViewSet(AimgViewSet):
    permission_classes = (HasApiSession,)
    queryset = Item.objects.none()  # for the schema; actions read through the selectors
    pagination_class = ItemPagination
    pagination_reference_field = "reference_at"

    def _paginate(self, items, *, extra=None, payload=image_payloads):
        paginator = self.paginator
        page = paginator.paginate_queryset(items.defer(*NOT_IN_IMAGE), self.request, view=self)
        paginator.extra = extra or {}
        if payload is image_payloads:
            data = image_payloads(page, viewer=self.request.user, request=self.request)
        else:
            data = [payload(item, request=self.request) for item in page]
        return paginator.get_paginated_response(data)

    def _visible(self, request):
        return selectors.visible_items(request.user, session=api_session(request))

    def _item(self, request, queryset):
        image_id = parse_query(ImageIdQuery, request)["imageID"]
        item = queryset.filter(pk=image_id).first()
        if item is None:
            raise NotFound("No item with this imageID exists, or you may not see it.")
        return item

    @extend_schema(operation_id="getItem", tags=TAGS, parameters=[IMAGE_ID_PARAMETER], responses={200: IMAGE})
    def get_item(self, request):
        item = self._item(request, self._visible(request))
        return Response(image_payload(item, viewer=request.user, request=request))

    @extend_schema(
        operation_id="getItemDetails", tags=TAGS, parameters=[IMAGE_ID_PARAMETER], responses={200: IMAGE_INFO}
    )
    def get_item_details(self, request):
        item = self._item(request, self._visible(request).select_related("owner"))
        if not selectors.is_owner(item, request.user, session=api_session(request)):
            services.count_view(item=item)
            item.view_count += 1
        return Response(image_info_payload(item, viewer=request.user, request=request))

    @extend_schema(operation_id="getLastCompletedItem", tags=TAGS, parameters=[MTYPE_PARAMETER], responses={200: IMAGE})
    def get_last_completed_item(self, request):
        data = parse_query(MtypeQuery, request)
        item = selectors.last_completed_item(request.user, session=api_session(request), media_kind=data.get("mtype"))
        if item is None:
            raise NotFound("You have no completed item yet.")
        return Response(image_payload(item, viewer=request.user, request=request))

    @extend_schema(
        operation_id="getMyCreations",
        tags=TAGS,
        parameters=[
            MTYPE_PARAMETER,
            _q("folderID", FOLDER_ID, "A folder id ('p-<uuid>' if public), or root: the items outside any folder."),
            _q("isPublic", bool, "Only items with this public flag."),
            APPROVAL_PARAMETER,
            *PAGINATION_PARAMETERS,
        ],
        responses={200: IMAGES},
    )
    def get_my_creations(self, request):
        data = parse_query(MyCreationsQuery, request)
        library = selectors.owned_items(request.user, session=api_session(request))
        in_view, trimmed = selectors.trim_to_newest(library, selectors.library_limit_for(request.user))
        folder = data.get("folderID")
        # totalCount is itemCount / rootFolderItemCount / the folder's imageCount: the filters aside.
        extra = {"totalCount": _in_folder(library, folder).count(), "proLimitHit": trimmed}
        return self._paginate(_filter_library(_in_folder(in_view, folder), data), extra=extra)

    @extend_schema(
        operation_id="getPublicCreations",
        tags=TAGS,
        parameters=[
            _q("userID", OpenApiTypes.UUID, "Only items of this user."),
            MTYPE_PARAMETER,
            _q("folderID", {"type": "string", "pattern": f"^p-{UUID_PATTERN}$"}, "Only items of this public folder."),
            *PAGINATION_PARAMETERS,
        ],
        responses={200: IMAGES},
    )
    def get_public_creations(self, request):
        data = parse_query(PublicCreationsQuery, request)
        items = selectors.publicly_visible_items().filter(owner__domain=request.domain)
        if data.get("userID"):
            items = items.filter(owner_id=data["userID"])
        if data.get("folderID"):
            items = _in_folder(items, data["folderID"])
        extra = {"totalCount": items.count()}  # mtype aside, as the spec says
        return self._paginate(_filter_library(items, {"mtype": data.get("mtype")}), extra=extra)

    @extend_schema(
        operation_id="getBatchItems",
        tags=TAGS,
        parameters=[_q("batchID", OpenApiTypes.UUID, "The batch of items.", required=True)],
        responses={200: IMAGE_INFOS},
    )
    def get_batch_items(self, request):
        batch_id = parse_query(BatchQuery, request)["batchID"]
        items = (
            selectors.owned_items(request.user, session=api_session(request))
            .filter(batch_id=batch_id)
            .select_related("owner")
            .order_by("created_at", "id")
        )
        return Response(image_payloads(items, viewer=request.user, request=request, info=True))

    @extend_schema(
        operation_id="getSampleItems",
        tags=TAGS,
        parameters=[
            _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "How many items (default 100).")
        ],
        responses={200: SAMPLES},
    )
    def get_sample_items(self, request):
        limit = parse_query(SampleQuery, request)["limit"]
        items = (
            selectors.publicly_visible_items()
            .filter(owner__domain=request.domain)
            .order_by("-like_count", "-reference_at", "-id")[:limit]
        )
        return Response([sample_payload(item, request=request) for item in items])

    @extend_schema(operation_id="getLatestItems", tags=TAGS, parameters=PAGINATION_PARAMETERS, responses={200: SAMPLES})
    def get_latest_items(self, request):
        items = selectors.publicly_visible_items().filter(owner__domain=request.domain)
        return self._paginate(items, payload=sample_payload)


class AdminItemsViewSet(ItemReadViewSet):
    permission_classes = (has_perm(selectors.ADMIN_VIEW_PERMISSION),)

    @extend_schema(
        operation_id="getItems",
        tags=TAGS,
        parameters=[
            _q("userID", OpenApiTypes.UUID, "Only items of this user."),
            MTYPE_PARAMETER,
            _q("folderID", FOLDER_ID, "A folder id ('p-<uuid>' if public), or root: the items outside any folder."),
            _q("isPublic", bool, "Only items with this public flag."),
            APPROVAL_PARAMETER,
            *PAGINATION_PARAMETERS,
        ],
        responses={200: IMAGES},
    )
    def get_items(self, request):
        data = parse_query(AdminItemsQuery, request)
        items = Item.objects.all()
        if data.get("userID"):
            items = items.filter(owner_id=data["userID"])
        return self._paginate(_filter_library(_in_folder(items, data.get("folderID")), data))


# --- reactions ---------------------------------------------------------------------------------------


class ReactionViewSet(AimgViewSet):
    permission_classes = (IsSignedIn,)
    queryset = Item.objects.none()  # for the schema; actions read through the selectors

    def _react(self, request, kind: str, *, add: bool):
        form = ImageIdsBody(data=request.data)
        form.is_valid(raise_exception=True)
        ids = form.validated_data["imageIDs"]
        results = services.set_reactions(
            user=request.user,
            visible=selectors.visible_items(request.user, session=api_session(request)),
            item_ids=ids,
            kind=kind,
            add=add,
        )
        return Response([result.as_dict() for result in results])

    @extend_schema(operation_id="likeItems", tags=TAGS, request=ImageIdsBody, responses={200: ITEM_RESULTS})
    def like_items(self, request):
        return self._react(request, Reaction.Kind.LIKE, add=True)

    @extend_schema(operation_id="unlikeItems", tags=TAGS, request=ImageIdsBody, responses={200: ITEM_RESULTS})
    def unlike_items(self, request):
        return self._react(request, Reaction.Kind.LIKE, add=False)

    @extend_schema(operation_id="dislikeItems", tags=TAGS, request=ImageIdsBody, responses={200: ITEM_RESULTS})
    def dislike_items(self, request):
        return self._react(request, Reaction.Kind.DISLIKE, add=True)

    @extend_schema(operation_id="undislikeItems", tags=TAGS, request=ImageIdsBody, responses={200: ITEM_RESULTS})
    def undislike_items(self, request):
        return self._react(request, Reaction.Kind.DISLIKE, add=False)


def _route(route: str, viewset, method: str, action: str):
    return path(route, viewset.as_view({method: action}), name=action.replace("_", "-"))


urlpatterns = [
    _route("getItem", ItemReadViewSet, "get", "get_item"),
    _route("getItemDetails", ItemReadViewSet, "get", "get_item_details"),
    _route("getLastCompletedItem", ItemReadViewSet, "get", "get_last_completed_item"),
    _route("getMyCreations", ItemReadViewSet, "get", "get_my_creations"),
    _route("getPublicCreations", ItemReadViewSet, "get", "get_public_creations"),
    _route("getBatchItems", ItemReadViewSet, "get", "get_batch_items"),
    _route("getSampleItems", ItemReadViewSet, "get", "get_sample_items"),
    _route("getLatestItems", ItemReadViewSet, "get", "get_latest_items"),
    _route("getItems", AdminItemsViewSet, "get", "get_items"),
    _route("likeItems", ReactionViewSet, "post", "like_items"),
    _route("unlikeItems", ReactionViewSet, "post", "unlike_items"),
    _route("dislikeItems", ReactionViewSet, "post", "dislike_items"),
    _route("undislikeItems", ReactionViewSet, "post", "undislike_items"),
]

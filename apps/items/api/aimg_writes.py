"""AIMG "Image Management" writes: deleteItems, restoreItems, setItemProperties and the admin
endpoints setPublicApprovalStatus, setProtected and migrateLibrary.

Lists of item ids hold at most ``MAX_IDS`` UUIDs; a malformed id refuses the whole request (400),
an unknown one fails only its own entry of the per-id answer. Admin endpoints check a Django
permission (granted by the roles in ``apps/accounts/roles.py``) of whoever the credentials name.
"""

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts import selectors as accounts
from apps.billing.selectors import effective_tier
from apps.core.dialects.aimg import AimgViewSet
from apps.core.dialects.base import parse_body, parse_query
from apps.core.dialects.fields import UUID_PATTERN, StrictBooleanField, StrictUUIDField
from apps.core.dialects.permissions import NOT_SIGNED_IN, HasApiSession, api_session, has_perm
from apps.core.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied

from .. import selectors, services
from ..models import Item
from .schemas import IMAGE, ITEM_RESULTS
from .serializers import image_payload

TAGS = ["Image Management"]

MAX_IDS = 1000
# A tier above this may delete all of its items at once.
DELETE_ALL_MIN_TIER = 2

DELETE_ANY = "items.delete_item"
RESTORE = "items.restore_item"
APPROVE = "items.approve_item"
PROTECT = "items.protect_item"
MIGRATE = "items.migrate_library"


# --- fields ---------------------------------------------------------------------------------------


def _parse_ids(values) -> list[uuid.UUID]:
    ids = []
    for value in values:
        if not isinstance(value, str):
            raise serializers.ValidationError("Each item id must be a string (a UUID).")
        value = value.strip()
        if not value:
            continue
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            raise serializers.ValidationError(f"'{value[:64]}' is not a valid item id (a UUID).") from None
    if len(ids) > MAX_IDS:
        raise serializers.ValidationError(f"Give at most {MAX_IDS} item ids per request.")
    return ids


@extend_schema_field({"oneOf": [{"type": "array", "items": {"type": "string", "format": "uuid"}}, {"type": "string"}]})
class ItemIdsField(serializers.Field):
    """Item ids as a JSON array of UUID strings or as one comma-separated string."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            return _parse_ids(data.split(","))
        if isinstance(data, list):
            return _parse_ids(data)
        raise serializers.ValidationError("Give the item ids as an array of strings or a comma-separated string.")

    def to_representation(self, value):
        return [str(item_id) for item_id in value]


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"type": "string", "format": "uuid"}, "minItems": 1},
            {"type": "string", "pattern": rf"^\s*{UUID_PATTERN}\s*(,\s*{UUID_PATTERN}\s*)*$"},
        ]
    }
)
class NonEmptyItemIdsField(ItemIdsField):
    """Item ids where at least one is needed (the serializer refuses an empty list)."""


@extend_schema_field(OpenApiTypes.STR)
class CommaSeparatedIdsField(serializers.CharField):
    """Item ids as one comma-separated query parameter."""

    def to_internal_value(self, data):
        return _parse_ids(super().to_internal_value(data).split(","))


# --- requests -------------------------------------------------------------------------------------


class _IdsOrUser(serializers.Serializer):
    def validate(self, attrs):
        if not attrs.get("imageIDs") and attrs.get("userID") is None:
            raise serializers.ValidationError("Give imageIDs or userID.")
        return attrs


class DeleteItemsQuerySerializer(_IdsOrUser):
    imageIDs = CommaSeparatedIdsField(required=False, allow_blank=True, max_length=64_000)  # noqa: N815
    userID = StrictUUIDField(required=False)  # noqa: N815


class RestoreItemsSerializer(_IdsOrUser):
    imageIDs = ItemIdsField(required=False)  # noqa: N815
    userID = StrictUUIDField(required=False)  # noqa: N815


class SetItemPropertiesSerializer(serializers.Serializer):
    imageID = StrictUUIDField()  # noqa: N815
    isPublic = StrictBooleanField(required=False)  # noqa: N815
    publicApprovalStatus = serializers.ChoiceField(  # noqa: N815
        choices=Item.ApprovalStatus.values, required=False
    )

    def validate(self, attrs):
        if "isPublic" not in attrs and "publicApprovalStatus" not in attrs:
            raise serializers.ValidationError("Give at least one property to set: isPublic or publicApprovalStatus.")
        return attrs


class SetPublicApprovalStatusSerializer(serializers.Serializer):
    imageIDs = NonEmptyItemIdsField()  # noqa: N815
    publicApprovalStatus = serializers.ChoiceField(choices=["approved", "rejected"])  # noqa: N815

    def validate_imageIDs(self, value):  # noqa: N802
        if not value:
            raise serializers.ValidationError("Give at least one item id.")
        return value


class SetProtectedSerializer(serializers.Serializer):
    imageIDs = NonEmptyItemIdsField()  # noqa: N815

    def validate_imageIDs(self, value):  # noqa: N802
        if not value:
            raise serializers.ValidationError("Give at least one item id.")
        return value


class MigrateLibrarySerializer(serializers.Serializer):
    sourceUserID = StrictUUIDField()  # noqa: N815
    destinationUserID = StrictUUIDField()  # noqa: N815


_MIGRATION = inline_serializer(
    "MigrateLibraryResult", {"success": serializers.BooleanField(), "message": serializers.CharField()}
)


# --- helpers --------------------------------------------------------------------------------------


def _has_admin_key(request) -> bool:
    return getattr(request.auth, "admin_key", None) is not None


def _may(request, perm: str) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(perm))


def _user(request, user_id, *, field: str):
    user = accounts.find_user(domain=request.domain, user_id=user_id, include_deleted=True)
    if user is None:
        raise NotFound(f"No user of this site has this {field}.")
    return user


def _results(results) -> list[dict]:
    return [result.as_dict() for result in results]


# --- views ----------------------------------------------------------------------------------------


class ItemWriteViewSet(AimgViewSet):
    """Item writes of AIMG "Image Management": deletion, restore, properties, approval, protection, migration."""

    pagination_class = None
    filter_backends = ()
    permission_by_action = {
        "delete_items": HasApiSession,
        "set_item_properties": HasApiSession,
        "restore_items": has_perm(RESTORE),
        "set_public_approval_status": has_perm(APPROVE),
        "set_protected": has_perm(PROTECT),
        "migrate_library": has_perm(MIGRATE),
    }

    def get_permissions(self):
        permission = self.permission_by_action.get(self.action)
        return [permission()] if permission else []

    @extend_schema(
        operation_id="deleteItems", tags=TAGS, parameters=[DeleteItemsQuerySerializer], responses={200: ITEM_RESULTS}
    )
    def delete_items(self, request):
        params = parse_query(DeleteItemsQuerySerializer, request)
        user, session = request.user, api_session(request)
        admin = _may(request, DELETE_ANY)
        if _has_admin_key(request) and not admin:
            raise PermissionDenied("The owner of this administration key may not delete other users' items.")
        user_id = params.get("userID")
        if user_id is not None:
            if not user.is_authenticated:
                raise NotAuthenticated(NOT_SIGNED_IN)
            if admin:
                target = _user(request, user_id, field="userID")
            elif user_id != user.pk:
                raise PermissionDenied("You can only delete all the items of your own account.")
            elif effective_tier(user) <= DELETE_ALL_MIN_TIER:
                raise PermissionDenied(f"Deleting all your items at once needs a PRO tier above {DELETE_ALL_MIN_TIER}.")
            else:
                target = user
            return Response(_results(services.delete_all_items(owner=target)))

        def may_delete(item):
            return admin or selectors.is_owner(item, user, session=session)

        return Response(_results(services.delete_items(item_ids=params["imageIDs"], may_delete=may_delete)))

    @extend_schema(
        operation_id="restoreItems", tags=TAGS, request=RestoreItemsSerializer, responses={200: ITEM_RESULTS}
    )
    def restore_items(self, request):
        data = parse_body(RestoreItemsSerializer, request)
        if data.get("userID") is not None:
            owner = _user(request, data["userID"], field="userID")
            return Response(_results(services.restore_all_items(owner=owner)))
        return Response(_results(services.restore_items(item_ids=data["imageIDs"])))

    @extend_schema(
        operation_id="setItemProperties",
        tags=TAGS,
        request=SetItemPropertiesSerializer,
        responses={200: IMAGE},
    )
    def set_item_properties(self, request):
        data = parse_body(SetItemPropertiesSerializer, request)
        item = selectors.owned_items(request.user, session=api_session(request)).filter(pk=data["imageID"]).first()
        if item is None:
            raise NotFound("No item with this imageID is in your library.")
        item = services.set_item_properties(
            item=item, is_public=data.get("isPublic"), approval_status=data.get("publicApprovalStatus")
        )
        return Response(image_payload(item, viewer=request.user, request=request))

    @extend_schema(
        operation_id="setPublicApprovalStatus",
        tags=TAGS,
        request=SetPublicApprovalStatusSerializer,
        responses={200: ITEM_RESULTS},
    )
    def set_public_approval_status(self, request):
        data = parse_body(SetPublicApprovalStatusSerializer, request)
        results = services.set_public_approval_status(
            item_ids=data["imageIDs"], decision=data["publicApprovalStatus"], moderator=request.user
        )
        return Response(_results(results))

    @extend_schema(
        operation_id="setProtected", tags=TAGS, request=SetProtectedSerializer, responses={200: ITEM_RESULTS}
    )
    def set_protected(self, request):
        data = parse_body(SetProtectedSerializer, request)
        return Response(_results(services.toggle_protected(item_ids=data["imageIDs"])))

    @extend_schema(
        operation_id="migrateLibrary", tags=TAGS, request=MigrateLibrarySerializer, responses={200: _MIGRATION}
    )
    def migrate_library(self, request):
        data = parse_body(MigrateLibrarySerializer, request)
        if data["sourceUserID"] == data["destinationUserID"]:
            message = "The source and the destination must be different users."
            raise InvalidInput(message, errors={("destinationUserID",): [message]})
        source = _user(request, data["sourceUserID"], field="sourceUserID")
        destination = _user(request, data["destinationUserID"], field="destinationUserID")
        result = services.migrate_library(source=source, destination=destination)
        return Response({"success": True, "message": result.message})

"""AIMG user management: the user's own profile, key-value pairs, user lookup and deletion, the
moderation endpoints, and API2 ``getUserSession``.

"Self" endpoints act on the user of the ``X-Session-ID`` session. Admin endpoints check a Django
permission (granted by the roles in ``apps/accounts/roles.py``) of whoever the credentials name:
an administration key's staff owner, or a signed-in session's user. Users are looked up on the
request's domain only.
"""

from datetime import UTC

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from apps.accounts import profile as account_profile
from apps.accounts import selectors, services
from apps.accounts.api.serializers import picture_data_uri, self_user
from apps.core.dialects.aimg import AimgViewSet
from apps.core.dialects.base import parse_body, parse_query
from apps.core.dialects.fields import StrictCharField
from apps.core.dialects.permissions import NOT_SIGNED_IN, NOT_SIGNED_IN_CODE, has_perm
from apps.core.errors import InvalidInput, NotFound, PermissionDenied

from .signin import SelfUserSerializer

TAGS = ["User Management"]
# JSON framing around the data URI of the largest accepted picture (JSON may escape "/" as "\/").
PICTURE_BODY_ALLOWANCE = 64 * 1024

MODERATE = "accounts.moderate_user"
CHANGE = "accounts.change_user"
VIEW = "accounts.view_user"
DELETE = "accounts.delete_user"


# --- fields and permissions -----------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class _AnyValue(serializers.Field):
    """Kept as sent: the view decides what a value that is not a usable level means."""

    def to_internal_value(self, data):
        return data


class SignedInSession(BasePermission):
    """An ``X-Session-ID`` of a signed-in user: the self endpoints act on that session's user."""

    message = NOT_SIGNED_IN
    code = NOT_SIGNED_IN_CODE

    def has_permission(self, request, view):
        session = getattr(request.auth, "session", None)
        return bool(session is not None and session.user_id)


def _iso(value) -> str:
    """A timestamp as JavaScript's ``toISOString`` writes it."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _session(request):
    return request.auth.session


def _is_admin(request, perm: str) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(perm))


def _has_admin_key(request) -> bool:
    return getattr(request.auth, "admin_key", None) is not None


# --- request bodies and queries -------------------------------------------------------------------


class SelfUserPropertiesSerializer(serializers.Serializer):
    username = StrictCharField(required=False, allow_blank=True, trim_whitespace=False)
    password = StrictCharField(required=False, allow_blank=True, trim_whitespace=False)
    email = StrictCharField(required=False, allow_blank=True, trim_whitespace=False)
    otp = StrictCharField(required=False, trim_whitespace=False, max_length=64)
    isAtLeast18Confirmed = serializers.BooleanField(required=False)  # noqa: N815


class ProfilePictureSerializer(serializers.Serializer):
    profilePicture = StrictCharField(allow_blank=True, trim_whitespace=False)  # noqa: N815


class TargetUserSerializer(serializers.Serializer):
    """Admin endpoints name their user by ``userID`` and/or ``email`` (every one given must match)."""

    userID = serializers.UUIDField(required=False)  # noqa: N815
    email = StrictCharField(required=False, allow_blank=True, max_length=254)

    def validate(self, attrs):
        if attrs.get("userID") is None and not (attrs.get("email") or "").strip():
            raise serializers.ValidationError("Give the userID or the email of the user.")
        return attrs


class ProfilePictureBannedSerializer(TargetUserSerializer):
    profilePictureBanned = serializers.BooleanField(required=False)  # noqa: N815


class AdditionalInformationSerializer(TargetUserSerializer):
    additionalInformation = StrictCharField(  # noqa: N815
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )


class AbuseLevelSerializer(TargetUserSerializer):
    abuse = _AnyValue(required=False, allow_null=True)


class KeyQuerySerializer(serializers.Serializer):
    key = StrictCharField(trim_whitespace=False)


class KeyValueSerializer(serializers.Serializer):
    key = StrictCharField(trim_whitespace=False)
    value = StrictCharField(allow_blank=True, trim_whitespace=False)


class GetUserQuerySerializer(serializers.Serializer):
    userID = serializers.UUIDField(required=False)  # noqa: N815
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    username = serializers.CharField(required=False, allow_blank=True, max_length=150)


class DeleteUserQuerySerializer(serializers.Serializer):
    userID = serializers.UUIDField(required=False)  # noqa: N815
    deleteItems = serializers.BooleanField(required=False, default=False)  # noqa: N815


def _target(request, data: dict):
    """The live user an admin endpoint names, or a 404."""
    user = selectors.find_user(domain=request.domain, user_id=data.get("userID"), email=data.get("email"))
    if user is None:
        raise NotFound("No user of this site has this userID or email.")
    return user


# --- response shapes (documentation) --------------------------------------------------------------


class AimgLoginProviderSerializer(serializers.Serializer):
    providerType = serializers.ChoiceField(choices=["internal", "oauth"])  # noqa: N815
    providerId = serializers.ChoiceField(choices=["OTP", "Password", "Discord", "GitHub", "Google", "Patreon"])  # noqa: N815
    userId = serializers.CharField(required=False)  # noqa: N815


class AimgSubscriptionSerializer(serializers.Serializer):
    merchantProcessor = serializers.CharField()  # noqa: N815
    tier = serializers.IntegerField()
    tierExpiration = serializers.DateTimeField(required=False)  # noqa: N815
    nextBillingDate = serializers.DateTimeField(required=False)  # noqa: N815
    productID = serializers.CharField()  # noqa: N815
    payerID = serializers.CharField(required=False)  # noqa: N815
    transactionID = serializers.CharField(required=False)  # noqa: N815
    additionalInformation = serializers.CharField(required=False)  # noqa: N815


class AimgArchivedEmailSerializer(serializers.Serializer):
    email = serializers.CharField()
    archivedDate = serializers.DateTimeField()  # noqa: N815


class AimgUserSerializer(serializers.Serializer):
    """getUser: the first three fields for everyone, the rest for admins only."""

    userID = serializers.UUIDField()  # noqa: N815
    username = serializers.CharField()
    profilePicture = serializers.CharField(help_text="Data URI; empty when the user has no picture.")  # noqa: N815
    email = serializers.CharField(required=False)
    createdDate = serializers.DateTimeField(required=False)  # noqa: N815
    updatedDate = serializers.DateTimeField(required=False)  # noqa: N815
    deletedDate = serializers.DateTimeField(required=False)  # noqa: N815
    isDisabled = serializers.BooleanField(required=False)  # noqa: N815
    isAtLeast18Confirmed = serializers.BooleanField(required=False)  # noqa: N815
    tier = serializers.IntegerField(required=False)
    tierExpiration = serializers.DateTimeField(required=False)  # noqa: N815
    merchantProcessor = serializers.CharField(required=False)  # noqa: N815
    subscriptions = AimgSubscriptionSerializer(many=True, required=False)
    flaggedImagesCount = serializers.IntegerField(required=False)  # noqa: N815
    highHeatImagesCount = serializers.IntegerField(required=False)  # noqa: N815
    refList = serializers.ListField(child=serializers.CharField(), required=False)  # noqa: N815
    rs = serializers.CharField(required=False)
    loginProviders = AimgLoginProviderSerializer(many=True, required=False)  # noqa: N815
    connectProviders = AimgLoginProviderSerializer(many=True, required=False)  # noqa: N815
    abuse = serializers.IntegerField(required=False)
    profilePictureBanned = serializers.BooleanField(required=False)  # noqa: N815
    archivedEmails = AimgArchivedEmailSerializer(many=True, required=False)  # noqa: N815
    itemCount = serializers.IntegerField(required=False)  # noqa: N815
    publicItemCount = serializers.IntegerField(required=False)  # noqa: N815
    rootFolderItemCount = serializers.IntegerField(required=False)  # noqa: N815
    additionalInformation = serializers.CharField(required=False)  # noqa: N815
    roles = serializers.ListField(child=serializers.CharField(), required=False)


class AimgApi2SessionSerializer(serializers.Serializer):
    _id = serializers.UUIDField()
    domain = serializers.CharField()
    isAtLeast18Confirmed = serializers.BooleanField()  # noqa: N815
    updatedDate = serializers.DateTimeField()  # noqa: N815
    userID = serializers.UUIDField()  # noqa: N815


class AimgApi2UserSerializer(serializers.Serializer):
    _id = serializers.UUIDField()
    email = serializers.CharField()
    username = serializers.CharField()
    domain = serializers.CharField()
    createdDate = serializers.DateTimeField()  # noqa: N815
    isDisabled = serializers.BooleanField()  # noqa: N815
    roles = serializers.ListField(child=serializers.CharField())
    flaggedImagesCount = serializers.IntegerField()  # noqa: N815


class AimgApi2UserSessionSerializer(serializers.Serializer):
    userSession = AimgApi2SessionSerializer()  # noqa: N815
    user = AimgApi2UserSerializer()


_SUCCESS = inline_serializer("AimgProfileSuccess", {"success": serializers.BooleanField()})
_KEY_VALUE = inline_serializer("AimgUserKeyValue", {"key": serializers.CharField(), "value": serializers.CharField()})


def _key_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter("key", str, OpenApiParameter.QUERY, required=True, description=description)


# --- payloads -------------------------------------------------------------------------------------


def public_user(user) -> dict:
    """What anyone may see of a user."""
    return {"userID": str(user.pk), "username": user.username, "profilePicture": picture_data_uri(user)}


def admin_user(user) -> dict:
    """The extended getUser payload of the spec, in its order. Optional values that do not exist
    (``deletedDate`` of a live user, ``tierExpiration`` without a tier) are left out."""
    tier = account_profile.tier_info(user)
    counts = account_profile.item_counts(user)
    data = public_user(user)
    data["email"] = user.email
    data["createdDate"] = _iso(user.date_joined)
    data["updatedDate"] = _iso(user.updated_at)
    if user.deleted_at is not None:
        data["deletedDate"] = _iso(user.deleted_at)
    data["isDisabled"] = user.is_deleted or not user.is_active
    data["isAtLeast18Confirmed"] = user.is_at_least_18_confirmed
    data["tier"] = tier.tier
    if tier.tier_expiration:
        data["tierExpiration"] = tier.tier_expiration
    data["merchantProcessor"] = tier.merchant_processor
    data["subscriptions"] = tier.subscriptions
    data["flaggedImagesCount"] = counts.flagged_images_count
    data["highHeatImagesCount"] = counts.high_heat_images_count
    data["refList"] = list(user.ref_list or [])
    data["rs"] = user.referrer
    data["loginProviders"] = selectors.login_providers(user)
    data["connectProviders"] = selectors.connect_providers(user)
    data["abuse"] = user.abuse_level
    data["profilePictureBanned"] = user.profile_picture_banned
    data["archivedEmails"] = [
        {"email": archived.email, "archivedDate": _iso(archived.archived_at)}
        for archived in selectors.archived_emails(user)
    ]
    data["itemCount"] = counts.item_count
    data["publicItemCount"] = counts.public_item_count
    data["rootFolderItemCount"] = counts.root_folder_item_count
    data["additionalInformation"] = user.additional_information
    data["roles"] = selectors.roles_of(user)
    return data


# --- views ----------------------------------------------------------------------------------------


class ProfileViewSet(AimgViewSet):
    """The endpoints of the signed-in user's own account."""

    permission_classes = (SignedInSession,)

    @extend_schema(
        operation_id="setSelfUserProperties",
        tags=TAGS,
        request=SelfUserPropertiesSerializer,
        responses={200: SelfUserSerializer},
    )
    def set_self_user_properties(self, request):
        data = parse_body(SelfUserPropertiesSerializer, request)
        session = _session(request)
        services.set_self_user_properties(
            user=session.user,
            session=session,
            username=data.get("username"),
            password=data.get("password"),
            email=data.get("email"),
            otp=data.get("otp"),
            is_at_least_18_confirmed=data.get("isAtLeast18Confirmed"),
        )
        return Response(self_user(session))

    @extend_schema(
        operation_id="setSelfUserProfilePicture",
        tags=TAGS,
        request=ProfilePictureSerializer,
        responses={200: inline_serializer("AimgProfilePicture", {"profilePicture": serializers.CharField()})},
    )
    def set_self_user_profile_picture(self, request):
        # A JSON body is read whole, so an oversized one is refused before it is read.
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > services.MAX_PICTURE_BASE64_CHARS + PICTURE_BODY_ALLOWANCE:
            raise services.picture_too_large()
        data = parse_body(ProfilePictureSerializer, request)
        user = services.set_profile_picture(user=_session(request).user, data_uri=data["profilePicture"])
        return Response({"profilePicture": picture_data_uri(user)})

    @extend_schema(
        operation_id="getUserKVP",
        tags=TAGS,
        parameters=[_key_parameter("The key of the User Key-Value Pair.")],
        responses={200: _KEY_VALUE},
    )
    def get_user_kvp(self, request):
        key = parse_query(KeyQuerySerializer, request)["key"]
        services.validate_kvp_key(key)
        pair = selectors.key_value(user=_session(request).user, key=key)
        if pair is None:
            raise NotFound(f"No value is stored under the key '{key}'.")
        return Response({"key": pair.key, "value": pair.value})

    @extend_schema(operation_id="setUserKVP", tags=TAGS, request=KeyValueSerializer, responses={200: _KEY_VALUE})
    def set_user_kvp(self, request):
        data = parse_body(KeyValueSerializer, request)
        pair = services.set_key_value(user=_session(request).user, key=data["key"], value=data["value"])
        return Response({"key": pair.key, "value": pair.value})

    @extend_schema(
        operation_id="deleteUserKVP",
        tags=TAGS,
        parameters=[_key_parameter("The key of the User Key-Value Pair.")],
        responses={200: _SUCCESS},
    )
    def delete_user_kvp(self, request):
        key = parse_query(KeyQuerySerializer, request)["key"]
        return Response({"success": services.delete_key_value(user=_session(request).user, key=key)})


class UserViewSet(AimgViewSet):
    """Looking users up and deleting them: users for themselves (or public fields), admins for anyone."""

    permission_classes = ()

    @extend_schema(
        operation_id="getUser",
        tags=TAGS,
        parameters=[GetUserQuerySerializer],
        responses={200: AimgUserSerializer},
    )
    def get_user(self, request):
        params = parse_query(GetUserQuerySerializer, request)
        user_id, email, username = params.get("userID"), params.get("email"), params.get("username")
        admin = _is_admin(request, VIEW)
        if _has_admin_key(request) and not admin:
            raise PermissionDenied("The owner of this administration key may not view users' details.")
        if not admin and (email or username):
            if not request.user.is_authenticated:
                raise NotAuthenticated(NOT_SIGNED_IN)
            raise PermissionDenied("Only admins can look users up by email or username; look the user up by userID.")
        if user_id is None and not (email or "").strip() and not (username or "").strip():
            message = "Give the userID of the user." if not admin else "Give the userID, email or username of the user."
            raise InvalidInput(message, errors={("userID",): [message]}, location="query")
        user = selectors.find_user(
            domain=request.domain, user_id=user_id, email=email, username=username, include_deleted=admin
        )
        if user is None:
            raise NotFound("No user of this site matches.")
        return Response(admin_user(user) if admin else public_user(user))

    @extend_schema(
        operation_id="deleteUser",
        tags=TAGS,
        parameters=[DeleteUserQuerySerializer],
        responses={200: _SUCCESS},
    )
    def delete_user(self, request):
        params = parse_query(DeleteUserQuerySerializer, request)
        if not request.user.is_authenticated:
            raise NotAuthenticated(NOT_SIGNED_IN)
        user_id = params.get("userID")
        if user_id is None or user_id == request.user.pk:
            if user_id is None and _has_admin_key(request):
                message = "Give the userID of the user to delete (an administration key never deletes its owner)."
                raise InvalidInput(message, errors={("userID",): [message]}, location="query")
            target = request.user
        else:
            if not _is_admin(request, DELETE):
                raise PermissionDenied("Only admins can delete other users.")
            target = selectors.find_user(domain=request.domain, user_id=user_id)
            if target is None:
                raise NotFound("No user of this site has this userID.")
        return Response({"success": services.delete_user(user=target, delete_items=params["deleteItems"])})


class ModerationViewSet(AimgViewSet):
    """Admin-only changes to a user: profile picture ban, staff notes, abuse level."""

    permission_by_action = {
        "set_profile_picture_banned": has_perm(MODERATE),
        "set_user_abuse_level": has_perm(MODERATE),
        "set_user_additional_information": has_perm(CHANGE),
    }

    def get_permissions(self):
        return [self.permission_by_action.get(self.action, has_perm(MODERATE, CHANGE))()]

    @extend_schema(
        operation_id="setProfilePictureBanned",
        tags=TAGS,
        request=ProfilePictureBannedSerializer,
        responses={
            200: inline_serializer("AimgProfilePictureBanned", {"profilePictureBanned": serializers.BooleanField()})
        },
    )
    def set_profile_picture_banned(self, request):
        data = parse_body(ProfilePictureBannedSerializer, request)
        user = _target(request, data)
        if "profilePictureBanned" in data:
            user = services.set_profile_picture_banned(user=user, banned=data["profilePictureBanned"])
        return Response({"profilePictureBanned": user.profile_picture_banned})

    @extend_schema(
        operation_id="setUserAdditionalInformation",
        tags=TAGS,
        request=AdditionalInformationSerializer,
        responses={
            200: inline_serializer("AimgAdditionalInformation", {"additionalInformation": serializers.CharField()})
        },
    )
    def set_user_additional_information(self, request):
        data = parse_body(AdditionalInformationSerializer, request)
        user = services.set_additional_information(user=_target(request, data), text=data.get("additionalInformation"))
        return Response({"additionalInformation": user.additional_information})

    @extend_schema(
        operation_id="setUserAbuseLevel",
        tags=TAGS,
        request=AbuseLevelSerializer,
        responses={200: inline_serializer("AimgAbuseLevel", {"abuse": serializers.IntegerField()})},
    )
    def set_user_abuse_level(self, request):
        data = parse_body(AbuseLevelSerializer, request)
        user = _target(request, data)
        level = _abuse_level(data.get("abuse"))
        if level is not None:
            user = services.set_abuse_level(user=user, level=level)
        return Response({"abuse": user.abuse_level})


def _abuse_level(value) -> int | None:
    """The level asked for, or None when it is missing or not a whole number from 0 to 9 (the
    endpoint then answers the current level, as the spec says)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= services.MAX_ABUSE_LEVEL:
        return value
    return None


class Api2SessionViewSet(AimgViewSet):
    """API2 ``getUserSession``: the session and user as the API2 back end describes them.

    API2 has no sessions of its own here: the ``X-Session-ID`` session is the API2 session.
    """

    permission_classes = (SignedInSession,)

    @extend_schema(
        operation_id="getUserSession", tags=["API2: User Management"], responses={200: AimgApi2UserSessionSerializer}
    )
    def get_user_session(self, request):
        session = _session(request)
        user = session.user
        if account_profile.tier_info(user).tier <= 0:
            raise PermissionDenied("API2 endpoints are only available to users whose PRO tier is higher than 0.")
        domain = session.domain
        return Response(
            {
                "userSession": {
                    "_id": str(session.pk),
                    "domain": domain.code,
                    "isAtLeast18Confirmed": user.is_at_least_18_confirmed,
                    "updatedDate": _iso(session.updated_at),
                    "userID": str(user.pk),
                },
                "user": {
                    "_id": str(user.pk),
                    "email": user.email,
                    "username": user.username,
                    "domain": domain.code,
                    "createdDate": _iso(user.date_joined),
                    "isDisabled": user.is_deleted or not user.is_active,
                    "roles": selectors.roles_of(user),
                    "flaggedImagesCount": account_profile.item_counts(user).flagged_images_count,
                },
            }
        )


def _route(route: str, viewset, method: str, action: str):
    return path(route, viewset.as_view({method: action}), name=action.replace("_", "-"))


urlpatterns = [
    _route("setSelfUserProperties", ProfileViewSet, "post", "set_self_user_properties"),
    _route("setSelfUserProfilePicture", ProfileViewSet, "post", "set_self_user_profile_picture"),
    _route("getUserKVP", ProfileViewSet, "get", "get_user_kvp"),
    _route("setUserKVP", ProfileViewSet, "post", "set_user_kvp"),
    _route("deleteUserKVP", ProfileViewSet, "delete", "delete_user_kvp"),
    _route("getUser", UserViewSet, "get", "get_user"),
    _route("deleteUser", UserViewSet, "delete", "delete_user"),
    _route("setProfilePictureBanned", ModerationViewSet, "post", "set_profile_picture_banned"),
    _route("setUserAdditionalInformation", ModerationViewSet, "post", "set_user_additional_information"),
    _route("setUserAbuseLevel", ModerationViewSet, "post", "set_user_abuse_level"),
    _route("2/getUserSession", Api2SessionViewSet, "get", "get_user_session"),
]

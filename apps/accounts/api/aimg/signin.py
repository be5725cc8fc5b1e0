"""AIMG user management: sign-up and sign-in (password, one-time code), sign-out and the SelfUser.

``createUser`` and ``getSelfUser`` work without ``X-Session-ID``: the answer then carries a new
session's id. Signing in always answers with a new ``sessionID``; the one sent stops working.
"""

from django.core.validators import RegexValidator
from django.urls import path
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts import services
from apps.accounts.api.serializers import self_user
from apps.accounts.services.otp import normalize_otp_email
from apps.core.dialects.aimg import AimgView
from apps.core.dialects.base import parse_query
from apps.core.dialects.fields import StrictBooleanField, StrictCharField, StrictEmailField
from apps.core.dialects.permissions import api_session
from apps.core.ratelimit import client_ip, rate_limited

TAGS = ["User Management"]

# Limits per client address and per email (the address a request names, lower-cased).
REQUEST_OTP_RATE_PER_IP = "30/h"
REQUEST_OTP_RATE_PER_EMAIL = "6/h"
AUTHENTICATE_RATE_PER_IP = "30/m"
AUTHENTICATE_RATE_PER_EMAIL = "10/m"
CREATE_USER_RATE_PER_IP = "20/h"
# New guest sessions (getSelfUser without a usable X-Session-ID) per client address.
GUEST_SESSION_RATE = "60/m"


def email_key(group, request) -> str:
    """Rate-limit key: the normalized ``email`` of the request body ("" when there is none)."""
    data = request.data
    value = data.get("email") if hasattr(data, "get") else None
    return normalize_otp_email(value) if isinstance(value, str) else ""


def _client(request) -> dict:
    return {"ip_address": client_ip(request), "user_agent": request.headers.get("User-Agent", "")}


# --- input ------------------------------------------------------------------------------------------


def _otp_field():
    return StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=64,
        validators=[RegexValidator(r"^[0-9]{6}$", "The one-time code is 6 digits.")],
    )


def _password_field():
    # No maximum length: the spec leaves it to front ends (the request body size is capped anyway).
    return StrictCharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False)


class CreateUserSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    username = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=150)
    password = _password_field()
    otp = _otp_field()
    isAtLeast18Confirmed = serializers.BooleanField(required=False, allow_null=True)  # noqa: N815
    refList = serializers.ListField(  # noqa: N815
        child=StrictCharField(max_length=2000, allow_blank=True), required=False, allow_null=True, max_length=100
    )
    rs = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=200)


class AuthenticateUserSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    password = _password_field()
    otp = _otp_field()
    isAtLeast18Confirmed = serializers.BooleanField(required=False, allow_null=True)  # noqa: N815


class RequestOtpSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    signUp = StrictBooleanField(required=False, allow_null=True)  # noqa: N815


class GetSelfUserQuerySerializer(serializers.Serializer):
    isAtLeast18Confirmed = serializers.BooleanField(required=False, default=False)  # noqa: N815
    profilePicture = serializers.BooleanField(required=False, default=False)  # noqa: N815
    # Accepted; the pricing of subscriptions comes from the billing app, which is not installed.
    extendedPriceInfo = serializers.BooleanField(required=False, default=False)  # noqa: N815


# --- output (documentation of the payloads) -----------------------------------------------------------
class SelfUserSerializer(serializers.Serializer):
    """The SelfUser object (Annex: Common Types)."""

    sessionID = serializers.UUIDField()  # noqa: N815
    userID = serializers.CharField()  # noqa: N815
    email = serializers.CharField()
    username = serializers.CharField()
    isAuthenticated = serializers.BooleanField()  # noqa: N815
    isAtLeast18Confirmed = serializers.BooleanField()  # noqa: N815
    profilePicture = serializers.CharField(required=False)  # noqa: N815
    tier = serializers.IntegerField()
    tierExpiration = serializers.CharField(required=False)  # noqa: N815
    merchantProcessor = serializers.CharField()  # noqa: N815
    subscriptions = serializers.ListField(child=serializers.DictField())
    itemCount = serializers.IntegerField()  # noqa: N815
    rootFolderItemCount = serializers.IntegerField()  # noqa: N815


class OutcomeSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


# --- views --------------------------------------------------------------------------------------------
class CreateUserView(AimgView):
    permission_classes = ()

    @extend_schema(
        operation_id="createUser", tags=TAGS, request=CreateUserSerializer, responses={200: SelfUserSerializer}
    )
    @rate_limited(rate=CREATE_USER_RATE_PER_IP, key="ip", group="accounts.create_user.ip")
    def post(self, request):
        form = CreateUserSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        session = services.create_user(
            domain=request.domain,
            email=data["email"],
            session=api_session(request),
            username=data.get("username") or "",
            password=data.get("password") or None,
            otp=data.get("otp") or None,
            is_at_least_18_confirmed=bool(data.get("isAtLeast18Confirmed")),
            ref_list=data.get("refList") or [],
            referrer=data.get("rs") or "",
            **_client(request),
        )
        return Response(self_user(session))


class AuthenticateUserView(AimgView):
    permission_classes = ()

    @extend_schema(
        operation_id="authenticateUser",
        tags=TAGS,
        request=AuthenticateUserSerializer,
        responses={200: SelfUserSerializer},
    )
    @rate_limited(rate=AUTHENTICATE_RATE_PER_IP, key="ip", group="accounts.authenticate_user.ip")
    @rate_limited(rate=AUTHENTICATE_RATE_PER_EMAIL, key=email_key, group="accounts.authenticate_user.email")
    def post(self, request):
        form = AuthenticateUserSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        session = services.authenticate_user(
            domain=request.domain,
            email=data["email"],
            session=api_session(request),
            password=data.get("password") or None,
            otp=data.get("otp") or None,
            is_at_least_18_confirmed=bool(data.get("isAtLeast18Confirmed")),
            **_client(request),
        )
        return Response(self_user(session))


class SignOutUserView(AimgView):
    permission_classes = ()

    @extend_schema(operation_id="signOutUser", tags=TAGS, request=None, responses={200: OutcomeSerializer})
    def post(self, request):
        if services.sign_out(session=api_session(request)):
            return Response({"success": True, "message": "You are signed out."})
        return Response({"success": False, "message": "There was no session to sign out of."})


class RequestOtpView(AimgView):
    permission_classes = ()

    @extend_schema(
        operation_id="requestOTP", tags=TAGS, request=RequestOtpSerializer, responses={200: OutcomeSerializer}
    )
    @rate_limited(rate=REQUEST_OTP_RATE_PER_IP, key="ip", group="accounts.request_otp.ip")
    @rate_limited(rate=REQUEST_OTP_RATE_PER_EMAIL, key=email_key, group="accounts.request_otp.email")
    def post(self, request):
        form = RequestOtpSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        otp = services.request_otp(
            domain=request.domain, email=form.validated_data["email"], sign_up=bool(form.validated_data.get("signUp"))
        )
        message = f"A sign-in code is on its way to {otp.email}. It works once, for {services.otp_validity()}."
        return Response({"success": True, "message": message})


class GetSelfUserView(AimgView):
    permission_classes = ()

    @extend_schema(
        operation_id="getSelfUser",
        tags=TAGS,
        parameters=[GetSelfUserQuerySerializer],
        responses={200: SelfUserSerializer},
    )
    def get(self, request):
        query = parse_query(GetSelfUserQuerySerializer, request)
        session = api_session(request)
        if session is None:
            if is_ratelimited(
                request, group="accounts.guest_session", key="ip", rate=GUEST_SESSION_RATE, increment=True
            ):
                raise Ratelimited()
            session = services.create_session(domain=request.domain, **_client(request))
        if query["isAtLeast18Confirmed"]:
            services.remember_age_confirmation(session=session)
        return Response(
            self_user(session, include_picture=query["profilePicture"], extended_price_info=query["extendedPriceInfo"])
        )


class GenerateStrongPasswordView(AimgView):
    permission_classes = ()

    @extend_schema(operation_id="generateStrongPassword", tags=TAGS, responses={200: OpenApiTypes.STR})
    def get(self, request):
        return Response(services.generate_strong_password())


urlpatterns = [
    path("createUser", CreateUserView.as_view(), name="create-user"),
    path("authenticateUser", AuthenticateUserView.as_view(), name="authenticate-user"),
    path("signOutUser", SignOutUserView.as_view(), name="sign-out-user"),
    path("requestOTP", RequestOtpView.as_view(), name="request-otp"),
    path("getSelfUser", GetSelfUserView.as_view(), name="get-self-user"),
    path("generateStrongPassword", GenerateStrongPasswordView.as_view(), name="generate-strong-password"),
]

"""AIMG user management: oauth (External Login Providers, ``POST /auth/{loginProvider}``)."""

from django.http import HttpResponseRedirect
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.parsers import FormParser

from apps.accounts.services import oauth as oauth_services
from apps.core.dialects.aimg import AimgView
from apps.core.dialects.parsers import LimitedJSONParser
from apps.core.ratelimit import rate_limited

MAX_REFERRERS = 50
MAX_REFERRER_LENGTH = 2048


@extend_schema_field(OpenApiTypes.STR)
class RefListField(serializers.Field):
    """``refList``: a comma-separated string of browser referrers (a JSON list of strings is accepted too)."""

    default_error_messages = {
        "invalid": "Must be a comma-separated string of referrers.",
        "too_many": f"At most {MAX_REFERRERS} referrers.",
        "too_long": f"A referrer has at most {MAX_REFERRER_LENGTH} characters.",
    }

    def to_internal_value(self, data):
        if isinstance(data, str):
            items = data.split(",")
        elif isinstance(data, list) and all(isinstance(item, str) for item in data):
            items = data
        else:
            self.fail("invalid")
        referrers = [item.strip() for item in items if item.strip()]
        if len(referrers) > MAX_REFERRERS:
            self.fail("too_many")
        if any("\x00" in item for item in referrers):
            self.fail("invalid")
        if any(len(item) > MAX_REFERRER_LENGTH for item in referrers):
            self.fail("too_long")
        return referrers

    def to_representation(self, value):
        return ",".join(value)


class LoginProviderRequestSerializer(serializers.Serializer):
    redirectURL = serializers.CharField(max_length=oauth_services.MAX_REDIRECT_URL_LENGTH)  # noqa: N815
    refList = RefListField(required=False, allow_null=True)  # noqa: N815
    rs = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=200)
    isAtLeast18Confirmed = serializers.BooleanField(required=False, allow_null=True)  # noqa: N815


class LoginProviderView(AimgView):
    """Starts a sign-in with an external provider: 302 to the provider's authorization page.

    The provider sends the browser back to the API, which then redirects it to ``redirectURL`` with
    ``b``: the unpadded Base64URL of the JSON body ``{"hasError", "errorMessage", "payload"}``,
    whose payload is the SelfUser of a new session (``hasError`` true and no payload on failure).
    """

    parser_classes = (LimitedJSONParser, FormParser)  # a browser may post the sign-in form
    permission_classes = ()

    @extend_schema(
        operation_id="authLoginProvider",
        tags=["User Management"],
        parameters=[
            OpenApiParameter(
                "login_provider",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(oauth_services.LOGIN_PROVIDERS),
                description="The OAuth 2.0 login provider.",
            )
        ],
        request=LoginProviderRequestSerializer,
        responses={
            302: OpenApiResponse(description="Redirect to the provider's authorization page."),
            400: OpenApiResponse(description="Invalid body, or a redirectURL outside this site's front ends."),
            404: OpenApiResponse(description="Unknown login provider, or one without configured credentials."),
        },
    )
    @rate_limited(rate="30/m", key="ip", group="accounts.oauth_login")
    def post(self, request, login_provider):
        provider = oauth_services.oauth_provider(request._request, login_provider)
        form = LoginProviderRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        credentials = request.auth
        url = oauth_services.start_oauth_login(
            request=request._request,
            provider=provider,
            redirect_url=data["redirectURL"],
            ref_list=data.get("refList") or [],
            referrer=data.get("rs") or "",
            is_at_least_18_confirmed=bool(data.get("isAtLeast18Confirmed")),
            session=getattr(credentials, "session", None),
        )
        return HttpResponseRedirect(url)


urlpatterns = [
    path("auth/<str:login_provider>", LoginProviderView.as_view(), name="auth-login-provider"),
]

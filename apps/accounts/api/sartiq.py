from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.accounts import services
from apps.core.dialects.sartiq import SartiqView
from apps.core.ratelimit import rate_limited

from .serializers import AccessTokenRequestSerializer, AccessTokenSerializer


class LoginAccessTokenView(SartiqView):
    """OAuth2 password grant: a bearer token for the API."""

    authentication_classes = ()
    permission_classes = ()
    parser_classes = (FormParser, MultiPartParser)
    serializer_class = AccessTokenRequestSerializer

    @extend_schema(
        operation_id="login_access_token",
        request={"application/x-www-form-urlencoded": AccessTokenRequestSerializer},
        responses={200: AccessTokenSerializer},
        tags=["login"],
        auth=[],
    )
    @rate_limited(rate="20/m", key="ip", group="accounts.login")
    def post(self, request):
        form = AccessTokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token = services.login_for_access_token(
            request=request, username=form.validated_data["username"], password=form.validated_data["password"]
        )
        return Response({"access_token": token, "token_type": "bearer"})

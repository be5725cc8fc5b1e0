"""Test-only URLconf: the same probe views in each dialect, mounted under the dialect's real prefixes.

Each probe exercises one kernel behaviour (success body, validation, permissions, not found, rate
limit, crash, paginated list) and stays as thin as a production view.
"""

from django.http import Http404
from django.urls import path
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import Organization
from apps.core import errors
from apps.core.dialects.aimg import AimgView, AimgViewSet
from apps.core.dialects.neuroflash import NeuroflashView, NeuroflashViewSet
from apps.core.dialects.ocs import OcsView, OcsViewSet
from apps.core.dialects.permissions import IsSignedIn, has_perm
from apps.core.dialects.sartiq import SartiqView, SartiqViewSet
from apps.core.ratelimit import rate_limited
from config.urls import handler400, handler403, handler404, handler500

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

MODERATE_PERMISSION = "accounts.moderate_user"
RATE = "2/m"


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=20)
    size = serializers.IntegerField(min_value=1, max_value=10, required=False, default=1)


class OrganizationSerializer(serializers.ModelSerializer):
    domain = serializers.CharField(source="domain.code")

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "domain"]


def whoami(request) -> dict:
    """Who the request authenticated as, plus one value of each kind a renderer must handle."""
    credentials = request.auth
    session = getattr(credentials, "session", None)
    return {
        "user": request.user.email if request.user.is_authenticated else None,
        "session": str(session.pk) if session is not None else None,
        "adminKey": getattr(credentials, "admin_key", None) is not None,
        "flag": True,
        "off": False,
        "nothing": None,
        "count": 3,
        "tags": ["a", "b"],
        "nested": {"key": "value"},
    }


def probe_routes(view_base, viewset_base, route, *, dialect: str, total_count: bool = False) -> list:
    """The probe views of one dialect. ``route(name)`` turns a probe name into its path."""

    class Echo(view_base):
        def get(self, request):
            return Response(whoami(request))

        def post(self, request):
            form = EchoSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            return Response(form.validated_data, status=201)

    class BadInput(view_base):
        def get(self, request):
            raise errors.InvalidInput(errors={("name",): ["Pick a shorter name."], ("tags", 1): "Unknown tag."})

        def post(self, request):
            raise errors.InvalidInput("The prompt is empty.", app_code=1001)

    class SignedIn(view_base):
        permission_classes = (IsSignedIn,)

        def get(self, request):
            return Response(whoami(request))

    class Moderator(view_base):
        permission_classes = (has_perm(MODERATE_PERMISSION),)

        def get(self, request):
            return Response(whoami(request))

    class Missing(view_base):
        def get(self, request):
            raise errors.NotFound("No folder with the id 42.")

    class DjangoMissing(view_base):
        def get(self, request):
            raise Http404("internal detail that must not leak")

    class Limited(view_base):
        @rate_limited(rate=RATE, group=f"tests.dialects.{dialect}")
        def get(self, request):
            return Response({"ok": True})

    class Crash(view_base):
        def get(self, request):
            raise RuntimeError("kaboom in a test view")

    class Unrenderable(view_base):
        """Fails after the view returned, while Django renders: handler500 answers, not DRF."""

        def get(self, request):
            return Response({"value": object()})

    class Organizations(ListModelMixin, viewset_base):
        queryset = Organization.objects.select_related("domain").order_by("-created_at", "-id")
        serializer_class = OrganizationSerializer
        pagination_total_count = total_count

    return [
        path(route("echo"), Echo.as_view()),
        path(route("bad-input"), BadInput.as_view()),
        path(route("signed-in"), SignedIn.as_view()),
        path(route("moderator"), Moderator.as_view()),
        path(route("missing"), Missing.as_view()),
        path(route("django-missing"), DjangoMissing.as_view()),
        path(route("limited"), Limited.as_view()),
        path(route("crash"), Crash.as_view()),
        path(route("unrenderable"), Unrenderable.as_view()),
        path(route("organizations"), Organizations.as_view({"get": "list"})),
    ]


class Undialected(APIView):
    """A DRF view that names no dialect: its errors take the dialect of its path."""

    authentication_classes = ()

    def get(self, request):
        raise errors.NotFound("Nothing here.")


def aimg_route(name: str) -> str:
    """``bad-input`` -> ``testAimgBadInput``: AIMG paths are camelCase RPC names at the root."""
    return "testAimg" + "".join(part.capitalize() for part in name.split("-"))


urlpatterns = [
    *probe_routes(AimgView, AimgViewSet, aimg_route, dialect="aimg"),
    # An API2 path, and the variant of the list that reports totalCount.
    *probe_routes(
        AimgView,
        AimgViewSet,
        lambda name: f"2/{aimg_route(name)}",
        dialect="aimg2",
        total_count=True,
    ),
    *probe_routes(SartiqView, SartiqViewSet, lambda name: f"api/v1/test-{name}", dialect="sartiq"),
    *probe_routes(OcsView, OcsViewSet, lambda name: f"ocs/v1.php/test/{name}", dialect="ocs1"),
    *probe_routes(OcsView, OcsViewSet, lambda name: f"ocs/v2.php/test/{name}", dialect="ocs2"),
    *probe_routes(
        NeuroflashView, NeuroflashViewSet, lambda name: f"api/image-service/v1/test/{name}", dialect="neuroflash"
    ),
    *[
        path(f"{prefix}undialected", Undialected.as_view())
        for prefix in (
            "",
            "api/",
            "api/v1/test-",
            "ocs/v1.php/test/",
            "ocs/v2.php/test/",
            "api/image-service/v1/test/",
        )
    ],
]

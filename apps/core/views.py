from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .dialects.base import DialectMixin
from .health import run_checks

HEALTH = inline_serializer(
    "Health", {"status": serializers.CharField(), "checks": serializers.DictField(child=serializers.DictField())}
)


class HealthView(DialectMixin, APIView):
    """Readiness: 200 when every dependency answers, 503 with per-check detail otherwise."""

    authentication_classes = ()
    permission_classes = ()

    @extend_schema(
        operation_id="health",
        tags=["health"],
        auth=[],
        responses={
            200: HEALTH,
            503: OpenApiResponse(HEALTH, description="At least one dependency is failing"),
        },
    )
    def get(self, request):
        checks = run_checks()
        healthy = all(check["ok"] for check in checks.values())
        return Response(
            {"status": "ok" if healthy else "unavailable", "checks": checks},
            status=200 if healthy else 503,
            headers={"Cache-Control": "no-store"},
        )

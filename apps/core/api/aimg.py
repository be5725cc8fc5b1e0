"""AIMG "Technical" endpoints: log ingestion, affiliate ads and the SQL console.

The file server's endpoints live in ``files.py``.
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from apps.core.dialects.aimg import AimgView
from apps.core.dialects.fields import StrictCharField
from apps.core.errors import PermissionDenied
from apps.core.ratelimit import client_ip, rate_limited
from apps.core.services import ads, logs, sql

# --- Log ingestion ---------------------------------------------------------------------------------
MAX_LOG_ENTRIES = 500
MAX_MESSAGE_CHARS = 64 * 1024
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class LogEntrySerializer(serializers.Serializer):
    timestamp = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=253402300799999)
    message = StrictCharField(max_length=MAX_MESSAGE_CHARS, allow_blank=True, trim_whitespace=False)
    level = serializers.ChoiceField(choices=list(logs.LEVELS), required=False, default="info")
    apiSubscope = StrictCharField(required=False, allow_blank=True, max_length=200)  # noqa: N815
    httpMethod = serializers.ChoiceField(choices=HTTP_METHODS, required=False)  # noqa: N815
    httpPath = StrictCharField(required=False, allow_blank=True, max_length=2000)  # noqa: N815
    httpUrl = StrictCharField(required=False, allow_blank=True, max_length=8000)  # noqa: N815
    errorName = StrictCharField(required=False, allow_blank=True, max_length=500)  # noqa: N815
    errorMessage = StrictCharField(required=False, allow_blank=True, max_length=MAX_MESSAGE_CHARS)  # noqa: N815
    errorStack = StrictCharField(required=False, allow_blank=True, max_length=MAX_MESSAGE_CHARS)  # noqa: N815


class IngestLogsSerializer(serializers.Serializer):
    serviceName = serializers.CharField(required=False, allow_blank=True, max_length=300)  # noqa: N815
    logs = LogEntrySerializer(many=True, allow_empty=False, max_length=MAX_LOG_ENTRIES)


class SuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField()


class HasSessionOrAdminKey(BasePermission):
    """``ingestLogs``: a session (guest or signed in) or an administration key."""

    message = "Send an X-Session-ID header (or an X-Administration-Key)."

    def has_permission(self, request, view):
        credentials = request.auth
        return bool(credentials and (credentials.session or credentials.admin_key))


class IngestLogsView(AimgView):
    permission_classes = (HasSessionOrAdminKey,)
    # 500 entries of up to 64 KiB each, plus their JSON.
    max_body_bytes = MAX_LOG_ENTRIES * (MAX_MESSAGE_CHARS * 3 + 4096)

    @extend_schema(
        operation_id="ingestLogs", tags=["Technical"], request=IngestLogsSerializer, responses={200: SuccessSerializer}
    )
    @rate_limited(rate="120/m", key="ip", group="core.ingest_logs")
    def post(self, request):
        form = IngestLogsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        session = request.auth.session
        logs.ingest_logs(
            domain=request.domain,
            entries=form.validated_data["logs"],
            service_name=form.validated_data.get("serviceName"),
            session_id=session.pk if session else None,
            user_id=request.user.pk if request.user.is_authenticated else None,
        )
        return Response({"success": True})


# --- Affiliate ads ----------------------------------------------------------------------------------
class AffiliateAdView(AimgView):
    permission_classes = ()

    @extend_schema(
        operation_id="getAffiliateAd",
        tags=["Technical"],
        responses={
            200: inline_serializer(
                "AffiliateAd", {"adText": serializers.CharField(), "adLink": serializers.CharField()}
            )
        },
    )
    def get(self, request):
        ad = ads.pick_affiliate_ad(domain=request.domain)
        return Response({"adText": ad.text, "adLink": ad.link})


# --- SQL console ------------------------------------------------------------------------------------
class PgQuerySerializer(serializers.Serializer):
    queryText = serializers.CharField(max_length=100_000, trim_whitespace=False)  # noqa: N815
    queryParams = serializers.ListField(  # noqa: N815
        child=serializers.JSONField(allow_null=True), required=False, default=list, max_length=1000
    )


class PgQueryView(AimgView):
    """Superusers' read-only SQL console; disabled unless PGQUERY_ENABLED is set."""

    schema_requires_sign_in = True

    @extend_schema(
        operation_id="pgQuery",
        tags=["Technical"],
        request=PgQuerySerializer,
        responses={
            200: inline_serializer(
                "PgQueryResult",
                {
                    "command": serializers.CharField(),
                    "rowCount": serializers.IntegerField(allow_null=True),
                    "rows": serializers.ListField(child=serializers.DictField()),
                    "fields": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
    )
    def post(self, request):
        if not request.user.is_authenticated:
            self.permission_denied(request)
        admin_key = request.auth.admin_key if request.auth else None
        if admin_key is None or not request.user.is_superuser:
            # Refused before the body is read: a caller who may not run queries learns nothing
            # from the validation of one (the service checks again).
            raise PermissionDenied("pgQuery needs the administration key of a superuser.")
        form = PgQuerySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = sql.run_console_query(
            user=request.user,
            admin_key=admin_key,
            query_text=form.validated_data["queryText"],
            params=form.validated_data["queryParams"],
            request_id=getattr(request, "request_id", ""),
            ip_address=client_ip(request),
        )
        return Response(result)

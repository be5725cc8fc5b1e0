"""AIMG "Image Management" reports: reportItems, getReports, closeReports, getReportQueues and
downloadReportsForEpoch.

``reportItems`` needs a signed-in user; ``getReportQueues`` any session (admins also see the system
queues). The admin endpoints check Django permissions of whoever the credentials name (granted by the
``moderator`` and ``admin`` roles): ``reports.view_report`` to read, plus ``reports.close_report`` to
close and ``reports.export_report`` to download. Admins see the reports of the request's site.
"""

import io

from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from apps.core.dialects.aimg import AimgViewSet, KeysetPagination, pagination_parameters
from apps.core.dialects.base import parse_query
from apps.core.dialects.permissions import HasApiSession, IsSignedIn, has_perm
from apps.core.errors import NotFound
from apps.core.ratelimit import client_ip, rate_limited

from .. import parsing, selectors, services
from ..models import ModerationEvent, Report
from . import serializers as s

TAGS = ["Image Management"]
_STATUS = "(pending|accepted|declined|automaticallyDeclined)"
STATUS_LIST_PATTERN = rf"^\s*{_STATUS}\s*(,\s*{_STATUS}\s*)*$"
#: How many reportItems calls one user may make per minute.
REPORT_ITEMS_RATE = "30/m"


def _user_key(group, request) -> str:
    user = getattr(request, "user", None)
    return f"user:{user.pk}" if user is not None and user.is_authenticated else f"ip:{client_ip(request)}"


def _q(name, kind=str, description="", required=False, enum=None) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=required, description=description, enum=enum)


PAGINATION_PARAMETERS = pagination_parameters("reports")
_NAMES = {"type": "string", "pattern": parsing.NAME_LIST_PATTERN}


class ReportItemsViewSet(AimgViewSet):
    """Reports items for review by the moderators (signed-in users)."""

    permission_classes = (IsSignedIn,)
    pagination_class = None
    queryset = Report.objects.none()  # for the schema

    @extend_schema(
        operation_id="reportItems",
        tags=TAGS,
        request=s.ReportItemsSerializer,
        responses={200: s.ReportResultSerializer(many=True)},
    )
    @rate_limited(rate=REPORT_ITEMS_RATE, key=_user_key, group="reports.report_items")
    def report_items(self, request):
        """Report items for review. Protected items, items approved for public display and items you
        already reported (with the report still open) are refused; each id gets its own answer."""
        form = s.ReportItemsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        results = services.report_items(
            reporter=request.user,
            item_ids=data["itemIds"],
            queue_name=data.get("reportQueue") or None,
            additional_information=data.get("additionalInformation", ""),
            url_for=lambda item: selectors.item_url(item, request),
        )
        return Response([result.as_dict() for result in results])


class ReportQueuesViewSet(AimgViewSet):
    """The report queues."""

    permission_classes = (HasApiSession,)
    pagination_class = None
    queryset = Report.objects.none()  # for the schema

    @extend_schema(
        operation_id="getReportQueues", tags=TAGS, responses={200: {"type": "array", "items": {"type": "string"}}}
    )
    def get_report_queues(self, request):
        """The queues reportItems accepts; admins also get the system queues, for getReports."""
        include_system = selectors.is_reports_admin(request.user)
        return Response(selectors.queue_names(include_system=include_system))


class _AdminViewSet(AimgViewSet):
    """The moderators' endpoints (admins only)."""

    queryset = Report.objects.none()  # for the schema; actions read through the selectors
    permission_by_action: dict = {}

    def get_permissions(self):
        # A method no action serves (405) still needs the reader's permission first.
        return [self.permission_by_action.get(self.action, has_perm(selectors.VIEW_PERMISSION))()]


class AdminReportsViewSet(_AdminViewSet):
    """The reports of this site (admins only)."""

    pagination_class = KeysetPagination
    pagination_reference_field = "created_at"
    pagination_total_count = True
    permission_by_action = {"get_reports": has_perm(selectors.VIEW_PERMISSION)}

    @extend_schema(
        operation_id="getReports",
        tags=TAGS,
        parameters=[
            _q("reportIds", {"type": "string", "pattern": parsing.UUID_LIST_PATTERN}, "Comma-separated report ids."),
            _q(
                "reportStatus",
                {"type": "string", "pattern": STATUS_LIST_PATTERN},
                "Comma-separated statuses: pending, accepted, declined, automaticallyDeclined.",
            ),
            _q("reportQueues", _NAMES, "Comma-separated queue names (getReportQueues); unknown names match nothing."),
            _q(
                "createdAfter",
                parsing.DATE_OR_DATE_TIME_SCHEMA,
                "RFC 3339 date or date-time; reports filed at or after it.",
            ),
            _q(
                "createdBefore",
                parsing.DATE_OR_DATE_TIME_SCHEMA,
                "RFC 3339 date or date-time; reports filed at or before it (to the millisecond; a date: that day).",
            ),
            _q(
                "authorId",
                {"type": "string", "pattern": parsing.UUID_ITEM_PATTERN},
                "Only reports of items made by this user.",
            ),
            *PAGINATION_PARAMETERS,
        ],
        responses={200: s.ItemReportSerializer(many=True)},
    )
    def get_reports(self, request):
        """The reports of this site, newest first, narrowed by the filters and keyset-paginated."""
        reports = selectors.filter_reports(selectors.reports_of(request.domain), request.query_params)
        page = self.paginator.paginate_queryset(reports, request, view=self)
        return self.paginator.get_paginated_response([s.report_payload(report) for report in page])


class ReportDecisionsViewSet(_AdminViewSet):
    """Closing and exporting reports (admins only)."""

    pagination_class = None
    permission_by_action = {
        "close_reports": has_perm(selectors.VIEW_PERMISSION, selectors.CLOSE_PERMISSION),
        "download_reports_for_epoch": has_perm(selectors.VIEW_PERMISSION, selectors.EXPORT_PERMISSION),
    }

    @extend_schema(
        operation_id="closeReports",
        tags=TAGS,
        request=s.CloseReportsSerializer,
        responses={200: s.CloseResultSerializer(many=True)},
    )
    def close_reports(self, request):
        """Accept (the items are deleted) or decline reports. Reports whose item is gone or protected
        are closed as automaticallyDeclined; each id gets its own answer."""
        form = s.CloseReportsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        results = services.close_reports(
            report_ids=data["reportIds"],
            status=data["reportStatus"],
            actor=request.user,
            note=data.get("additionalInformation", ""),
            close_related=data["closeRelatedReports"],
            domain=request.domain,
            source=ModerationEvent.Source.API,
        )
        return Response([result.as_dict() for result in results])

    @extend_schema(
        operation_id="downloadReportsForEpoch",
        tags=TAGS,
        parameters=[
            _q(
                "reportIds",
                {"type": "string", "pattern": parsing.UUID_LIST_PATTERN},
                "Comma-separated report ids (at most 1000).",
                required=True,
            )
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def download_reports_for_epoch(self, request):
        """The reports as a CSV file for Epoch; each download counts in downloadCount."""
        ids = parse_query(s.DownloadReportsQuerySerializer, request)["reportIds"]
        reports = selectors.reports_by_ids(request.domain, ids)
        found = set(reports.values_list("pk", flat=True))
        missing = [str(report_id) for report_id in dict.fromkeys(ids) if report_id not in found]
        if missing:
            raise NotFound(
                f"No report with the id {missing[0]} exists."
                + (f" ({len(missing) - 1} more ids are unknown.)" if len(missing) > 1 else "")
            )
        out = io.StringIO()
        services.export_reports(reports=reports, out=out, actor=request.user, source=ModerationEvent.Source.API)
        return csv_download(out.getvalue())


def csv_download(text: str, *, name: str | None = None) -> HttpResponse:
    """The Epoch CSV as an attachment (also the back office's download)."""
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    name = name or f"reports-epoch-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _route(route: str, viewset, method: str, action: str):
    return path(route, viewset.as_view({method: action}), name=action.replace("_", "-"))


urlpatterns = [
    _route("reportItems", ReportItemsViewSet, "post", "report_items"),
    _route("getReports", AdminReportsViewSet, "get", "get_reports"),
    _route("closeReports", ReportDecisionsViewSet, "post", "close_reports"),
    _route("getReportQueues", ReportQueuesViewSet, "get", "get_report_queues"),
    _route("downloadReportsForEpoch", ReportDecisionsViewSet, "get", "download_reports_for_epoch"),
]

"""AIMG shapes of the reports endpoints: request bodies and queries, the ItemReport object.

Optional ItemReport fields are left out when they have no value (``reporterId`` of a system report,
``approverId`` and ``reportProcessedDate`` of an open report, ``downloadLastDate`` before a download).
"""

from datetime import UTC

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.dialects.fields import StrictBooleanField, StrictCharField

from .. import parsing, selectors, services
from ..models import Report

MAX_IDS = selectors.MAX_IDS


def _iso(value) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- fields ---------------------------------------------------------------------------------------------


ID_LIST_SCHEMA = {
    "oneOf": [
        {
            "type": "array",
            "items": {"type": "string", "pattern": parsing.UUID_ITEM_PATTERN},
            "minItems": 1,
            "maxItems": MAX_IDS,
        },
        {"type": "string", "pattern": parsing.UUID_LIST_PATTERN},
    ]
}


@extend_schema_field(ID_LIST_SCHEMA)
class IdListField(serializers.Field):
    """Ids as a JSON array of UUID strings or as one comma-separated string (1 to 1000 of them)."""

    def __init__(self, *, what: str, **kwargs):
        self.what = what
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            if isinstance(data, str):
                return parsing.uuid_list(data, what=self.what, limit=MAX_IDS)
            if isinstance(data, list):
                return parsing.uuid_array(data, what=self.what, limit=MAX_IDS)
        except parsing.Invalid as exc:
            raise serializers.ValidationError(str(exc)) from None
        raise serializers.ValidationError(
            f"Give the {self.what} ids as an array of strings or a comma-separated string."
        )

    def to_representation(self, value):
        return [str(v) for v in value]


@extend_schema_field({"type": "string", "pattern": parsing.UUID_LIST_PATTERN})
class CommaSeparatedIdsField(serializers.Field):
    """Ids as one comma-separated query parameter (1 to 1000 of them)."""

    def __init__(self, *, what: str, **kwargs):
        self.what = what
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 64_000:
            raise serializers.ValidationError(f"Give at most {MAX_IDS} comma-separated {self.what} ids.")
        try:
            return parsing.uuid_list(data, what=self.what, limit=MAX_IDS)
        except parsing.Invalid as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value):
        return ",".join(str(v) for v in value)


# --- requests -------------------------------------------------------------------------------------------


class ReportItemsSerializer(serializers.Serializer):
    itemIds = IdListField(what="item", help_text="The items to report (at most 1000).")  # noqa: N815
    reportQueue = StrictCharField(  # noqa: N815
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="A queue of getReportQueues; Not Specified if absent.",
    )
    additionalInformation = StrictCharField(  # noqa: N815
        required=False, allow_blank=True, max_length=services.MAX_NOTE_CHARS, trim_whitespace=True
    )


class CloseReportsSerializer(serializers.Serializer):
    reportIds = IdListField(what="report", help_text="The reports to close (at most 1000).")  # noqa: N815
    reportStatus = serializers.ChoiceField(choices=["accepted", "declined"])  # noqa: N815
    additionalInformation = StrictCharField(  # noqa: N815
        required=False, allow_blank=True, max_length=services.MAX_NOTE_CHARS, trim_whitespace=True
    )
    closeRelatedReports = StrictBooleanField(required=False, default=False)  # noqa: N815


class DownloadReportsQuerySerializer(serializers.Serializer):
    reportIds = CommaSeparatedIdsField(what="report", help_text="Comma-separated report ids (at most 1000).")  # noqa: N815


# --- responses (schema) ---------------------------------------------------------------------------------


class ReportResultSerializer(serializers.Serializer):
    id = serializers.CharField()
    reportId = serializers.CharField(allow_null=True)  # noqa: N815
    success = serializers.BooleanField()
    message = serializers.CharField(required=False)


class CloseResultSerializer(serializers.Serializer):
    id = serializers.CharField()
    success = serializers.BooleanField()
    message = serializers.CharField(required=False)


class ItemMetadataSerializer(serializers.Serializer):
    rawPositivePrompt = serializers.CharField(required=False)  # noqa: N815
    filteredPositivePrompt = serializers.CharField(required=False)  # noqa: N815
    rawNegativePrompt = serializers.CharField(required=False)  # noqa: N815
    filteredNegativePrompt = serializers.CharField(required=False)  # noqa: N815
    workflowUsed = serializers.CharField(required=False)  # noqa: N815
    modelId = serializers.CharField(required=False)  # noqa: N815
    url = serializers.CharField(required=False)


class AuthorMetadataSerializer(serializers.Serializer):
    userId = serializers.CharField(required=False)  # noqa: N815
    userEmail = serializers.CharField(required=False)  # noqa: N815
    username = serializers.CharField(required=False)
    flaggedItemsCount = serializers.IntegerField(required=False)  # noqa: N815
    abuse = serializers.IntegerField(required=False)
    isDisabled = serializers.BooleanField(required=False)  # noqa: N815


class ItemReportSerializer(serializers.Serializer):
    """The ItemReport object (schema only; ``report_payload`` builds it)."""

    itemId = serializers.UUIDField()  # noqa: N815
    reporterId = serializers.UUIDField(required=False)  # noqa: N815
    reportId = serializers.UUIDField()  # noqa: N815
    reportedDate = serializers.DateTimeField()  # noqa: N815
    reportStatus = serializers.ChoiceField(choices=Report.Status.values)  # noqa: N815
    reportQueues = serializers.ListField(child=serializers.CharField())  # noqa: N815
    reportAdditionalInformation = serializers.CharField(required=False)  # noqa: N815
    approvalAdditionalInformation = serializers.CharField(required=False)  # noqa: N815
    reportProcessedDate = serializers.DateTimeField(required=False)  # noqa: N815
    approverId = serializers.UUIDField(required=False)  # noqa: N815
    downloadCount = serializers.IntegerField()  # noqa: N815
    downloadLastDate = serializers.DateTimeField(required=False)  # noqa: N815
    itemMetadata = ItemMetadataSerializer(required=False)  # noqa: N815
    authorMetadata = AuthorMetadataSerializer(required=False)  # noqa: N815


# --- payloads -------------------------------------------------------------------------------------------


def report_payload(report: Report) -> dict:
    """The ItemReport object (``queue`` loaded)."""
    data = {"itemId": str(report.item_ref)}
    if report.reporter_id:
        data["reporterId"] = str(report.reporter_id)
    data["reportId"] = str(report.pk)
    data["reportedDate"] = _iso(report.created_at)
    data["reportStatus"] = report.status
    data["reportQueues"] = [report.queue.name]
    if report.additional_information:
        data["reportAdditionalInformation"] = report.additional_information
    if report.approval_additional_information:
        data["approvalAdditionalInformation"] = report.approval_additional_information
    if report.processed_at is not None:
        data["reportProcessedDate"] = _iso(report.processed_at)
    if report.approver_id:
        data["approverId"] = str(report.approver_id)
    data["downloadCount"] = report.download_count
    if report.download_last_at is not None:
        data["downloadLastDate"] = _iso(report.download_last_at)
    if report.item_metadata:
        data["itemMetadata"] = dict(report.item_metadata)
    if report.author_metadata:
        data["authorMetadata"] = dict(report.author_metadata)
    return data

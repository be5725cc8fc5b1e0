"""Serializers of the core app's API endpoints, grouped by area."""

import json
from datetime import UTC
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.dialects.fields import StrictCharField
from apps.core.errors import InvalidInput
from apps.core.media.pipeline import max_resize_dimension
from apps.core.models import FileObject
from apps.core.services import files

# --- File server ------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.DATETIME)
class IsoDateTimeField(serializers.Field):
    """A timestamp as JavaScript's ``toISOString`` writes it: ``2025-01-31T12:34:56.789Z``."""

    def to_representation(self, value):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def public_file_url(file_id: str, request) -> str:
    """The absolute getFile URL of a file: under FILE_SERVER_PUBLIC_BASE_URL when set, else the request's."""
    query = urlencode({"id": file_id})
    base = getattr(settings, "FILE_SERVER_PUBLIC_BASE_URL", "")
    if base:
        return f"{base.rstrip('/')}/getFile?{query}"
    return request.build_absolute_uri(f"{reverse('core:get-file')}?{query}")


class FileMetadataSerializer(serializers.Serializer):
    """The FileMetadata object; ``ownerId`` only when the uploader is known."""

    id = serializers.CharField(read_only=True)
    publicUrl = serializers.SerializerMethodField()  # noqa: N815
    fileName = serializers.CharField(source="file_name", read_only=True)  # noqa: N815
    contentType = serializers.CharField(source="content_type", read_only=True)  # noqa: N815
    fileSize = serializers.IntegerField(source="size", read_only=True)  # noqa: N815
    createdDate = IsoDateTimeField(source="created_at", read_only=True)  # noqa: N815
    checksum = serializers.CharField(read_only=True)
    checksumAlgorithm = serializers.ChoiceField(  # noqa: N815
        source="checksum_algorithm", choices=FileObject.Checksum.choices, read_only=True
    )
    # Not read-only, so that the schema marks it optional; the serializer is only used for output.
    ownerId = serializers.CharField(source="owner_id", required=False)  # noqa: N815

    @extend_schema_field(OpenApiTypes.URI)
    def get_publicUrl(self, file) -> str:  # noqa: N802
        return public_file_url(file.pk, self.context["request"])

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("ownerId") is None:
            data.pop("ownerId", None)
        return data


class UploadFileSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=False,
        use_url=False,
        error_messages={
            "required": "Send the file in the multipart field 'file'.",
            "invalid": "Send the file in the multipart field 'file'.",
            "empty": "The file is empty. Choose a file and upload it again.",
        },
    )
    filename = serializers.CharField(required=False, allow_blank=True, max_length=1024, trim_whitespace=False)
    id = serializers.CharField(
        required=False, allow_blank=True, max_length=128, trim_whitespace=False, help_text="Empty or absent: a new id."
    )
    customMetadata = serializers.CharField(  # noqa: N815
        required=False, allow_blank=True, trim_whitespace=False, help_text="A JSON object, as a string."
    )

    def validate_id(self, value):
        try:
            return files.validate_file_id(value)
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.message) from None

    def validate_customMetadata(self, value):  # noqa: N802
        if value.strip() == "":
            return None
        if len(value.encode()) > files.CUSTOM_METADATA_MAX_BYTES:
            raise serializers.ValidationError(
                f"customMetadata may be at most {files.CUSTOM_METADATA_MAX_BYTES // 1024} KiB of JSON."
            )
        try:
            decoded = json.loads(value, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise serializers.ValidationError("customMetadata must be a JSON object, as a string.") from None
        try:
            return files.check_custom_metadata(decoded)
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.message) from None


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


class FileIdQuerySerializer(serializers.Serializer):
    id = serializers.CharField(max_length=1024, trim_whitespace=False, help_text="The unique identifier of the File.")


NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"


class GetFileQuerySerializer(serializers.Serializer):
    id = serializers.RegexField(
        NO_CONTROL_CHARACTERS,
        max_length=1024,
        trim_whitespace=False,
        error_messages={"invalid": "The id may not contain control characters."},
        help_text="The unique identifier of the File.",
    )
    skipChecksum = serializers.BooleanField(required=False, default=False)  # noqa: N815
    width = serializers.IntegerField(required=False, min_value=1)
    height = serializers.IntegerField(required=False, min_value=1)
    mode = serializers.ChoiceField(choices=list(files.RESIZE_MODES), required=False, default="fit")
    fs = serializers.BooleanField(
        required=False, default=False, help_text="Also look on the old file server when the id is unknown here."
    )

    def get_fields(self):
        fields = super().get_fields()
        limit = max_resize_dimension()
        for name in ("width", "height"):
            fields[name] = serializers.IntegerField(
                required=False, min_value=1, max_value=limit, help_text=f"Pixels, 1 to {limit}."
            )
        return fields


# --- Sartiq uploads --------------------------------------------------------------------------------


class UploadCreateSerializer(serializers.Serializer):
    """What the client is about to upload (all optional; the bytes are checked when they arrive)."""

    filename = StrictCharField(required=False, allow_blank=True, max_length=255, default="")
    content_type = serializers.ChoiceField(
        choices=["image/png", "image/jpeg", "image/webp"], required=False, allow_blank=True, default=""
    )
    size = serializers.IntegerField(required=False, allow_null=True, min_value=1, default=None)


class UploadSerializer(serializers.Serializer):
    """A presigned upload target."""

    id = serializers.UUIDField()
    method = serializers.ChoiceField(choices=["PUT", "POST"], help_text="HTTP method to send the bytes with.")
    upload_url = serializers.CharField(help_text="Where to send the bytes.")
    fields = serializers.DictField(
        child=serializers.CharField(), help_text="Form fields to send before the file (S3 presigned POST)."
    )
    headers = serializers.DictField(child=serializers.CharField(), help_text="Headers to send with a PUT.")
    file_url = serializers.CharField(help_text="What to put into an image field once the bytes are sent.")
    expires_at = serializers.DateTimeField()
    max_bytes = serializers.IntegerField()


class UploadStatusSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    file_url = serializers.CharField()
    expires_at = serializers.DateTimeField()
    max_bytes = serializers.IntegerField()
    received = serializers.BooleanField(help_text="Whether the bytes have arrived (known for local uploads).")
    size = serializers.IntegerField(allow_null=True)
    media_resource_id = serializers.UUIDField(allow_null=True)

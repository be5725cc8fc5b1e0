"""AIMG file server: ``uploadFile``, ``getFile``, ``getFileMetadata`` and ``removeFile``."""

from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import FileResponse, HttpResponseNotModified, StreamingHttpResponse
from django.utils.http import parse_etags
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.core import selectors
from apps.core.dialects.aimg import AimgView
from apps.core.dialects.base import parse_query
from apps.core.dialects.parsers import CappedUploadHandler
from apps.core.dialects.permissions import has_perm
from apps.core.errors import InvalidInput
from apps.core.media import MediaTooLarge
from apps.core.services import files

from .serializers import FileIdQuerySerializer, FileMetadataSerializer, GetFileQuerySerializer, UploadFileSerializer

TAGS = ["Technical"]
# Multipart framing and the form fields besides the file: what a request may hold above the file cap.
DOWNLOAD_BLOCK_SIZE = 256 * 1024
# Making a new resized copy costs CPU and storage; serving a stored one is not limited.
NEW_VARIANT_RATE = "120/m"
# Relayed files of the old server are shown, if at all, as an inert document.
SANDBOX = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"


class _AnyAccept(DefaultContentNegotiation):
    """getFile answers bytes whatever ``Accept`` says (an <img> asks for image/*); errors are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _inline(file_name: str) -> str:
    """``Content-Disposition: inline`` naming the file (RFC 6266: an ASCII fallback, and the exact
    name as ``filename*`` when it is not plain ASCII)."""
    fallback = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\' else "_" for ch in file_name)
    value = f'inline; filename="{fallback}"'
    if fallback != file_name:
        value += f"; filename*=UTF-8''{quote(file_name, safe='')}"
    return value


def _not_modified(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return tags == ["*"] or any(tag.removeprefix("W/") == etag for tag in tags)


def _cache_headers(response, etag: str | None = None):
    response["Cache-Control"] = f"public, max-age={int(settings.FILE_SERVER_CACHE_MAX_AGE)}"
    response["X-Content-Type-Options"] = "nosniff"
    if etag:
        response["ETag"] = etag
    return response


class UploadFileView(AimgView):
    """Admins: store a file (multipart ``file``; optional ``filename``, ``id``, ``customMetadata``).
    Its type is read from its bytes; the answer is its FileMetadata."""

    permission_classes = (has_perm("core.add_fileobject"),)
    parser_classes = (MultiPartParser,)

    @extend_schema(
        operation_id="uploadFile",
        tags=TAGS,
        request={"multipart/form-data": UploadFileSerializer},
        responses={200: FileMetadataSerializer, 409: OpenApiResponse(description="The id is taken.")},
    )
    def post(self, request):
        request._request.upload_handlers.insert(
            0, CappedUploadHandler(request._request, files.max_upload_bytes(), refuse=files.too_large)
        )
        try:
            data = request.data
        except RequestDataTooBig:
            raise MediaTooLarge("The form fields besides the file are too large.") from None
        except SuspiciousOperation:
            raise InvalidInput("The multipart request is malformed or has too many fields.") from None
        if len(request.FILES.getlist("file")) > 1:
            raise InvalidInput("Send one file per upload.", errors={("file",): ["Send one file per upload."]})
        form = UploadFileSerializer(data=data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        file = files.upload_file(
            source=upload,
            file_name=form.validated_data.get("filename") or upload.name,
            file_id=form.validated_data.get("id"),
            custom_metadata=form.validated_data.get("customMetadata"),
            owner=request.user,
        )
        return Response(FileMetadataSerializer(file, context={"request": request}).data)


class GetFileView(AimgView):
    """Public: whoever knows a file's id gets its bytes, inline, checksum-checked unless
    ``skipChecksum``; PNG, JPEG and GIF images resized with ``width``/``height``/``mode``; ``fs``
    also asks the old file server for an unknown id."""

    permission_classes = ()
    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="getFile",
        tags=TAGS,
        parameters=[GetFileQuerySerializer],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, with its own Content-Type, served inline."
            ),
            304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)."),
        },
    )
    def get(self, request):
        params = parse_query(GetFileQuerySerializer, request)
        file_id, width, height, mode = params["id"], params.get("width"), params.get("height"), params["mode"]
        file = selectors.file_by_id(file_id, include_deleted=True)
        if file is None:
            if params["fs"] and files.legacy_enabled():
                legacy = files.fetch_legacy_file(file_id=file_id, width=width, height=height, mode=mode)
                return self._relay(legacy, file_id)
            raise files.not_found(file_id)
        if file.is_deleted:
            raise files.not_found(file_id)

        resizing = bool(width or height)
        if resizing:
            files.check_resizable(file=file, width=width, height=height, mode=mode)
            etag = files.variant_etag(file=file, width=width, height=height, mode=mode)
        else:
            etag = files.etag_for(file)
        if _not_modified(request, etag):
            return _cache_headers(HttpResponseNotModified(), etag)

        if resizing:
            served = files.get_variant(
                file=file, width=width, height=height, mode=mode, before_making=lambda: self._allow_new_variant(request)
            )
        else:
            served = files.open_file_for_download(file=file, verify=not params["skipChecksum"])
        response = FileResponse(served.stream, content_type=served.content_type)
        response.block_size = DOWNLOAD_BLOCK_SIZE
        response["Content-Disposition"] = _inline(file.file_name)
        return _cache_headers(response, served.etag)

    @staticmethod
    def _allow_new_variant(request):
        if is_ratelimited(request, group="core.get_file_resize", key="ip", rate=NEW_VARIANT_RATE, increment=True):
            raise Ratelimited()

    @staticmethod
    def _relay(legacy: files.LegacyFile, file_id: str):
        response = StreamingHttpResponse(legacy, content_type=legacy.content_type)
        if legacy.content_length is not None:
            response["Content-Length"] = str(legacy.content_length)
        response["Content-Disposition"] = _inline(file_id)
        if not legacy.content_type.lower().startswith("application/pdf"):
            response["Content-Security-Policy"] = SANDBOX
        return _cache_headers(response)


class GetFileMetadataView(AimgView):
    """Admins: the FileMetadata of a file."""

    permission_classes = (has_perm("core.view_fileobject"),)

    @extend_schema(
        operation_id="getFileMetadata",
        tags=TAGS,
        parameters=[FileIdQuerySerializer],
        responses={200: FileMetadataSerializer},
    )
    def get(self, request):
        file_id = parse_query(FileIdQuerySerializer, request)["id"]
        file = selectors.file_by_id(file_id)
        if file is None:
            raise files.not_found(file_id)
        return Response(FileMetadataSerializer(file, context={"request": request}).data)


class RemoveFileView(AimgView):
    """Admins: remove a file (restorable from the back office until ``purge_deleted``)."""

    permission_classes = (has_perm("core.delete_fileobject"),)

    @extend_schema(
        operation_id="removeFile",
        tags=TAGS,
        parameters=[FileIdQuerySerializer],
        responses={200: inline_serializer("RemoveFileResult", {"success": serializers.BooleanField()})},
    )
    def delete(self, request):
        file_id = parse_query(FileIdQuerySerializer, request)["id"]
        files.remove_file(file_id=file_id)
        return Response({"success": True})

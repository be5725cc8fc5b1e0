"""Sartiq endpoints of the core app: presigned uploads and the media files of the catalogue."""

from django.core.exceptions import RequestDataTooBig
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import FileResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from apps.core.dialects.parsers import CappedUploadHandler
from apps.core.dialects.permissions import IsSignedIn
from apps.core.dialects.sartiq import SartiqView
from apps.core.errors import InvalidInput, NotFound
from apps.core.models import MediaResource
from apps.core.sartiq.media import media_filename
from apps.core.services import uploads

from .serializers import UploadCreateSerializer, UploadSerializer, UploadStatusSerializer

TAGS = ["uploads"]
# Multipart framing around the file of a local POST upload.
FORM_ALLOWANCE = 64 * 1024
MEDIA_CACHE_SECONDS = 365 * 24 * 3600


def _target_body(target: uploads.UploadTarget) -> dict:
    upload = target.upload
    return {
        "id": upload.pk,
        "method": target.method,
        "upload_url": target.upload_url,
        "fields": target.fields,
        "headers": target.headers,
        "file_url": uploads.file_url(upload),
        "expires_at": upload.expires_at,
        "max_bytes": upload.max_bytes,
    }


class UploadsView(SartiqView):
    """``POST /api/v1/uploads/``: a presigned target for one image."""

    permission_classes = (IsSignedIn,)
    serializer_class = UploadCreateSerializer

    @extend_schema(
        operation_id="create_upload",
        summary="Create Upload",
        description=(
            "A presigned target for one image (at most `max_bytes`, before `expires_at`).\n\n"
            "- S3 storage: `method` is `POST`; send a multipart form to `upload_url` with every entry of "
            "`fields` followed by the `file`.\n"
            "- Other storage: `method` is `PUT`; send the raw bytes to `upload_url` (or `POST` a multipart "
            "form with a `file` field). The URL is signed, works once, and needs no bearer token.\n\n"
            "Then put `file_url` into any image field (or into a MediaInput's `url`): the bytes go through "
            "the media pipeline and become a MediaResource."
        ),
        request=UploadCreateSerializer,
        responses={200: UploadSerializer},
        tags=TAGS,
    )
    def post(self, request):
        form = UploadCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        target = uploads.create_upload(user=request.user, **form.validated_data)
        return Response(UploadSerializer(_target_body(target)).data)


class UploadDetailView(SartiqView):
    """``GET /api/v1/uploads/{id}``: the upload's state (its ``file_url``)."""

    permission_classes = (IsSignedIn,)
    serializer_class = UploadStatusSerializer

    @extend_schema(
        operation_id="read_upload",
        summary="Read Upload",
        description="Whether the bytes have arrived and, once the upload was used, its media resource.",
        responses={200: UploadStatusSerializer},
        tags=TAGS,
    )
    def get(self, request, pk):
        upload = uploads.upload_for(upload_id=pk, user=request.user)
        body = {
            "id": upload.pk,
            "file_url": uploads.file_url(upload),
            "expires_at": upload.expires_at,
            "max_bytes": upload.max_bytes,
            "received": upload.received_at is not None or upload.media_resource_id is not None,
            "size": upload.size,
            "media_resource_id": upload.media_resource_id,
        }
        return Response(UploadStatusSerializer(body).data)


class UploadContentView(SartiqView):
    """The signed one-time local upload URL: ``PUT`` the raw bytes, or ``POST`` a multipart ``file``."""

    authentication_classes = ()
    permission_classes = ()
    parser_classes = (JSONParser,)  # never used: the body is read as a stream

    @extend_schema(
        operation_id="put_upload_content",
        summary="Send Upload Bytes",
        description="The raw image bytes, once, before the URL expires and within its size limit.",
        parameters=[OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True)],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={200: UploadStatusSerializer, 410: OpenApiResponse(description="The URL has expired.")},
        tags=TAGS,
        auth=[],
    )
    def put(self, request, pk):
        length = request.META.get("CONTENT_LENGTH")
        content_length = int(length) if length and length.isdigit() else None
        upload = uploads.receive_upload(
            upload_id=pk,
            token=request.query_params.get("token", ""),
            stream=request._request,
            content_length=content_length,
        )
        return Response(self._status(upload))

    @extend_schema(
        operation_id="post_upload_content",
        summary="Send Upload Form",
        description="A multipart form whose `file` field holds the image, as with an S3 presigned POST.",
        parameters=[OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True)],
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses={200: UploadStatusSerializer, 410: OpenApiResponse(description="The URL has expired.")},
        tags=TAGS,
        auth=[],
    )
    def post(self, request, pk):
        token = request.query_params.get("token", "")
        upload = uploads.check_token(upload_id=pk, token=token)
        django_request = request._request
        django_request.upload_handlers = [
            CappedUploadHandler(
                django_request, upload.max_bytes, refuse=uploads.too_large, form_allowance=FORM_ALLOWANCE
            ),
            TemporaryFileUploadHandler(django_request),
        ]
        try:
            files = django_request.FILES
        except RequestDataTooBig:
            raise uploads.too_large(upload.max_bytes) from None
        file = files.get("file")
        if file is None:
            raise InvalidInput(errors={("file",): ["Send the image in a multipart field named 'file'."]})
        with file:
            upload = uploads.receive_upload(upload_id=pk, token=token, stream=file, content_length=file.size)
        return Response(self._status(upload))

    @staticmethod
    def _status(upload) -> dict:
        return UploadStatusSerializer(
            {
                "id": upload.pk,
                "file_url": uploads.file_url(upload),
                "expires_at": upload.expires_at,
                "max_bytes": upload.max_bytes,
                "received": True,
                "size": upload.size,
                "media_resource_id": upload.media_resource_id,
            }
        ).data


class MediaFileView(SartiqView):
    """``GET /api/v1/media/{id}/{content_hash}.{ext}``: the bytes of a media resource.

    The URL names the content, so it is cached for good. With S3 storage the answer redirects to a
    signed storage URL; otherwise the bytes are streamed. ``{content_hash}.thumbnail.{ext}`` is the
    resource's thumbnail. A deleted resource is a 404.
    """

    authentication_classes = ()
    permission_classes = ()

    @extend_schema(
        operation_id="read_media_file",
        summary="Read Media File",
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The image."),
            302: OpenApiResponse(description="Redirect to the storage (S3)."),
            404: OpenApiResponse(description="No such media resource."),
        },
        tags=["media"],
        auth=[],
    )
    def get(self, request, pk, filename):
        resource = MediaResource.objects.filter(pk=pk).first()
        if resource is None:
            raise NotFound("Media not found.")
        name, content_type = self._stored(resource, filename)
        storage = default_storage
        if uploads.is_s3(storage):
            return HttpResponseRedirect(storage.url(name))
        try:
            stream = storage.open(name, "rb")
        except FileNotFoundError:
            raise NotFound("Media not found.") from None
        response = FileResponse(stream, content_type=content_type)
        response["Cache-Control"] = f"public, max-age={MEDIA_CACHE_SECONDS}, immutable"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    @staticmethod
    def _stored(resource: MediaResource, filename: str) -> tuple[str, str]:
        if filename == media_filename(resource):
            return resource.storage_name, resource.mime_type
        if resource.thumbnail_name:
            extension = resource.thumbnail_name.rsplit(".", 1)[-1]
            if filename == f"{resource.content_hash}.thumbnail.{extension}":
                types = {"webp": "image/webp", "png": "image/png", "jpg": "image/jpeg", "gif": "image/gif"}
                return resource.thumbnail_name, types.get(extension, "application/octet-stream")
        raise NotFound("Media not found.")

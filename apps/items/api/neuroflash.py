"""Neuroflash workspace images (``/api/image-service/v1/workspaces/{workspaceId}/images``).

Upload (201 with ``Location``), list (newest first, ``page``/``size`` with the page block, filters
``generationId``, ``modelId``, ``createdByUserId``), one image's metadata, delete (204, soft), and
``.../images/{imageId}/content``, the binary ``_links.content`` points to.
"""

from datetime import UTC
from urllib.parse import quote

from django.http import FileResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.dialects.fields import StrictCharField
from apps.core.dialects.neuroflash import MAX_SIZE, NeuroflashViewSet
from apps.core.dialects.parsers import LimitedJSONParser
from apps.core.dialects.permissions import IsSignedIn
from apps.core.errors import NotFound
from apps.core.services import files

from .. import services_neuroflash as service
from ..models import Item

TAGS = ["Neuroflash images"]
CONTENT_ROUTE = "neuroflash-workspace-image-content"
DETAIL_ROUTE = "neuroflash-workspace-image-detail"
DOWNLOAD_BLOCK_SIZE = 256 * 1024
CONTENT_MAX_AGE = 3600
# A data: URI of the largest accepted image, in JSON, with room for the media type and the quotes.
MAX_BODY_BYTES = 4 * ((service.POLICY.max_bytes + 2) // 3) + 64 * 1024

WORKSPACE_PARAMETER = OpenApiParameter("workspaceId", OpenApiTypes.STR, OpenApiParameter.PATH)
IMAGE_PARAMETER = OpenApiParameter("imageId", OpenApiTypes.STR, OpenApiParameter.PATH)
LIST_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY, description="1-based page number", default=1),
    OpenApiParameter(
        "size", OpenApiTypes.INT, OpenApiParameter.QUERY, description=f"Items per page (max {MAX_SIZE})", default=50
    ),
    OpenApiParameter("generationId", OpenApiTypes.STR, OpenApiParameter.QUERY),
    OpenApiParameter("modelId", OpenApiTypes.STR, OpenApiParameter.QUERY),
    OpenApiParameter("createdByUserId", OpenApiTypes.UUID, OpenApiParameter.QUERY),
]
_FILTERS = ("generationId", "modelId", "createdByUserId")


def _iso(value) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class UtcDateTimeField(serializers.DateTimeField):
    """UTC with milliseconds and a ``Z``, as the spec's examples write timestamps."""

    def to_representation(self, value):
        return _iso(value)


class UploadImageSerializer(serializers.Serializer):
    imageUrl = StrictCharField(  # noqa: N815
        help_text="HTTP(S) URL of the image to fetch, or an inline data: URI.",
        error_messages={"invalid": "Not a valid string: give an http(s) URL or a data: URI."},
    )


class ImageLinksSerializer(serializers.Serializer):
    content = serializers.CharField(help_text="Workspace-scoped URL that returns the image binary.")


class WorkspaceImageSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Unique image ID.")
    generationId = serializers.CharField(source="generation_id")  # noqa: N815
    workspaceId = serializers.CharField(source="workspace_id")  # noqa: N815
    createdByUserId = serializers.CharField(source="owner_id", allow_null=True)  # noqa: N815
    prompt = serializers.CharField()
    model = serializers.CharField()
    parameters = serializers.DictField()
    inputImageIds = serializers.ListField(source="input_image_ids", child=serializers.CharField())  # noqa: N815
    imageWidth = serializers.IntegerField(source="width")  # noqa: N815
    imageHeight = serializers.IntegerField(source="height")  # noqa: N815
    imageSize = serializers.IntegerField(source="size_bytes", allow_null=True)  # noqa: N815
    createdAt = UtcDateTimeField(source="created_at")  # noqa: N815
    updatedAt = UtcDateTimeField(source="updated_at")  # noqa: N815
    _links = serializers.SerializerMethodField()

    def get__links(self, item: Item) -> dict:
        return {"content": content_url(item, self.context["request"])}

    def to_representation(self, item):
        data = super().to_representation(item)
        data["inputImageIds"] = [str(value) for value in item.input_image_ids or []]
        data["parameters"] = item.parameters if isinstance(item.parameters, dict) else {}
        return data


def content_url(item: Item, request) -> str:
    path = reverse(CONTENT_ROUTE, kwargs={"workspaceId": str(item.workspace_id), "imageId": str(item.pk)})
    return request.build_absolute_uri(path)


def detail_url(item: Item, request) -> str:
    path = reverse(DETAIL_ROUTE, kwargs={"workspaceId": str(item.workspace_id), "imageId": str(item.pk)})
    return request.build_absolute_uri(path)


@extend_schema_view(
    create=extend_schema(
        operation_id="neuroflash_upload_workspace_image",
        summary="Upload an image into the workspace",
        parameters=[WORKSPACE_PARAMETER],
        request=UploadImageSerializer,
        responses={201: WorkspaceImageSerializer},
        tags=TAGS,
    ),
    list=extend_schema(
        operation_id="neuroflash_list_workspace_images",
        summary="List images in a workspace (paginated)",
        parameters=[WORKSPACE_PARAMETER, *LIST_PARAMETERS],
        responses={200: WorkspaceImageSerializer(many=True)},
        tags=TAGS,
    ),
    retrieve=extend_schema(
        operation_id="neuroflash_get_workspace_image",
        summary="Get a single image's metadata",
        parameters=[WORKSPACE_PARAMETER, IMAGE_PARAMETER],
        responses={200: WorkspaceImageSerializer},
        tags=TAGS,
    ),
    destroy=extend_schema(
        operation_id="neuroflash_delete_workspace_image",
        summary="Delete an image",
        parameters=[WORKSPACE_PARAMETER, IMAGE_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted.")},
        tags=TAGS,
    ),
)
class WorkspaceImageViewSet(NeuroflashViewSet):
    """Members of the workspace (and the staff roles, see ``services_neuroflash``) work with its images."""

    permission_classes = (IsSignedIn,)
    parser_classes = (LimitedJSONParser,)
    serializer_class = WorkspaceImageSerializer
    max_body_bytes = MAX_BODY_BYTES
    lookup_url_kwarg = "imageId"
    lookup_value_regex = "[^/]+"
    queryset = Item.objects.none()

    def perform_content_negotiation(self, request, force=False):
        """The content action answers bytes whatever ``Accept`` says (an <img> asks for image/*);
        its errors, like every other answer, are JSON."""
        if self.action == "content":
            renderer = self.get_renderers()[0]
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def _workspace(self, *, upload: bool = False):
        return service.workspace_for(user=self.request.user, workspace_id=self.kwargs["workspaceId"], upload=upload)

    def _image(self):
        return service.workspace_image(workspace=self._workspace(), image_id=self.kwargs["imageId"])

    def _payload(self, item: Item) -> dict:
        return WorkspaceImageSerializer(item, context={"request": self.request}).data

    def create(self, request, **kwargs):
        workspace = self._workspace(upload=True)
        form = UploadImageSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        item = service.upload_workspace_image(
            workspace=workspace, user=request.user, image_url=form.validated_data["imageUrl"]
        )
        return Response(
            self._payload(item), status=status.HTTP_201_CREATED, headers={"Location": detail_url(item, request)}
        )

    def list(self, request, **kwargs):
        workspace = self._workspace()
        query = {name: request.query_params[name] for name in _FILTERS if name in request.query_params}
        queryset = service.workspace_images(workspace=workspace, query=query)
        page = self.paginate_queryset(queryset)
        data = WorkspaceImageSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    def retrieve(self, request, **kwargs):
        return Response(self._payload(self._image()))

    def destroy(self, request, **kwargs):
        service.delete_workspace_image(user=request.user, item=self._image())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="neuroflash_get_workspace_image_content",
        summary="The image binary (_links.content)",
        parameters=[WORKSPACE_PARAMETER, IMAGE_PARAMETER],
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The image, with its content type."),
            304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)."),
        },
        tags=TAGS,
    )
    @action(detail=True, methods=["get"], url_path="content", url_name="content")
    def content(self, request, **kwargs):
        item = self._image()
        file = item.file
        if file is None or file.is_deleted:
            raise NotFound("This image has no content yet.")
        etag = files.etag_for(file)
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return self._cached(HttpResponseNotModified(), etag)
        served = files.open_file_for_download(file=file)
        response = FileResponse(served.stream, content_type=served.content_type)
        response.block_size = DOWNLOAD_BLOCK_SIZE
        extension = file.file_name.rsplit(".", 1)[-1] if "." in file.file_name else "bin"
        response["Content-Disposition"] = f'inline; filename="{quote(f"{item.pk}.{extension}")}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return self._cached(response, served.etag)

    @staticmethod
    def _cached(response, etag: str):
        response["ETag"] = etag
        response["Cache-Control"] = f"private, max-age={CONTENT_MAX_AGE}"
        return response

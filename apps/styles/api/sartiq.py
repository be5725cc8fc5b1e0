"""The Sartiq style endpoints (``/api/v1/styles/``): the resource, slug lookup, archive, and the
administrators' list, detail, owner assignment, LoRA trigger and LoRA upload."""

import uuid

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.dialects.base import parse_query
from apps.core.dialects.parsers import LimitedJSONParser
from apps.core.dialects.permissions import FORBIDDEN, NOT_SIGNED_IN, NOT_SIGNED_IN_CODE
from apps.core.errors import InvalidInput
from apps.core.sartiq.lora import LORA_TRIGGER_MAX_LENGTH, read_lora_upload
from apps.core.sartiq.ownership import check_modify, is_admin, organization_for
from apps.core.sartiq.viewsets import (
    ORGANIZATION_PARAMETER,
    OWNER_PARAMETER,
    PAGE_PARAMETERS,
    MessageSerializer,
    OrganizationQuery,
    SartiqResourceViewSet,
)

from .. import selectors, services
from ..filters import StyleFilter
from ..models import Style, StyleCategory
from .serializers import (
    AssignOwnerRequestSerializer,
    LoraTriggerSerializer,
    StyleAdminSerializer,
    StyleCreateSerializer,
    StylePublicSerializer,
    StylesAdminSerializer,
    StylesPublicSerializer,
    StyleUpdateSerializer,
)

TAGS = ["styles"]
ADMIN_ONLY = "Only administrators may do this."
ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)
STYLE_ID_PARAMETER = OpenApiParameter("style_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
SLUG_PARAMETER = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH)
LIST_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.BOOL, OpenApiParameter.QUERY, required=False)
    for name in ("archived", "demo", "enabled", "public")
] + [
    OpenApiParameter("search", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False),
    OpenApiParameter(
        "style_category", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, enum=StyleCategory.values
    ),
    OWNER_PARAMETER,
    ORGANIZATION_PARAMETER,
    *PAGE_PARAMETERS,
]
ADMIN_ORGANIZATION_PARAMETER = OpenApiParameter(
    "organization_id", OpenApiTypes.UUID, OpenApiParameter.QUERY, required=False, description="Organization ID"
)


class IsAdministrator(BasePermission):
    """A superuser (the Sartiq "admin"): 401 when nobody is signed in, 403 for anyone else."""

    message = FORBIDDEN
    code = None

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            self.message, self.code = NOT_SIGNED_IN, NOT_SIGNED_IN_CODE
            return False
        self.message = ADMIN_ONLY
        return is_admin(user)


class _UploadLoraForm(serializers.Serializer):
    """Body_upload_style_lora (documentation: the form is read by ``read_lora_upload``)."""

    file = serializers.FileField(help_text=".safetensors, .ckpt, .pt, .pth or .bin; at most LORA_MAX_BYTES")
    lora_trigger = serializers.CharField(max_length=LORA_TRIGGER_MAX_LENGTH)


@extend_schema_view(
    list=extend_schema(
        operation_id="read_styles",
        summary="Read Styles",
        parameters=LIST_PARAMETERS,
        responses={200: StylesPublicSerializer},
        tags=TAGS,
    ),
    create=extend_schema(
        operation_id="create_style",
        summary="Create Style",
        parameters=[ORGANIZATION_PARAMETER],
        request=StyleCreateSerializer,
        responses={200: StylePublicSerializer},
        tags=TAGS,
    ),
    retrieve=extend_schema(
        operation_id="read_style",
        summary="Read Style",
        parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
        responses={200: StylePublicSerializer},
        tags=TAGS,
    ),
    update=extend_schema(
        operation_id="update_style",
        summary="Update Style",
        description="Every field is optional (a partial update, like PATCH).",
        parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
        request=StyleUpdateSerializer,
        responses={200: StylePublicSerializer},
        tags=TAGS,
    ),
    partial_update=extend_schema(
        operation_id="patch_style",
        summary="Update Style (PATCH)",
        parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
        request=StyleUpdateSerializer,
        responses={200: StylePublicSerializer},
        tags=TAGS,
    ),
    destroy=extend_schema(
        operation_id="delete_style",
        summary="Delete Style",
        description=(
            "Soft delete. The LoRA file and the images nothing else uses are deleted from storage when "
            "the style is purged (purge_deleted, after SOFT_DELETE_RETENTION_DAYS)."
        ),
        parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
        responses={200: MessageSerializer},
        tags=TAGS,
    ),
    restore=extend_schema(
        operation_id="restore_style",
        summary="Restore Style",
        description="Restore a soft-deleted style (admin only).",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: StylePublicSerializer},
        tags=TAGS,
    ),
)
class StyleViewSet(SartiqResourceViewSet):
    queryset = Style.objects.all()
    serializer_class = StylePublicSerializer
    create_serializer_class = StyleCreateSerializer
    update_serializer_class = StyleUpdateSerializer
    filterset_class = StyleFilter
    public_filters = True
    resource_label = "Style"

    def get_queryset(self):
        return selectors.styles()

    # --- the resource's writes ------------------------------------------------------------------

    def create_resource(self, *, user, owner, organization, data):
        return services.create_style(user=user, owner=owner, organization=organization, data=data)

    def update_resource(self, *, user, resource, data, ownership):
        return services.update_style(user=user, style=resource, data=data, ownership=ownership)

    def delete_resource(self, *, user, resource):
        services.delete_style(style=resource)

    def restore_resource(self, *, user, resource):
        return services.restore_style(style=resource)

    # --- slug, archive ----------------------------------------------------------------------------

    @extend_schema(
        operation_id="read_style_by_slug",
        summary="Read Style By Slug",
        parameters=[SLUG_PARAMETER, ORGANIZATION_PARAMETER],
        responses={200: StylePublicSerializer},
        tags=TAGS,
    )
    @action(detail=False, methods=["get"], url_path=r"slug/(?P<slug>[^/]+)", url_name="slug")
    def by_slug(self, request, slug=None, **kwargs):
        query = parse_query(OrganizationQuery, request)
        style = selectors.style_by_slug(user=request.user, slug=slug, organization_id=query["organization_id"])
        if style is None:
            raise self.not_found()
        return Response(self.output(style))

    @extend_schema(
        operation_id="archive_style",
        summary="Archive Style",
        parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
        request=None,
        responses={200: StylePublicSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["put"], url_path="archive")
    def archive(self, request, *args, **kwargs):
        return self._set_archived(request, archived=True)

    @extend_schema(
        operation_id="unarchive_style",
        summary="Unarchive Style",
        parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
        request=None,
        responses={200: StylePublicSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["put"], url_path="unarchive")
    def unarchive(self, request, *args, **kwargs):
        return self._set_archived(request, archived=False)

    def _set_archived(self, request, *, archived: bool):
        style = self.get_object()
        check_modify(request.user, style)
        with transaction.atomic():
            style = services.set_archived(style=style, archived=archived)
        return Response(self.output(style))

    # --- administrators -------------------------------------------------------------------------

    def _admin_output(self, style) -> dict:
        return StyleAdminSerializer(style, context=self.get_serializer_context()).data

    def _admin_style(self, style_id):
        """The live style ``style_id`` for an administrator's change; 404 otherwise."""
        style = selectors.live_style(self._uuid(style_id))
        if style is None:
            raise self.not_found()
        return style

    def _uuid(self, value):
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise self.not_found() from None

    @extend_schema(
        operation_id="read_styles_admin",
        summary="Read Styles Admin",
        description="Every style with the admin fields, soft-deleted ones included (admin only).",
        parameters=[ADMIN_ORGANIZATION_PARAMETER, *PAGE_PARAMETERS],
        responses={200: StylesAdminSerializer},
        tags=TAGS,
    )
    @action(
        detail=False, methods=["get"], url_path=r"admin/?", url_name="admin-list", permission_classes=[IsAdministrator]
    )
    def admin_list(self, request, *args, **kwargs):
        query = parse_query(OrganizationQuery, request)
        queryset = selectors.styles_for_admin(user=request.user, organization_id=query["organization_id"])
        page = self.paginate_queryset(queryset)
        data = StyleAdminSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(
        operation_id="read_style_admin",
        summary="Read Style Admin",
        description="A style with the admin fields, soft-deleted or not (admin only).",
        parameters=[ID_PARAMETER],
        responses={200: StyleAdminSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"admin/(?P<id>[^/]+)",
        url_name="admin-detail",
        permission_classes=[IsAdministrator],
    )
    def admin_detail(self, request, **kwargs):
        style = selectors.style_for_admin(self._uuid(kwargs["id"]))
        if style is None:
            raise self.not_found()
        return Response(self._admin_output(style))

    @extend_schema(
        operation_id="assign_style_owner",
        summary="Assign Style Owner",
        description="Give a style to another owner (admin only), and optionally move it into an organization.",
        parameters=[
            STYLE_ID_PARAMETER,
            OpenApiParameter(
                "organization_id",
                OpenApiTypes.UUID,
                OpenApiParameter.QUERY,
                required=False,
                description="Organization ID to assign",
            ),
        ],
        request=AssignOwnerRequestSerializer,
        responses={200: StylePublicSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["patch"],
        url_path=r"admin/(?P<style_id>[^/]+)/assign-owner",
        url_name="admin-assign-owner",
        permission_classes=[IsAdministrator],
    )
    def assign_owner(self, request, style_id=None, **kwargs):
        style = self._admin_style(style_id)
        form = AssignOwnerRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        owner = User.objects.filter(pk=form.validated_data["new_owner_id"]).first()
        if owner is None:
            message = f"No user has the id '{form.validated_data['new_owner_id']}'."
            raise InvalidInput(message, errors={("new_owner_id",): [message]})
        query = parse_query(OrganizationQuery, request)
        extra = {}
        if query["organization_id"] is not None:
            extra["organization"] = organization_for(user=request.user, organization_id=query["organization_id"])
        with transaction.atomic():
            style = services.assign_owner(style=style, owner=owner, **extra)
        return Response(self.output(style))

    @extend_schema(
        operation_id="update_style_lora_trigger",
        summary="Update Style Lora Trigger",
        description="Set the LoRA trigger word of a style (admin only); without one it is cleared.",
        parameters=[STYLE_ID_PARAMETER],
        request={
            "application/json": LoraTriggerSerializer,
            "application/x-www-form-urlencoded": LoraTriggerSerializer,
        },
        responses={200: StylePublicSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["patch"],
        url_path=r"admin/(?P<style_id>[^/]+)/lora-trigger",
        url_name="admin-lora-trigger",
        permission_classes=[IsAdministrator],
        parser_classes=[LimitedJSONParser, FormParser, MultiPartParser],
    )
    def lora_trigger(self, request, style_id=None, **kwargs):
        style = self._admin_style(style_id)
        form = LoraTriggerSerializer(data=request.data if request.data is not None else {})
        form.is_valid(raise_exception=True)
        with transaction.atomic():
            style = services.set_lora_trigger(style=style, lora_trigger=form.validated_data.get("lora_trigger"))
        return Response(self.output(style))

    @extend_schema(
        operation_id="upload_style_lora",
        summary="Upload Style Lora",
        description=(
            "Upload a pre-trained LoRA file for a style (admin only): multipart `file` (.safetensors, "
            ".ckpt, .pt, .pth or .bin, at most LORA_MAX_BYTES, 100 MB by default: 413 above) and "
            "`lora_trigger`. A .safetensors header must be valid (422 otherwise)."
        ),
        parameters=[STYLE_ID_PARAMETER],
        request={"multipart/form-data": _UploadLoraForm},
        responses={200: StylePublicSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path=r"admin/(?P<style_id>[^/]+)/upload-lora",
        url_name="admin-upload-lora",
        permission_classes=[IsAdministrator],
        parser_classes=[MultiPartParser],
    )
    def upload_lora(self, request, style_id=None, **kwargs):
        style = self._admin_style(style_id)
        form = read_lora_upload(request)
        style = services.upload_lora(style=style, upload=form["file"], lora_trigger=form["lora_trigger"])
        return Response(self.output(style))

"""Sartiq endpoints of the guidelines app: shot types, background presets, resolution presets and
shooting guidelines."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.dialects.base import parse_query
from apps.core.dialects.parsers import LimitedJSONParser
from apps.core.sartiq.viewsets import (
    ORGANIZATION_PARAMETER,
    OWNER_PARAMETER,
    PAGE_PARAMETERS,
    PUBLIC_PARAMETERS,
    MessageSerializer,
    OrganizationQuery,
    SartiqResourceViewSet,
)

from .. import selectors, services
from ..filters import ShotTypeFilter
from ..models import BackgroundPreset, Framing, ResolutionPreset, ShootingGuidelines, ShotType, ViewAngle
from .guideline_serializers import (
    ShootingGuidelinesCreateSerializer,
    ShootingGuidelinesListPublicSerializer,
    ShootingGuidelinesPublicSerializer,
    ShootingGuidelinesUpdateSerializer,
)
from .serializers import (
    BackgroundPresetCreateSerializer,
    BackgroundPresetPublicSerializer,
    BackgroundPresetUpdateSerializer,
    ResolutionPresetCreateSerializer,
    ResolutionPresetPublicSerializer,
    ResolutionPresetUpdateSerializer,
    ShotTypeCreateSerializer,
    ShotTypePublicSerializer,
    ShotTypeUpdateSerializer,
)

# Image fields take base64 too; a body may hold a few full-size images (larger ones: use uploads).
IMAGE_BODY_BYTES = 64 * 1024 * 1024


def _resource_schema(*, tag: str, label: str, plural: str, public, create, update, list_parameters=()):
    """extend_schema_view for the seven actions of a SartiqResourceViewSet."""
    key = tag.replace("-", "_")
    singular = key.rstrip("s")
    organization = [ORGANIZATION_PARAMETER]
    return extend_schema_view(
        list=extend_schema(
            operation_id=f"read_{key}",
            summary=f"Read {plural}",
            parameters=[*organization, OWNER_PARAMETER, *list_parameters, *PAGE_PARAMETERS],
            responses={200: public(many=True)},
            tags=[tag],
        ),
        create=extend_schema(
            operation_id=f"create_{singular}",
            summary=f"Create {label}",
            parameters=organization,
            request=create,
            responses={200: public},
            tags=[tag],
        ),
        retrieve=extend_schema(
            operation_id=f"read_{singular}",
            summary=f"Read {label}",
            parameters=organization,
            responses={200: public},
            tags=[tag],
        ),
        update=extend_schema(
            operation_id=f"update_{singular}",
            summary=f"Update {label}",
            description="Every field is optional (PUT and PATCH are both partial updates).",
            parameters=organization,
            request=update,
            responses={200: public},
            tags=[tag],
        ),
        partial_update=extend_schema(
            operation_id=f"patch_{singular}",
            summary=f"Update {label} (PATCH)",
            parameters=organization,
            request=update,
            responses={200: public},
            tags=[tag],
        ),
        destroy=extend_schema(
            operation_id=f"delete_{singular}",
            summary=f"Delete {label}",
            description="Soft delete: an administrator can restore it until it is purged.",
            parameters=organization,
            responses={200: MessageSerializer},
            tags=[tag],
        ),
        restore=extend_schema(
            operation_id=f"restore_{singular}",
            summary=f"Restore {label}",
            description=f"Restore a soft-deleted {label.lower()} (admin only).",
            request=None,
            responses={200: public},
            tags=[tag],
        ),
    )


SHOT_TYPE_FILTERS = [
    OpenApiParameter("framing", OpenApiTypes.STR, enum=Framing.values, required=False),
    OpenApiParameter("view_angle", OpenApiTypes.STR, enum=ViewAngle.values, required=False),
    OpenApiParameter(
        "search", OpenApiTypes.STR, required=False, description="Words in the name, prompt or instruction."
    ),
    *PUBLIC_PARAMETERS,
]


@_resource_schema(
    tag="shot-types",
    label="Shot Type",
    plural="Shot Types",
    public=ShotTypePublicSerializer,
    create=ShotTypeCreateSerializer,
    update=ShotTypeUpdateSerializer,
    list_parameters=SHOT_TYPE_FILTERS,
)
class ShotTypeViewSet(SartiqResourceViewSet):
    queryset = ShotType.objects.all()
    serializer_class = ShotTypePublicSerializer
    create_serializer_class = ShotTypeCreateSerializer
    update_serializer_class = ShotTypeUpdateSerializer
    filterset_class = ShotTypeFilter
    public_filters = True
    resource_label = "Shot type"
    max_body_bytes = IMAGE_BODY_BYTES

    def get_queryset(self):
        return selectors.shot_types()

    def create_resource(self, *, user, owner, organization, data):
        return services.create_shot_type(user=user, owner=owner, organization=organization, data=data)

    def update_resource(self, *, user, resource, data, ownership):
        return services.update_shot_type(user=user, shot_type=resource, data=data, ownership=ownership)

    def delete_resource(self, *, user, resource):
        services.delete_shot_type(shot_type=resource)

    def restore_resource(self, *, user, resource):
        return services.restore_shot_type(shot_type=resource)

    @extend_schema(
        operation_id="read_shot_type_by_name",
        summary="Read Shot Type By Name",
        description="The caller's own shot type of that name first (or the organization's), then a public one.",
        parameters=[ORGANIZATION_PARAMETER],
        responses={200: ShotTypePublicSerializer},
        tags=["shot-types"],
    )
    @action(detail=False, methods=["get"], url_path=r"name/(?P<name>[^/]+)", url_name="by-name")
    def by_name(self, request, name=None):
        query = parse_query(OrganizationQuery, request)
        shot_type = selectors.shot_type_by_name(user=request.user, name=name, organization_id=query["organization_id"])
        if shot_type is None:
            raise self.not_found()
        return Response(self.output(shot_type))


@_resource_schema(
    tag="background-presets",
    label="Background Preset",
    plural="Background Presets",
    public=BackgroundPresetPublicSerializer,
    create=BackgroundPresetCreateSerializer,
    update=BackgroundPresetUpdateSerializer,
)
class BackgroundPresetViewSet(SartiqResourceViewSet):
    queryset = BackgroundPreset.objects.all()
    serializer_class = BackgroundPresetPublicSerializer
    create_serializer_class = BackgroundPresetCreateSerializer
    update_serializer_class = BackgroundPresetUpdateSerializer
    resource_label = "Background preset"
    max_body_bytes = IMAGE_BODY_BYTES

    def get_queryset(self):
        return selectors.background_presets()

    def _fresh(self, preset):
        """The preset as it is now, framings included (a replaced list is not the prefetched one)."""
        return selectors.background_presets().get(pk=preset.pk)

    def create_resource(self, *, user, owner, organization, data):
        return self._fresh(
            services.create_background_preset(user=user, owner=owner, organization=organization, data=data)
        )

    def update_resource(self, *, user, resource, data, ownership):
        return self._fresh(
            services.update_background_preset(user=user, preset=resource, data=data, ownership=ownership)
        )

    def delete_resource(self, *, user, resource):
        services.delete_background_preset(preset=resource)

    def restore_resource(self, *, user, resource):
        return self._fresh(services.restore_background_preset(preset=resource))


@_resource_schema(
    tag="resolution-presets",
    label="Resolution Preset",
    plural="Resolution Presets",
    public=ResolutionPresetPublicSerializer,
    create=ResolutionPresetCreateSerializer,
    update=ResolutionPresetUpdateSerializer,
)
class ResolutionPresetViewSet(SartiqResourceViewSet):
    queryset = ResolutionPreset.objects.all()
    serializer_class = ResolutionPresetPublicSerializer
    create_serializer_class = ResolutionPresetCreateSerializer
    update_serializer_class = ResolutionPresetUpdateSerializer
    resource_label = "Resolution preset"

    def get_queryset(self):
        return selectors.resolution_presets()

    def create_resource(self, *, user, owner, organization, data):
        return services.create_resolution_preset(user=user, owner=owner, organization=organization, data=data)

    def update_resource(self, *, user, resource, data, ownership):
        return services.update_resolution_preset(user=user, preset=resource, data=data, ownership=ownership)

    def delete_resource(self, *, user, resource):
        services.delete_resolution_preset(preset=resource)

    def restore_resource(self, *, user, resource):
        return services.restore_resolution_preset(preset=resource)


# --- shooting guidelines -------------------------------------------------------------------------

GUIDELINES_TAGS = ["guidelines"]


@extend_schema_view(
    list=extend_schema(
        operation_id="read_guidelines_list",
        summary="Read Guidelines List",
        description=(
            "Regular users see their personal guidelines, or with organization_id that organization's; "
            "superusers see every guideline, or one owner's with owner_id."
        ),
        parameters=[ORGANIZATION_PARAMETER, OWNER_PARAMETER, *PAGE_PARAMETERS],
        responses={200: ShootingGuidelinesListPublicSerializer},
        tags=GUIDELINES_TAGS,
    ),
    create=extend_schema(
        operation_id="create_guidelines",
        summary="Create Guidelines",
        description=(
            "Every referenced shot type, subject, preset, pose preset and set design must exist and be "
            "usable by the caller in the guidelines' organization (422 naming the field otherwise)."
        ),
        parameters=[ORGANIZATION_PARAMETER],
        request=ShootingGuidelinesCreateSerializer,
        responses={200: ShootingGuidelinesPublicSerializer},
        tags=GUIDELINES_TAGS,
    ),
    retrieve=extend_schema(
        operation_id="read_guidelines",
        summary="Read Guidelines",
        parameters=[ORGANIZATION_PARAMETER],
        responses={200: ShootingGuidelinesPublicSerializer},
        tags=GUIDELINES_TAGS,
    ),
    update=extend_schema(
        operation_id="update_guidelines",
        summary="Update Guidelines",
        description="Every field is optional (PUT and PATCH are both partial updates).",
        parameters=[ORGANIZATION_PARAMETER],
        request=ShootingGuidelinesUpdateSerializer,
        responses={200: ShootingGuidelinesPublicSerializer},
        tags=GUIDELINES_TAGS,
    ),
    partial_update=extend_schema(
        operation_id="patch_guidelines",
        summary="Update Guidelines (PATCH)",
        parameters=[ORGANIZATION_PARAMETER],
        request=ShootingGuidelinesUpdateSerializer,
        responses={200: ShootingGuidelinesPublicSerializer},
        tags=GUIDELINES_TAGS,
    ),
    destroy=extend_schema(
        operation_id="delete_guidelines",
        summary="Delete Guidelines",
        description="Soft delete: an administrator can restore them until they are purged.",
        parameters=[ORGANIZATION_PARAMETER],
        responses={200: MessageSerializer},
        tags=GUIDELINES_TAGS,
    ),
    restore=extend_schema(
        operation_id="restore_guidelines",
        summary="Restore Guidelines",
        description="Restore soft-deleted shooting guidelines (admin only).",
        request=None,
        responses={200: ShootingGuidelinesPublicSerializer},
        tags=GUIDELINES_TAGS,
    ),
)
class ShootingGuidelinesViewSet(SartiqResourceViewSet):
    queryset = ShootingGuidelines.objects.all()
    serializer_class = ShootingGuidelinesPublicSerializer
    create_serializer_class = ShootingGuidelinesCreateSerializer
    update_serializer_class = ShootingGuidelinesUpdateSerializer
    resource_label = "Shooting guidelines"
    parser_classes = (LimitedJSONParser,)  # bodies are JSON, as the spec documents them

    def get_queryset(self):
        return selectors.shooting_guidelines()

    def create_resource(self, *, user, owner, organization, data):
        guideline = services.create_guidelines(user=user, owner=owner, organization=organization, data=data)
        return selectors.live_guideline(guideline.pk)

    def update_resource(self, *, user, resource, data, ownership):
        guideline = services.update_guidelines(user=user, guideline=resource, data=data, ownership=ownership)
        return selectors.live_guideline(guideline.pk)

    def delete_resource(self, *, user, resource):
        services.delete_guidelines(guideline=resource)

    def restore_resource(self, *, user, resource):
        services.restore_guidelines(guideline=resource)
        return selectors.live_guideline(resource.pk)

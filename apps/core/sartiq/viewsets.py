"""The ViewSet every Sartiq catalogue resource is served by, and its router.

A concrete ViewSet names its model (``queryset``), its serializers and, optionally, a django-filter
FilterSet, and implements the writes by calling its app's services::

    class ShotTypeViewSet(SartiqResourceViewSet):
        queryset = ShotType.objects.all()
        serializer_class = ShotTypePublicSerializer          # responses
        create_serializer_class = ShotTypeCreateSerializer    # POST body
        update_serializer_class = ShotTypeUpdateSerializer    # PUT / PATCH body (partial)
        filterset_class = ShotTypeFilter
        public_filters = True                                 # include_public / public query params
        resource_label = "Shot type"

        def create_resource(self, *, user, owner, organization, data): ...
        def update_resource(self, *, user, resource, data, ownership): ...
        def delete_resource(self, *, user, resource): ...
        def restore_resource(self, *, user, resource): ...

Routes (``SartiqRouter``): ``{prefix}/`` list and create; ``{prefix}/{id}`` get, PUT and PATCH
(both partial), DELETE (soft delete, ``{"message"}``); ``{prefix}/{id}/restore`` (superusers).
Ownership and organization rules are those of ``apps.core.sartiq.ownership``.
"""

import uuid

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.routers import DynamicRoute, Route, SimpleRouter

from apps.core.dialects.base import MAX_OFFSET, parse_query
from apps.core.dialects.permissions import IsSignedIn
from apps.core.dialects.sartiq import SartiqViewSet
from apps.core.errors import InvalidInput, NotFound, PermissionDenied

from .media import discard_stored_media_on_error
from .ownership import (
    accessible_queryset,
    check_modify,
    check_organization_owner,
    check_transfer,
    is_admin,
    organization_for,
    resolve_owner,
    scoped_queryset,
)

ORGANIZATION_PARAMETER = OpenApiParameter(
    "organization_id",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=False,
    description="Scope the request to this organization (membership required).",
)
OWNER_PARAMETER = OpenApiParameter(
    "owner_id", OpenApiTypes.UUID, OpenApiParameter.QUERY, required=False, description="Administrators only."
)
PUBLIC_PARAMETERS = [
    OpenApiParameter(
        "include_public",
        OpenApiTypes.BOOL,
        OpenApiParameter.QUERY,
        required=False,
        description="Also list the public resources of every owner.",
    ),
    OpenApiParameter(
        "public",
        OpenApiTypes.BOOL,
        OpenApiParameter.QUERY,
        required=False,
        description="Only public (true, of every owner) or only private (false) resources.",
    ),
]
PAGE_PARAMETERS = [  # as SkipLimitPagination reads them
    OpenApiParameter(
        "skip",
        {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
        OpenApiParameter.QUERY,
        required=False,
        default=0,
    ),
    OpenApiParameter("limit", {"type": "integer", "minimum": 0}, OpenApiParameter.QUERY, required=False, default=100),
]


class MessageSerializer(serializers.Serializer):
    """The spec's Message: what a delete answers."""

    message = serializers.CharField()


# Query parameters as FastAPI reads them (``parse_query`` validates a parameter that is present,
# even empty): absent is "not given", but an empty or "null" value is not a UUID or a boolean (422).
def query_uuid():
    return serializers.UUIDField(required=False, default=None)


def query_choice(choices):
    return serializers.ChoiceField(choices, required=False, default=None)


def query_boolean(default=None):
    return serializers.BooleanField(required=False, default=default)


class OrganizationQuery(serializers.Serializer):
    organization_id = query_uuid()


class _ListQuery(OrganizationQuery):
    owner_id = query_uuid()


class _PublicListQuery(_ListQuery):
    include_public = query_boolean(default=False)
    public = query_boolean()


class SartiqResourceViewSet(SartiqViewSet):
    """list / create / retrieve / update (PUT and PATCH, partial) / destroy (soft) / restore."""

    permission_classes = (IsSignedIn,)
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"
    create_serializer_class = None
    update_serializer_class = None
    filterset_class = None
    public_filters = False
    resource_label = "Resource"
    ordering = ("-created_at", "-id")

    # --- hooks a concrete ViewSet implements (each calls its app's service) -----------------------

    def create_resource(self, *, user, owner, organization, data: dict):
        raise NotImplementedError

    def update_resource(self, *, user, resource, data: dict, ownership: dict):
        raise NotImplementedError

    def delete_resource(self, *, user, resource):
        resource.delete()

    def restore_resource(self, *, user, resource):
        resource.restore()
        return resource

    # --- reading -------------------------------------------------------------------------------

    def get_serializer_class(self):
        if self.action == "create" and self.create_serializer_class is not None:
            return self.create_serializer_class
        if self.action in ("update", "partial_update") and self.update_serializer_class is not None:
            return self.update_serializer_class
        return self.serializer_class

    def output(self, resource) -> dict:
        return self.serializer_class(resource, context=self.get_serializer_context()).data

    def not_found(self) -> NotFound:
        return NotFound(f"{self.resource_label} not found.")

    def list_queryset(self, request):
        """The rows the list shows: scoped by ownership, then filtered, then ordered."""
        query = parse_query(_PublicListQuery if self.public_filters else _ListQuery, request)
        include_public = False
        if self.public_filters:
            include_public = query["include_public"] or query["public"] is True
        queryset = scoped_queryset(
            self.get_queryset(),
            request=request,
            organization_id=query["organization_id"],
            include_public=include_public,
            owner_id=query["owner_id"],
        )
        if self.public_filters and query["public"] is not None:
            queryset = queryset.filter(public=query["public"])
        if self.filterset_class is not None:
            filterset = self.filterset_class(request.query_params, queryset=queryset, request=request)
            if not filterset.is_valid():
                # ErrorDetail keeps each error's code, which becomes its FastAPI type ("enum", ...).
                errors = {
                    (name,): [ErrorDetail(" ".join(error.messages), code=error.code) for error in items]
                    for name, items in filterset.form.errors.as_data().items()
                }
                raise InvalidInput(errors=errors, location="query")
            queryset = filterset.qs
        return queryset.order_by(*self.ordering)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.list_queryset(request))
        data = self.serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def get_object(self):
        query = parse_query(OrganizationQuery, self.request)
        queryset = accessible_queryset(
            self.get_queryset(), user=self.request.user, organization_id=query["organization_id"]
        )
        resource = queryset.filter(pk=self._lookup_pk()).first()
        if resource is None:
            raise self.not_found()
        self.check_object_permissions(self.request, resource)
        return resource

    def _lookup_pk(self):
        try:
            return uuid.UUID(str(self.kwargs[self.lookup_url_kwarg]))
        except ValueError:
            raise self.not_found() from None

    def retrieve(self, request, *args, **kwargs):
        return Response(self.output(self.get_object()))

    # --- writing -------------------------------------------------------------------------------

    def create(self, request, *args, **kwargs):
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        user = request.user
        organization_id = data.pop("organization_id", None)
        location = "body"
        if organization_id is None:
            organization_id = parse_query(OrganizationQuery, request)["organization_id"]
            location = "query"
        organization = None
        if organization_id is not None:
            organization = organization_for(user=user, organization_id=organization_id, location=location)
        owner = resolve_owner(user=user, owner_id=data.pop("owner_id", None))
        check_organization_owner(owner=owner, organization=organization)
        with discard_stored_media_on_error(), transaction.atomic():
            resource = self.create_resource(user=user, owner=owner, organization=organization, data=data)
        return Response(self.output(resource))

    def update(self, request, *args, **kwargs):
        resource = self.get_object()
        user = request.user
        check_modify(user, resource)
        form = self.update_serializer_class(data=request.data, partial=True, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        ownership = {}
        if "organization_id" in data:
            target = check_transfer(user=user, resource=resource, organization_id=data.pop("organization_id"))
            if (target.pk if target else None) != resource.organization_id:
                ownership["organization"] = target
        owner_id = data.pop("owner_id", None)
        if owner_id is not None and owner_id != resource.owner_id:
            ownership["owner"] = resolve_owner(user=user, owner_id=owner_id)
        if ownership:
            check_organization_owner(
                owner=ownership.get("owner", resource.owner),
                organization=ownership.get("organization", resource.organization),
            )
        with discard_stored_media_on_error(), transaction.atomic():
            resource = self.update_resource(user=user, resource=resource, data=data, ownership=ownership)
        return Response(self.output(resource))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        resource = self.get_object()
        check_modify(request.user, resource)
        with transaction.atomic():
            self.delete_resource(user=request.user, resource=resource)
        return Response({"message": f"{self.resource_label} deleted successfully"})

    @action(detail=True, methods=["post"], url_path="restore")
    def restore(self, request, *args, **kwargs):
        if not is_admin(request.user):
            raise PermissionDenied(f"Only administrators may restore a {self.resource_label.lower()}.")
        resource = self.get_queryset().model.all_objects.filter(pk=self._lookup_pk()).first()
        if resource is None:
            raise self.not_found()
        with transaction.atomic():
            resource = self.restore_resource(user=request.user, resource=resource)
        return Response(self.output(resource))


def apply_ownership(resource, ownership: dict) -> list[str]:
    """Set the owner and organization an update decided on; the names of the fields it changed."""
    changed = []
    if "organization" in ownership:
        resource.organization = ownership["organization"]
        changed.append("organization")
    if "owner" in ownership:
        resource.owner = ownership["owner"]
        changed.append("owner")
    return changed


class SartiqRouter(SimpleRouter):
    """FastAPI's paths: ``{prefix}/`` for the collection (the slash optional), ``{prefix}/{id}`` for
    one resource and ``{prefix}/{id}/{action}`` for its extra actions, without trailing slashes."""

    routes = [
        Route(
            url=r"^{prefix}/?$",
            mapping={"get": "list", "post": "create"},
            name="{basename}-list",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        DynamicRoute(url=r"^{prefix}/{url_path}$", name="{basename}-{url_name}", detail=False, initkwargs={}),
        Route(
            url=r"^{prefix}/{lookup}$",
            mapping={"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"},
            name="{basename}-detail",
            detail=True,
            initkwargs={"suffix": "Instance"},
        ),
        DynamicRoute(url=r"^{prefix}/{lookup}/{url_path}$", name="{basename}-{url_name}", detail=True, initkwargs={}),
    ]

    def __init__(self):
        super().__init__(trailing_slash=False)

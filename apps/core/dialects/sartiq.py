"""Sartiq (FastAPI style): bare objects, ``{"data", "count"}`` lists, ``{"detail"}`` errors, 422."""

from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from .auth import BearerTokenAuthentication
from .base import MAX_OFFSET, Dialect, DialectMixin, parse_query

MAX_LIMIT = 1000


class SartiqDialect(Dialect):
    name = "sartiq"
    validation_status = 422

    def error_body(self, problem, request) -> dict:
        if problem.is_validation:
            return {"detail": [err.as_dict() for err in problem.field_errors]}
        return {"detail": problem.message}


SARTIQ = SartiqDialect()


class _SkipLimitQuery(serializers.Serializer):
    skip = serializers.IntegerField(required=False, min_value=0, max_value=MAX_OFFSET, default=0)
    limit = serializers.IntegerField(required=False, min_value=0, default=100)


class SkipLimitPagination(BasePagination):
    """``skip``/``limit`` (default 100). ``limit`` above 1000 is served as 1000: the spec sets no
    maximum and clients page with ``skip += len(data)``, so a smaller page stays correct."""

    def paginate_queryset(self, queryset, request, view=None):
        params = parse_query(_SkipLimitQuery, request)
        skip = params["skip"]
        limit = min(params["limit"], MAX_LIMIT)
        self.count = queryset.count()
        return list(queryset[skip : skip + limit])

    def get_paginated_response(self, data):
        return Response({"data": data, "count": self.count})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "count"],
            "properties": {"data": schema, "count": {"type": "integer"}},
        }


class SartiqMixin(DialectMixin):
    dialect = SARTIQ
    renderer_classes = SARTIQ.renderer_classes
    authentication_classes = (BearerTokenAuthentication,)
    pagination_class = SkipLimitPagination


class SartiqViewSet(SartiqMixin, GenericViewSet):
    """Base class of Sartiq resource ViewSets. PUT and PATCH are both partial updates."""

    def update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return super().update(request, *args, **kwargs)


class SartiqView(SartiqMixin, GenericAPIView):
    """Base class of Sartiq endpoints that are not resources (login, uploads)."""

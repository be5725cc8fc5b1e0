"""Neuroflash: plain JSON, ``page``/``size`` pagination, Spring-style error bodies."""

from django.utils import timezone
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from .auth import BearerTokenAuthentication
from .base import MAX_OFFSET, Dialect, DialectMixin, parse_query

MAX_SIZE = 200
DEFAULT_SIZE = 50
# Every page of every size starts inside MAX_OFFSET.
MAX_PAGE = MAX_OFFSET // MAX_SIZE


class NeuroflashDialect(Dialect):
    name = "neuroflash"

    def error_body(self, problem, request) -> dict:
        data = {
            "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
            "status": problem.status,
            "error": problem.reason,
            "message": problem.summary(),
            "path": request.path,
        }
        if problem.field_errors:
            data["errors"] = [
                {"field": ".".join(str(p) for p in err.loc[1:]), "message": err.msg} for err in problem.field_errors
            ]
        return data


NEUROFLASH = NeuroflashDialect()


class _PageQuery(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=1)
    size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIZE, default=DEFAULT_SIZE)


class PageSizePagination(BasePagination):
    """1-based ``page`` and ``size`` (default 50, at most 200) with the spec's ``page`` block."""

    def paginate_queryset(self, queryset, request, view=None):
        params = parse_query(_PageQuery, request)
        self.page_number = params["page"]
        self.size = params["size"]
        self.total = queryset.count()
        start = (self.page_number - 1) * self.size
        return list(queryset[start : start + self.size])

    def get_paginated_response(self, data):
        total_pages = (self.total + self.size - 1) // self.size
        page = {
            "size": self.size,
            "totalElements": self.total,
            "totalPages": total_pages,
            "currentPage": self.page_number,
        }
        return Response({"page": page, "data": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["page", "data"],
            "properties": {
                "page": {
                    "type": "object",
                    "properties": {
                        "size": {"type": "integer"},
                        "totalElements": {"type": "integer"},
                        "totalPages": {"type": "integer"},
                        "currentPage": {"type": "integer"},
                    },
                },
                "data": schema,
            },
        }


class NeuroflashMixin(DialectMixin):
    dialect = NEUROFLASH
    renderer_classes = NEUROFLASH.renderer_classes
    authentication_classes = (BearerTokenAuthentication,)
    pagination_class = PageSizePagination


class NeuroflashViewSet(NeuroflashMixin, GenericViewSet):
    """Base class of Neuroflash resource ViewSets."""


class NeuroflashView(NeuroflashMixin, GenericAPIView):
    """Base class of Neuroflash endpoints that are not resources."""

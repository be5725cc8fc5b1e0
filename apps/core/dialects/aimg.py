"""AIMG: ``{"hasError", "errorMessage", "errorCode"?, "payload", "metadata"?}`` and keyset pagination."""

from datetime import UTC, datetime, timedelta

from django.db.models import Q
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from apps.core.errors import InvalidInput

from .auth import AimgAuthentication
from .base import Dialect, DialectMixin

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def body(payload=None, *, metadata: dict | None = None) -> dict:
    data = {"hasError": False, "errorMessage": None, "payload": payload}
    if metadata is not None:
        data["metadata"] = metadata
    return data


class AimgDialect(Dialect):
    name = "aimg"

    def error_body(self, problem, request) -> dict:
        data = {"hasError": True, "errorMessage": problem.summary(), "payload": None}
        if problem.app_code is not None:
            data["errorCode"] = problem.app_code
        return data

    def wrap(self, request, response: Response) -> Response:
        response.data = body(response.data)
        return response


AIMG = AimgDialect()


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)


def to_millis(value: datetime) -> int:
    """UNIX time in whole milliseconds (floored, exact: no float rounding)."""
    return (value - EPOCH) // ONE_MS


def from_millis(value: int) -> datetime:
    return EPOCH + value * ONE_MS


class _PaginationQuery(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    paginationIndex = serializers.IntegerField(required=False, min_value=0, default=0)  # noqa: N815
    reversePagination = serializers.BooleanField(required=False, default=False)  # noqa: N815
    skipCount = serializers.IntegerField(required=False, min_value=0, default=0)  # noqa: N815


class KeysetPagination(BasePagination):
    """Keyset pagination on a reference timestamp (Annex: Pagination).

    Rows are ordered by (reference timestamp, id). ``paginationIndex`` is a UNIX time in ms and
    returns rows strictly older (or, reversed, strictly newer). A page never ends inside a group of
    rows that share the boundary's millisecond: it stops before the group, so the next page (which
    starts strictly past the previous page's last timestamp) gets the whole group. When one
    millisecond holds more rows than ``limit``, the page holds that whole group.

    Views set ``pagination_reference_field`` (default ``created_at``) and may set
    ``pagination_total_count = True`` to add ``totalCount``.
    """

    def paginate_queryset(self, queryset, request, view=None):
        query = _PaginationQuery(data=request.query_params)
        if not query.is_valid():
            raise InvalidInput(errors={(k,): v for k, v in query.errors.items()}, location="query")
        params = query.validated_data
        field = getattr(view, "pagination_reference_field", "created_at")
        self.field = field
        self.limit = params["limit"]
        self.index = params["paginationIndex"]
        self.reverse = params["reversePagination"]
        self.skip = params["skipCount"]

        if getattr(view, "pagination_total_count", False):
            self.total_count = queryset.count()
        else:
            self.total_count = None

        if self.index:
            # Strictly older than the index's millisecond, or (reversed) strictly newer than it.
            if self.reverse:
                queryset = queryset.filter(**{f"{field}__gte": from_millis(self.index + 1)})
            else:
                queryset = queryset.filter(**{f"{field}__lt": from_millis(self.index)})
        order = [field, "pk"] if self.reverse else [f"-{field}", "-pk"]
        ordered = queryset.order_by(*order)

        rows = list(ordered[self.skip : self.skip + self.limit + 1])
        self.has_more = len(rows) > self.limit
        if self.has_more:
            rows = self._cut_at_group_boundary(rows, ordered)
        self.page = rows
        return rows

    def _cut_at_group_boundary(self, rows, ordered):
        """Trim (or extend) an over-long fetch so the page ends on a whole millisecond."""
        overflow_ms = to_millis(getattr(rows[self.limit], self.field))
        first_in_group = next(i for i, row in enumerate(rows) if to_millis(getattr(row, self.field)) == overflow_ms)
        if first_in_group > 0:
            return rows[:first_in_group]
        # The whole page is one millisecond: return the whole group.
        start, end = from_millis(overflow_ms), from_millis(overflow_ms + 1)
        group = list(ordered.filter(Q(**{f"{self.field}__gte": start}) & Q(**{f"{self.field}__lt": end})))
        beyond = "gte" if self.reverse else "lt"
        edge = end if self.reverse else start
        self.has_more = ordered.filter(**{f"{self.field}__{beyond}": edge}).exists()
        return group

    def metadata(self) -> dict:
        next_index = None
        if self.has_more and self.page:
            next_index = str(to_millis(getattr(self.page[-1], self.field)))
        meta = {
            "paginationIndex": str(self.index),
            "nextPaginationIndex": next_index,
            "reversePagination": self.reverse,
            "skipCount": self.skip,
            "limit": self.limit,
            "count": len(self.page),
        }
        if self.total_count is not None:
            meta["totalCount"] = self.total_count
        return meta

    def get_paginated_response(self, data):
        response = Response(body(data, metadata=self.metadata()))
        response.dialect_final = True
        return response

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["hasError", "errorMessage", "payload", "metadata"],
            "properties": {
                "hasError": {"type": "boolean"},
                "errorMessage": {"type": "string", "nullable": True},
                "payload": schema,
                "metadata": {
                    "type": "object",
                    "properties": {
                        "paginationIndex": {"type": "string"},
                        "nextPaginationIndex": {"type": "string", "nullable": True},
                        "reversePagination": {"type": "boolean"},
                        "skipCount": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "count": {"type": "integer"},
                        "totalCount": {"type": "integer"},
                        "proLimitHit": {"type": "boolean"},
                    },
                },
            },
        }


class AimgMixin(DialectMixin):
    dialect = AIMG
    renderer_classes = AIMG.renderer_classes
    authentication_classes = (AimgAuthentication,)
    pagination_class = KeysetPagination


class AimgView(AimgMixin, GenericAPIView):
    """Base class of every AIMG RPC view."""


class AimgViewSet(AimgMixin, GenericViewSet):
    """Base class of AIMG ViewSets whose actions urls.py maps onto the documented RPC paths."""

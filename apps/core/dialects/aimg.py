"""AIMG: ``{"hasError", "errorMessage", "errorCode"?, "payload", "metadata"?}`` and keyset pagination."""

import re
from datetime import UTC, datetime, timedelta

from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from .auth import AimgAuthentication
from .base import MAX_OFFSET, Dialect, DialectMixin, parse_query

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
# The PaginationMetadata annex type, as the OpenAPI document describes it.
PAGINATION_METADATA_SCHEMA = {
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
}


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
# The last microsecond of a millisecond. "After millisecond m" is written "> m's last microsecond",
# which stays inside datetime's range even for the last millisecond of year 9999.
LAST_MICROSECOND = ONE_MS - timedelta(microseconds=1)


def to_millis(value: datetime) -> int:
    """UNIX time in whole milliseconds (floored, exact: no float rounding)."""
    return (value - EPOCH) // ONE_MS


def from_millis(value: int) -> datetime:
    return EPOCH + value * ONE_MS


def millisecond_bounds(value: int) -> tuple[datetime, datetime]:
    """The first and the last microsecond of the millisecond ``value``."""
    first = from_millis(value)
    return first, first + LAST_MICROSECOND


# The last millisecond a datetime can hold: larger pagination indexes are refused, not crashed on.
MAX_INDEX = to_millis(datetime.max.replace(tzinfo=UTC))


INDEX_PATTERN = r"^[0-9]{1,15}$"


class PaginationIndexField(serializers.IntegerField):
    """A UNIX time in milliseconds, as the digits of a string (no sign, blanks or decimals)."""

    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=0, max_value=MAX_INDEX, default=0, **kwargs)

    default_error_messages = {"invalid": "Give a UNIX time in milliseconds (digits only)."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch("[0-9]+", data):
            self.fail("invalid")
        return super().to_internal_value(data)


class PaginationQuery(serializers.Serializer):
    """The query of every keyset-paginated AIMG list."""

    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    paginationIndex = PaginationIndexField()  # noqa: N815
    reversePagination = serializers.BooleanField(required=False, default=False)  # noqa: N815
    skipCount = serializers.IntegerField(required=False, min_value=0, max_value=MAX_OFFSET, default=0)  # noqa: N815


def pagination_parameters(what: str) -> list:
    """The query parameters of a keyset-paginated AIMG list, as ``PaginationQuery`` reads them
    (one declaration for every list, so the schema states the bounds the kernel enforces)."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    def query(name, schema, description):
        return OpenApiParameter(name, schema, OpenApiParameter.QUERY, required=False, description=description)

    return [
        query(
            "paginationIndex",
            {"type": "string", "pattern": INDEX_PATTERN},
            f"UNIX time in ms: {what} older than it are returned (newer ones with reversePagination).",
        ),
        query("reversePagination", OpenApiTypes.BOOL, "Oldest first."),
        query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            f"{what.capitalize()} per page, at most {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
        ),
        query(
            "skipCount",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            f"{what.capitalize()} to skip (slow at depth; prefer paginationIndex).",
        ),
    ]


class KeysetPagination(BasePagination):
    """Keyset pagination on a reference timestamp (Annex: Pagination).

    Rows are ordered by (reference timestamp, id), newest first (oldest first when reversed).
    ``paginationIndex`` is a UNIX time in ms and returns rows strictly older (or, reversed, strictly
    newer) than that millisecond; ``nextPaginationIndex`` is the millisecond of the page's last row.

    Walking by ``nextPaginationIndex`` never skips nor repeats a row, even when many rows share a
    millisecond: a page never ends inside such a group. It stops before the group, so the next page
    gets the whole group; when one millisecond alone holds more rows than ``limit``, the page holds
    that whole group (``count`` then exceeds ``limit``).

    A page with ``skipCount`` > 0 is an exact offset slice (at most ``limit`` rows), so offset
    paging (``skipCount`` += ``count``) is exact as well. The spec advises against combining
    ``skipCount`` with ``paginationIndex``.

    Views set ``pagination_reference_field`` (default ``created_at``) and may set
    ``pagination_total_count = True`` to add ``totalCount``.
    """

    def paginate_queryset(self, queryset, request, view=None):
        params = parse_query(PaginationQuery, request)
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
            first, last = millisecond_bounds(self.index)
            queryset = queryset.filter(**({f"{field}__gt": last} if self.reverse else {f"{field}__lt": first}))
        order = [field, "pk"] if self.reverse else [f"-{field}", "-pk"]
        ordered = queryset.order_by(*order)

        rows = list(ordered[self.skip : self.skip + self.limit + 1])
        self.has_more = len(rows) > self.limit
        if self.has_more:
            rows = rows[: self.limit] if self.skip else self._cut_at_group_boundary(rows, ordered)
        self.page = rows
        return rows

    def _millis(self, row) -> int:
        return to_millis(getattr(row, self.field))

    def _cut_at_group_boundary(self, rows, ordered):
        """Trim (or extend) an over-long fetch so the page ends on a whole millisecond."""
        overflow_ms = self._millis(rows[self.limit])
        first_in_group = next(i for i, row in enumerate(rows) if self._millis(row) == overflow_ms)
        if first_in_group > 0:
            return rows[:first_in_group]
        # The whole page is one millisecond: return the whole group.
        first, last = millisecond_bounds(overflow_ms)
        group = list(ordered.filter(**{f"{self.field}__gte": first, f"{self.field}__lte": last}))
        beyond = {f"{self.field}__gt": last} if self.reverse else {f"{self.field}__lt": first}
        self.has_more = ordered.filter(**beyond).exists()
        return group

    def metadata(self) -> dict:
        next_index = None
        if self.has_more and self.page:
            next_index = str(self._millis(self.page[-1]))
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
                "metadata": PAGINATION_METADATA_SCHEMA,
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

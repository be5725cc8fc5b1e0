"""Turn any exception into a dialect-neutral Problem that each dialect then renders."""

import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions as drf

from apps.core import errors
from apps.core.context import current_request_id

logger = logging.getLogger("atelier.errors")

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    507: "Insufficient Storage",
}

# DRF validation codes mapped to the error types FastAPI/pydantic clients know.
PYDANTIC_TYPES = {
    "required": "missing",
    "null": "missing",
    "blank": "string_too_short",
    "invalid": "value_error",
    "max_length": "string_too_long",
    "min_length": "string_too_short",
    "max_value": "less_than_equal",
    "min_value": "greater_than_equal",
    "invalid_choice": "enum",
    "not_a_list": "list_type",
    "empty": "too_short",
    "max_digits": "decimal_max_digits",
    "max_decimal_places": "decimal_max_places",
    "date": "datetime_type",
    "datetime": "datetime_type",
    "does_not_exist": "value_error",
    "incorrect_type": "value_error",
    "unique": "value_error",
}


@dataclass
class FieldError:
    loc: list
    msg: str
    type: str

    def as_dict(self) -> dict:
        return {"loc": self.loc, "msg": self.msg, "type": self.type}


@dataclass
class Problem:
    status: int
    message: str
    code: str = "error"
    app_code: int | None = None
    field_errors: list[FieldError] = field(default_factory=list)
    headers: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return REASONS.get(self.status, "Error")

    @property
    def is_validation(self) -> bool:
        return bool(self.field_errors)

    def summary(self) -> str:
        """One line a person can act on: the message, or the field errors spelled out."""
        if not self.field_errors:
            return self.message
        parts = []
        for err in self.field_errors:
            path = ".".join(str(p) for p in err.loc[1:])
            parts.append(f"{path}: {err.msg}" if path else err.msg)
        return "; ".join(parts)


def _flatten(detail, loc: list) -> list[FieldError]:
    """DRF's nested error detail (dicts, lists, ErrorDetail) as a flat list with locations."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            sub_loc = loc if key in ("non_field_errors", "__all__") else [*loc, key]
            out.extend(_flatten(value, sub_loc))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [_leaf(item, loc) for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item:
                out.extend(_flatten(item, [*loc, index]))
        return out
    return [_leaf(detail, loc)]


def _leaf(item, loc: list) -> FieldError:
    code = getattr(item, "code", None) or "invalid"
    return FieldError(loc=list(loc), msg=str(item), type=PYDANTIC_TYPES.get(code, code if code else "value_error"))


def _from_invalid_input(exc: errors.InvalidInput) -> Problem:
    field_errors = []
    for path, messages in (exc.errors or {}).items():
        path = list(path) if isinstance(path, (list, tuple)) else [path]
        if isinstance(messages, str):
            messages = [messages]
        for message in messages:
            field_errors.append(_leaf(message, [exc.location, *path]))
    return Problem(400, exc.message, exc.code, exc.app_code, field_errors)


def normalize(exc: Exception, *, location: str = "body") -> Problem:
    """The Problem for ``exc``; unknown exceptions become a logged 500."""
    if isinstance(exc, Ratelimited):
        return Problem(429, errors.RateLimited.default_message, "rate_limited")
    if isinstance(exc, errors.InvalidInput):
        return _from_invalid_input(exc)
    if isinstance(exc, errors.AtelierError):
        return Problem(exc.status_code, exc.message, exc.code, exc.app_code)
    if isinstance(exc, drf.ValidationError):
        field_errors = _flatten(exc.detail, [location])
        return Problem(400, "The request is invalid.", "invalid", field_errors=field_errors)
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        return Problem(401, str(exc.detail), exc.default_code, headers=headers)
    if isinstance(exc, drf.Throttled):
        headers = {"Retry-After": str(int(exc.wait))} if exc.wait else {}
        return Problem(429, errors.RateLimited.default_message, "rate_limited", headers=headers)
    if isinstance(exc, drf.MethodNotAllowed):
        return Problem(405, str(exc.detail), "method_not_allowed")
    if isinstance(exc, drf.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else exc.default_detail
        return Problem(exc.status_code, str(message), exc.get_codes() if isinstance(exc.get_codes(), str) else "error")
    if isinstance(exc, RequestDataTooBig):
        return Problem(413, "The request body is too large.", "too_large")
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return Problem(400, "The request has too many fields or files.", "invalid")
    if isinstance(exc, Http404):
        return Problem(404, errors.NotFound.default_message, "not_found")
    if isinstance(exc, DjangoPermissionDenied):
        return Problem(403, errors.PermissionDenied.default_message, "permission_denied")
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Problem(400, "The request is invalid.", "invalid", field_errors=_flatten(detail, [location]))
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database went away under the request (a restart, a failover, a dropped connection) or
        # gave up on it (a deadlock, a lock timeout): the request's transaction is gone with it.
        logger.warning("Database unavailable (request %s)", current_request_id(), exc_info=exc)
        return Problem(503, DATABASE_UNAVAILABLE, "database_unavailable", headers={"Retry-After": "5"})
    logger.error("Unhandled exception (request %s)", current_request_id(), exc_info=exc)
    return server_error_problem()


DATABASE_UNAVAILABLE = "The database could not complete the request. Try again shortly."


def server_error_problem() -> Problem:
    return Problem(
        500,
        f"We had a problem with our server. Try again later. (request {current_request_id()})",
        "server_error",
    )

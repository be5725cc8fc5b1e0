"""Errors services raise. Every dialect renders them in its own format (apps.core.dialects)."""


class AtelierError(Exception):
    status_code = 400
    default_message = "The request could not be processed."
    code = "error"

    def __init__(self, message: str | None = None, *, code: str | None = None, app_code: int | None = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.app_code = app_code  # a numeric application error code (AIMG errorCode), when one is defined
        super().__init__(self.message)


class InvalidInput(AtelierError):
    """Bad input. ``errors`` maps a field path (tuple) to messages; ``location`` is body, query or path."""

    status_code = 400
    default_message = "The request is invalid."
    code = "invalid"

    def __init__(self, message: str | None = None, *, errors=None, location: str = "body", **kwargs):
        super().__init__(message, **kwargs)
        self.errors = errors or {}
        self.location = location


class NotAuthenticated(AtelierError):
    status_code = 401
    default_message = "You are not signed in."
    code = "not_authenticated"


class PermissionDenied(AtelierError):
    status_code = 403
    default_message = "You are not allowed to access the requested resource."
    code = "permission_denied"


class NotFound(AtelierError):
    status_code = 404
    default_message = "The requested resource could not be found."
    code = "not_found"


class RequestTimeout(AtelierError):
    status_code = 408
    default_message = "The request took too long and was stopped."
    code = "timeout"


class Conflict(AtelierError):
    status_code = 409
    default_message = "The resource already exists."
    code = "conflict"


class Gone(AtelierError):
    status_code = 410
    default_message = "The requested resource has been removed."
    code = "gone"


class PreconditionFailed(AtelierError):
    status_code = 412
    default_message = "A precondition of the request failed."
    code = "precondition_failed"


class RateLimited(AtelierError):
    status_code = 429
    default_message = "Too many requests. Slow down and try again later."
    code = "rate_limited"


class ServiceUnavailable(AtelierError):
    status_code = 503
    default_message = "The service is temporarily unavailable. Try again later."
    code = "unavailable"


class QueueUnavailable(ServiceUnavailable):
    """The job queue (the Celery broker) cannot take a message: nothing was scheduled."""

    default_message = "The job queue is unreachable; nothing was scheduled. Try again shortly."
    code = "queue_unavailable"


class StorageUnavailable(ServiceUnavailable):
    """The media store cannot be reached (or refused the write): nothing was stored."""

    default_message = "The file store is unreachable; nothing was stored. Try again shortly."
    code = "storage_unavailable"


class StorageFull(AtelierError):
    """The media store is out of space (ENOSPC, a quota): nothing was stored."""

    status_code = 507
    default_message = "The file store is full; nothing was stored. Try again later."
    code = "storage_full"

"""Errors raised when a user-supplied URL is refused or cannot be fetched."""

from apps.core.errors import AtelierError, InvalidInput


class UnsafeURL(InvalidInput):
    """The URL, one of its redirects, or an address its host resolves to is not allowed to be fetched."""

    status_code = 400
    default_message = "The URL cannot be fetched: only public http and https addresses are allowed."
    code = "unsafe_url"


class FetchFailed(AtelierError):
    """The remote server could not be reached or did not answer with a usable response."""

    status_code = 502
    default_message = "The URL could not be fetched."
    code = "fetch_failed"

    def __init__(self, message: str | None = None, *, upstream_status: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.upstream_status = upstream_status  # the HTTP status the remote server answered, when it answered


class FetchTimeout(FetchFailed):
    """The remote server was too slow: connecting, sending data, or finishing within the total deadline."""

    status_code = 504
    default_message = "The URL could not be fetched in time."
    code = "fetch_timeout"


class FetchTooLarge(AtelierError):
    """The response body is larger than the caller allows."""

    status_code = 413
    default_message = "The file at the URL is too large."
    code = "fetch_too_large"

    def __init__(self, message: str | None = None, *, max_bytes: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.max_bytes = max_bytes

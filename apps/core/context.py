"""Per-request context shared with logging and Celery tasks."""

import contextvars
import re
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")


def clean_request_id(value: str | None) -> str:
    """The client's request id when it is a sane token, a new UUID otherwise."""
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str:
    return request_id_var.get()

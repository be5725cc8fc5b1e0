import logging

from .context import current_request_id


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record (``-`` outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True

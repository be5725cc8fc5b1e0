"""Front-end log ingestion (AIMG ``ingestLogs``): entries become structured Python log records."""

import logging
import re

from apps.core.errors import InvalidInput
from apps.core.models import Domain

logger = logging.getLogger("atelier.frontend")

LEVELS = {"info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}
SERVICE_NAME_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._ -]*){3}$")
_CLIENT_FIELDS = ("apiSubscope", "httpMethod", "httpPath", "httpUrl", "errorName", "errorMessage", "errorStack")


def default_service_name(domain: Domain) -> str:
    return f"FrontEnd/Client/{domain.name}/{domain.environment}"


def ingest_logs(*, domain: Domain, entries: list[dict], service_name: str | None, session_id=None, user_id=None) -> int:
    """Write each entry as one log record of the logger ``atelier.frontend``; returns how many.

    The request id of the call is added by the logging filter, so front-end and back-end lines of
    one request correlate.
    """
    if service_name is None or service_name == "":
        service_name = default_service_name(domain)
    elif not SERVICE_NAME_SHAPE.match(service_name):
        raise InvalidInput(
            errors={
                ("serviceName",): [
                    "Must look like FrontEnd/Client/{DomainDisplayName}/{EnvironmentIdentifier}: "
                    "four segments separated by '/'."
                ]
            }
        )
    for entry in entries:
        level = LEVELS[entry.get("level") or "info"]
        client = {key: entry[key] for key in _CLIENT_FIELDS if entry.get(key) not in (None, "")}
        message = entry["message"]
        logger.log(
            level,
            "%s: %s",
            service_name,
            message.replace("\r", "\\r").replace("\n", "\\n"),
            extra={
                "service": service_name,
                "client_timestamp": entry.get("timestamp"),
                "client": client,
                "client_message": message,
                "session_id": str(session_id) if session_id else None,
                "user_id": str(user_id) if user_id else None,
                "domain": domain.code,
            },
        )
    return len(entries)

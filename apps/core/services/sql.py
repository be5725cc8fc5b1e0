"""AIMG ``pgQuery``: the audited, read-only SQL console for superusers."""

from django.conf import settings

from apps.core import sql_console
from apps.core.errors import AtelierError, PermissionDenied
from apps.core.models import SqlQueryAudit


def run_console_query(
    *, user, admin_key, query_text: str, params: list, request_id: str = "", ip_address: str | None = None
) -> dict:
    """Run one read-only statement for a superuser's admin key; every call leaves an audit row."""
    if not getattr(settings, "PGQUERY_ENABLED", False):
        raise PermissionDenied("pgQuery is disabled on this deployment (PGQUERY_ENABLED).")
    if admin_key is None or not user.is_superuser:
        raise PermissionDenied("pgQuery needs the administration key of a superuser.")
    audit = SqlQueryAudit(
        user=user,
        admin_key_prefix=admin_key.prefix,
        request_id=request_id[:200],
        ip_address=ip_address or None,
        query_text=query_text,
        query_params=params,
    )
    try:
        result = sql_console.run_read_only(query_text, params)
    except AtelierError as exc:
        audit.error = exc.message
        audit.save()
        raise
    audit.succeeded = True
    audit.command = result.command[:30]
    audit.row_count = result.row_count
    audit.duration_ms = result.duration_ms
    audit.save()
    return result.as_pg()

from celery import shared_task
from django.utils import timezone

# Celery's autodiscovery imports <app>.tasks only: the media tasks are registered through here.
from .media.tasks import normalize_stored_image  # noqa: F401


@shared_task(name="apps.core.tasks.ping")
def ping(sent_at: str) -> dict:
    """Answered by a worker for the health check's broker round trip."""
    return {"sent_at": sent_at, "answered_at": timezone.now().isoformat()}


@shared_task(name="apps.core.tasks.purge_deleted")
def purge_deleted() -> dict:
    """Daily: delete for good what was soft-deleted more than SOFT_DELETE_RETENTION_DAYS ago."""
    from datetime import timedelta

    from django.conf import settings

    from .services import retention

    days = settings.SOFT_DELETE_RETENTION_DAYS
    if days <= 0:
        return {}
    reports = retention.purge_deleted(older_than=timedelta(days=days))
    return {report.label: {"purged": len(report.ids), "failed": len(report.failed)} for report in reports}


@shared_task(name="apps.core.tasks.purge_stale_uploads")
def purge_stale_uploads() -> int:
    """Hourly: delete presigned uploads that expired SARTIQ_UPLOAD_RETENTION_HOURS ago, with their bytes."""
    from datetime import timedelta

    from django.conf import settings

    from .services import uploads

    return uploads.purge_stale_uploads(older_than=timedelta(hours=settings.SARTIQ_UPLOAD_RETENTION_HOURS))


@shared_task(name="apps.core.tasks.clear_expired_browser_sessions")
def clear_expired_browser_sessions() -> None:
    """Daily: drop expired Django sessions (back office, pending OAuth sign-ins)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(expire_date__lt=timezone.now()).delete()

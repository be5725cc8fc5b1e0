from celery import shared_task
from django.utils import timezone

# Celery's autodiscovery imports <app>.tasks only: the media tasks are registered through here.
from .media.tasks import normalize_stored_image  # noqa: F401


@shared_task(name="apps.core.tasks.ping")
def ping(sent_at: str) -> dict:
    """Answered by a worker for the health check's broker round trip."""
    return {"sent_at": sent_at, "answered_at": timezone.now().isoformat()}

from celery import shared_task
from django.utils import timezone


@shared_task(name="apps.core.tasks.ping")
def ping(sent_at: str) -> dict:
    """Answered by a worker for the health check's broker round trip."""
    return {"sent_at": sent_at, "answered_at": timezone.now().isoformat()}

from celery import shared_task

from . import services


@shared_task(name="apps.reports.tasks.decline_vanished_reports", acks_late=True)
def decline_vanished_reports() -> int:
    """Close as automaticallyDeclined the open reports whose item vanished or became protected."""
    return services.decline_vanished_reports()

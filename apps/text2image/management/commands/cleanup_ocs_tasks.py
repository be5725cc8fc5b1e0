from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.text2image.services.ocs import cleanup_ocs_tasks


class Command(BaseCommand):
    help = (
        "Delete OCS text2image and textprocessing tasks whose last update is older than the retention "
        "(OCS_TASK_RETENTION_DAYS, default 7 days), with their images; send lost textprocessing tasks "
        "to the queue again and fail the ones whose run died. Celery beat runs the same every hour."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=float,
            default=None,
            help=f"Retention in days (default: OCS_TASK_RETENTION_DAYS = {settings.OCS_TASK_RETENTION_DAYS})",
        )

    def handle(self, *args, older_than_days, **options):
        if older_than_days is not None and older_than_days < 0:
            raise CommandError("--older-than-days must be 0 or more.")
        older_than = timedelta(days=older_than_days) if older_than_days is not None else None
        result = cleanup_ocs_tasks(older_than=older_than)
        self.stdout.write(
            f"Deleted {result.text2image} text2image and {result.textprocessing} textprocessing task(s); "
            f"sent {result.resent} waiting task(s) to the queue again; failed {result.failed} interrupted task(s)."
        )

from django.core.management.base import BaseCommand

from apps.reports import services
from apps.reports.models import ModerationEvent


class Command(BaseCommand):
    help = (
        "Close as automaticallyDeclined every open report whose item was purged, deleted (other than by "
        "an accepted report) or protected. Idempotent."
    )

    def handle(self, *args, **options):
        count = services.decline_vanished_reports(source=ModerationEvent.Source.COMMAND)
        self.stdout.write(f"Automatically declined {count} report(s).")

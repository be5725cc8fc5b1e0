from django.core.management.base import BaseCommand

from apps.billing import services
from apps.billing.events import Source


class Command(BaseCommand):
    help = "End the subscriptions whose expiry or deactivation date has passed (Celery beat does it every 5 minutes)."

    def handle(self, *args, **options):
        count = services.expire_due_subscriptions(source=Source.COMMAND)
        self.stdout.write(f"Ended {count} expired subscription(s).")

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F

from apps.accounts.models import User
from apps.tags import services


class Command(BaseCommand):
    help = (
        "Recompute every tag's usage count from the live items and folders that carry it (every user's, "
        "or one user's with --user). Idempotent: a second run corrects nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Email of one user; everyone when absent")

    def handle(self, *args, user=None, **options):
        owner = None
        if user:
            owner = (
                User.all_objects.filter(email__iexact=user.strip())
                .order_by(F("deleted_at").desc(nulls_first=True), "-date_joined")
                .first()
            )
            if owner is None:
                raise CommandError(f"No user has the email '{user}'.")
        changed = services.recount(owner=owner)
        self.stdout.write(f"Recounted tag usage: {changed} usage count(s) corrected.")

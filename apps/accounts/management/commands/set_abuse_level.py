from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services
from apps.core.errors import InvalidInput

from ._common import find_user


class Command(BaseCommand):
    help = "Set a user's abuse level: 0 no limits, 1 generation blocked, 9 signed out everywhere and sign-in blocked."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--level", required=True, type=int, help=f"0 to {services.MAX_ABUSE_LEVEL}")
        parser.add_argument("--domain", help="Domain code (default: the default domain)")

    def handle(self, *args, email, level, domain, **options):
        user = find_user(email, domain)
        previous = user.abuse_level
        try:
            services.set_abuse_level(user=user, level=level)
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        change = "unchanged at" if previous == level else f"changed from {previous} to"
        self.stdout.write(f"Abuse level of {user.email} {change} {level}.")

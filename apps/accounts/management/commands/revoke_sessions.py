from django.core.management.base import BaseCommand

from apps.accounts import services

from ._common import find_user


class Command(BaseCommand):
    help = "Sign a user out everywhere: revoke all their API sessions."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--domain", help="Domain code (default: the default domain)")

    def handle(self, *args, email, domain, **options):
        user = find_user(email, domain)
        count = services.revoke_sessions(user=user)
        self.stdout.write(f"Revoked {count} session(s) of {user.email}.")

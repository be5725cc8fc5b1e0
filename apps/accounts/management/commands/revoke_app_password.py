from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services

from ._common import find_user


class Command(BaseCommand):
    help = "Revoke app passwords: one by its prefix, or all of a user's."

    def add_arguments(self, parser):
        parser.add_argument("--prefix", help="The app password's prefix (the part before the dot)")
        parser.add_argument("--email", help="Revoke every app password of this user")
        parser.add_argument("--domain", help="Domain code of the user (default: the default domain)")

    def handle(self, *args, prefix, email, domain, **options):
        if not prefix and not email:
            raise CommandError("Give --prefix or --email.")
        user = find_user(email, domain) if email else None
        count = services.revoke_app_passwords(user=user, prefix=prefix)
        self.stdout.write(f"Revoked {count} app password(s).")

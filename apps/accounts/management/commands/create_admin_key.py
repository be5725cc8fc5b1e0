from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services
from apps.core.errors import AtelierError

from ._common import find_user


class Command(BaseCommand):
    help = "Create a personal administration key (X-Administration-Key) for a staff user; prints it once."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--domain", help="Domain code (default: the default domain)")
        parser.add_argument("--name", default="", help="A label to recognise the key by")

    def handle(self, *args, email, domain, name, **options):
        user = find_user(email, domain)
        try:
            key, secret = services.create_admin_key(user=user, name=name)
        except AtelierError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"Created admin key {key.prefix} for {user.email}. It is shown once; store it now:")
        self.stdout.write(secret)

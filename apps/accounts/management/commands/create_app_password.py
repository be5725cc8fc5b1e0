from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services
from apps.core.errors import AtelierError

from ._common import find_user


class Command(BaseCommand):
    help = (
        "Create an app password for a user: a second password for one HTTP Basic client (Nextcloud "
        "OCS clients). Prints it once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--domain", help="Domain code (default: the default domain)")
        parser.add_argument("--name", default="", help="A label to recognise the client by")

    def handle(self, *args, email, domain, name, **options):
        user = find_user(email, domain)
        try:
            app_password, secret = services.create_app_password(user=user, name=name)
        except AtelierError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Created app password {app_password.prefix} for {user.email}. It is shown once; store it now:"
        )
        self.stdout.write(secret)

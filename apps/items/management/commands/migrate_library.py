from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import AtelierError
from apps.items import services

from ._common import find_user


class Command(BaseCommand):
    help = (
        "Move a user's live items and folders to another, active user in one transaction (migrateLibrary). "
        "Deleted items and folders stay with the source."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", required=True, help="Email of the source user")
        parser.add_argument("--to", dest="destination", required=True, help="Email of the destination user")

    def handle(self, *args, source, destination, **options):
        try:
            result = services.migrate_library(
                source=find_user(source, what="source"), destination=find_user(destination, what="destination")
            )
        except AtelierError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(result.message)

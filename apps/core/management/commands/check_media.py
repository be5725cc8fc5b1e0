from django.core.management.base import BaseCommand, CommandError

from apps.core import selectors


class Command(BaseCommand):
    help = (
        "Check that every file the database refers to is in the media store (after restoring a backup, "
        "or moving the store): prints each missing file and fails when any is missing. Reads only."
    )

    def handle(self, *args, **options):
        total, missing = selectors.missing_stored_files()
        for name in missing:
            self.stderr.write(f"missing {name}")
        self.stdout.write(f"{total} stored file(s) referenced, {len(missing)} missing.")
        if missing:
            raise CommandError(f"{len(missing)} referenced file(s) are not in the media store.")

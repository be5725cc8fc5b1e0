import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F

from apps.accounts.models import User
from apps.folders import services
from apps.folders.models import Folder


class Command(BaseCommand):
    help = (
        "Restore deleted folders (empty: their former items stay where they are), by id or all of one "
        "user's. Public folder ids may be given as 'p-<uuid>'."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--ids", help="Comma-separated folder ids")
        which.add_argument("--user", help="Email of the user whose deleted folders to restore")

    def handle(self, *args, ids=None, user=None, **options):
        if ids is not None:
            try:
                folder_ids = [uuid.UUID(part.strip().removeprefix("p-")) for part in ids.split(",") if part.strip()]
            except ValueError as exc:
                raise CommandError("Give --ids as a comma-separated list of folder ids.") from exc
        else:
            owner = (
                User.all_objects.filter(email__iexact=user.strip())
                .order_by(F("deleted_at").desc(nulls_first=True), "-date_joined")
                .first()
            )
            if owner is None:
                raise CommandError(f"No user has the email '{user}'.")
            folder_ids = list(
                Folder.all_objects.filter(owner=owner, deleted_at__isnull=False).values_list("pk", flat=True)
            )
        results = services.restore_folders(folder_ids=folder_ids)
        for result in results:
            if not result.success:
                self.stderr.write(f"{result.id}: {result.message}")
        self.stdout.write(f"Restored {sum(1 for r in results if r.success)} folder(s).")

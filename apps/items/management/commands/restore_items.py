import uuid

from django.core.management.base import BaseCommand, CommandError

from apps.items import services

from ._common import find_user


class Command(BaseCommand):
    help = (
        "Restore deleted items (the restoreItems rules: root folder, sorted as just added, untagged, "
        "not public, approval status kept): every deleted item of a user, or the items given by id."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--user", help="Email of the user whose deleted items to restore")
        target.add_argument("--ids", help="Comma-separated item ids")

    def handle(self, *args, user, ids, **options):
        if user:
            results = services.restore_all_items(owner=find_user(user, what="such"))
        else:
            try:
                item_ids = [uuid.UUID(part.strip()) for part in ids.split(",") if part.strip()]
            except ValueError as exc:
                raise CommandError("--ids must be a comma-separated list of item ids (UUIDs).") from exc
            if not item_ids:
                raise CommandError("--ids names no item.")
            results = services.restore_items(item_ids=item_ids)
        restored = 0
        for result in results:
            if result.success:
                restored += 1
            else:
                self.stderr.write(f"{result.id}: {result.message}")
        self.stdout.write(f"Restored {restored} item(s).")

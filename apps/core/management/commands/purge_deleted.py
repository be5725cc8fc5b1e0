from argparse import ArgumentTypeError
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from apps.core.services import retention


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise ArgumentTypeError(f"a whole number of days is needed, not {value!r}") from None
    if days < 0:
        raise ArgumentTypeError("the number of days must not be negative")
    return days


class Command(BaseCommand):
    help = (
        "Delete for good the rows soft-deleted more than DAYS days ago, and their stored files "
        "(files of the file server: the bytes and resized copies). Running it again is harmless."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", required=True, type=_days, metavar="DAYS", help="retention in days")
        parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")

    def handle(self, *args, older_than, dry_run, **options):
        reports = retention.purge_deleted(older_than=timedelta(days=older_than), dry_run=dry_run)
        verb = "Would purge" if dry_run else "Purged"
        for report in reports:
            cutoff = report.cutoff.strftime("%Y-%m-%d %H:%M:%S %Z")
            for pk in report.ids:
                self.stdout.write(f"{'would purge' if dry_run else 'purged'} {report.label} {pk}")
            for pk, error in report.failed.items():
                self.stderr.write(f"failed {report.label} {pk}: {error}")
            line = f"{verb} {len(report.ids)} {report.label} row(s) deleted before {cutoff}."
            if report.failed:
                line += f" {len(report.failed)} failed and were kept."
            self.stdout.write(line)
        if any(report.failed for report in reports):
            raise CommandError("Some rows could not be purged; see the messages above.")

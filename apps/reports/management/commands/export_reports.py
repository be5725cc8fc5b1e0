from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from apps.core.models import Domain
from apps.reports import services
from apps.reports.models import ModerationEvent, Report, ReportQueue


def _since(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since must be an ISO 8601 date or date-time, not '{value}'.")
        moment = datetime.combine(day, time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Write the Epoch CSV of the reports chosen by --status, --since, --queue and --domain to --out "
        "(the same CSV as downloadReportsForEpoch); each report written counts one more download."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--status",
            action="append",
            choices=Report.Status.values,
            help="Only reports with this status (repeatable; default: every status).",
        )
        parser.add_argument("--since", help="Only reports filed at or after this ISO 8601 date or date-time.")
        parser.add_argument("--queue", action="append", help="Only reports of this queue (repeatable).")
        parser.add_argument("--domain", help="Only reports of the domain with this code.")
        parser.add_argument("--out", required=True, help="The CSV file to write, or - for standard output.")

    def handle(self, *args, status, since, queue, domain, out, **options):
        reports = Report.objects.all()
        if status:
            reports = reports.filter(status__in=status)
        if since:
            reports = reports.filter(created_at__gte=_since(since))
        if queue:
            found = list(ReportQueue.objects.filter(name__in=queue).values_list("pk", flat=True))
            if len(found) != len(set(queue)):
                known = ", ".join(ReportQueue.objects.values_list("name", flat=True))
                raise CommandError(f"Unknown queue in {queue}; the queues are: {known}.")
            reports = reports.filter(queue_id__in=found)
        if domain:
            site = Domain.objects.filter(code=domain).first()
            if site is None:
                raise CommandError(f"No domain with the code '{domain}'.")
            reports = reports.filter(domain=site)
        if out == "-":
            count = services.export_reports(reports=reports, out=self.stdout, source=ModerationEvent.Source.COMMAND)
            self.stderr.write(f"Wrote {count} report(s).")
            return
        with open(out, "w", encoding="utf-8", newline="") as handle:
            count = services.export_reports(reports=reports, out=handle, source=ModerationEvent.Source.COMMAND)
        self.stdout.write(f"Wrote {count} report(s) to {out}.")

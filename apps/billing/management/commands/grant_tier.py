from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.billing import services
from apps.billing.events import Source
from apps.core.errors import AtelierError

from ._common import find_domain

DEFAULT_PRODUCT = "staff-grant"


def _until(value: str | None) -> datetime | None:
    """An ISO 8601 date (the end of that day, UTC) or date and time."""
    if not value:
        return None
    try:
        day = parse_date(value)
        moment = datetime.combine(day, time(23, 59, 59)) if day is not None else parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--until must be an ISO 8601 date or date and time, not {value!r}.")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


class Command(BaseCommand):
    help = (
        "Give a user a free, admin-provided PRO tier (until a date, or with no end). Running it again "
        "with the same --product-id updates that grant instead of adding one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--tier", type=int, required=True)
        parser.add_argument("--until", help="ISO 8601 date or date-time (UTC); default: no end")
        parser.add_argument("--product-id", default=DEFAULT_PRODUCT)
        parser.add_argument("--note", default=None, help="Additional information kept with the grant")
        parser.add_argument("--domain", help="Domain code (default: the default domain)")

    def handle(self, *args, email, tier, until, product_id, note, domain, **options):
        site = find_domain(domain)
        try:
            (subscription,) = services.set_admin_tier(
                domain=site,
                emails=[email],
                product_id=product_id,
                tier=tier,
                is_active=True,
                deactivation_date=_until(until),
                additional_information=note,
                source=Source.COMMAND,
            )
        except AtelierError as exc:
            raise CommandError(exc.message) from exc
        ends = f"until {subscription.expires_at.isoformat()}" if subscription.expires_at else "with no end date"
        self.stdout.write(f"{subscription.user.email} has PRO tier {tier} ({product_id}) {ends}.")

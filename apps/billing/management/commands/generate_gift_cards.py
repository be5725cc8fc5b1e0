from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.billing import services
from apps.billing.events import Source
from apps.billing.models import DistributionProvider
from apps.core.errors import AtelierError

from ._common import find_domain


def _price(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise CommandError(f"--usd-price must be a number, not {value!r}.") from exc


class Command(BaseCommand):
    help = (
        "Create a batch of gift cards and write their codes to FILE, one per line (the codes are not "
        "stored anywhere else). FILE must not exist yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tier", type=int, required=True)
        parser.add_argument("--days", type=int, required=True)
        parser.add_argument("--count", type=int, help="Default: one per external code, else 100")
        parser.add_argument("--provider", choices=DistributionProvider.values, default=DistributionProvider.GIFTCARD)
        parser.add_argument("--usd-price", default="0")
        parser.add_argument("--external-codes", default="", help="Comma-separated; the n-th card gets the n-th code")
        parser.add_argument("--additional-information", default="")
        parser.add_argument("--domain", help="Domain code (default: the default domain)")
        parser.add_argument("--out", required=True, metavar="FILE")

    def handle(self, *args, **options):
        domain = find_domain(options["domain"])
        out = Path(options["out"])
        external = [code.strip() for code in options["external_codes"].split(",") if code.strip()]
        try:
            handle = out.open("x", encoding="utf-8")
        except FileExistsError as exc:
            raise CommandError(f"{out} exists already; choose a new file so no codes are overwritten.") from exc
        except OSError as exc:
            raise CommandError(f"Cannot create {out}: {exc.strerror}.") from exc
        with handle:
            try:
                batch, codes = services.generate_gift_cards(
                    domain=domain,
                    distribution_provider=options["provider"],
                    tier=options["tier"],
                    days=options["days"],
                    count=options["count"],
                    usd_price=_price(options["usd_price"]),
                    external_codes=external,
                    additional_information=options["additional_information"],
                    source=Source.COMMAND,
                )
            except (AtelierError, CommandError) as exc:
                handle.close()
                out.unlink()
                raise CommandError(getattr(exc, "message", str(exc))) from exc
            handle.writelines(f"{code}\n" for code in codes)
        self.stdout.write(
            f"Created {batch.count} gift cards (tier {batch.tier}, {batch.days} days, {batch.distribution_provider}) "
            f"on {domain.code}, batch {batch.pk}; codes written to {out}."
        )

from django.core.management.base import CommandError

from apps.core.domains import default_domain
from apps.core.models import Domain


def find_domain(code: str | None) -> Domain:
    """The domain with ``code``, or the default domain when no code is given."""
    if not code:
        return default_domain()
    domain = Domain.objects.filter(code=code).first()
    if domain is None:
        raise CommandError(f"No domain with the code '{code}'.")
    return domain

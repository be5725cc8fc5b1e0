from django.core.management.base import CommandError

from apps.core.models import Domain


def find_user(email: str, domain_code: str | None):
    """The user with ``email`` on the domain named by its code (the default domain if omitted)."""
    from apps.accounts.models import User
    from apps.core.domains import default_domain

    if domain_code:
        domain = Domain.objects.filter(code=domain_code).first()
        if domain is None:
            raise CommandError(f"No domain with the code '{domain_code}'.")
    else:
        domain = default_domain()
    user = User.objects.filter(email__iexact=email.strip(), domain=domain).first()
    if user is None:
        raise CommandError(f"No user {email} on the domain '{domain.code}'.")
    return user

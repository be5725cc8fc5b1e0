"""App passwords: per-client second passwords for HTTP Basic (the Nextcloud OCS clients).

A user gives each client its own app password instead of the account password; revoking one signs
that client out without touching the others or the account password. The plain password is
returned once and only its hash is stored (``HashedSecret``).
"""

from django.utils import timezone

from apps.core.errors import InvalidInput

from ..models import AppPassword, User

__all__ = ["create_app_password", "revoke_app_passwords"]


def create_app_password(*, user: User, name: str = "", expires_at=None) -> tuple[AppPassword, str]:
    """A new app password for ``user``; the plain password is returned once and never stored."""
    if not user.is_active or user.is_deleted:
        raise InvalidInput("App passwords are only issued to active users.")
    secret, prefix, digest = AppPassword.new_secret()
    app_password = AppPassword.objects.create(
        user=user, name=(name or "")[:100], prefix=prefix, secret_hash=digest, expires_at=expires_at
    )
    return app_password, secret


def revoke_app_passwords(*, user: User | None = None, prefix: str | None = None) -> int:
    """Revoke one app password (by its prefix) or every one of ``user``; returns how many."""
    if user is None and not prefix:
        raise InvalidInput("Name the app password's prefix or its owner.")
    queryset = AppPassword.objects.filter(revoked_at__isnull=True)
    if user is not None:
        queryset = queryset.filter(user=user)
    if prefix:
        queryset = queryset.filter(prefix=prefix)
    return queryset.update(revoked_at=timezone.now())

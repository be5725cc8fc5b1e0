from django.core.management.base import CommandError
from django.db.models import F

from apps.accounts.models import User


def find_user(email: str, *, what: str) -> User:
    """The user with this email (a live one first, else the most recently deleted one)."""
    user = (
        User.all_objects.filter(email__iexact=email.strip())
        .order_by(F("deleted_at").desc(nulls_first=True), "-date_joined")
        .first()
    )
    if user is None:
        raise CommandError(f"No {what} user has the email '{email}'.")
    return user

"""Helpers shared by the dialect kernel tests (the probe views live in dialect_urls.py)."""

import base64
import itertools
import re
from datetime import UTC, datetime, timedelta

from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import Organization
from apps.core.domains import default_domain
from tests.factories import PASSWORD

URLCONF = "tests.core.dialect_urls"
SERVER_ERROR = re.compile(r"^We had a problem with our server\. Try again later\. \(request (?P<id>[0-9a-f]{32})\)$")
RATE_LIMITED = "Too many requests. Slow down and try again later."
FORBIDDEN = "You are not allowed to access the requested resource."
NOT_SIGNED_IN = "You are not signed in."
NOT_FOUND = "The requested resource could not be found."
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_serial = itertools.count()


def api() -> APIClient:
    """A client that returns 500 responses instead of raising the view's exception."""
    return APIClient(raise_request_exception=False)


def millis(value: datetime) -> int:
    return (value - EPOCH) // timedelta(milliseconds=1)


def organizations_at(times) -> list[Organization]:
    """One organization per timestamp, created in one query."""
    domain = default_domain()
    rows = []
    for at in times:
        n = next(_serial)
        rows.append(Organization(domain=domain, name=f"Org {n:05d}", slug=f"org-{n:05d}", created_at=at))
    return Organization.objects.bulk_create(rows)


def newest_first(organizations) -> list[str]:
    """Ids in the order every paginated probe list uses: created_at, then id, descending."""
    return [str(o.pk) for o in sorted(organizations, key=lambda o: (o.created_at, o.pk), reverse=True)]


def bearer_for(user) -> dict:
    _, secret = services.issue_access_token(user=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def basic_for(user, password: str = PASSWORD) -> dict:
    token = base64.b64encode(f"{user.email}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def grant_moderator(user) -> None:
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name="moderator"))

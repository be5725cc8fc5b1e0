"""Fixtures and helpers of the billing tests: AIMG envelopes, credentials, plans and subscriptions."""

from datetime import UTC
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.billing import services
from apps.billing.models import Subscription
from apps.core.domains import default_domain
from tests.factories import StaffFactory, UserFactory

NOT_SIGNED_IN = "You are not signed in."
FORBIDDEN = "You are not allowed to access the requested resource."


def ok(payload) -> dict:
    return {"hasError": False, "errorMessage": None, "payload": payload}


def error(message: str) -> dict:
    return {"hasError": True, "errorMessage": message, "payload": None}


def iso(value) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_user(user) -> dict:
    session = accounts.create_session(domain=user.domain, user=user)
    return {"HTTP_X_SESSION_ID": str(session.pk)}


def as_guest(domain=None) -> dict:
    session = accounts.create_session(domain=domain or default_domain())
    return {"HTTP_X_SESSION_ID": str(session.pk)}


def as_admin_key(staff) -> dict:
    _, secret = accounts.create_admin_key(user=staff)
    return {"HTTP_X_ADMINISTRATION_KEY": secret}


def staff_with_role(role: str | None):
    staff = StaffFactory()
    if role:
        staff.groups.add(Group.objects.get(name=role))
    return staff


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory(email="ada@example.com", username="ada")


@pytest.fixture
def admin_headers(db) -> dict:
    """An administration key of a staff member with the admin role (all billing permissions)."""
    return as_admin_key(staff_with_role("admin"))


@pytest.fixture
def sandbox(settings):
    settings.BILLING_CARD_PROCESSORS = {"arkpay": "sandbox"}
    settings.BILLING_CARD_PROCESSOR_OPTIONS = {}


def provider(name: str, url: str = "", label: str = "") -> dict:
    return {"payment_provider": name, "payment_label": label, "payment_url": url}


def price(product_id: str, value: str = "9.99", period: str = "monthly", providers=None, **extra) -> dict:
    return {
        "product_id": product_id,
        "name": extra.pop("name", ""),
        "type": extra.pop("type", "base"),
        "period": period,
        "currency": extra.pop("currency", "USD"),
        "currency_type": extra.pop("currency_type", "fiat"),
        "value": Decimal(value),
        "trial_days": extra.pop("trial_days", None),
        "payment_providers": providers if providers is not None else [provider("arkpay")],
    }


def make_plan(name="PRO", tier=1, prices=None, domain=None, **extra):
    return services.create_billing_plan(
        domain=domain or default_domain(),
        name=name,
        tier=tier,
        prices=prices or [price(f"{name.lower().replace(' ', '-')}-monthly")],
        **extra,
    )


def subscribe(user, *, tier=1, processor="stripe", expires_at=None, next_billing_date=None, **extra) -> Subscription:
    """A subscription written directly (as a processor's webhook would), for reading tests."""
    return Subscription.objects.create(
        user=user,
        domain=user.domain,
        merchant_processor=processor,
        tier=tier,
        product_id=extra.pop("product_id", f"{processor}-tier{tier}"),
        expires_at=expires_at,
        next_billing_date=next_billing_date,
        **extra,
    )

"""setAdminProvidedPremiumTier and grant_tier: free tiers given by admins."""

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.billing import selectors
from apps.billing.models import BillingEvent, Subscription
from apps.core.domains import default_domain
from tests.billing.conftest import (
    FORBIDDEN,
    NOT_SIGNED_IN,
    as_admin_key,
    as_user,
    error,
    iso,
    ok,
    staff_with_role,
)
from tests.factories import DomainFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/setAdminProvidedPremiumTier"


@pytest.fixture
def staff():
    return staff_with_role("admin")


@pytest.fixture
def admin(staff):
    return as_admin_key(staff)


def _post(client, body, headers):
    return client.post(URL, body, format="json", **headers)


class TestOneUser:
    def test_grants_a_tier(self, client, admin, staff, user):
        response = _post(
            client,
            {
                "productId": "vip",
                "email": "ADA@example.com",
                "tier": 2,
                "isActive": True,
                "additionalInformation": "Contest",
            },
            admin,
        )
        assert response.status_code == 200
        subscription = Subscription.objects.get()
        domain = default_domain()
        assert response.json() == ok(
            {
                "_id": str(subscription.pk),
                "domain": domain.code,
                "paymentProvider": "admin",
                "productId": "vip",
                "email": "ada@example.com",
                "tier": 2,
                "isActive": True,
                "createdDate": iso(subscription.created_at),
                "updatedDate": iso(subscription.updated_at),
                "env": domain.environment,
                "additionalInformation": "Contest",
            }
        )
        assert (subscription.user, subscription.merchant_processor, subscription.granted_by) == (user, "admin", staff)
        assert selectors.effective_tier(user) == 2
        event = BillingEvent.objects.get()
        assert (event.kind, event.actor_id, event.actor_email, event.user_id) == (
            "subscription_created",
            staff.pk,
            staff.email,
            user.pk,
        )
        assert (event.tier_before, event.tier_after, event.source) == (0, 2, "api")

    def test_a_deactivation_date_ends_the_tier_then(self, client, admin, user):
        ends = (timezone.now() + timedelta(days=14)).replace(microsecond=0)
        response = _post(
            client,
            {
                "productId": "vip",
                "email": user.email,
                "tier": 1,
                "isActive": True,
                "deactivationDate": ends.isoformat(),
            },
            admin,
        )
        assert response.status_code == 200
        assert response.json()["payload"]["deactivationDate"] == iso(ends)
        assert selectors.tier_info(user).tier_expiration == iso(ends)
        assert selectors.effective_tier(user, at=ends + timedelta(seconds=1)) == 0

    def test_calling_again_updates_the_same_grant(self, client, admin, user):
        first = _post(client, {"productId": "vip", "email": user.email, "tier": 1, "isActive": True}, admin).json()
        second = _post(client, {"productId": "vip", "email": user.email, "tier": 3, "isActive": True}, admin).json()
        assert second["payload"]["_id"] == first["payload"]["_id"]
        assert second["payload"]["createdDate"] == first["payload"]["createdDate"]
        assert second["payload"]["tier"] == 3
        assert Subscription.objects.count() == 1
        assert selectors.effective_tier(user) == 3
        assert list(BillingEvent.objects.order_by("created_at").values_list("kind", "tier_before", "tier_after")) == [
            ("subscription_created", 0, 1),
            ("subscription_updated", 1, 3),
        ]

    def test_is_active_false_ends_the_grant(self, client, admin, user):
        _post(client, {"productId": "vip", "email": user.email, "tier": 2, "isActive": True}, admin)
        response = _post(client, {"productId": "vip", "email": user.email, "tier": 2, "isActive": False}, admin)
        assert response.status_code == 200
        payload = response.json()["payload"]
        assert payload["isActive"] is False
        subscription = Subscription.objects.get()
        assert payload["deactivationDate"] == iso(subscription.expires_at)
        assert not subscription.is_active
        assert selectors.effective_tier(user) == 0
        event = BillingEvent.objects.get(kind="subscription_deactivated")
        assert (event.tier_before, event.tier_after) == (2, 0)


class TestManyUsers:
    def test_emails_get_the_same_tier_and_no_id(self, client, admin, user):
        other = UserFactory(email="bob@example.com")
        response = _post(
            client, {"productId": "beta", "emails": [user.email, "bob@example.com"], "tier": 1, "isActive": True}, admin
        )
        assert response.status_code == 200
        payload = response.json()["payload"]
        assert "_id" not in payload
        assert "email" not in payload
        assert payload["emails"] == [user.email, "bob@example.com"]
        assert (payload["paymentProvider"], payload["productId"], payload["tier"], payload["isActive"]) == (
            "admin",
            "beta",
            1,
            True,
        )
        assert selectors.effective_tier(user) == selectors.effective_tier(other) == 1
        assert BillingEvent.objects.filter(kind="subscription_created").count() == 2

    def test_one_unknown_email_changes_nothing(self, client, admin, user):
        response = _post(
            client,
            {"productId": "beta", "emails": [user.email, "nobody@example.com"], "tier": 1, "isActive": True},
            admin,
        )
        assert response.status_code == 404
        assert response.json() == error("No user of this site has the email nobody@example.com.")
        assert not Subscription.objects.exists()
        assert not BillingEvent.objects.exists()

    def test_users_of_other_sites_are_not_found(self, client, admin):
        UserFactory(email="far@example.com", domain=DomainFactory())
        response = _post(client, {"productId": "x", "email": "far@example.com", "tier": 1, "isActive": True}, admin)
        assert response.status_code == 404


class TestRefusals:
    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"productId": "vip", "tier": 1, "isActive": True}, "email: Give the email or the emails of the users."),
            ({"productId": "vip", "email": "ada@example.com", "tier": 1}, "isActive: This field is required."),
            ({"email": "ada@example.com", "tier": 1, "isActive": True}, "productId: This field is required."),
            (
                {"productId": "vip", "email": "ada@example.com", "tier": 0, "isActive": True},
                "tier: Ensure this value is greater than or equal to 1.",
            ),
            (
                {"productId": "vip", "email": "ada@example.com", "tier": 11, "isActive": True},
                "tier: Ensure this value is less than or equal to 10.",
            ),
            (
                {"productId": "vip", "email": "not-an-email", "tier": 1, "isActive": True},
                "email: Enter a valid email address.",
            ),
            (
                {
                    "productId": "vip",
                    "email": "ada@example.com",
                    "tier": 1,
                    "isActive": True,
                    "deactivationDate": "2001-01-01T00:00:00Z",
                },
                "deactivationDate: The deactivationDate of an active tier must lie in the future.",
            ),
        ],
    )
    def test_bad_input_is_a_400(self, client, admin, user, body, message):
        response = _post(client, body, admin)
        assert response.status_code == 400
        assert response.json() == error(message)
        assert not Subscription.objects.exists()

    def test_a_malformed_date_is_a_400(self, client, admin, user):
        body = {"productId": "vip", "email": user.email, "tier": 1, "isActive": True, "deactivationDate": "next week"}
        response = _post(client, body, admin)
        assert response.status_code == 400
        assert response.json()["errorMessage"].startswith("deactivationDate: Datetime has wrong format.")

    def test_only_admins_may_grant(self, client, user):
        body = {"productId": "vip", "email": user.email, "tier": 1, "isActive": True}
        anonymous = _post(client, body, {})
        assert (anonymous.status_code, anonymous.json()) == (401, error(NOT_SIGNED_IN))
        signed_in = _post(client, body, as_user(user))
        assert (signed_in.status_code, signed_in.json()) == (403, error(FORBIDDEN))
        support = _post(client, body, as_admin_key(staff_with_role("support")))
        assert (support.status_code, support.json()) == (403, error(FORBIDDEN))
        assert not Subscription.objects.exists()


class TestGrantTierCommand:
    def test_grants_until_a_date_and_updates_on_a_second_run(self, user):
        out = StringIO()
        call_command("grant_tier", "--email", user.email, "--tier", "2", "--until", "2099-05-01", stdout=out)
        subscription = Subscription.objects.get()
        assert subscription.expires_at == datetime(2099, 5, 1, 23, 59, 59, tzinfo=UTC)
        assert out.getvalue().strip() == f"{user.email} has PRO tier 2 (staff-grant) until 2099-05-01T23:59:59+00:00."
        call_command("grant_tier", "--email", user.email, "--tier", "3", stdout=StringIO())
        subscription.refresh_from_db()
        assert (subscription.tier, subscription.expires_at) == (3, None)
        assert Subscription.objects.count() == 1
        assert list(BillingEvent.objects.values_list("source", flat=True)) == ["command", "command"]

    def test_refusals_are_command_errors(self, user):
        with pytest.raises(CommandError, match=re.escape("No user of this site has the email nobody@example.com.")):
            call_command("grant_tier", "--email", "nobody@example.com", "--tier", "1")
        with pytest.raises(CommandError, match="must be an ISO 8601 date"):
            call_command("grant_tier", "--email", user.email, "--tier", "1", "--until", "soon")
        with pytest.raises(CommandError, match=re.escape("The tier must be a whole number from 1 to 10.")):
            call_command("grant_tier", "--email", user.email, "--tier", "42")

"""The effective PRO tier: one source (billing.selectors), shown in SelfUser and admin getUser, and
ended by the expiry job."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.profile import TierInfo
from apps.billing import selectors, services, tasks
from apps.billing.models import BillingEvent, Subscription
from tests.billing.conftest import as_admin_key, as_user, iso, staff_with_role, subscribe
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _now():
    return timezone.now()


class TestEffectiveTier:
    def test_no_subscription_is_tier_zero(self, user):
        assert selectors.effective_tier(user) == 0
        assert selectors.tier_info(user) == TierInfo()

    def test_anonymous_is_tier_zero(self):
        from django.contrib.auth.models import AnonymousUser

        assert selectors.effective_tier(AnonymousUser()) == 0
        assert selectors.effective_tier(None) == 0
        assert selectors.tier_info(AnonymousUser()) == TierInfo()

    def test_the_highest_active_unexpired_tier_wins(self, user):
        subscribe(user, tier=1)
        subscribe(user, tier=3, is_active=False)
        subscribe(user, tier=4, expires_at=_now() - timedelta(seconds=1))  # expired, not yet marked
        subscribe(user, tier=2, expires_at=_now() + timedelta(days=3))
        assert selectors.effective_tier(user) == 2
        assert selectors.effective_tier(user, at=_now() + timedelta(days=4)) == 1

    def test_other_users_subscriptions_do_not_count(self, user):
        subscribe(UserFactory(), tier=3)
        assert selectors.effective_tier(user) == 0


class TestTierInfo:
    def test_tier_expiration_and_processor_come_from_the_longest_lasting_subscription_of_the_tier(self, user):
        soon, later = _now() + timedelta(days=2), _now() + timedelta(days=20)
        subscribe(user, tier=2, processor="giftcard", expires_at=soon, product_id="GIFT-1")
        subscribe(user, tier=2, processor="g2a", expires_at=later, product_id="GIFT-2")
        subscribe(user, tier=1, processor="patreon", payer_id="p-1", transaction_id="t-1", additional_information="x")
        info = selectors.tier_info(user)
        assert (info.tier, info.tier_expiration, info.merchant_processor) == (2, iso(later), "g2a")
        assert info.subscriptions == [
            {"merchantProcessor": "g2a", "tier": 2, "tierExpiration": iso(later), "productID": "GIFT-2"},
            {"merchantProcessor": "giftcard", "tier": 2, "tierExpiration": iso(soon), "productID": "GIFT-1"},
            {
                "merchantProcessor": "patreon",
                "tier": 1,
                "productID": "patreon-tier1",
                "payerID": "p-1",
                "transactionID": "t-1",
                "additionalInformation": "x",
            },
        ]

    def test_a_tier_without_end_has_no_expiration(self, user):
        subscribe(user, tier=1, processor="admin", expires_at=_now() + timedelta(days=1))
        subscribe(user, tier=1, processor="stripe", next_billing_date=_now() + timedelta(days=30))
        info = selectors.tier_info(user)
        assert (info.tier, info.tier_expiration, info.merchant_processor) == (1, None, "stripe")
        assert info.subscriptions[0]["nextBillingDate"] == iso(
            Subscription.objects.get(merchant_processor="stripe").next_billing_date
        )

    def test_extended_price_info_adds_the_price(self, user):
        subscribe(
            user,
            tier=1,
            processor="arkpay",
            price_info={"type": "base", "period": "monthly", "currency": "EUR", "currencyType": "fiat", "value": "9.5"},
        )
        subscribe(user, tier=1, processor="admin")
        plain = selectors.tier_info(user)
        assert all("price" not in s for s in plain.subscriptions)
        extended = selectors.tier_info(user, extended_price_info=True)
        prices = {s["merchantProcessor"]: s["price"] for s in extended.subscriptions}
        assert prices == {
            "arkpay": {"type": "base", "period": "monthly", "currency": "EUR", "currencyType": "fiat", "value": 9.5},
            "admin": {"type": "free", "period": "none", "currency": "none", "currencyType": "none", "value": 0},
        }

    def test_ended_subscriptions_are_not_listed(self, user):
        subscribe(user, tier=1, is_active=False)
        subscribe(user, tier=2, expires_at=_now() - timedelta(minutes=1))
        assert selectors.tier_info(user).subscriptions == []


class TestProfiles:
    """Accounts reads the tier through billing: SelfUser and admin getUser show it."""

    def test_self_user_shows_the_tier(self, client, user):
        ends = _now() + timedelta(days=10)
        subscribe(user, tier=2, processor="giftcard", expires_at=ends, product_id="ABCD")
        response = client.get("/getSelfUser", **as_user(user))
        assert response.status_code == 200
        payload = response.json()["payload"]
        assert (payload["tier"], payload["tierExpiration"], payload["merchantProcessor"]) == (2, iso(ends), "giftcard")
        assert payload["subscriptions"] == [
            {"merchantProcessor": "giftcard", "tier": 2, "tierExpiration": iso(ends), "productID": "ABCD"}
        ]

    def test_self_user_adds_prices_with_extended_price_info(self, client, user):
        subscribe(user, tier=2, processor="giftcard", expires_at=_now() + timedelta(days=10), product_id="ABCD")
        plain = client.get("/getSelfUser", **as_user(user)).json()["payload"]
        extended = client.get("/getSelfUser", {"extendedPriceInfo": "true"}, **as_user(user)).json()["payload"]
        assert "price" not in plain["subscriptions"][0]
        assert set(extended["subscriptions"][0]["price"]) == {"type", "period", "currency", "currencyType", "value"}

    def test_admin_get_user_shows_the_tier(self, client, user):
        subscribe(user, tier=3, processor="admin", product_id="vip")
        response = client.get("/getUser", {"userID": str(user.pk)}, **as_admin_key(staff_with_role("admin")))
        assert response.status_code == 200
        payload = response.json()["payload"]
        assert (payload["tier"], payload["merchantProcessor"]) == (3, "admin")
        assert "tierExpiration" not in payload
        assert payload["subscriptions"] == [{"merchantProcessor": "admin", "tier": 3, "productID": "vip"}]


class TestExpiry:
    def test_due_subscriptions_end_with_an_event_each(self, user):
        past = _now() - timedelta(minutes=5)
        gift = subscribe(user, tier=2, processor="giftcard", expires_at=past)
        admin = subscribe(user, tier=1, processor="admin", expires_at=_now() + timedelta(days=1))
        assert services.expire_due_subscriptions() == 1
        gift.refresh_from_db()
        admin.refresh_from_db()
        assert (gift.is_active, gift.ended_at) == (False, past)
        assert admin.is_active
        event = BillingEvent.objects.get(kind="subscription_expired")
        assert (event.user_id, event.subscription_id, event.source) == (user.pk, gift.pk, "system")
        assert (event.tier_before, event.tier_after) == (2, 1)
        assert event.actor_id is None
        # Running again changes nothing.
        assert services.expire_due_subscriptions() == 0
        assert BillingEvent.objects.filter(kind="subscription_expired").count() == 1

    def test_the_beat_task_and_the_command_expire_too(self, user):
        subscribe(user, tier=1, expires_at=_now() - timedelta(seconds=1))
        assert tasks.expire_subscriptions.delay().get() == 1
        subscribe(UserFactory(), tier=1, expires_at=_now() - timedelta(seconds=1))
        out = StringIO()
        call_command("expire_subscriptions", stdout=out)
        assert out.getvalue().strip() == "Ended 1 expired subscription(s)."
        assert BillingEvent.objects.filter(kind="subscription_expired", source="command").count() == 1
        assert not Subscription.objects.filter(is_active=True).exists()

    def test_beat_runs_the_billing_jobs(self):
        tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        assert {
            "apps.billing.tasks.expire_subscriptions",
            "apps.billing.tasks.renew_subscriptions",
            "apps.billing.tasks.purge_expired_boosty_cookies",
        } <= tasks_scheduled


def test_a_price_snapshot_keeps_the_value_as_text():
    from apps.billing.models import BillingPlanPrice

    snapshot = BillingPlanPrice(
        type="base", period="yearly", currency="USD", currency_type="fiat", value=Decimal("100.00")
    ).snapshot()
    assert snapshot == {"type": "base", "period": "yearly", "currency": "USD", "currencyType": "fiat", "value": "100"}

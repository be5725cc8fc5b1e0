"""The billing back office: plans with prices and providers, subscriptions, gift cards (generate a
batch, filters, revoke), read-only events. Changes go through the services, so they leave events."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client

from apps.billing import services
from apps.billing.models import (
    BillingEvent,
    BillingPlan,
    BillingPlanPaymentProvider,
    BillingPlanPrice,
    GiftCard,
    GiftCardBatch,
)
from apps.core.domains import default_domain
from tests.billing.conftest import make_plan, price, provider, staff_with_role, subscribe
from tests.factories import DomainFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():
    """A staff member with the admin role, signed in to the back office."""
    client = Client()
    client.force_login(staff_with_role("admin"))
    return client


@pytest.fixture
def support_office():
    client = Client()
    client.force_login(staff_with_role("support"))
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _act(client, url, action, objects):
    return client.post(
        url, {"action": action, "index": 0, ACTION_CHECKBOX_NAME: [str(obj.pk) for obj in objects]}, follow=True
    )


@pytest.fixture
def some_of_everything(admin_headers):
    plan = make_plan(
        prices=[price("pro-monthly", providers=[provider("arkpay"), provider("boosty", "https://boosty.to/x")])]
    )
    user = UserFactory()
    subscribe(user, tier=1, processor="arkpay", price=plan.prices.get())
    services.generate_gift_cards(domain=default_domain(), count=3)
    services.inject_boosty_cookies(domain=default_domain(), account_id="acct", cookies=[{"name": "auth", "value": "v"}])
    return plan


@pytest.mark.usefixtures("some_of_everything")
@pytest.mark.parametrize(
    "url",
    [
        "/admin/billing/",
        "/admin/billing/billingplan/",
        "/admin/billing/billingplan/add/",
        "/admin/billing/billingplanprice/",
        "/admin/billing/subscription/",
        "/admin/billing/subscription/?current=yes",
        "/admin/billing/cardpayment/",
        "/admin/billing/giftcard/",
        "/admin/billing/giftcard/?state=unredeemed",
        "/admin/billing/giftcard/generate/",
        "/admin/billing/giftcardbatch/",
        "/admin/billing/billingevent/",
        "/admin/billing/boostyadmincookies/",
    ],
)
def test_pages_answer(office, url):
    assert office.get(url).status_code == 200


def test_a_plan_page_shows_its_prices_and_their_providers(office, some_of_everything):
    plan = some_of_everything
    page = office.get(f"/admin/billing/billingplan/{plan.pk}/change/").content.decode()
    assert "pro-monthly" in page
    assert "Boosty: https://boosty.to/x" in page
    assert "ArkPay: (the caller&#x27;s paymentURL)" in page
    price_page = office.get(f"/admin/billing/billingplanprice/{plan.prices.get().pk}/change/").content.decode()
    assert "payment_providers-0-payment_provider" in price_page


def test_a_plan_is_added_with_an_inline_price(office):
    response = office.post(
        "/admin/billing/billingplan/add/",
        {
            "domain": str(default_domain().pk),
            "name": "Studio",
            "tier": "3",
            "description": "",
            "features": "[]",
            "main_benefits": "[]",
            "special_code": "",
            "is_active": "on",
            "position": "0",
            "prices-TOTAL_FORMS": "1",
            "prices-INITIAL_FORMS": "0",
            "prices-MIN_NUM_FORMS": "0",
            "prices-MAX_NUM_FORMS": "1000",
            "prices-0-product_id": "studio-monthly",
            "prices-0-name": "",
            "prices-0-position": "0",
            "prices-0-type": "base",
            "prices-0-period": "monthly",
            "prices-0-trial_days": "",
            "prices-0-value": "29.00",
            "prices-0-currency": "USD",
            "prices-0-currency_type": "fiat",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = BillingPlan.objects.get(name="Studio")
    assert list(plan.prices.values_list("product_id", flat=True)) == ["studio-monthly"]


def test_subscription_filters(office):
    arkpay_user = UserFactory(email="card@example.com")
    subscribe(arkpay_user, tier=2, processor="arkpay")
    ended_user = UserFactory(email="ended@example.com")
    subscribe(ended_user, tier=1, processor="patreon", is_active=False)
    elsewhere = UserFactory(email="far@example.com", domain=DomainFactory())
    subscribe(elsewhere, tier=1, processor="admin")

    def listed(query):
        page = office.get(f"/admin/billing/subscription/?{query}").content.decode()
        return {email for email in ("card@example.com", "ended@example.com", "far@example.com") if email in page}

    assert listed("is_active__exact=1") == {"card@example.com", "far@example.com"}
    assert listed("merchant_processor__exact=patreon") == {"ended@example.com"}
    assert listed("tier__exact=2") == {"card@example.com"}
    assert listed(f"domain__id__exact={elsewhere.domain_id}") == {"far@example.com"}
    assert listed("current=no") == {"ended@example.com"}


def test_subscriptions_are_deactivated_through_the_service(office, user):
    subscription = subscribe(user, tier=2, processor="admin")
    page = office.get(f"/admin/billing/subscription/{subscription.pk}/change/").content.decode()
    assert 'name="_save"' not in page  # read-only
    response = _act(office, "/admin/billing/subscription/", "deactivate_selected", [subscription])
    assert "Deactivated 1 subscription(s)." in _messages(response)
    subscription.refresh_from_db()
    assert not subscription.is_active
    event = BillingEvent.objects.get(kind="subscription_deactivated")
    assert (event.source, event.tier_before, event.tier_after) == ("back_office", 2, 0)


def test_generate_a_batch_downloads_its_codes(office):
    changelist = office.get("/admin/billing/giftcard/").content.decode()
    assert "/admin/billing/giftcard/generate/" in changelist
    response = office.post(
        "/admin/billing/giftcard/generate/",
        {
            "domain": str(default_domain().pk),
            "distribution_provider": "g2a",
            "tier": "2",
            "days": "14",
            "number_of_cards": "",
            "usd_price": "2.50",
            "external_codes": "E-1\nE-2, E-3",
            "additional_information": "Back office batch",
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="gift-cards-g2a-tier2-14d-')
    codes = response.content.decode().splitlines()
    assert len(codes) == 3
    batch = GiftCardBatch.objects.get()
    assert (batch.tier, batch.days, batch.count, batch.distribution_provider) == (2, 14, 3, "g2a")
    assert sorted(batch.cards.values_list("external_code", flat=True)) == ["E-1", "E-2", "E-3"]
    assert set(BillingEvent.objects.values_list("source", flat=True)) == {"back_office"}
    assert services.redeem_gift_card(user=UserFactory(), code=codes[0]).tier == 2


def test_generate_refusals_stay_on_the_form(office):
    response = office.post(
        "/admin/billing/giftcard/generate/",
        {
            "domain": str(default_domain().pk),
            "distribution_provider": "giftcard",
            "tier": "1",
            "days": "30",
            "number_of_cards": "5",
            "usd_price": "0",
            "external_codes": "only-one",
        },
    )
    assert response.status_code == 200
    assert "Give one external code per card: 1 codes for 5 cards." in response.content.decode()
    assert not GiftCard.objects.exists()


def test_gift_card_filters_and_revoking(office, user):
    first, codes = services.generate_gift_cards(domain=default_domain(), count=3)
    second, _ = services.generate_gift_cards(domain=default_domain(), count=2)
    services.redeem_gift_card(user=user, code=codes[0])

    def count(query):
        page = office.get(f"/admin/billing/giftcard/?{query}").content.decode()
        return page.count('class="action-select"')

    assert count("state=unredeemed") == 4
    assert count("state=redeemed") == 1
    assert count(f"batch__id__exact={second.pk}") == 2
    response = _act(office, "/admin/billing/giftcard/", "revoke_unredeemed", first.cards.all())
    assert "Revoked 2 card(s). 1 already redeemed or revoked card(s) left as they were." in _messages(response)
    assert count("state=revoked") == 2
    assert count("state=redeemed") == 1
    assert BillingEvent.objects.filter(kind="gift_card_revoked", source="back_office").count() == 2


def test_support_sees_but_cannot_generate_or_revoke(support_office):
    services.generate_gift_cards(domain=default_domain(), count=1)
    changelist = support_office.get("/admin/billing/giftcard/")
    assert changelist.status_code == 200
    assert "/admin/billing/giftcard/generate/" not in changelist.content.decode()
    assert "revoke_unredeemed" not in changelist.content.decode()
    assert support_office.get("/admin/billing/giftcard/generate/").status_code == 403
    assert support_office.post("/admin/billing/giftcard/generate/", {"tier": "1"}).status_code == 403
    assert GiftCardBatch.objects.count() == 1


def test_billing_events_are_read_only(office, user):
    services.set_admin_tier(domain=default_domain(), emails=[user.email], product_id="p", tier=1, is_active=True)
    event = BillingEvent.objects.get()
    assert office.get("/admin/billing/billingevent/add/").status_code == 403
    page = office.get(f"/admin/billing/billingevent/{event.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert office.post(f"/admin/billing/billingevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert BillingEvent.objects.count() == 1


def test_boosty_cookie_values_are_never_shown(office):
    services.inject_boosty_cookies(
        domain=default_domain(), account_id="acct", cookies=[{"name": "auth", "value": "top-secret-cookie"}]
    )
    listing = office.get("/admin/billing/boostyadmincookies/").content.decode()
    assert "acct" in listing
    row = services.BoostyAdminCookies.objects.get()
    detail = office.get(f"/admin/billing/boostyadmincookies/{row.pk}/change/").content.decode()
    assert "top-secret-cookie" not in listing + detail


def test_a_payment_provider_is_added_on_the_price_page(office, some_of_everything):
    price_row = BillingPlanPrice.objects.get()
    existing = list(price_row.payment_providers.order_by("position", "payment_provider"))
    data = {
        "plan": str(price_row.plan_id),
        "product_id": price_row.product_id,
        "name": "",
        "type": "base",
        "period": "monthly",
        "currency": "USD",
        "currency_type": "fiat",
        "value": "9.99",
        "trial_days": "",
        "position": "0",
        "payment_providers-TOTAL_FORMS": "3",
        "payment_providers-INITIAL_FORMS": "2",
        "payment_providers-MIN_NUM_FORMS": "0",
        "payment_providers-MAX_NUM_FORMS": "1000",
        "payment_providers-2-payment_provider": "patreon",
        "payment_providers-2-payment_label": "Patreon",
        "payment_providers-2-payment_url": "https://patreon.example.com/join",
        "payment_providers-2-position": "5",
        "payment_providers-2-price": str(price_row.pk),
    }
    for index, row in enumerate(existing):
        data.update(
            {
                f"payment_providers-{index}-id": str(row.pk),
                f"payment_providers-{index}-price": str(price_row.pk),
                f"payment_providers-{index}-payment_provider": row.payment_provider,
                f"payment_providers-{index}-payment_label": row.payment_label,
                f"payment_providers-{index}-payment_url": row.payment_url,
                f"payment_providers-{index}-position": str(row.position),
            }
        )
    response = office.post(f"/admin/billing/billingplanprice/{price_row.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert sorted(price_row.payment_providers.values_list("payment_provider", flat=True)) == [
        "arkpay",
        "boosty",
        "patreon",
    ]


def test_plan_and_provider_forms_check_their_values(office, some_of_everything):
    plan = some_of_everything
    response = office.post(
        f"/admin/billing/billingplan/{plan.pk}/change/",
        {
            "domain": str(plan.domain_id),
            "name": plan.name,
            "tier": "1",
            "description": "",
            "features": '{"not": "a list"}',
            "main_benefits": "[]",
            "special_code": "",
            "is_active": "on",
            "position": "0",
            "prices-TOTAL_FORMS": "0",
            "prices-INITIAL_FORMS": "0",
            "prices-MIN_NUM_FORMS": "0",
            "prices-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert "Give a JSON list of strings" in response.content.decode()
    bad = BillingPlanPaymentProvider(price=plan.prices.get(), payment_provider="paypal", payment_url="")
    with pytest.raises(ValidationError, match="Give the URL of the external payment page"):
        bad.full_clean()
    bad.payment_url = "javascript:alert(1)"
    with pytest.raises(ValidationError, match="Must be an absolute http or https URL"):
        bad.full_clean()

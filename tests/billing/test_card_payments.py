"""processCardSubscription through the sandbox processor, renewals, and cancelMembership."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone

from apps.billing import processors, selectors, services
from apps.billing.models import BillingEvent, BillingPlanPrice, CardPayment, Subscription
from apps.billing.processors import ChargeResult, PaymentProcessor
from tests.billing.conftest import (
    NOT_SIGNED_IN,
    as_guest,
    as_user,
    error,
    make_plan,
    ok,
    price,
    provider,
    subscribe,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox")]

URL = "/processCardSubscription"
VISA_OK = "4242424242424242"
MASTERCARD_OK = "5555555555554444"
AMEX_OK = "378282246310005"
DECLINED = "4000000000000002"
NO_FUNDS = "4000000000009995"
FAILS = "4000000000000119"
OTHER_VALID = "4111111111111111"


@pytest.fixture
def plan():
    return make_plan(
        name="PRO",
        tier=1,
        prices=[
            price("pro-monthly", "9.99"),
            price("pro-yearly", "99", period="yearly"),
            price("pro-lifetime", "149", period="lifetime"),
            price("pro-crypto", "0.01", currency="BTC", currency_type="crypto"),
            price("pro-patreon", "9.99", providers=[provider("patreon", "https://patreon.example.com")]),
            price("pro-trial", "0", type="trial", trial_days=7),
        ],
    )


def card_body(**overrides) -> dict:
    year = timezone.now().year + 2
    body = {
        "merchantProcessor": "arkpay",
        "productID": "pro-monthly",
        "cardNumber": VISA_OK,
        "cardHolderName": "Ada Lovelace",
        "expirationMonth": 12,
        "expirationYear": year,
        "securityCode": "123",
        "street": "1 Main St",
        "city": "Springfield",
        "stateOrProvince": "IL",
        "postalCode": "62701",
        "country": "US",
        "phoneNumber": "+1 555 0100",
    }
    body.update(overrides)
    return body


def pay(client, headers, **overrides):
    return client.post(URL, card_body(**overrides), format="json", **headers)


class TestSuccess:
    def test_a_paid_card_starts_the_subscription(self, client, user, plan):
        start = timezone.now()
        response = pay(client, as_user(user))
        assert response.status_code == 200
        subscription = Subscription.objects.get()
        assert response.json() == ok(
            {
                "success": True,
                "message": "Payment accepted: you now have PRO tier 1. Next billing date: "
                f"{subscription.next_billing_date:%Y-%m-%d %H:%M} UTC.",
            }
        )
        assert (subscription.user, subscription.merchant_processor, subscription.tier) == (user, "arkpay", 1)
        assert subscription.product_id == "pro-monthly"
        assert subscription.expires_at is None
        assert services.add_months(start, 1) <= subscription.next_billing_date <= services.add_months(timezone.now(), 1)
        assert subscription.payer_id.startswith("sbx_cus_")
        assert subscription.transaction_id.startswith("sbx_ch_")
        assert subscription.additional_information == "Paid by card: Visa ending in 4242."
        assert subscription.price_info == {
            "type": "base",
            "period": "monthly",
            "currency": "USD",
            "currencyType": "fiat",
            "value": "9.99",
        }
        payment = CardPayment.objects.get()
        assert (payment.status, payment.card_brand, payment.card_last4, payment.amount, payment.processor) == (
            "succeeded",
            "visa",
            "4242",
            Decimal("9.99"),
            "sandbox",
        )
        assert (payment.subscription, payment.processor_reference) == (subscription, subscription.transaction_id)
        event = BillingEvent.objects.get()
        assert (event.kind, event.user_id, event.actor_id, event.tier_before, event.tier_after) == (
            "subscription_created",
            user.pk,
            user.pk,
            0,
            1,
        )
        assert event.details["cardLast4"] == "4242"
        # The profile shows it, with its price when asked.
        info = selectors.tier_info(user, extended_price_info=True)
        assert (info.tier, info.merchant_processor, info.tier_expiration) == (1, "arkpay", None)
        assert info.subscriptions[0]["price"] == {
            "type": "base",
            "period": "monthly",
            "currency": "USD",
            "currencyType": "fiat",
            "value": 9.99,
        }

    @pytest.mark.parametrize(
        ("number", "code", "brand"), [(MASTERCARD_OK, "999", "mastercard"), (AMEX_OK, "1234", "amex")]
    )
    def test_other_sandbox_success_cards(self, client, user, plan, number, code, brand):
        response = pay(
            client, as_user(user), cardNumber=f"{number[:4]} {number[4:10]} {number[10:]}", securityCode=code
        )
        assert response.json()["payload"]["success"] is True
        assert CardPayment.objects.get().card_brand == brand

    def test_a_yearly_price_bills_again_in_a_year(self, user, plan):
        outcome = _pay_service(user, "pro-yearly")
        assert outcome.subscription.next_billing_date.year == timezone.now().year + 1

    def test_a_lifetime_price_neither_bills_again_nor_ends(self, client, user, plan):
        response = pay(client, as_user(user), productID="pro-lifetime")
        assert response.json() == ok({"success": True, "message": "Payment accepted: you now have PRO tier 1."})
        subscription = Subscription.objects.get()
        assert (subscription.next_billing_date, subscription.expires_at, subscription.renewal_price) == (
            None,
            None,
            None,
        )

    def test_a_trial_bills_its_base_price_after_the_trial(self, user, plan):
        subscription = _pay_service(user, "pro-trial", amount_check=False).subscription
        assert timezone.now() + timedelta(days=6) < subscription.next_billing_date <= timezone.now() + timedelta(days=7)
        assert subscription.renewal_price.product_id == "pro-monthly"

    def test_a_trial_without_a_base_price_ends_after_the_trial(self, user):
        make_plan(name="Taster", tier=1, prices=[price("taster-trial", "1", type="trial", trial_days=3)])
        subscription = _pay_service(user, "taster-trial").subscription
        assert subscription.next_billing_date is None
        assert timezone.now() + timedelta(days=2) < subscription.expires_at <= timezone.now() + timedelta(days=3)

    def test_without_signing_in_the_billing_email_names_the_account(self, client, user, plan):
        response = pay(client, as_guest(), billingEmail="ADA@example.com")
        assert response.json()["payload"]["success"] is True
        assert Subscription.objects.get().user == user

    def test_a_cancelled_membership_can_be_replaced(self, user, plan):
        subscribe(user, tier=1, processor="arkpay", expires_at=timezone.now() + timedelta(days=3))
        assert _pay_service(user, "pro-monthly").success


def _pay_service(user, product_id, number=VISA_OK, amount_check=True):
    from apps.billing.cards import check_card

    card = check_card(
        number=number,
        security_code="123",
        holder_name="Ada",
        expiration_month=1,
        expiration_year=timezone.now().year + 3,
        today=timezone.now().date(),
    )
    return services.process_card_subscription(
        domain=user.domain, user=user, merchant_processor="arkpay", product_id=product_id, card=card
    )


class TestBillingPeriods:
    @pytest.mark.parametrize(
        ("start", "period", "expected"),
        [
            (datetime(2030, 1, 31, 9, 0, tzinfo=UTC), "monthly", datetime(2030, 2, 28, 9, 0, tzinfo=UTC)),
            (datetime(2032, 1, 31, 9, 0, tzinfo=UTC), "monthly", datetime(2032, 2, 29, 9, 0, tzinfo=UTC)),
            (datetime(2030, 12, 15, tzinfo=UTC), "monthly", datetime(2031, 1, 15, tzinfo=UTC)),
            (datetime(2032, 2, 29, tzinfo=UTC), "yearly", datetime(2033, 2, 28, tzinfo=UTC)),
            (datetime(2030, 12, 31, 23, 0, tzinfo=UTC), "daily", datetime(2031, 1, 1, 23, 0, tzinfo=UTC)),
        ],
    )
    def test_next_billing_dates_follow_the_calendar(self, start, period, expected):
        assert services.add_period(start, period) == expected


class TestUnsuccessful:
    @pytest.mark.parametrize(
        ("number", "status", "message"),
        [
            (DECLINED, "declined", "The card was declined. You were not charged."),
            (NO_FUNDS, "insufficient_funds", "The card has insufficient funds. You were not charged."),
            (OTHER_VALID, "declined", "The card was declined. You were not charged."),
        ],
    )
    def test_a_refused_card_is_an_unsuccessful_outcome(self, client, user, plan, number, status, message):
        response = pay(client, as_user(user), cardNumber=number)
        assert response.status_code == 200
        assert response.json() == ok({"success": False, "message": message})
        assert not Subscription.objects.exists()
        assert CardPayment.objects.get().status == status
        assert not BillingEvent.objects.exists()
        # Nothing is pending any more: the next attempt goes through.
        assert pay(client, as_user(user)).json()["payload"]["success"] is True

    def test_a_processor_failure_is_a_503(self, client, user, plan):
        response = pay(client, as_user(user), cardNumber=FAILS)
        assert response.status_code == 503
        assert response.json() == error("The payment service is unavailable. You were not charged; try again later.")
        assert CardPayment.objects.get().status == "failed"
        assert not Subscription.objects.exists()

    def test_card_payments_without_a_configured_processor_are_a_503(self, client, user, plan, settings):
        settings.BILLING_CARD_PROCESSORS = {"arkpay": ""}
        response = pay(client, as_user(user))
        assert (response.status_code, response.json()) == (
            503,
            error("Card payments are not configured on this server."),
        )


class TestRefusals:
    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"cardNumber": "4242424242424241"}, "cardNumber: The card number is not valid."),
            ({"cardNumber": "4242"}, "cardNumber: The card number is not valid."),
            ({"cardNumber": "4242-4242-4242-424x"}, "cardNumber: The card number is not valid."),
            ({"cardNumber": 4242424242424242}, "cardNumber: Must be a string."),
            ({"expirationMonth": 13}, "expirationMonth: The expiration month must be a number from 1 to 12."),
            ({"expirationMonth": 1, "expirationYear": 2001}, "expirationYear: The card has expired."),
            ({"expirationYear": 2999}, "expirationYear: The expiration year is not valid."),
            ({"securityCode": "12"}, "securityCode: The security code must be 3 digits."),
            ({"securityCode": "12a"}, "securityCode: The security code must be 3 digits."),
            ({"cardNumber": AMEX_OK, "securityCode": "123"}, "securityCode: The security code must be 4 digits."),
            ({"cardHolderName": "  "}, "cardHolderName: This field may not be blank."),
            ({"country": "XX"}, "country: The country must be an ISO 3166-1 alpha-2 code, like US."),
            ({"country": "USA"}, "country: The country must be an ISO 3166-1 alpha-2 code, like US."),
            ({"stateOrProvince": "Ill"}, "stateOrProvince: The state or province must be a 2-letter code, like CA."),
            ({"stateOrProvince": "1L"}, "stateOrProvince: The state or province must be a 2-letter code, like CA."),
            ({"merchantProcessor": "stripe"}, 'merchantProcessor: "stripe" is not a valid choice.'),
            ({"productID": None}, "productID: This field may not be null."),
            ({"billingEmail": "nope"}, "billingEmail: Enter a valid email address."),
        ],
    )
    def test_bad_input_is_a_400(self, client, user, plan, change, message):
        response = pay(client, as_user(user), **change)
        assert response.status_code == 400
        assert response.json() == error(message)
        assert not CardPayment.objects.exists()

    def test_lower_case_country_and_state_are_accepted(self, client, user, plan):
        assert pay(client, as_user(user), country="de", stateOrProvince="by").json()["payload"]["success"] is True

    def test_products_that_are_unknown_or_not_payable_by_card(self, client, user, plan):
        unknown = pay(client, as_user(user), productID="nope")
        assert (unknown.status_code, unknown.json()) == (404, error("No plan of this site sells this productID."))
        patreon = pay(client, as_user(user), productID="pro-patreon")
        assert (patreon.status_code, patreon.json()) == (
            400,
            error("productID: This product cannot be paid through arkpay."),
        )
        crypto = pay(client, as_user(user), productID="pro-crypto")
        assert (crypto.status_code, crypto.json()) == (400, error("productID: This product cannot be paid by card."))

    def test_without_signing_in_a_billing_email_of_an_account_is_needed(self, client, plan):
        anonymous = pay(client, {})
        assert (anonymous.status_code, anonymous.json()) == (
            401,
            error("Sign in, or give the billingEmail of your account on this site."),
        )
        unknown = pay(client, as_guest(), billingEmail="nobody@example.com")
        assert (unknown.status_code, unknown.json()) == (
            404,
            error("No account of this site has this billingEmail. Sign up first, then pay."),
        )
        assert not CardPayment.objects.exists()

    def test_an_active_membership_of_the_tier_refuses_another(self, client, user, plan):
        subscribe(user, tier=2, processor="patreon")
        response = pay(client, as_user(user))
        assert response.status_code == 409
        assert response.json() == error(
            "You already have PRO tier 2 with no end date. Cancel your membership before subscribing to this plan."
        )
        assert not CardPayment.objects.exists()

    def test_a_pending_payment_blocks_a_second_one(self, client, user, plan):
        CardPayment.objects.create(
            domain=user.domain,
            user=user,
            merchant_processor="arkpay",
            processor="sandbox",
            product_id="pro-monthly",
            amount=Decimal("9.99"),
            currency="USD",
        )
        response = pay(client, as_user(user))
        assert (response.status_code, response.json()) == (
            409,
            error("A payment of yours is already being processed. Wait for it to finish."),
        )


class RecordingProcessor(PaymentProcessor):
    """A configured processor given by its dotted path: records what it is asked."""

    name = "recording"
    calls = []

    def charge(self, *, card, amount, currency, description, reference):
        self.calls.append(("charge", card.number, card.address.country, amount, currency, self.options))
        return ChargeResult(status=processors.SUCCEEDED, reference="rec-1", customer_reference="rec-customer")

    def charge_again(self, *, customer_reference, amount, currency, description, reference):
        self.calls.append(("charge_again", customer_reference, amount))
        return ChargeResult(status=processors.SUCCEEDED, reference="rec-2", customer_reference=customer_reference)


def test_arkpay_routes_to_the_configured_processor(client, user, plan, settings):
    settings.BILLING_CARD_PROCESSORS = {"arkpay": f"{__name__}.RecordingProcessor"}
    settings.BILLING_CARD_PROCESSOR_OPTIONS = {"api_key": "k"}
    RecordingProcessor.calls = []
    assert pay(client, as_user(user), country="fr").json()["payload"]["success"] is True
    assert RecordingProcessor.calls == [("charge", VISA_OK, "FR", Decimal("9.99"), "USD", {"api_key": "k"})]
    assert CardPayment.objects.get().processor == "recording"
    assert Subscription.objects.get().transaction_id == "rec-1"


def _text_columns():
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, (models.CharField, models.TextField, models.JSONField)):
                yield model, field


def test_card_numbers_and_codes_never_reach_logs_or_the_database(client, user, plan, caplog):
    caplog.set_level(logging.DEBUG)
    headers = as_user(user)
    spaced = "4242 4242 4242 4242"
    attempts = [
        {"cardNumber": spaced, "securityCode": "737"},  # success
        {"cardNumber": DECLINED, "securityCode": "737"},
        {"cardNumber": NO_FUNDS, "securityCode": "737"},
        {"cardNumber": FAILS, "securityCode": "737"},  # processor failure (503)
        {"cardNumber": OTHER_VALID, "securityCode": "73"},  # refused input (400)
        {"cardNumber": "4242424242424241", "securityCode": "737"},  # not a valid number (400)
    ]
    statuses = []
    for attempt in attempts:
        Subscription.objects.all().delete()
        statuses.append(pay(client, headers, **attempt).status_code)
    assert statuses == [200, 200, 200, 503, 400, 400]

    secrets = [VISA_OK, spaced, DECLINED, NO_FUNDS, FAILS, OTHER_VALID, "4242424242424241"]
    for record in caplog.records:
        text = " ".join([record.getMessage(), repr(record.args), record.exc_text or "", repr(record.__dict__)])
        for secret in secrets:
            assert secret not in text, f"{secret} logged by {record.name}: {record.getMessage()}"
    checked = 0
    for model, field in _text_columns():
        rows = model._base_manager.annotate(_text=Cast(field.name, models.TextField()))
        for secret in secrets:
            assert not rows.filter(_text__contains=secret).exists(), f"{secret} stored in {model.__name__}.{field.name}"
        checked += 1
    assert checked > 50
    # What is kept: brand, last four digits and the processor's reference.
    kept = set(CardPayment.objects.values_list("card_brand", "card_last4"))
    assert kept == {("visa", "4242"), ("visa", "0002"), ("visa", "9995"), ("visa", "0119")}
    assert "737" not in {p.message for p in CardPayment.objects.all()}


class TestRenewals:
    def _due(self, user, plan, **extra):
        outcome = _pay_service(user, extra.pop("product_id", "pro-monthly"))
        subscription = outcome.subscription
        Subscription.objects.filter(pk=subscription.pk).update(next_billing_date=timezone.now() - timedelta(hours=1))
        subscription.refresh_from_db()
        return subscription

    def test_a_due_subscription_is_charged_again_and_moves_on_a_period(self, user, plan):
        subscription = self._due(user, plan)
        previous = subscription.next_billing_date
        assert services.renew_due_subscriptions() == {"renewed": 1, "ended": 0, "failed": 0, "skipped": 0}
        subscription.refresh_from_db()
        assert subscription.next_billing_date == services.add_months(previous, 1)
        assert subscription.is_active
        renewal = CardPayment.objects.get(is_renewal=True)
        assert (renewal.status, renewal.subscription, renewal.amount) == ("succeeded", subscription, Decimal("9.99"))
        event = BillingEvent.objects.get(kind="subscription_renewed")
        assert (event.source, event.tier_before, event.tier_after) == ("system", 1, 1)
        # Not due any more.
        assert services.renew_due_subscriptions()["renewed"] == 0

    def test_a_declined_renewal_ends_the_subscription(self, user, plan):
        subscription = self._due(user, plan)
        declined = ChargeResult(status=processors.DECLINED, message="Card expired.")
        with mock.patch("apps.billing.processors.sandbox.SandboxProcessor.charge_again", return_value=declined):
            assert services.renew_due_subscriptions()["ended"] == 1
        subscription.refresh_from_db()
        assert not subscription.is_active
        assert selectors.effective_tier(user) == 0
        event = BillingEvent.objects.get(kind="renewal_failed")
        assert (event.tier_before, event.tier_after, event.details["reason"]) == (1, 0, "Card expired.")
        assert CardPayment.objects.get(is_renewal=True).status == "declined"

    def test_a_processor_failure_leaves_the_subscription_for_the_next_run(self, user, plan):
        subscription = self._due(user, plan)
        with mock.patch(
            "apps.billing.processors.sandbox.SandboxProcessor.charge_again", side_effect=processors.ProcessorError
        ):
            assert services.renew_due_subscriptions()["failed"] == 1
        subscription.refresh_from_db()
        assert subscription.is_active
        assert CardPayment.objects.get(is_renewal=True).status == "failed"
        assert services.renew_due_subscriptions()["renewed"] == 1

    def test_a_trial_renews_at_the_base_price(self, user, plan):
        subscription = self._due(user, plan, product_id="pro-trial")
        services.renew_due_subscriptions()
        subscription.refresh_from_db()
        assert subscription.price == BillingPlanPrice.objects.get(product_id="pro-monthly")
        assert subscription.price_info["value"] == "9.99"
        assert CardPayment.objects.get(is_renewal=True).amount == Decimal("9.99")

    def test_the_beat_task_renews(self, user, plan):
        from apps.billing import tasks

        self._due(user, plan)
        assert tasks.renew_subscriptions.delay().get()["renewed"] == 1


CANCEL = "/cancelMembership"


class TestCancelMembership:
    def test_a_card_membership_ends_at_its_next_billing_date(self, client, user, plan):
        subscription = _pay_service(user, "pro-monthly").subscription
        response = client.delete(CANCEL, **as_user(user))
        assert response.status_code == 200
        subscription.refresh_from_db()
        assert subscription.expires_at == subscription.next_billing_date
        assert response.json() == ok(
            {
                "success": True,
                "message": "Your membership is cancelled: your PRO tier stays active until "
                f"{subscription.expires_at:%Y-%m-%d %H:%M} UTC.",
            }
        )
        assert selectors.effective_tier(user) == 1
        assert selectors.tier_info(user).tier_expiration == selectors.iso(subscription.expires_at)
        event = BillingEvent.objects.get(kind="subscription_cancelled")
        assert (event.user_id, event.actor_id, event.tier_before, event.tier_after) == (user.pk, user.pk, 1, 1)
        # A cancelled subscription is not renewed; it expires instead.
        Subscription.objects.filter(pk=subscription.pk).update(
            next_billing_date=timezone.now() - timedelta(minutes=1), expires_at=timezone.now() - timedelta(minutes=1)
        )
        assert services.renew_due_subscriptions()["renewed"] == 0
        assert services.expire_due_subscriptions() == 1

    def test_cancelling_twice_says_it_is_already_cancelled(self, client, user, plan):
        subscription = _pay_service(user, "pro-monthly").subscription
        client.delete(CANCEL, **as_user(user))
        subscription.refresh_from_db()
        response = client.delete(CANCEL, **as_user(user))
        assert response.json() == ok(
            {
                "success": False,
                "message": "Your membership is already cancelled: it ends on "
                f"{subscription.expires_at:%Y-%m-%d %H:%M} UTC.",
            }
        )
        assert BillingEvent.objects.filter(kind="subscription_cancelled").count() == 1

    def test_memberships_billed_elsewhere_get_the_instructions_by_email(
        self, client, user, django_capture_on_commit_callbacks
    ):
        subscribe(user, tier=1, processor="patreon")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.delete(CANCEL, **as_user(user))
        assert response.json() == ok(
            {"success": True, "message": "We sent you an email with the instructions to cancel your membership."}
        )
        (message,) = mail.outbox
        assert message.to == [user.email]
        assert message.subject.endswith("how to cancel your membership")
        assert "Patreon" in message.body
        assert "https://www.patreon.com/settings/memberships" in message.body
        # Nothing changed here: Patreon ends it.
        assert Subscription.objects.get().expires_at is None
        assert not BillingEvent.objects.exists()

    def test_nothing_to_cancel(self, client, user):
        subscribe(user, tier=1, processor="admin")
        subscribe(user, tier=1, processor="giftcard", expires_at=timezone.now() + timedelta(days=3))
        response = client.delete(CANCEL, **as_user(user))
        assert response.json() == ok({"success": False, "message": "You have no recurring membership to cancel."})
        assert not mail.outbox

    def test_one_must_be_signed_in(self, client):
        anonymous = client.delete(CANCEL)
        assert (anonymous.status_code, anonymous.json()) == (401, error(NOT_SIGNED_IN))
        guest = client.delete(CANCEL, **as_guest())
        assert (guest.status_code, guest.json()) == (401, error(NOT_SIGNED_IN))

    def test_a_malformed_session_is_a_401(self, client):
        response = client.delete(CANCEL, HTTP_X_SESSION_ID="not-a-uuid")
        assert response.status_code == 401
        assert response.json() == error("The X-Session-ID header must be a valid UUID.")

    def test_other_users_are_not_touched(self, client, user, plan):
        other = UserFactory()
        subscription = _pay_service(other, "pro-monthly").subscription
        client.delete(CANCEL, **as_user(user))
        subscription.refresh_from_db()
        assert subscription.expires_at is None

"""Gift cards: codes, redeemGiftCard (the spec's rules, the race, the calendar), downloadGiftCards,
revoking, and generate_gift_cards."""

import re
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from apps.billing import giftcodes, selectors, services
from apps.billing.models import BillingEvent, GiftCard, GiftCardBatch, Subscription
from apps.core.errors import Conflict
from tests.billing.conftest import (
    FORBIDDEN,
    NOT_SIGNED_IN,
    as_admin_key,
    as_guest,
    as_user,
    error,
    iso,
    ok,
    staff_with_role,
    subscribe,
)
from tests.factories import DomainFactory, UserFactory

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$")


def new_cards(count=1, **options):
    from apps.core.domains import default_domain

    options.setdefault("domain", default_domain())
    batch, codes = services.generate_gift_cards(count=count, **options)
    return batch, codes


def new_code(**options) -> str:
    return new_cards(1, **options)[1][0]


class TestCodes:
    def test_codes_are_long_grouped_and_unambiguous(self):
        _, codes = new_cards(200)
        assert len(set(codes)) == 200
        assert all(CODE.match(code) for code in codes)
        assert not any(set(code) & set("ILOU") for code in codes)
        # 100 random bits; even with the stored hint (the last group) 80 remain unknown.
        assert giftcodes.BITS - giftcodes.GROUP * 5 >= 80

    def test_only_a_hash_and_the_last_group_are_stored(self):
        _, (code,) = new_cards(1)
        card = GiftCard.objects.get()
        bare = code.replace("-", "")
        assert card.code_hash == giftcodes.code_hash(bare)
        assert card.code_hint == bare[-4:]
        assert bare not in str(GiftCard.objects.values().get())

    @pytest.mark.parametrize(
        ("typed", "expected"),
        [
            ("7k3m-q9xd-2b8f-hj4n-c6vt", "7K3MQ9XD2B8FHJ4NC6VT"),
            (" 7K3M Q9XD 2B8F HJ4N C6VT ", "7K3MQ9XD2B8FHJ4NC6VT"),
            ("7K3MQ9XD2B8FHJ4NC6VT", "7K3MQ9XD2B8FHJ4NC6VT"),
            ("OOOO-IIII-LLLL-1111-0000", "00001111111111110000"),
            ("7K3M-Q9XD-2B8F-HJ4N", None),
            ("7K3M-Q9XD-2B8F-HJ4N-C6VU", None),
            ("", None),
        ],
    )
    def test_typed_codes_are_normalized(self, typed, expected):
        assert giftcodes.normalized(typed) == expected


REDEEM = "/redeemGiftCard"


def redeem(client, user, code):
    return client.post(REDEEM, {"code": code}, format="json", **as_user(user))


class TestRedeem:
    def test_redeeming_gives_the_tier_for_the_days(self, client, user):
        batch, (code,) = new_cards(1, tier=2, days=30, additional_information="Spring promo")
        before = timezone.now()
        response = redeem(client, user, code.lower().replace("-", " "))
        assert response.status_code == 200
        subscription = Subscription.objects.get()
        assert response.json() == ok({"productID": code, "tier": 2, "tierExpiration": iso(subscription.expires_at)})
        assert before + timedelta(days=30) <= subscription.expires_at <= timezone.now() + timedelta(days=30)
        assert (subscription.merchant_processor, subscription.product_id) == ("giftcard", code)
        assert subscription.additional_information == "Spring promo"
        assert selectors.effective_tier(user) == 2
        card = GiftCard.objects.get()
        assert (card.redeemed_by, card.subscription, card.state) == (user, subscription, "redeemed")
        event = BillingEvent.objects.get(kind="gift_card_redeemed")
        assert (event.user_id, event.actor_id, event.gift_card_id, event.subscription_id) == (
            user.pk,
            user.pk,
            card.pk,
            subscription.pk,
        )
        assert (event.tier_before, event.tier_after) == (0, 2)
        assert event.details["batchID"] == str(batch.pk)

    def test_g2a_cards_name_g2a_as_the_processor_and_keep_their_price(self, user):
        _, (code,) = new_cards(1, distribution_provider="g2a", usd_price=Decimal("4.99"))
        services.redeem_gift_card(user=user, code=code)
        (subscription,) = selectors.tier_info(user, extended_price_info=True).subscriptions
        assert subscription["merchantProcessor"] == "g2a"
        assert subscription["price"] == {
            "type": "giftcard",
            "period": "none",
            "currency": "USD",
            "currencyType": "fiat",
            "value": 4.99,
        }

    def test_an_active_tier_as_high_that_is_not_expiring_refuses_the_card(self, client, user):
        subscribe(user, tier=2, processor="patreon")
        code = new_code(tier=2)
        response = redeem(client, user, code)
        assert response.status_code == 409
        assert response.json() == error(
            "You already have PRO tier 2, which is not set to expire, so this tier 2 gift card cannot be redeemed now."
        )
        lower = redeem(client, user, new_code(tier=1))
        assert lower.status_code == 409
        assert GiftCard.objects.filter(redeemed_at__isnull=False).count() == 0
        assert Subscription.objects.count() == 1
        assert not BillingEvent.objects.exclude(kind="gift_card_created").exists()

    def test_a_lower_active_tier_does_not_refuse_a_higher_card(self, client, user):
        subscribe(user, tier=1, processor="patreon")
        assert redeem(client, user, new_code(tier=2)).status_code == 200
        assert selectors.effective_tier(user) == 2

    def test_a_higher_tier_that_is_expiring_lets_a_lower_card_start_now(self, user):
        subscribe(user, tier=3, processor="giftcard", expires_at=timezone.now() + timedelta(days=5))
        start = timezone.now()
        subscription = services.redeem_gift_card(user=user, code=new_code(tier=1, days=10))
        assert start + timedelta(days=10) <= subscription.expires_at <= timezone.now() + timedelta(days=10)

    @pytest.mark.parametrize(
        ("current_end", "days", "new_end"),
        [
            # Across a 28-day February.
            (datetime(2030, 1, 31, 10, 0, tzinfo=UTC), 30, datetime(2030, 3, 2, 10, 0, tzinfo=UTC)),
            # Across a leap-year February.
            (datetime(2032, 2, 10, 23, 30, tzinfo=UTC), 30, datetime(2032, 3, 11, 23, 30, tzinfo=UTC)),
            # Across the new year.
            (datetime(2030, 12, 15, 0, 0, tzinfo=UTC), 365, datetime(2031, 12, 15, 0, 0, tzinfo=UTC)),
        ],
    )
    def test_the_same_tier_while_expiring_extends_the_existing_expiry(self, client, user, current_end, days, new_end):
        subscribe(user, tier=1, processor="arkpay", expires_at=current_end)  # cancelled: enqueued for expiration
        response = redeem(client, user, new_code(tier=1, days=days))
        assert response.status_code == 200
        assert response.json()["payload"]["tierExpiration"] == iso(new_end)
        info = selectors.tier_info(user)
        assert (info.tier, info.tier_expiration) == (1, iso(new_end))
        event = BillingEvent.objects.get(kind="gift_card_redeemed")
        assert event.details["extendedFrom"] == iso(current_end)

    def test_the_latest_expiry_of_the_tier_is_extended(self, user):
        subscribe(user, tier=1, processor="giftcard", expires_at=datetime(2030, 1, 1, tzinfo=UTC))
        subscribe(user, tier=1, processor="admin", expires_at=datetime(2030, 6, 1, tzinfo=UTC))
        subscription = services.redeem_gift_card(user=user, code=new_code(tier=1, days=10))
        assert subscription.expires_at == datetime(2030, 6, 11, tzinfo=UTC)

    def test_a_card_is_redeemed_once(self, client, user):
        code = new_code()
        assert redeem(client, user, code).status_code == 200
        again = redeem(client, UserFactory(), code)
        assert (again.status_code, again.json()) == (409, error("This gift card has already been redeemed."))

    def test_a_revoked_card_is_gone(self, client, user):
        code = new_code()
        assert services.revoke_gift_cards(cards=GiftCard.objects.all()) == 1
        response = redeem(client, user, code)
        assert (response.status_code, response.json()) == (410, error("This gift card has been revoked."))

    def test_unknown_codes_and_other_sites_codes_are_not_found(self, client, user):
        other_site_code = new_code(domain=DomainFactory())
        for code in ("0000-0000-0000-0000-0000", other_site_code):
            response = redeem(client, user, code)
            assert (response.status_code, response.json()) == (404, error("This gift card code is not valid."))

    @pytest.mark.parametrize("code", ["short", "7K3M-Q9XD-2B8F-HJ4N-C6VU", "x" * 30])
    def test_a_malformed_code_is_a_400(self, client, user, code):
        response = redeem(client, user, code)
        assert response.status_code == 400
        assert response.json() == error(f"code: {services.CODE_SHAPE}")

    def test_missing_or_non_string_code_is_a_400(self, client, user):
        assert client.post(REDEEM, {}, format="json", **as_user(user)).json() == error("code: This field is required.")
        assert client.post(REDEEM, {"code": 7}, format="json", **as_user(user)).json() == error(
            "code: Must be a string."
        )

    def test_one_must_be_signed_in(self, client):
        code = new_code()
        anonymous = client.post(REDEEM, {"code": code}, format="json")
        assert (anonymous.status_code, anonymous.json()) == (401, error(NOT_SIGNED_IN))
        guest = client.post(REDEEM, {"code": code}, format="json", **as_guest())
        assert (guest.status_code, guest.json()) == (401, error(NOT_SIGNED_IN))
        assert not GiftCard.objects.filter(redeemed_at__isnull=False).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_redemptions_of_one_card_succeed_once():
    _, (code,) = new_cards(1)
    users = [UserFactory() for _ in range(50)]
    barrier = threading.Barrier(len(users))
    outcomes = []
    lock = threading.Lock()

    def attempt(user):
        try:
            barrier.wait()
            try:
                services.redeem_gift_card(user=user, code=code)
                outcome = "redeemed"
            except Conflict:
                outcome = "conflict"
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * 49 + ["redeemed"]
    card = GiftCard.objects.get()
    assert card.redeemed_by_id in {user.pk for user in users}
    assert Subscription.objects.count() == 1
    assert Subscription.objects.get().user_id == card.redeemed_by_id
    assert BillingEvent.objects.filter(kind="gift_card_redeemed").count() == 1


DOWNLOAD = "/downloadGiftCards"


class TestDownload:
    def test_defaults_make_100_one_tier_30_day_cards_as_a_text_file(self, client, admin_headers):
        response = client.get(DOWNLOAD, **admin_headers)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="gift-cards-giftcard-tier1-30d-')
        assert response["Cache-Control"] == "no-store"
        lines = response.content.decode().splitlines()
        assert len(lines) == len(set(lines)) == 100
        assert all(CODE.match(line) for line in lines)
        batch = GiftCardBatch.objects.get()
        assert (batch.distribution_provider, batch.tier, batch.days, batch.count, batch.usd_price) == (
            "giftcard",
            1,
            30,
            100,
            Decimal("0"),
        )
        assert batch.cards.count() == 100
        assert BillingEvent.objects.filter(kind="gift_card_created").count() == 100
        # Every downloaded code works.
        user = UserFactory()
        assert services.redeem_gift_card(user=user, code=lines[42]).tier == 1

    def test_parameters_and_external_codes(self, client, admin_headers):
        response = client.get(
            DOWNLOAD,
            {
                "distributionProvider": "g2a",
                "tier": 2,
                "days": 7,
                "usdPrice": "4.99",
                "externalCodes": "G2A-1, G2A-2,G2A-3",
                "additionalInformation": "G2A launch",
            },
            **admin_headers,
        )
        assert response.status_code == 200
        lines = response.content.decode().splitlines()
        assert len(lines) == 3
        batch = GiftCardBatch.objects.get()
        assert (batch.distribution_provider, batch.tier, batch.days, batch.count, batch.usd_price) == (
            "g2a",
            2,
            7,
            3,
            Decimal("4.99"),
        )
        assert batch.additional_information == "G2A launch"
        # The n-th line is the card of the n-th external code.
        for line, external in zip(lines, ["G2A-1", "G2A-2", "G2A-3"], strict=True):
            card = GiftCard.objects.get(code_hash=giftcodes.code_hash(giftcodes.normalized(line)))
            assert card.external_code == external

    @pytest.mark.parametrize(("given", "stored"), [("4.995", "5.00"), ("0.004", "0.00"), ("1e-9", "0.00")])
    def test_a_price_is_rounded_to_cents(self, client, admin_headers, given, stored):
        response = client.get(DOWNLOAD, {"numberOfCards": 1, "usdPrice": given}, **admin_headers)
        assert response.status_code == 200
        assert GiftCardBatch.objects.get().usd_price == Decimal(stored)

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"usdPrice": "1e40"}, "usdPrice: Ensure that there are no more than 9 digits in total."),
            ({"usdPrice": "1000000.01"}, "usdPrice: Ensure this value is less than or equal to 1000000."),
            ({"numberOfCards": 0}, "numberOfCards: Ensure this value is greater than or equal to 1."),
            ({"numberOfCards": 10001}, "numberOfCards: Ensure this value is less than or equal to 10000."),
            ({"distributionProvider": "amazon"}, 'distributionProvider: "amazon" is not a valid choice.'),
            ({"tier": 0}, "tier: Ensure this value is greater than or equal to 1."),
            ({"days": "many"}, "days: A valid integer is required."),
            ({"usdPrice": "-1"}, "usdPrice: Ensure this value is greater than or equal to 0."),
            (
                {"numberOfCards": 5, "externalCodes": "a,b"},
                "externalCodes: Give one external code per card: 2 codes for 5 cards.",
            ),
        ],
    )
    def test_bad_parameters_are_a_400_in_the_envelope(self, client, admin_headers, query, message):
        response = client.get(DOWNLOAD, query, **admin_headers)
        assert response.status_code == 400
        assert response.json() == error(message)
        assert not GiftCard.objects.exists()

    def test_only_admins_may_download(self, client, user):
        anonymous = client.get(DOWNLOAD)
        assert (anonymous.status_code, anonymous.json()) == (401, error(NOT_SIGNED_IN))
        signed_in = client.get(DOWNLOAD, **as_user(user))
        assert (signed_in.status_code, signed_in.json()) == (403, error(FORBIDDEN))
        support = client.get(DOWNLOAD, **as_admin_key(staff_with_role("support")))
        assert (support.status_code, support.json()) == (403, error(FORBIDDEN))
        assert not GiftCard.objects.exists()


class TestRevoke:
    def test_only_unredeemed_cards_are_revoked_with_an_event_each(self, user):
        batch, codes = new_cards(3)
        services.redeem_gift_card(user=user, code=codes[0])
        staff = staff_with_role("admin")
        assert services.revoke_gift_cards(cards=GiftCard.objects.all(), actor=staff) == 2
        states = sorted(card.state for card in GiftCard.objects.all())
        assert states == ["redeemed", "revoked", "revoked"]
        events = BillingEvent.objects.filter(kind="gift_card_revoked")
        assert events.count() == 2
        assert {e.actor_id for e in events} == {staff.pk}
        assert {e.details["batchID"] for e in events} == {str(batch.pk)}
        # Again: nothing left to revoke.
        assert services.revoke_gift_cards(cards=GiftCard.objects.all(), actor=staff) == 0


class TestGenerateCommand:
    def test_writes_one_code_per_line(self, tmp_path):
        out = tmp_path / "cards.txt"
        stdout = StringIO()
        call_command(
            "generate_gift_cards",
            "--tier",
            "2",
            "--days",
            "14",
            "--count",
            "5",
            "--usd-price",
            "3.50",
            "--out",
            str(out),
            stdout=stdout,
        )
        lines = out.read_text().splitlines()
        assert len(lines) == 5 and all(CODE.match(line) for line in lines)
        batch = GiftCardBatch.objects.get()
        assert (batch.tier, batch.days, batch.count, batch.usd_price) == (2, 14, 5, Decimal("3.50"))
        assert "Created 5 gift cards (tier 2, 14 days, giftcard)" in stdout.getvalue()
        assert set(BillingEvent.objects.values_list("source", flat=True)) == {"command"}

    def test_never_overwrites_a_file(self, tmp_path):
        out = tmp_path / "cards.txt"
        out.write_text("earlier codes\n")
        with pytest.raises(CommandError, match="exists already"):
            call_command("generate_gift_cards", "--tier", "1", "--days", "30", "--out", str(out))
        assert out.read_text() == "earlier codes\n"
        assert not GiftCard.objects.exists()

    def test_a_refusal_leaves_no_file_and_no_cards(self, tmp_path):
        out = tmp_path / "cards.txt"
        with pytest.raises(CommandError, match=re.escape("The number of days must be from 1 to 3650.")):
            call_command("generate_gift_cards", "--tier", "1", "--days", "0", "--out", str(out))
        assert not out.exists()
        assert not GiftCard.objects.exists()

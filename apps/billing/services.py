"""Writes of the billing app, one function per use case. Views, admin actions, Celery tasks and
management commands all call these; each change to a subscription or a gift card records a billing
event (``events.py``) in the same transaction.

Changes to one user's subscriptions are serialized (``_serialize_billing``), so that checks such as
"no active tier of this level" hold when the new subscription is written.
"""

import calendar
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from apps.accounts import selectors as accounts
from apps.core import queueing
from apps.core.errors import (
    Conflict,
    Gone,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    QueueUnavailable,
    ServiceUnavailable,
)
from apps.core.models import Domain

from . import events, giftcodes, processors, selectors
from .cards import CardDetails
from .encryption import encrypt_json
from .models import (
    MAX_TIER,
    BillingPlan,
    BillingPlanPaymentProvider,
    BillingPlanPrice,
    BoostyAdminCookies,
    CardPayment,
    CurrencyType,
    DistributionProvider,
    GiftCard,
    GiftCardBatch,
    PaymentProvider,
    Period,
    PriceType,
    Subscription,
)

logger = logging.getLogger("atelier.billing")

Kind = events.Kind
Source = events.Source

# Subscriptions that are not memberships a user could cancel: they end by themselves or by staff.
NOT_CANCELLABLE = frozenset(
    {PaymentProvider.ADMIN, PaymentProvider.WHITELIST, PaymentProvider.GIFTCARD, PaymentProvider.G2A}
)
RECURRING_PERIODS = frozenset({Period.DAILY, Period.MONTHLY, Period.YEARLY})
# A payment still marked pending after this long is taken as abandoned.
PENDING_PAYMENT_WINDOW = timedelta(minutes=10)

GIFT_CARD_DEFAULTS = {"distribution_provider": DistributionProvider.GIFTCARD, "tier": 1, "days": 30, "count": 100}
MAX_GIFT_CARDS_PER_BATCH = 10_000
MAX_GIFT_CARD_DAYS = 3650
MAX_USD_PRICE = Decimal("1000000")

BOOSTY_COOKIE_TTL = timedelta(days=7)
MAX_BOOSTY_COOKIES = 100
MAX_BOOSTY_COOKIE_BYTES = 64 * 1024

# Namespace of the advisory locks that serialize a user's billing changes on PostgreSQL.
_LOCK_NAMESPACE = 0x0B177


def _serialize_billing(user) -> None:
    """Hold, until the transaction ends, the lock on ``user``'s billing. PostgreSQL: an advisory
    transaction lock; SQLite runs one writing transaction at a time (IMMEDIATE) anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_NAMESPACE, str(user.pk)])


def _invalid(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={(name,): [message]})


def _check_tier(tier: int, name: str = "tier") -> None:
    if isinstance(tier, bool) or not isinstance(tier, int) or not 1 <= tier <= MAX_TIER:
        raise _invalid(name, f"The tier must be a whole number from 1 to {MAX_TIER}.")


def _day(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


# --- billing periods ------------------------------------------------------------------------------


def add_months(value: datetime, months: int) -> datetime:
    """``value`` moved by whole calendar months; a day the target month lacks becomes its last day
    (January 31 + 1 month = February 28 or 29)."""
    index = value.month - 1 + months
    year, month = value.year + index // 12, index % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))


def add_period(value: datetime, period: str) -> datetime:
    if period == Period.DAILY:
        return value + timedelta(days=1)
    if period == Period.MONTHLY:
        return add_months(value, 1)
    if period == Period.YEARLY:
        return add_months(value, 12)
    raise ValueError(f"{period} is not a recurring period")


def billing_schedule(price: BillingPlanPrice, start: datetime) -> tuple[datetime | None, datetime | None, object]:
    """(next billing date, expiry, price charged at renewal) of a subscription bought at ``price``.

    Recurring periods bill again one period later at the same price. A trial bills after its trial
    days at its plan's base price of the same period and currency, and ends then when there is none.
    Lifetime (and ``none``) prices are paid once and do not end.
    """
    if price.type == PriceType.TRIAL and price.trial_days:
        trial_end = start + timedelta(days=price.trial_days)
        base = (
            price.plan.prices.filter(type=PriceType.BASE, period=price.period, currency=price.currency)
            .order_by("position", "value")
            .first()
        )
        if base is not None and price.period in RECURRING_PERIODS:
            return trial_end, None, base
        return None, trial_end, None
    if price.period in RECURRING_PERIODS:
        return add_period(start, price.period), None, price
    return None, None, None


# --- plans ----------------------------------------------------------------------------------------


def environment_domain(*, domain: Domain, env: str | None) -> Domain:
    """The site a plan for ``env`` belongs to: ``domain`` itself for its own environment, else the
    site of the same name running in ``env``."""
    env = (env or "").strip()
    if not env or env == domain.environment:
        return domain
    sibling = Domain.objects.filter(name=domain.name, environment=env, is_active=True).first()
    if sibling is None:
        raise _invalid("env", f"No site named {domain.name} runs in the environment '{env}'.")
    return sibling


def _new_product_id(plan_name: str, period: str, currency: str) -> str:
    stem = slugify(plan_name)[:40].strip("-") or "plan"
    while True:
        candidate = f"{stem}-{period}-{currency.lower()}-{get_random_string(6, 'abcdefghijkmnpqrstuvwxyz23456789')}"
        if not BillingPlanPrice.objects.filter(product_id=candidate).exists():
            return candidate


@transaction.atomic
def create_billing_plan(
    *,
    domain: Domain,
    name: str,
    tier: int,
    prices: list[dict],
    description: str = "",
    features: list[str] | None = None,
    main_benefits: list[str] | None = None,
    special_code: str = "",
    actor=None,
) -> BillingPlan:
    """A plan with its prices and their payment providers (createBillingPlan, demo data).

    Each price is a dict of BillingPlanPrice fields (``name``, ``type``, ``period``, ``currency``,
    ``currency_type``, ``value``, ``trial_days``, optional ``product_id``) with ``payment_providers``,
    a list of dicts (``payment_provider``, ``payment_label``, ``payment_url``).
    """
    _check_tier(tier)
    if not prices:
        raise _invalid("prices", "Give at least one price.")
    plan = BillingPlan.objects.create(
        domain=domain,
        name=name.strip(),
        description=description or "",
        features=list(features or []),
        main_benefits=list(main_benefits or []),
        tier=tier,
        special_code=special_code,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    for position, spec in enumerate(prices):
        spec = dict(spec)
        providers = spec.pop("payment_providers", [])
        product_id = spec.pop("product_id", "") or _new_product_id(plan.name, spec["period"], spec["currency"])
        if BillingPlanPrice.objects.filter(product_id=product_id).exists():
            raise Conflict(f"A price with the product ID {product_id} already exists.")
        price = BillingPlanPrice.objects.create(plan=plan, product_id=product_id, position=position, **spec)
        seen = set()
        for provider_position, provider in enumerate(providers):
            if provider["payment_provider"] in seen:
                raise InvalidInput(
                    "A price lists the same payment provider twice.",
                    errors={("prices", position, "paymentProviders"): ["Each payment provider may appear once."]},
                )
            seen.add(provider["payment_provider"])
            BillingPlanPaymentProvider.objects.create(price=price, position=provider_position, **provider)
    return plan


# --- admin-provided tiers -------------------------------------------------------------------------


def set_admin_tier(
    *,
    domain: Domain,
    emails: list[str],
    product_id: str,
    tier: int,
    is_active: bool,
    deactivation_date: datetime | None = None,
    additional_information: str | None = None,
    actor=None,
    source: str = Source.API,
) -> list[Subscription]:
    """Give (or change, or end) a free admin-provided tier for each user of ``domain`` named by
    ``emails`` (setAdminProvidedPremiumTier, ``grant_tier``). A user has one admin-provided
    subscription per ``product_id``: calling again updates it.

    Active with a ``deactivation_date``: the tier ends then (it must lie ahead). Inactive: it ends
    now (or at an earlier ``deactivation_date``). Nothing changes unless every email has a user.
    """
    _check_tier(tier)
    product_id = (product_id or "").strip()
    if not product_id:
        raise _invalid("productId", "Give the productId of the admin-provided tier.")
    now = timezone.now()
    if is_active and deactivation_date is not None and deactivation_date <= now:
        raise _invalid("deactivationDate", "The deactivationDate of an active tier must lie in the future.")
    wanted = list(dict.fromkeys(e.strip() for e in emails if e and e.strip()))
    if not wanted:
        raise _invalid("email", "Give the email (or emails) of the users.")
    users, missing = [], []
    for email in wanted:
        user = accounts.user_by_email(email=email, domain=domain)
        if user is None:
            missing.append(email)
        else:
            users.append(user)
    if missing:
        raise NotFound(f"No user of this site has the email {', '.join(missing)}.")
    granted_by = actor if getattr(actor, "is_authenticated", False) else None
    done = []
    with transaction.atomic():
        for user in users:
            _serialize_billing(user)
            before = selectors.effective_tier(user, at=now)
            subscription = (
                Subscription.objects.select_for_update()
                .filter(user=user, merchant_processor=PaymentProvider.ADMIN, product_id=product_id)
                .first()
            )
            created = subscription is None
            if created:
                subscription = Subscription(
                    user=user, domain=user.domain, merchant_processor=PaymentProvider.ADMIN, product_id=product_id
                )
            subscription.tier = tier
            subscription.granted_by = granted_by
            if additional_information is not None:
                subscription.additional_information = additional_information
            if is_active:
                subscription.is_active, subscription.ended_at = True, None
                subscription.expires_at = deactivation_date
            else:
                ended = min(deactivation_date, now) if deactivation_date else now
                subscription.is_active = False
                subscription.expires_at = ended
                subscription.ended_at = subscription.ended_at if not created and subscription.ended_at else now
            subscription.save()
            if created:
                kind = Kind.SUBSCRIPTION_CREATED
            else:
                kind = Kind.SUBSCRIPTION_UPDATED if is_active else Kind.SUBSCRIPTION_DEACTIVATED
            events.record(
                kind,
                domain=user.domain,
                actor=actor,
                source=source,
                user=user,
                subscription=subscription,
                tier_before=before,
                tier_after=selectors.effective_tier(user, at=now),
                details={
                    "merchantProcessor": PaymentProvider.ADMIN,
                    "productID": product_id,
                    "tier": tier,
                    "isActive": is_active,
                    "deactivationDate": selectors.iso(subscription.expires_at),
                },
            )
            done.append(subscription)
    return done


def deactivate_subscriptions(*, subscriptions, actor=None, source: str = Source.BACK_OFFICE) -> int:
    """End active subscriptions now (back office). Recurring card billing stops with them."""
    now = timezone.now()
    count = 0
    stopped = []
    for pk in [s.pk for s in subscriptions]:
        with transaction.atomic():
            subscription = Subscription.objects.select_related("user").filter(pk=pk).first()
            if subscription is None:
                continue
            _serialize_billing(subscription.user)
            subscription = Subscription.objects.select_for_update().get(pk=pk)
            if not subscription.is_active:
                continue
            user = subscription.user
            before = selectors.effective_tier(user, at=now)
            subscription.is_active = False
            subscription.ended_at = now
            if subscription.expires_at is None or subscription.expires_at > now:
                subscription.expires_at = now
            subscription.save(update_fields=["is_active", "ended_at", "expires_at", "updated_at"])
            events.record(
                Kind.SUBSCRIPTION_DEACTIVATED,
                domain=subscription.domain_id,
                actor=actor,
                source=source,
                user=user,
                subscription=subscription,
                tier_before=before,
                tier_after=selectors.effective_tier(user, at=now),
                details={"merchantProcessor": subscription.merchant_processor, "productID": subscription.product_id},
            )
            count += 1
            if subscription.merchant_processor in processors.card_merchant_processors() and subscription.payer_id:
                stopped.append(subscription)
    for subscription in stopped:
        _stop_processor_billing(subscription)
    return count


def _stop_processor_billing(subscription: Subscription) -> None:
    """Tell the card processor to stop any recurring billing of its own (best effort: Atelier makes
    no further charge anyway)."""
    try:
        processors.for_merchant(subscription.merchant_processor).cancel(customer_reference=subscription.payer_id)
    except Exception as exc:  # a processor's failure must not undo the cancellation
        logger.warning(
            "The processor could not stop the billing of subscription %s (%s).", subscription.pk, type(exc).__name__
        )


# --- cancelling a membership ----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    success: bool
    message: str
    subscription: Subscription | None = None


def cancel_membership(*, user, source: str = Source.API) -> Outcome:
    """cancelMembership: recurring card subscriptions billed here end at their next billing date;
    for memberships billed elsewhere (Patreon, Boosty, PayPal…) the user gets an email with the
    instructions to cancel there."""
    now = timezone.now()
    card_merchants = set(processors.card_merchant_processors())
    cancelled, instructed, already = [], [], []
    with transaction.atomic():
        _serialize_billing(user)
        subscriptions = list(selectors.current_subscriptions(user, at=now).select_for_update())
        for subscription in subscriptions:
            if subscription.merchant_processor in NOT_CANCELLABLE:
                continue
            if subscription.expires_at is not None:
                already.append(subscription)
            elif subscription.merchant_processor in card_merchants:
                if subscription.next_billing_date is None:
                    continue  # paid once (lifetime): nothing recurs
                subscription.expires_at = max(subscription.next_billing_date, now)
                subscription.save(update_fields=["expires_at", "updated_at"])
                tier = selectors.effective_tier(user, at=now)
                events.record(
                    Kind.SUBSCRIPTION_CANCELLED,
                    domain=subscription.domain_id,
                    actor=user,
                    source=source,
                    user=user,
                    subscription=subscription,
                    tier_before=tier,
                    tier_after=tier,
                    details={"tierExpiration": selectors.iso(subscription.expires_at)},
                )
                cancelled.append(subscription)
            else:
                instructed.append(subscription)
        unsent = []  # instruction emails the queue did not take (known here when this was the outermost transaction)
        for subscription in instructed:
            transaction.on_commit(lambda pk=str(subscription.pk): _queue_cancellation_email(pk, unsent=unsent))
    for subscription in cancelled:
        if subscription.payer_id:
            _stop_processor_billing(subscription)
    if unsent and not cancelled:
        raise QueueUnavailable()

    messages = []
    if cancelled:
        ends = max(s.expires_at for s in cancelled)
        messages.append(f"Your membership is cancelled: your PRO tier stays active until {_day(ends)}.")
    if instructed and unsent:
        messages.append(
            "The email with the instructions to cancel your other membership could not be sent now; try again shortly."
        )
    elif instructed:
        messages.append("We sent you an email with the instructions to cancel your membership.")
    if messages:
        return Outcome(True, " ".join(messages), cancelled[0] if cancelled else None)
    if already:
        ends = max(s.expires_at for s in already)
        return Outcome(False, f"Your membership is already cancelled: it ends on {_day(ends)}.")
    return Outcome(False, "You have no recurring membership to cancel.")


def _queue_cancellation_email(subscription_id: str, *, unsent: list) -> None:
    from .tasks import send_cancellation_instructions

    try:
        queueing.send(send_cancellation_instructions, args=(subscription_id,))
    except QueueUnavailable:
        unsent.append(subscription_id)


CANCELLATION_PAGES = {
    PaymentProvider.PATREON: "https://www.patreon.com/settings/memberships",
    PaymentProvider.BOOSTY: "https://boosty.to/app/settings/subscriptions",
    PaymentProvider.PAYPAL: "https://www.paypal.com/myaccount/autopay/",
}


def send_cancellation_instructions(*, subscription_id: str) -> str:
    """Mail the instructions to cancel a membership billed by another company (Celery task)."""
    subscription = Subscription.objects.select_related("user", "domain").filter(pk=subscription_id).first()
    if subscription is None:
        return "skipped: the subscription no longer exists"
    provider = PaymentProvider(subscription.merchant_processor)
    context = {
        "site": subscription.domain.name,
        "provider": provider.label,
        "tier": subscription.tier,
        "page": CANCELLATION_PAGES.get(provider, ""),
        "product_id": subscription.product_id,
    }
    send_mail(
        f"{subscription.domain.name}: how to cancel your membership",
        render_to_string("billing/email/cancel_instructions.txt", context),
        None,
        [subscription.user.email],
    )
    return "sent"


# --- card payments --------------------------------------------------------------------------------


def _blocking_subscription(user, tier: int, at: datetime) -> Subscription | None:
    """The subscription that stops ``user`` from taking ``tier`` now: an active one of that tier or
    higher that is not enqueued for expiration. None when there is none."""
    return (
        selectors.current_subscriptions(user, at=at)
        .filter(tier__gte=tier, expires_at__isnull=True)
        .order_by("-tier")
        .first()
    )


def process_card_subscription(
    *,
    domain: Domain,
    user,
    merchant_processor: str,
    product_id: str,
    card: CardDetails,
    billing_email: str = "",
    source: str = Source.API,
) -> Outcome:
    """processCardSubscription: charge the card for the price ``product_id`` and, once paid, start
    the subscription (its next billing date one price period ahead).

    Without a signed-in user, ``billing_email`` names the account on the site that gets the tier.
    A declined card is an unsuccessful outcome, not an error; nothing is charged twice while a
    payment of the same user is pending. Only the card's brand and last four digits are kept.
    """
    processor = processors.for_merchant(merchant_processor)
    price = selectors.price_for_product(domain=domain, product_id=product_id)
    if price is None:
        raise NotFound("No plan of this site sells this productID.")
    if merchant_processor not in {p.payment_provider for p in price.payment_providers.all()}:
        raise _invalid("productID", f"This product cannot be paid through {merchant_processor}.")
    # A trial may cost nothing now (the card is still checked); anything else must cost something.
    if price.currency_type != CurrencyType.FIAT or (price.value <= 0 and price.type != PriceType.TRIAL):
        raise _invalid("productID", "This product cannot be paid by card.")
    if user is None or not user.is_authenticated:
        email = (billing_email or "").strip()
        if not email:
            raise NotAuthenticated("Sign in, or give the billingEmail of your account on this site.")
        user = accounts.user_by_email(email=email, domain=domain)
        if user is None:
            raise NotFound("No account of this site has this billingEmail. Sign up first, then pay.")

    payment = _open_payment(
        user=user, domain=domain, price=price, merchant=merchant_processor, processor=processor, card=card
    )
    try:
        result = processor.charge(
            card=card,
            amount=price.value,
            currency=price.currency,
            description=f"{domain.name}: {price.plan.name} ({price.period})",
            reference=str(payment.pk),
        )
    except Exception as exc:
        # Whatever a processor raises is reported by type only: its text could hold card data.
        logger.warning(
            "Card payment %s failed at the processor %s (%s).", payment.pk, processor.name, type(exc).__name__
        )
        _close_payment(payment, CardPayment.Status.FAILED, "The payment service failed.")
        raise ServiceUnavailable("The payment service is unavailable. You were not charged; try again later.") from None
    if not result.succeeded:
        status = (
            CardPayment.Status.INSUFFICIENT_FUNDS
            if result.status == processors.INSUFFICIENT_FUNDS
            else CardPayment.Status.DECLINED
        )
        _close_payment(payment, status, result.message, reference=result.reference)
        if status == CardPayment.Status.INSUFFICIENT_FUNDS:
            return Outcome(False, "The card has insufficient funds. You were not charged.")
        return Outcome(False, "The card was declined. You were not charged.")
    subscription = _start_card_subscription(payment=payment, price=price, result=result, card=card, source=source)
    message = f"Payment accepted: you now have PRO tier {subscription.tier}."
    if subscription.next_billing_date:
        message += f" Next billing date: {_day(subscription.next_billing_date)}."
    elif subscription.expires_at:
        message += f" It lasts until {_day(subscription.expires_at)}."
    return Outcome(True, message, subscription)


def _open_payment(*, user, domain, price, merchant, processor, card) -> CardPayment:
    now = timezone.now()
    with transaction.atomic():
        _serialize_billing(user)
        blocking = _blocking_subscription(user, price.plan.tier, now)
        if blocking is not None:
            raise Conflict(
                f"You already have PRO tier {blocking.tier} with no end date. "
                "Cancel your membership before subscribing to this plan."
            )
        if CardPayment.objects.filter(
            user=user, status=CardPayment.Status.PENDING, created_at__gt=now - PENDING_PAYMENT_WINDOW
        ).exists():
            raise Conflict("A payment of yours is already being processed. Wait for it to finish.")
        return CardPayment.objects.create(
            domain=domain,
            user=user,
            merchant_processor=merchant,
            processor=processor.name,
            product_id=price.product_id,
            amount=price.value,
            currency=price.currency,
            card_brand=card.brand,
            card_last4=card.last4,
        )


def _close_payment(payment: CardPayment, status: str, message: str, *, reference: str = "") -> None:
    payment.status = status
    payment.message = (message or "")[:300]
    payment.processor_reference = reference or ""
    payment.save(update_fields=["status", "message", "processor_reference", "updated_at"])


def _start_card_subscription(*, payment, price, result, card, source) -> Subscription:
    now = timezone.now()
    next_billing, expires, renewal_price = billing_schedule(price, now)
    user = payment.user
    with transaction.atomic():
        _serialize_billing(user)
        before = selectors.effective_tier(user, at=now)
        subscription = Subscription.objects.create(
            user=user,
            domain=payment.domain,
            merchant_processor=payment.merchant_processor,
            tier=price.plan.tier,
            product_id=price.product_id,
            payer_id=result.customer_reference,
            transaction_id=result.reference,
            additional_information=f"Paid by card: {card.label}.",
            next_billing_date=next_billing,
            expires_at=expires,
            price=price,
            price_info=price.snapshot(),
            renewal_price=renewal_price,
        )
        payment.subscription = subscription
        _close_payment(payment, CardPayment.Status.SUCCEEDED, result.message, reference=result.reference)
        payment.save(update_fields=["subscription", "updated_at"])
        events.record(
            Kind.SUBSCRIPTION_CREATED,
            domain=payment.domain,
            actor=user,
            source=source,
            user=user,
            subscription=subscription,
            tier_before=before,
            tier_after=selectors.effective_tier(user, at=now),
            details={
                "merchantProcessor": payment.merchant_processor,
                "productID": price.product_id,
                "paymentID": str(payment.pk),
                "amount": f"{price.value.normalize():f}",
                "currency": price.currency,
                "cardBrand": card.brand,
                "cardLast4": card.last4,
            },
        )
    return subscription


def renew_due_subscriptions(*, now: datetime | None = None) -> dict:
    """Charge again the card subscriptions whose next billing date has come (Celery beat). A declined
    renewal ends the subscription; a processor failure leaves it for the next run."""
    now = now or timezone.now()
    due = Subscription.objects.filter(
        is_active=True,
        expires_at__isnull=True,
        next_billing_date__lte=now,
        merchant_processor__in=processors.card_merchant_processors(),
    ).values_list("pk", flat=True)
    outcome = {"renewed": 0, "ended": 0, "failed": 0, "skipped": 0}
    for pk in list(due):
        outcome[_renew(pk, now)] += 1
    return outcome


def _renew(pk, now: datetime) -> str:
    with transaction.atomic():
        subscription = Subscription.objects.select_related("user", "domain", "renewal_price").filter(pk=pk).first()
        if subscription is None:
            return "skipped"
        _serialize_billing(subscription.user)
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("user", "domain", "renewal_price")
            .get(pk=pk)
        )
        due = subscription.is_active and subscription.expires_at is None and subscription.next_billing_date
        if not due or subscription.next_billing_date > now:
            return "skipped"
        if CardPayment.objects.filter(
            subscription=subscription, status=CardPayment.Status.PENDING, created_at__gt=now - PENDING_PAYMENT_WINDOW
        ).exists():
            return "skipped"
        price = subscription.renewal_price
        if price is None:
            _end_after_failed_renewal(subscription, now, "The price of this subscription no longer exists.")
            return "ended"
        payment = CardPayment.objects.create(
            domain=subscription.domain,
            user=subscription.user,
            subscription=subscription,
            merchant_processor=subscription.merchant_processor,
            processor="",
            product_id=price.product_id,
            amount=price.value,
            currency=price.currency,
            is_renewal=True,
        )
    try:
        processor = processors.for_merchant(subscription.merchant_processor)
        payment.processor = processor.name
        result = processor.charge_again(
            customer_reference=subscription.payer_id,
            amount=price.value,
            currency=price.currency,
            description=f"{subscription.domain.name}: {price.plan.name} ({price.period})",
            reference=str(payment.pk),
        )
    except Exception as exc:
        logger.warning("Renewal %s of subscription %s failed (%s).", payment.pk, subscription.pk, type(exc).__name__)
        payment.save(update_fields=["processor", "updated_at"])
        _close_payment(payment, CardPayment.Status.FAILED, "The payment service failed.")
        return "failed"
    payment.save(update_fields=["processor", "updated_at"])
    with transaction.atomic():
        _serialize_billing(subscription.user)
        subscription = Subscription.objects.select_for_update().get(pk=pk)
        if not result.succeeded:
            _close_payment(payment, result.status, result.message, reference=result.reference)
            _end_after_failed_renewal(subscription, now, result.message or "The renewal was declined.")
            return "ended"
        _close_payment(payment, CardPayment.Status.SUCCEEDED, result.message, reference=result.reference)
        following = add_period(subscription.next_billing_date, price.period)
        if following <= now:
            following = add_period(now, price.period)
        previous = subscription.next_billing_date
        subscription.next_billing_date = following
        subscription.transaction_id = result.reference or subscription.transaction_id
        subscription.price, subscription.price_info = price, price.snapshot()
        subscription.save(update_fields=["next_billing_date", "transaction_id", "price", "price_info", "updated_at"])
        tier = selectors.effective_tier(subscription.user, at=now)
        events.record(
            Kind.SUBSCRIPTION_RENEWED,
            domain=subscription.domain_id,
            source=Source.SYSTEM,
            user=subscription.user,
            subscription=subscription,
            tier_before=tier,
            tier_after=tier,
            details={
                "paymentID": str(payment.pk),
                "amount": f"{price.value.normalize():f}",
                "currency": price.currency,
                "previousBillingDate": selectors.iso(previous),
                "nextBillingDate": selectors.iso(following),
            },
        )
    return "renewed"


def _end_after_failed_renewal(subscription: Subscription, now: datetime, reason: str) -> None:
    user = subscription.user
    before = selectors.effective_tier(user, at=now)
    subscription.is_active = False
    subscription.ended_at = now
    subscription.expires_at = now
    subscription.save(update_fields=["is_active", "ended_at", "expires_at", "updated_at"])
    events.record(
        Kind.RENEWAL_FAILED,
        domain=subscription.domain_id,
        source=Source.SYSTEM,
        user=user,
        subscription=subscription,
        tier_before=before,
        tier_after=selectors.effective_tier(user, at=now),
        details={"reason": reason[:300]},
    )


def expire_due_subscriptions(*, now: datetime | None = None, actor=None, source: str = Source.SYSTEM) -> int:
    """Mark inactive the subscriptions whose expiry (or deactivation) date has passed (Celery beat,
    ``expire_subscriptions``). Idempotent: returns how many it ended."""
    now = now or timezone.now()
    user_ids = (
        Subscription.objects.filter(is_active=True, expires_at__lte=now)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    ended = 0
    for user_id in list(user_ids):
        with transaction.atomic():
            first = Subscription.objects.select_related("user").filter(user_id=user_id).first()
            if first is None:
                continue
            user = first.user
            _serialize_billing(user)
            expiring = list(
                Subscription.objects.select_for_update().filter(user_id=user_id, is_active=True, expires_at__lte=now)
            )
            if not expiring:
                continue
            after = selectors.effective_tier(user, at=now)
            for subscription in expiring:
                subscription.is_active = False
                subscription.ended_at = subscription.expires_at
                subscription.save(update_fields=["is_active", "ended_at", "updated_at"])
                events.record(
                    Kind.SUBSCRIPTION_EXPIRED,
                    domain=subscription.domain_id,
                    actor=actor,
                    source=source,
                    user=user,
                    subscription=subscription,
                    tier_before=max(after, subscription.tier),
                    tier_after=after,
                    details={"expiredAt": selectors.iso(subscription.expires_at)},
                )
                ended += 1
    return ended


# --- gift cards -----------------------------------------------------------------------------------


def generate_gift_cards(
    *,
    domain: Domain,
    distribution_provider: str = GIFT_CARD_DEFAULTS["distribution_provider"],
    tier: int = GIFT_CARD_DEFAULTS["tier"],
    days: int = GIFT_CARD_DEFAULTS["days"],
    count: int | None = None,
    usd_price: Decimal = Decimal("0"),
    external_codes: list[str] | None = None,
    additional_information: str = "",
    actor=None,
    source: str = Source.API,
) -> tuple[GiftCardBatch, list[str]]:
    """A batch of new gift cards and their codes, in order (downloadGiftCards, the back office's
    "generate batch", ``generate_gift_cards``). The codes are returned once and never stored.

    ``count`` defaults to the number of ``external_codes`` when they are given (the n-th card gets
    the n-th external code), else to 100.
    """
    external = [code.strip() for code in (external_codes or []) if code and code.strip()]
    if count is None:
        count = len(external) or GIFT_CARD_DEFAULTS["count"]
    if distribution_provider not in DistributionProvider.values:
        raise _invalid(
            "distributionProvider",
            f"The distribution provider must be one of {', '.join(DistributionProvider.values)}.",
        )
    _check_tier(tier)
    if not 1 <= days <= MAX_GIFT_CARD_DAYS:
        raise _invalid("days", f"The number of days must be from 1 to {MAX_GIFT_CARD_DAYS}.")
    if not 1 <= count <= MAX_GIFT_CARDS_PER_BATCH:
        raise _invalid("numberOfCards", f"The number of cards must be from 1 to {MAX_GIFT_CARDS_PER_BATCH}.")
    if not Decimal("0") <= usd_price <= MAX_USD_PRICE:
        raise _invalid("usdPrice", "The USD price must be from 0 to 1000000.")
    if external and len(external) != count:
        raise _invalid("externalCodes", f"Give one external code per card: {len(external)} codes for {count} cards.")
    if any(len(code) > 200 for code in external):
        raise _invalid("externalCodes", "An external code has at most 200 characters.")

    codes: list[str] = []
    seen = set()
    while len(codes) < count:
        code = giftcodes.new_code()
        if code not in seen:
            seen.add(code)
            codes.append(code)
    with transaction.atomic():
        batch = GiftCardBatch.objects.create(
            domain=domain,
            distribution_provider=distribution_provider,
            tier=tier,
            days=days,
            count=count,
            usd_price=usd_price,
            additional_information=additional_information or "",
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        cards = [
            GiftCard(
                batch=batch,
                domain=domain,
                code_hash=giftcodes.code_hash(code),
                code_hint=giftcodes.hint(code),
                external_code=external[index] if external else "",
            )
            for index, code in enumerate(codes)
        ]
        GiftCard.objects.bulk_create(cards, batch_size=1000)
        details = {
            "batchID": str(batch.pk),
            "tier": tier,
            "days": days,
            "distributionProvider": distribution_provider,
        }
        events.record_many(
            events.build(
                Kind.GIFT_CARD_CREATED, domain=domain, actor=actor, source=source, gift_card=card, details=details
            )
            for card in cards
        )
    return batch, [giftcodes.formatted(code) for code in codes]


CODE_SHAPE = "A gift card code has 20 letters and digits in groups of four, like 7K3M-Q9XD-2B8F-HJ4N-C6VT."


def redeem_gift_card(*, user, code: str, source: str = Source.API) -> Subscription:
    """redeemGiftCard: the card's tier for its number of days, once.

    Refused while the user has an active tier of the card's tier or higher that is not enqueued for
    expiration. When the user's tier of the card's tier is set to expire, the new one starts where
    that one ends. The card is locked while it is redeemed, so it is redeemed at most once however
    many requests race for it.
    """
    normalized = giftcodes.normalized(code)
    if normalized is None:
        raise _invalid("code", CODE_SHAPE)
    now = timezone.now()
    with transaction.atomic():
        card = (
            GiftCard.objects.select_for_update(of=("self",))
            .select_related("batch")
            .filter(code_hash=giftcodes.code_hash(normalized), domain=user.domain_id)
            .first()
        )
        if card is None:
            raise NotFound("This gift card code is not valid.")
        if card.revoked_at is not None:
            raise Gone("This gift card has been revoked.")
        if card.redeemed_at is not None:
            raise Conflict("This gift card has already been redeemed.")
        batch = card.batch
        _serialize_billing(user)
        blocking = _blocking_subscription(user, batch.tier, now)
        if blocking is not None:
            raise Conflict(
                f"You already have PRO tier {blocking.tier}, which is not set to expire, so this tier {batch.tier} "
                "gift card cannot be redeemed now."
            )
        before = selectors.effective_tier(user, at=now)
        # Every current subscription of this tier is set to expire (else it would block): extend the last.
        extends = (
            selectors.current_subscriptions(user, at=now)
            .filter(tier=batch.tier)
            .aggregate(end=Max("expires_at"))["end"]
        )
        start = extends or now
        subscription = Subscription.objects.create(
            user=user,
            domain=user.domain,
            merchant_processor=batch.distribution_provider,
            tier=batch.tier,
            product_id=giftcodes.formatted(normalized),
            transaction_id=str(card.pk),
            additional_information=batch.additional_information,
            expires_at=start + timedelta(days=batch.days),
            price_info={
                "type": PriceType.GIFTCARD,
                "period": Period.NONE,
                "currency": "USD",
                "currencyType": CurrencyType.FIAT,
                "value": f"{batch.usd_price.normalize():f}",
            },
        )
        taken = GiftCard.objects.filter(pk=card.pk, redeemed_at__isnull=True, revoked_at__isnull=True).update(
            redeemed_at=now, redeemed_by=user, subscription=subscription
        )
        if taken != 1:
            raise Conflict("This gift card has already been redeemed.")
        events.record(
            Kind.GIFT_CARD_REDEEMED,
            domain=user.domain,
            actor=user,
            source=source,
            user=user,
            subscription=subscription,
            gift_card=card,
            tier_before=before,
            tier_after=selectors.effective_tier(user, at=now),
            details={
                "batchID": str(batch.pk),
                "tier": batch.tier,
                "days": batch.days,
                "extendedFrom": selectors.iso(extends),
                "tierExpiration": selectors.iso(subscription.expires_at),
            },
        )
    return subscription


def revoke_gift_cards(*, cards, actor=None, source: str = Source.BACK_OFFICE) -> int:
    """Revoke the unredeemed cards among ``cards``; redeemed and already revoked ones are left as
    they are. Returns how many were revoked."""
    now = timezone.now()
    ids = [getattr(card, "pk", card) for card in cards]
    with transaction.atomic():
        rows = list(
            GiftCard.objects.select_for_update()
            .filter(pk__in=ids, redeemed_at__isnull=True, revoked_at__isnull=True)
            .values_list("pk", "domain_id", "batch_id")
        )
        GiftCard.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
            revoked_at=now, revoked_by=actor if getattr(actor, "is_authenticated", False) else None
        )
        events.record_many(
            events.build(
                Kind.GIFT_CARD_REVOKED,
                domain=domain_id,
                actor=actor,
                source=source,
                gift_card=GiftCard(pk=pk),
                details={"batchID": str(batch_id)},
            )
            for pk, domain_id, batch_id in rows
        )
    return len(rows)


# --- pay-with-card email --------------------------------------------------------------------------


def request_pay_with_card_email(*, domain: Domain, email: str) -> None:
    """payWithCardEmail: queue the mail (a Celery task sends it); QueueUnavailable (503) when the
    queue cannot take it."""
    from .tasks import send_pay_with_card_email as task

    queueing.send(task, args=(str(domain.pk), email.strip()))


def send_pay_with_card_email(*, domain_id: str, email: str) -> str:
    """Mail how to pay for a membership by card: the card-payable plans and the site's link."""
    domain = Domain.objects.filter(pk=domain_id).first()
    if domain is None:
        return "skipped: the site no longer exists"
    prices = selectors.card_payable_prices(domain=domain, merchant_processors=processors.card_merchant_processors())
    context = {
        "site": domain.name,
        "link": (domain.frontend_origins or [""])[0],
        "prices": [
            {
                "plan": price.plan.name,
                "tier": price.plan.tier,
                "amount": f"{price.value.normalize():f}",
                "currency": price.currency,
                "period": price.period,
            }
            for price in prices
        ],
    }
    send_mail(
        f"{domain.name}: pay for your membership by card",
        render_to_string("billing/email/pay_with_card.txt", context),
        None,
        [email],
    )
    return "sent"


# --- Boosty ---------------------------------------------------------------------------------------

_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$")
_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
_COOKIE_STRINGS = ("domain", "path", "sameSite", "storeId")
_COOKIE_FLAGS = ("hostOnly", "httpOnly", "secure", "session")
BOOSTY_HOST = "boosty.to"


def clean_boosty_cookies(cookies) -> list[dict]:
    """The cookies of a Cookie Editor JSON export (a list, or its JSON text), keeping only the
    fields browsers export; each must be a boosty.to cookie with a name and a value."""
    if isinstance(cookies, str):
        try:
            cookies = json.loads(cookies)
        except ValueError as exc:
            raise _invalid("cookies", "The cookies are not valid JSON.") from exc
    if not isinstance(cookies, list) or not cookies:
        raise _invalid("cookies", "Give the cookies as a non-empty JSON array of cookie objects.")
    if len(cookies) > MAX_BOOSTY_COOKIES:
        raise _invalid("cookies", f"Give at most {MAX_BOOSTY_COOKIES} cookies.")
    if len(json.dumps(cookies)) > MAX_BOOSTY_COOKIE_BYTES:
        raise _invalid("cookies", "The cookies are too large.")
    cleaned = []
    for index, cookie in enumerate(cookies):

        def bad(message, index=index):
            return InvalidInput(f"cookies.{index}: {message}", errors={("cookies", index): [message]})

        if not isinstance(cookie, dict):
            raise bad("Each cookie must be an object.")
        name, value = cookie.get("name"), cookie.get("value")
        if not isinstance(name, str) or not _COOKIE_NAME.match(name):
            raise bad("A cookie needs a name made of token characters.")
        if not isinstance(value, str):
            raise bad("A cookie needs a string value.")
        item = {"name": name, "value": value}
        for key in _COOKIE_STRINGS:
            if cookie.get(key) is not None:
                if not isinstance(cookie[key], str):
                    raise bad(f"{key} must be a string.")
                item[key] = cookie[key]
        for key in _COOKIE_FLAGS:
            if cookie.get(key) is not None:
                if not isinstance(cookie[key], bool):
                    raise bad(f"{key} must be true or false.")
                item[key] = cookie[key]
        expiration = cookie.get("expirationDate")
        if expiration is not None:
            if isinstance(expiration, bool) or not isinstance(expiration, (int, float)):
                raise bad("expirationDate must be a number (seconds since 1970).")
            item["expirationDate"] = expiration
        host = item.get("domain", BOOSTY_HOST).lstrip(".").lower()
        if host != BOOSTY_HOST and not host.endswith(f".{BOOSTY_HOST}"):
            raise bad(f"Only cookies of {BOOSTY_HOST} are accepted.")
        cleaned.append(item)
    return cleaned


def inject_boosty_cookies(
    *, domain: Domain, account_id: str, cookies, actor=None, source: str = Source.API
) -> BoostyAdminCookies:
    """injectBoostyAdminAccountCookies: keep the Boosty admin account's cookies of ``domain``,
    encrypted, for 7 days (a new injection replaces them)."""
    account_id = (account_id or "").strip()
    if not _ACCOUNT_ID.match(account_id):
        raise _invalid("accountId", "The accountId is the account's name in its Boosty URL, like sexyai.")
    cleaned = clean_boosty_cookies(cookies)
    expires_at = timezone.now() + BOOSTY_COOKIE_TTL
    with transaction.atomic():
        row, _ = BoostyAdminCookies.objects.update_or_create(
            domain=domain,
            defaults={
                "account_id": account_id,
                "cookies_encrypted": encrypt_json(cleaned),
                "cookie_count": len(cleaned),
                "expires_at": expires_at,
                "injected_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        events.record(
            Kind.BOOSTY_COOKIES_INJECTED,
            domain=domain,
            actor=actor,
            source=source,
            details={"accountId": account_id, "cookieCount": len(cleaned), "expiresAt": selectors.iso(expires_at)},
        )
    return row


def purge_expired_boosty_cookies(*, now: datetime | None = None) -> int:
    count, _ = BoostyAdminCookies.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return count

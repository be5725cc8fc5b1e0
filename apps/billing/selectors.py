"""Reads of the billing app. Every other app learns a user's PRO tier here and only here."""

from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.accounts.profile import TierInfo
from apps.core.models import Domain

from .models import (
    BillingPlan,
    BillingPlanPaymentProvider,
    BillingPlanPrice,
    BoostyAdminCookies,
    GiftCard,
    Subscription,
)


def iso(value: datetime | None) -> str | None:
    """A timestamp as JavaScript's ``toISOString`` writes it (``2025-01-31T12:34:56.789Z``)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def number(value) -> int | float:
    """A decimal as a JSON number: whole values as integers."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


# --- subscriptions and the tier -------------------------------------------------------------------


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.pk is not None


def current_subscriptions(user, *, at: datetime | None = None) -> QuerySet[Subscription]:
    """The user's active subscriptions that have not expired at ``at`` (now by default)."""
    at = at or timezone.now()
    if not _signed_in(user):
        return Subscription.objects.none()
    return Subscription.objects.filter(user=user, is_active=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=at)
    )


def effective_tier(user, *, at: datetime | None = None) -> int:
    """The user's PRO tier: the highest tier among their active, unexpired subscriptions (0 without)."""
    if not _signed_in(user):
        return 0
    return current_subscriptions(user, at=at).aggregate(tier=Max("tier"))["tier"] or 0


def _ordered(subscriptions) -> list[Subscription]:
    """Highest tier first; within a tier the one lasting longest (no expiry first), then newest."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(
        subscriptions,
        key=lambda s: (-s.tier, -(s.expires_at or far).timestamp(), -s.created_at.timestamp()),
    )


def subscription_payload(subscription: Subscription, *, extended_price_info: bool = False) -> dict:
    """The AIMG Subscription object; optional fields without a value are left out."""
    data = {"merchantProcessor": subscription.merchant_processor, "tier": subscription.tier}
    if subscription.expires_at:
        data["tierExpiration"] = iso(subscription.expires_at)
    if subscription.next_billing_date:
        data["nextBillingDate"] = iso(subscription.next_billing_date)
    data["productID"] = subscription.product_id
    if subscription.payer_id:
        data["payerID"] = subscription.payer_id
    if subscription.transaction_id:
        data["transactionID"] = subscription.transaction_id
    if subscription.additional_information:
        data["additionalInformation"] = subscription.additional_information
    if extended_price_info:
        data["price"] = price_payload(subscription.price_info)
    return data


def price_payload(info: dict | None) -> dict:
    """A subscription's ``price`` (type, period, currency, currencyType, value); a subscription that
    was never paid for (admin-provided) is ``free``."""
    info = info or {}
    return {
        "type": info.get("type", "free"),
        "period": info.get("period", "none"),
        "currency": info.get("currency", "none"),
        "currencyType": info.get("currencyType", "none"),
        "value": number(info.get("value", "0")),
    }


def tier_info(user, *, extended_price_info: bool = False) -> TierInfo:
    """What a user's profile shows of billing (SelfUser, admin getUser): the effective tier, when it
    ends, the merchant processor behind it, and the current subscriptions (with ``price`` when
    ``extended_price_info``)."""
    if not _signed_in(user):
        return TierInfo()
    now = timezone.now()
    tier = effective_tier(user, at=now)
    subscriptions = _ordered(current_subscriptions(user, at=now))
    info = TierInfo(
        tier=tier,
        subscriptions=[subscription_payload(s, extended_price_info=extended_price_info) for s in subscriptions],
    )
    defining = [s for s in subscriptions if s.tier == tier]
    if tier and defining:
        # The subscription that keeps this tier longest speaks for it.
        info.merchant_processor = defining[0].merchant_processor
        info.tier_expiration = iso(defining[0].expires_at)
    return info


def subscriptions_of(user) -> QuerySet[Subscription]:
    return Subscription.objects.filter(user=user)


# --- plans ----------------------------------------------------------------------------------------


def billing_plans(*, domain: Domain, plan_ids=None, code: str | None = None) -> list[BillingPlan]:
    """The active plans of ``domain`` with their prices and providers (three queries whatever the
    count). Special plans are included only when ``code`` matches theirs (case-insensitively)."""
    plans = BillingPlan.objects.filter(domain=domain, is_active=True)
    code = (code or "").strip()
    special = Q(special_code__iexact=code) if code else Q(pk__in=[])
    plans = plans.filter(Q(special_code="") | special)
    if plan_ids is not None:
        plans = plans.filter(pk__in=list(plan_ids))
    providers = BillingPlanPaymentProvider.objects.order_by("position", "payment_provider")
    prices = BillingPlanPrice.objects.order_by("position", "value").prefetch_related(
        Prefetch("payment_providers", queryset=providers)
    )
    return list(plans.order_by("position", "tier", "name").prefetch_related(Prefetch("prices", queryset=prices)))


def price_for_product(*, domain: Domain, product_id: str) -> BillingPlanPrice | None:
    """The price an active plan of ``domain`` sells as ``product_id`` (special plans included: their
    product ids are only learnt through their code)."""
    return (
        BillingPlanPrice.objects.select_related("plan")
        .prefetch_related("payment_providers")
        .filter(product_id=product_id, plan__domain=domain, plan__is_active=True)
        .first()
    )


def card_payable_prices(*, domain: Domain, merchant_processors) -> list[BillingPlanPrice]:
    """Prices of the regular active plans of ``domain`` that one of ``merchant_processors`` sells."""
    return list(
        BillingPlanPrice.objects.select_related("plan")
        .filter(
            plan__domain=domain,
            plan__is_active=True,
            plan__special_code="",
            payment_providers__payment_provider__in=list(merchant_processors),
        )
        .distinct()
        .order_by("plan__position", "plan__tier", "position", "value")
    )


# --- gift cards and Boosty ------------------------------------------------------------------------


def gift_card_by_hash(code_hash: str) -> GiftCard | None:
    return GiftCard.objects.select_related("batch").filter(code_hash=code_hash).first()


def boosty_cookies(*, domain: Domain) -> tuple[str, list] | None:
    """(account id, cookies) of ``domain``'s Boosty admin account while they are valid, else None."""
    from .encryption import decrypt_json

    row = BoostyAdminCookies.objects.filter(domain=domain, expires_at__gt=timezone.now()).first()
    if row is None:
        return None
    return row.account_id, decrypt_json(row.cookies_encrypted)


def site_by_identifier(identifier: str, *, current: Domain) -> Domain | None:
    """The site named by ``identifier``: its code, one of its host names, or its display name (the
    one in ``current``'s environment first)."""
    from apps.core.models import DomainHost, normalize_hostname

    identifier = (identifier or "").strip()
    if not identifier:
        return current
    site = Domain.objects.filter(code__iexact=identifier).first()
    if site is not None:
        return site
    host = DomainHost.objects.select_related("domain").filter(hostname=normalize_hostname(identifier)).first()
    if host is not None:
        return host.domain
    named = Domain.objects.filter(name__iexact=identifier)
    return named.filter(environment=current.environment).first() or named.order_by("created_at").first()

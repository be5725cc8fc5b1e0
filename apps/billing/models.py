"""Billing: plans and prices per site, subscriptions (the source of the PRO tier), gift cards, card
payments, the Boosty admin account's cookies, and the append-only billing events."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import BaseModel, Domain

# The highest PRO tier a plan, a subscription or a gift card may carry.
MAX_TIER = 10


# --- the annex's enumerations ---------------------------------------------------------------------


class PriceType(models.TextChoices):
    BASE = "base"
    DISCOUNT = "discount"
    BUNDLE = "bundle"
    TRIAL = "trial"
    FREE = "free"
    GIFTCARD = "giftcard"
    OTHER = "other"
    NONE = "none"


class Period(models.TextChoices):
    DAILY = "daily"
    MONTHLY = "monthly"
    YEARLY = "yearly"
    LIFETIME = "lifetime"
    NONE = "none"


class Currency(models.TextChoices):
    USD = "USD"
    EUR = "EUR"
    GBP = "GBP"
    CAD = "CAD"
    AUD = "AUD"
    JPY = "JPY"
    CHF = "CHF"
    CNY = "CNY"
    BTC = "BTC"
    ETH = "ETH"
    SOL = "SOL"
    BNB = "BNB"
    MATIC = "MATIC"
    USDC = "USDC"
    USDT = "USDT"
    NONE = "none"


class CurrencyType(models.TextChoices):
    FIAT = "fiat"
    CRYPTO = "crypto"
    OTHER = "other"
    NONE = "none"


class PaymentProvider(models.TextChoices):
    ARKPAY = "arkpay", "ArkPay"
    BOOSTY = "boosty", "Boosty"
    CCBILL = "ccbill", "CCBill"
    EPOCH = "epoch", "Epoch"
    G2A = "g2a", "G2A"
    HELIO = "helio", "Helio"
    NMI = "nmi", "NMI"
    PATREON = "patreon", "Patreon"
    PAYPAL = "paypal", "PayPal"
    STRIPE = "stripe", "Stripe"
    GIFTCARD = "giftcard", "Gift card"
    ADMIN = "admin", "Admin"
    WHITELIST = "whitelist", "Whitelist"
    OTHER = "other", "Other"
    NONE = "none", "None"


class DistributionProvider(models.TextChoices):
    """Who hands out a batch of gift cards (``downloadGiftCards``' ``distributionProvider``)."""

    G2A = "g2a", "G2A"
    GIFTCARD = "giftcard", "Gift card"


# Self-hosted card processors: their payment page is the caller's paymentURL (getBillingPlans).
SELF_HOSTED_PROVIDERS = frozenset({PaymentProvider.ARKPAY, PaymentProvider.NMI})


def _in(field: str, choices) -> Q:
    return Q(**{f"{field}__in": [value for value, _ in choices.choices]})


# --- plans ----------------------------------------------------------------------------------------


class BillingPlan(BaseModel):
    """A plan of one site (domain and environment): what ``getBillingPlans`` lists."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="billing_plans")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    features = models.JSONField(default=list, blank=True, help_text="A list of strings.")
    main_benefits = models.JSONField(default=list, blank=True, help_text="A list of strings.")
    tier = models.PositiveSmallIntegerField(help_text=f"The PRO tier the plan gives (1 to {MAX_TIER}).")
    special_code = models.CharField(
        max_length=100,
        blank=True,
        help_text="A special plan is listed only to requests bringing this code (e.g. a coupon); "
        "leave empty for a regular plan.",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive plans are not listed and cannot be bought.")
    position = models.PositiveIntegerField(default=0, help_text="Plans are listed by position, then tier.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["domain", "position", "tier", "name"]
        verbose_name = "billing plan"
        constraints = [
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=MAX_TIER), name="billing_plan_tier_range"),
        ]

    def __str__(self):
        return f"{self.name} (tier {self.tier})"

    @property
    def is_special(self) -> bool:
        return bool(self.special_code)

    def clean(self):
        for name in ("features", "main_benefits"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ValidationError({name: 'Give a JSON list of strings, e.g. ["Private folders", "No ads"].'})
        self.special_code = (self.special_code or "").strip()


class BillingPlanPrice(BaseModel):
    """One way to pay for a plan (AIMG BillingPlanPrice); ``product_id`` names it to processors."""

    plan = models.ForeignKey(BillingPlan, on_delete=models.CASCADE, related_name="prices")
    product_id = models.CharField(
        "product ID",
        max_length=100,
        unique=True,
        help_text="What processors and subscriptions call this price (processCardSubscription's productID).",
    )
    name = models.CharField(max_length=200, blank=True, help_text="Shown mostly on discounts.")
    type = models.CharField(max_length=10, choices=PriceType.choices, default=PriceType.BASE)
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    currency = models.CharField(max_length=5, choices=Currency.choices, default=Currency.USD)
    currency_type = models.CharField(max_length=6, choices=CurrencyType.choices, default=CurrencyType.FIAT)
    value = models.DecimalField(max_digits=20, decimal_places=8)
    trial_days = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "value"]
        verbose_name = "billing plan price"
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="billing_price_value_not_negative"),
            models.CheckConstraint(condition=_in("type", PriceType), name="billing_price_type_valid"),
            models.CheckConstraint(condition=_in("period", Period), name="billing_price_period_valid"),
            models.CheckConstraint(condition=_in("currency", Currency), name="billing_price_currency_valid"),
            models.CheckConstraint(
                condition=_in("currency_type", CurrencyType), name="billing_price_currency_type_valid"
            ),
        ]

    def __str__(self):
        return f"{self.plan.name}: {self.value.normalize():f} {self.currency} {self.period} ({self.product_id})"

    def snapshot(self) -> dict:
        """What a subscription keeps of the price it was bought at (AIMG Subscription ``price``)."""
        return {
            "type": self.type,
            "period": self.period,
            "currency": self.currency,
            "currencyType": self.currency_type,
            "value": f"{self.value.normalize():f}",
        }


class BillingPlanPaymentProvider(BaseModel):
    """A payment provider offered for a price (AIMG BillingPlanPaymentProvider).

    ``payment_url`` may hold ``{productID}`` and ``{redirectURL}``, filled in (URL-encoded) when the
    plans are listed. Self-hosted card processors (ArkPay, NMI) use the caller's ``paymentURL``
    when one is given.
    """

    price = models.ForeignKey(BillingPlanPrice, on_delete=models.CASCADE, related_name="payment_providers")
    payment_provider = models.CharField(max_length=10, choices=PaymentProvider.choices)
    payment_label = models.CharField(max_length=200, blank=True, help_text='E.g. "Pay with Crypto".')
    payment_url = models.CharField(
        "payment URL",
        max_length=2000,
        blank=True,
        help_text="The external payment page; may contain {productID} and {redirectURL}.",
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["price", "position", "payment_provider"]
        verbose_name = "payment provider"
        constraints = [
            models.UniqueConstraint(fields=["price", "payment_provider"], name="unique_price_payment_provider"),
            models.CheckConstraint(condition=_in("payment_provider", PaymentProvider), name="billing_provider_valid"),
        ]

    def __str__(self):
        return self.get_payment_provider_display()

    def clean(self):
        url = (self.payment_url or "").strip()
        self.payment_url = url
        if not url and self.payment_provider not in SELF_HOSTED_PROVIDERS:
            raise ValidationError({"payment_url": "Give the URL of the external payment page."})
        if url and not url.lower().startswith(("https://", "http://")):
            raise ValidationError({"payment_url": "Must be an absolute http or https URL."})


# --- subscriptions --------------------------------------------------------------------------------


class Subscription(BaseModel):
    """A PRO subscription (AIMG Subscription). The user's tier is the highest tier among their active,
    unexpired subscriptions (``selectors.effective_tier``).

    ``expires_at`` set means the subscription is enqueued for expiration: it ends then and is not
    renewed. ``next_billing_date`` is when a recurring subscription is charged again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="+")
    merchant_processor = models.CharField(max_length=10, choices=PaymentProvider.choices)
    tier = models.PositiveSmallIntegerField()
    product_id = models.CharField("product ID", max_length=200)
    payer_id = models.CharField("payer ID", max_length=200, blank=True)
    transaction_id = models.CharField("transaction ID", max_length=200, blank=True)
    additional_information = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField("tier expiration", null=True, blank=True)
    next_billing_date = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it stopped being active.")
    price = models.ForeignKey(
        BillingPlanPrice, on_delete=models.SET_NULL, null=True, blank=True, related_name="subscriptions"
    )
    price_info = models.JSONField(default=dict, blank=True, help_text="The price as it was when bought.")
    renewal_price = models.ForeignKey(
        BillingPlanPrice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="What the next billing charges (a trial renews at its plan's base price).",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [("grant_tier", "Can grant admin-provided premium tiers")]
        indexes = [
            models.Index(fields=["user", "is_active"]),
            models.Index(fields=["is_active", "expires_at"]),
            models.Index(fields=["is_active", "next_billing_date"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=MAX_TIER), name="subscription_tier_range"),
            models.CheckConstraint(
                condition=_in("merchant_processor", PaymentProvider), name="subscription_processor_valid"
            ),
            # One admin-provided tier per user and product: setAdminProvidedPremiumTier updates it.
            models.UniqueConstraint(
                fields=["user", "product_id"],
                condition=Q(merchant_processor="admin"),
                name="unique_admin_tier_per_user_product",
            ),
        ]

    def __str__(self):
        return f"{self.user} tier {self.tier} ({self.merchant_processor})"

    def is_current(self, at=None) -> bool:
        at = at or timezone.now()
        return self.is_active and (self.expires_at is None or self.expires_at > at)

    @property
    def is_enqueued_for_expiration(self) -> bool:
        return self.expires_at is not None


class CardPayment(BaseModel):
    """One card charge. Card numbers and security codes are never stored: only the brand, the last
    four digits and the processor's reference."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        DECLINED = "declined"
        INSUFFICIENT_FUNDS = "insufficient_funds", "insufficient funds"
        FAILED = "failed"

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="card_payments"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    merchant_processor = models.CharField(max_length=10, choices=PaymentProvider.choices)
    processor = models.CharField(max_length=100, help_text="The configured processor that handled the charge.")
    product_id = models.CharField("product ID", max_length=100)
    amount = models.DecimalField(max_digits=20, decimal_places=8)
    currency = models.CharField(max_length=5, choices=Currency.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    is_renewal = models.BooleanField(default=False)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField("card last 4", max_length=4, blank=True)
    processor_reference = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "card payment"
        indexes = [models.Index(fields=["user", "status", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(card_last4__regex=r"^[0-9]{0,4}$"), name="card_payment_last4_digits"),
        ]

    def __str__(self):
        return f"{self.amount.normalize():f} {self.currency} {self.status} ({self.card_brand} {self.card_last4})"


# --- gift cards -----------------------------------------------------------------------------------


class GiftCardBatch(BaseModel):
    """Gift cards made together (``downloadGiftCards``, the back office or ``generate_gift_cards``)."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="+")
    distribution_provider = models.CharField(
        max_length=10, choices=DistributionProvider.choices, default=DistributionProvider.GIFTCARD
    )
    tier = models.PositiveSmallIntegerField()
    days = models.PositiveIntegerField()
    count = models.PositiveIntegerField()
    usd_price = models.DecimalField("USD price", max_digits=10, decimal_places=2, default=0)
    additional_information = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "gift card batch"
        verbose_name_plural = "gift card batches"
        constraints = [
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=MAX_TIER), name="gift_batch_tier_range"),
            models.CheckConstraint(condition=Q(days__gte=1), name="gift_batch_days_positive"),
            models.CheckConstraint(condition=Q(usd_price__gte=0), name="gift_batch_price_not_negative"),
        ]

    def __str__(self):
        return (
            f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M} · {self.count} cards, tier {self.tier}, "
            f"{self.days} days ({self.distribution_provider})"
        )


class GiftCard(BaseModel):
    """One gift card. Only the SHA-256 of its code is stored (codes carry 100 random bits), with the
    code's last group as a hint for support; the code itself exists only in the batch's download."""

    batch = models.ForeignKey(GiftCardBatch, on_delete=models.CASCADE, related_name="cards")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    code_hint = models.CharField(max_length=4, editable=False, help_text="The last group of the code.")
    external_code = models.CharField(max_length=200, blank=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subscription = models.OneToOneField(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="gift_card"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "gift card"
        constraints = [
            models.CheckConstraint(
                condition=Q(redeemed_at__isnull=True) | Q(revoked_at__isnull=True), name="gift_card_redeemed_or_revoked"
            ),
        ]

    def __str__(self):
        return f"…-{self.code_hint}"

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "redeemed" if self.redeemed_at else "unredeemed"


# --- Boosty ---------------------------------------------------------------------------------------


class BoostyAdminCookies(BaseModel):
    """The Boosty admin account's browser cookies of one site, encrypted at rest (Fernet), valid for
    7 days (``injectBoostyAdminAccountCookies``)."""

    domain = models.OneToOneField(Domain, on_delete=models.CASCADE, related_name="+")
    account_id = models.CharField("account ID", max_length=100)
    cookies_encrypted = models.TextField(editable=False)
    cookie_count = models.PositiveIntegerField(default=0, editable=False)
    expires_at = models.DateTimeField()
    injected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "Boosty admin cookies"
        verbose_name_plural = "Boosty admin cookies"

    def __str__(self):
        return f"{self.account_id} on {self.domain}"


# --- the audit trail ------------------------------------------------------------------------------


class AppendOnly(Exception):
    """Raised on any attempt to change or delete a billing event."""


class BillingEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("Billing events are append-only.")

    def delete(self):
        raise AppendOnly("Billing events are append-only.")


class BillingEvent(models.Model):
    """One change to a subscription or a gift card: who, what, when, and the user's tier before and
    after. Rows are only ever added (see ``events.py``); people and rows are referenced by id and
    email, not by foreign key, so that nothing deleted later can change or remove an event."""

    class Kind(models.TextChoices):
        SUBSCRIPTION_CREATED = "subscription_created", "subscription created"
        SUBSCRIPTION_UPDATED = "subscription_updated", "subscription updated"
        SUBSCRIPTION_CANCELLED = "subscription_cancelled", "subscription cancelled"
        SUBSCRIPTION_DEACTIVATED = "subscription_deactivated", "subscription deactivated"
        SUBSCRIPTION_EXPIRED = "subscription_expired", "subscription expired"
        SUBSCRIPTION_RENEWED = "subscription_renewed", "subscription renewed"
        RENEWAL_FAILED = "renewal_failed", "renewal failed"
        GIFT_CARD_CREATED = "gift_card_created", "gift card created"
        GIFT_CARD_REDEEMED = "gift_card_redeemed", "gift card redeemed"
        GIFT_CARD_REVOKED = "gift_card_revoked", "gift card revoked"
        BOOSTY_COOKIES_INJECTED = "boosty_cookies_injected", "Boosty cookies injected"

    class Source(models.TextChoices):
        API = "api", "API"
        BACK_OFFICE = "back_office", "back office"
        COMMAND = "command", "management command"
        SYSTEM = "system", "scheduled task"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="+")
    actor_id = models.UUIDField("actor ID", null=True, blank=True, help_text="Who did it; empty: the system.")
    actor_email = models.CharField(max_length=254, blank=True)
    user_id = models.UUIDField("user ID", null=True, blank=True, help_text="Whose tier it concerns.")
    user_email = models.CharField(max_length=254, blank=True)
    subscription_id = models.UUIDField("subscription ID", null=True, blank=True)
    gift_card_id = models.UUIDField("gift card ID", null=True, blank=True)
    tier_before = models.PositiveSmallIntegerField(null=True, blank=True)
    tier_after = models.PositiveSmallIntegerField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = BillingEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "billing event"
        indexes = [models.Index(fields=["user_id", "created_at"]), models.Index(fields=["kind", "created_at"])]

    def __str__(self):
        return f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M:%S} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("Billing events are append-only.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Billing events are append-only.")

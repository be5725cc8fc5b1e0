"""AIMG billing payloads: request bodies and queries, and the BillingPlan objects as the annex lists
them."""

import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.billing import services
from apps.billing.models import (
    MAX_TIER,
    SELF_HOSTED_PROVIDERS,
    BillingPlan,
    BillingPlanPaymentProvider,
    BillingPlanPrice,
    Currency,
    CurrencyType,
    DistributionProvider,
    PaymentProvider,
    Period,
    PriceType,
)
from apps.billing.selectors import number
from apps.core.dialects.fields import (
    UUID_PATTERN,
    PresentJSONField,
    StrictCharField,
    StrictEmailField,
    StrictIntegerField,
)

MAX_LIST = 50
MAX_TEXT = 5000

# planIDs: comma-separated plan ids (blanks and empty entries ignored).
PLAN_IDS_PATTERN = rf"^[\s,]*({UUID_PATTERN}[\s]*(,[\s,]*{UUID_PATTERN}[\s]*)*)?[\s,]*$"
PLAN_IDS_SHAPE = "Give a comma-separated list of plan ids (UUIDs)."


# --- fields ---------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^([Hh][Tt][Tt][Pp][Ss]?://[^\s/?#\[\]@]+([/?#][^\s]*)?)?$"})
class HttpUrlField(StrictCharField):
    """An absolute http(s) URL."""

    default_error_messages = {"url": "Must be an absolute http or https URL."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value:
            try:
                parts = urlsplit(value)
            except ValueError:
                self.fail("url")
            if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
                self.fail("url")
        return value


def _choice(choices, **kwargs):
    return serializers.ChoiceField(choices=[value for value, _ in choices.choices], **kwargs)


# --- requests -------------------------------------------------------------------------------------


class BillingPlansQuerySerializer(serializers.Serializer):
    redirectURL = HttpUrlField(required=False, allow_blank=True, max_length=2000)  # noqa: N815
    paymentURL = HttpUrlField(required=False, allow_blank=True, max_length=2000)  # noqa: N815
    planIDs = serializers.RegexField(  # noqa: N815
        PLAN_IDS_PATTERN,
        required=False,
        allow_blank=True,
        max_length=10_000,
        error_messages={"invalid": PLAN_IDS_SHAPE},
    )
    code = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def validate_planIDs(self, value):  # noqa: N802
        return [uuid.UUID(part.strip()) for part in value.split(",") if part.strip()]


class PaymentProviderInputSerializer(serializers.Serializer):
    paymentProvider = _choice(PaymentProvider)  # noqa: N815
    paymentLabel = StrictCharField(required=False, allow_blank=True, max_length=200)  # noqa: N815
    paymentUrl = StrictCharField(allow_blank=True, max_length=2000)  # noqa: N815

    def validate(self, attrs):
        url = attrs["paymentUrl"].strip()
        if not url and attrs["paymentProvider"] not in SELF_HOSTED_PROVIDERS:
            raise serializers.ValidationError({"paymentUrl": "Give the URL of the external payment page."})
        if url:
            sample = url.replace("{productID}", "product").replace("{redirectURL}", "https%3A%2F%2Fexample.com")
            try:
                HttpUrlField().to_internal_value(sample)
            except serializers.ValidationError:
                raise serializers.ValidationError({"paymentUrl": "Must be an absolute http or https URL."}) from None
        return {
            "payment_provider": attrs["paymentProvider"],
            "payment_label": attrs.get("paymentLabel", ""),
            "payment_url": url,
        }


class BillingPlanPriceInputSerializer(serializers.Serializer):
    name = StrictCharField(required=False, allow_blank=True, max_length=200)
    type = _choice(PriceType)
    period = _choice(Period)
    currency = _choice(Currency)
    currencyType = _choice(CurrencyType)  # noqa: N815
    value = serializers.DecimalField(max_digits=20, decimal_places=8, min_value=0, coerce_to_string=False)
    trialDays = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=3650)  # noqa: N815
    paymentProviders = PaymentProviderInputSerializer(many=True, allow_empty=False, max_length=20)  # noqa: N815

    def validate(self, attrs):
        return {
            "name": attrs.get("name", ""),
            "type": attrs["type"],
            "period": attrs["period"],
            "currency": attrs["currency"],
            "currency_type": attrs["currencyType"],
            "value": attrs["value"],
            "trial_days": attrs.get("trialDays"),
            "payment_providers": attrs["paymentProviders"],
        }


class CreateBillingPlanSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, max_length=MAX_TEXT)
    features = serializers.ListField(child=StrictCharField(max_length=500), required=False, max_length=MAX_LIST)
    mainBenefits = serializers.ListField(child=StrictCharField(max_length=500), required=False, max_length=MAX_LIST)  # noqa: N815
    prices = BillingPlanPriceInputSerializer(many=True, allow_empty=False, max_length=20)
    tier = StrictIntegerField(min_value=1, max_value=MAX_TIER)
    env = StrictCharField(required=False, allow_blank=True, max_length=30)


class ProcessCardSubscriptionSerializer(serializers.Serializer):
    """Card fields are checked by ``apps.billing.cards``, whose messages never repeat a value."""

    merchantProcessor = serializers.ChoiceField(choices=["arkpay"])  # noqa: N815
    productID = StrictCharField(max_length=100)  # noqa: N815
    cardNumber = StrictCharField(max_length=40)  # noqa: N815
    cardHolderName = StrictCharField(max_length=200)  # noqa: N815
    expirationMonth = StrictIntegerField()  # noqa: N815
    expirationYear = StrictIntegerField(min_value=0, max_value=9999)  # noqa: N815
    securityCode = StrictCharField(max_length=10)  # noqa: N815
    street = StrictCharField(required=False, allow_blank=True, max_length=200)
    city = StrictCharField(required=False, allow_blank=True, max_length=200)
    stateOrProvince = StrictCharField(required=False, allow_blank=True, max_length=10)  # noqa: N815
    postalCode = StrictCharField(required=False, allow_blank=True, max_length=20)  # noqa: N815
    country = StrictCharField(required=False, allow_blank=True, max_length=10)
    billingEmail = StrictEmailField(required=False, allow_blank=True, max_length=254)  # noqa: N815
    phoneNumber = StrictCharField(required=False, allow_blank=True, max_length=40)  # noqa: N815


class AdminTierSerializer(serializers.Serializer):
    productId = StrictCharField(max_length=200)  # noqa: N815
    email = StrictEmailField(required=False, max_length=254)
    emails = serializers.ListField(child=StrictEmailField(max_length=254), required=False, max_length=1000)
    tier = StrictIntegerField(min_value=1, max_value=MAX_TIER)
    isActive = serializers.BooleanField()  # noqa: N815
    deactivationDate = serializers.DateTimeField(required=False, allow_null=True)  # noqa: N815
    additionalInformation = StrictCharField(required=False, allow_blank=True, max_length=MAX_TEXT)  # noqa: N815

    def validate(self, attrs):
        if not attrs.get("email") and not attrs.get("emails"):
            raise serializers.ValidationError({"email": "Give the email or the emails of the users."})
        return attrs


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "email", "maxLength": 254}, {"type": "string", "maxLength": 0}]}
)
class _EmailOrBlank(StrictEmailField):
    """An email, or an empty string (a signed-in caller's own email is used)."""


class PayWithCardEmailSerializer(serializers.Serializer):
    email = _EmailOrBlank(required=False, allow_blank=True, max_length=254)


class InjectBoostyCookiesSerializer(serializers.Serializer):
    accountId = StrictCharField(max_length=100)  # noqa: N815
    domainIdentifier = StrictCharField(required=False, allow_blank=True, max_length=253)  # noqa: N815
    cookies = PresentJSONField(help_text="A Cookie Editor export: an array of cookie objects, or its JSON text.")


class RedeemGiftCardSerializer(serializers.Serializer):
    code = StrictCharField(max_length=100)


class CentsField(serializers.DecimalField):
    """An amount of money: rounded half up to cents, not refused for its fractions of a cent."""

    def validate_precision(self, value):
        try:
            value = value.quantize(Decimal(1).scaleb(-self.decimal_places), ROUND_HALF_UP)
        except InvalidOperation:  # more digits than a Decimal context holds
            self.fail("max_digits", max_digits=self.max_digits)
        return super().validate_precision(value)


class DownloadGiftCardsQuerySerializer(serializers.Serializer):
    distributionProvider = serializers.ChoiceField(  # noqa: N815
        choices=DistributionProvider.values, required=False, default=DistributionProvider.GIFTCARD
    )
    tier = serializers.IntegerField(required=False, default=1, min_value=1, max_value=MAX_TIER)
    days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=services.MAX_GIFT_CARD_DAYS)
    numberOfCards = serializers.IntegerField(  # noqa: N815
        required=False, min_value=1, max_value=services.MAX_GIFT_CARDS_PER_BATCH
    )
    usdPrice = CentsField(  # noqa: N815
        required=False,
        default=0,
        max_digits=9,
        decimal_places=2,
        min_value=0,
        max_value=services.MAX_USD_PRICE,
        coerce_to_string=False,
    )
    externalCodes = serializers.CharField(required=False, allow_blank=True, max_length=2_000_000)  # noqa: N815
    additionalInformation = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT)  # noqa: N815


# --- responses ------------------------------------------------------------------------------------


class BillingOutcomeSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


class BillingSuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField()


class BillingPlanPaymentProviderSerializer(serializers.Serializer):
    paymentProvider = serializers.ChoiceField(choices=PaymentProvider.values)  # noqa: N815
    paymentLabel = serializers.CharField(required=False)  # noqa: N815
    paymentUrl = serializers.CharField()  # noqa: N815


class BillingPlanPriceSerializer(serializers.Serializer):
    name = serializers.CharField(required=False)
    type = serializers.ChoiceField(choices=PriceType.values)
    period = serializers.ChoiceField(choices=Period.values)
    currency = serializers.ChoiceField(choices=Currency.values)
    currencyType = serializers.ChoiceField(choices=CurrencyType.values)  # noqa: N815
    value = serializers.FloatField()
    trialDays = serializers.IntegerField(required=False)  # noqa: N815
    paymentProviders = BillingPlanPaymentProviderSerializer(many=True)  # noqa: N815


class BillingPlanSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(required=False)
    features = serializers.ListField(child=serializers.CharField(), required=False)
    mainBenefits = serializers.ListField(child=serializers.CharField(), required=False)  # noqa: N815
    prices = BillingPlanPriceSerializer(many=True)
    tier = serializers.IntegerField()


class AdminProvidedPremiumTierSerializer(serializers.Serializer):
    _id = serializers.CharField(required=False)
    domain = serializers.CharField()
    paymentProvider = serializers.CharField()  # noqa: N815
    productId = serializers.CharField()  # noqa: N815
    email = serializers.CharField(required=False)
    emails = serializers.ListField(child=serializers.CharField(), required=False)
    tier = serializers.IntegerField()
    isActive = serializers.BooleanField()  # noqa: N815
    createdDate = serializers.CharField()  # noqa: N815
    updatedDate = serializers.CharField()  # noqa: N815
    deactivationDate = serializers.CharField(required=False)  # noqa: N815
    env = serializers.CharField()
    additionalInformation = serializers.CharField(required=False)  # noqa: N815


class RedeemGiftCardResponseSerializer(serializers.Serializer):
    productID = serializers.CharField()  # noqa: N815
    tier = serializers.IntegerField()
    tierExpiration = serializers.CharField()  # noqa: N815


# --- BillingPlan payloads -------------------------------------------------------------------------


def _fill(template: str, *, product_id: str, redirect_url: str) -> str:
    return template.replace("{productID}", quote(product_id, safe="")).replace(
        "{redirectURL}", quote(redirect_url, safe="")
    )


def _with_query(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def payment_url(
    provider: BillingPlanPaymentProvider, *, product_id: str, redirect_url: str = "", payment_page: str = ""
) -> str | None:
    """The provider's payment URL for this request, or None when it cannot be built.

    Self-hosted card processors (ArkPay, NMI): the caller's ``paymentURL`` (else the stored URL) with
    ``productID`` (and ``redirectURL`` when given) as query parameters. Other providers: the stored
    URL with ``{productID}`` and ``{redirectURL}`` filled in; one that needs a ``redirectURL`` (as
    PayPal's does) is left out when none is given.
    """
    stored = provider.payment_url.strip()
    if provider.payment_provider in SELF_HOSTED_PROVIDERS:
        base = payment_page or stored
        if not base:
            return None
        params = {"productID": product_id}
        if redirect_url:
            params["redirectURL"] = redirect_url
        return _with_query(_fill(base, product_id=product_id, redirect_url=redirect_url), params)
    if not stored or ("{redirectURL}" in stored and not redirect_url):
        return None
    return _fill(stored, product_id=product_id, redirect_url=redirect_url)


def price_payload(price: BillingPlanPrice, *, redirect_url: str = "", payment_page: str = "") -> dict:
    data = {}
    if price.name:
        data["name"] = price.name
    data.update(
        {
            "type": price.type,
            "period": price.period,
            "currency": price.currency,
            "currencyType": price.currency_type,
            "value": number(price.value),
        }
    )
    if price.trial_days is not None:
        data["trialDays"] = price.trial_days
    providers = []
    for provider in price.payment_providers.all():
        url = payment_url(provider, product_id=price.product_id, redirect_url=redirect_url, payment_page=payment_page)
        if url is None:
            continue
        item = {"paymentProvider": provider.payment_provider}
        if provider.payment_label:
            item["paymentLabel"] = provider.payment_label
        item["paymentUrl"] = url
        providers.append(item)
    data["paymentProviders"] = providers
    return data


def plan_payload(plan: BillingPlan, *, redirect_url: str = "", payment_page: str = "") -> dict:
    """The AIMG BillingPlan object. ``description`` is left out when empty; ``features`` and
    ``mainBenefits`` are always lists."""
    data = {"id": str(plan.pk), "name": plan.name}
    if plan.description:
        data["description"] = plan.description
    data["features"] = list(plan.features or [])
    data["mainBenefits"] = list(plan.main_benefits or [])
    data["prices"] = [
        price_payload(price, redirect_url=redirect_url, payment_page=payment_page) for price in plan.prices.all()
    ]
    data["tier"] = plan.tier
    return data

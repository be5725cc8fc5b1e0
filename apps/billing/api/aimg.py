"""AIMG "Premium Membership Management": plans, memberships, card payments, gift cards, Boosty.

Admin endpoints check a Django permission (granted by the roles in ``apps/accounts/roles.py``) of
whoever the credentials name: an administration key's staff owner, or a signed-in session's user.
"""

import dataclasses

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.billing import cards, selectors, services
from apps.billing.models import PaymentProvider
from apps.core.dialects.aimg import AimgViewSet
from apps.core.dialects.base import parse_body, parse_query
from apps.core.dialects.permissions import IsSignedIn, has_perm
from apps.core.errors import InvalidInput, NotFound
from apps.core.ratelimit import client_ip, rate_limited

from . import serializers as s

TAGS = ["Premium Membership Management"]

CREATE_PLAN = "billing.add_billingplan"
GRANT_TIER = "billing.grant_tier"
MAKE_GIFT_CARDS = "billing.add_giftcard"
INJECT_BOOSTY = "billing.add_boostyadmincookies"

# Per client address, and per account or email where one is known.
CARD_PAYMENT_RATE_PER_IP = "30/h"
CARD_PAYMENT_RATE_PER_ACCOUNT = "10/h"
PAY_WITH_CARD_EMAIL_RATE_PER_IP = "10/h"
PAY_WITH_CARD_EMAIL_RATE_PER_EMAIL = "3/h"
REDEEM_RATE_PER_IP = "60/h"
REDEEM_RATE_PER_USER = "30/h"


def _signed_in_user(request):
    return request.user if request.user and request.user.is_authenticated else None


def _account_key(group, request) -> str:
    """The signed-in user, else the billing email, else the client address."""
    user = _signed_in_user(request)
    if user is not None:
        return f"user:{user.pk}"
    email = request.data.get("billingEmail") if hasattr(request.data, "get") else None
    if isinstance(email, str) and email.strip():
        return f"email:{email.strip().lower()}"
    return f"ip:{client_ip(request)}"


def _email_key(group, request) -> str:
    user = _signed_in_user(request)
    if user is not None:
        return user.email.lower()
    email = request.data.get("email") if hasattr(request.data, "get") else None
    return email.strip().lower() if isinstance(email, str) and email.strip() else f"ip:{client_ip(request)}"


def _user_key(group, request) -> str:
    user = _signed_in_user(request)
    return f"user:{user.pk}" if user is not None else f"ip:{client_ip(request)}"


class BillingPlanViewSet(AimgViewSet):
    # getBillingPlans answers the whole list: no pagination, no filter backends.
    pagination_class = None
    filter_backends = ()

    def get_permissions(self):
        if self.action == "create_billing_plan":
            return [has_perm(CREATE_PLAN)()]
        return []

    @extend_schema(
        operation_id="getBillingPlans",
        tags=TAGS,
        parameters=[s.BillingPlansQuerySerializer],
        responses={200: s.BillingPlanSerializer(many=True)},
    )
    def get_billing_plans(self, request):
        params = parse_query(s.BillingPlansQuerySerializer, request)
        plans = selectors.billing_plans(domain=request.domain, plan_ids=params.get("planIDs"), code=params.get("code"))
        options = {"redirect_url": params.get("redirectURL") or "", "payment_page": params.get("paymentURL") or ""}
        return Response([s.plan_payload(plan, **options) for plan in plans])

    @extend_schema(
        operation_id="createBillingPlan",
        tags=TAGS,
        request=s.CreateBillingPlanSerializer,
        responses={200: s.BillingPlanSerializer},
    )
    def create_billing_plan(self, request):
        data = parse_body(s.CreateBillingPlanSerializer, request)
        plan = services.create_billing_plan(
            domain=services.environment_domain(domain=request.domain, env=data.get("env")),
            name=data["name"],
            tier=data["tier"],
            prices=data["prices"],
            description=data.get("description", ""),
            features=data.get("features"),
            main_benefits=data.get("mainBenefits"),
            actor=request.user,
        )
        plan = selectors.billing_plans(domain=plan.domain, plan_ids=[plan.pk])[0]
        return Response(s.plan_payload(plan))


class MembershipViewSet(AimgViewSet):
    permission_by_action = {
        "cancel_membership": IsSignedIn,
        "set_admin_provided_premium_tier": has_perm(GRANT_TIER),
    }

    def get_permissions(self):
        permission = self.permission_by_action.get(self.action)
        return [permission()] if permission else []

    @extend_schema(
        operation_id="cancelMembership", tags=TAGS, request=None, responses={200: s.BillingOutcomeSerializer}
    )
    def cancel_membership(self, request):
        outcome = services.cancel_membership(user=request.user)
        return Response({"success": outcome.success, "message": outcome.message})

    @extend_schema(
        operation_id="processCardSubscription",
        tags=TAGS,
        request=s.ProcessCardSubscriptionSerializer,
        responses={200: s.BillingOutcomeSerializer},
    )
    @rate_limited(rate=CARD_PAYMENT_RATE_PER_IP, key="ip", group="billing.card.ip")
    @rate_limited(rate=CARD_PAYMENT_RATE_PER_ACCOUNT, key=_account_key, group="billing.card.account")
    def process_card_subscription(self, request):
        data = parse_body(s.ProcessCardSubscriptionSerializer, request)
        card = cards.check_card(
            number=data["cardNumber"],
            security_code=data["securityCode"],
            holder_name=data["cardHolderName"],
            expiration_month=data["expirationMonth"],
            expiration_year=data["expirationYear"],
            today=timezone.now().date(),
        )
        address = cards.check_address(
            street=data.get("street", ""),
            city=data.get("city", ""),
            state_or_province=data.get("stateOrProvince", ""),
            postal_code=data.get("postalCode", ""),
            country=data.get("country", ""),
            phone_number=data.get("phoneNumber", ""),
        )
        card = dataclasses.replace(card, address=address)
        outcome = services.process_card_subscription(
            domain=request.domain,
            user=_signed_in_user(request),
            merchant_processor=data["merchantProcessor"],
            product_id=data["productID"],
            card=card,
            billing_email=data.get("billingEmail", ""),
        )
        return Response({"success": outcome.success, "message": outcome.message})

    @extend_schema(
        operation_id="setAdminProvidedPremiumTier",
        tags=TAGS,
        request=s.AdminTierSerializer,
        responses={200: s.AdminProvidedPremiumTierSerializer},
    )
    def set_admin_provided_premium_tier(self, request):
        data = parse_body(s.AdminTierSerializer, request)
        emails = ([data["email"]] if data.get("email") else []) + list(data.get("emails") or [])
        subscriptions = services.set_admin_tier(
            domain=request.domain,
            emails=emails,
            product_id=data["productId"],
            tier=data["tier"],
            is_active=data["isActive"],
            deactivation_date=data.get("deactivationDate"),
            additional_information=data.get("additionalInformation"),
            actor=request.user,
        )
        first = subscriptions[0]
        payload = {}
        if "emails" not in data:
            payload["_id"] = str(first.pk)
        payload.update({"domain": request.domain.code, "paymentProvider": PaymentProvider.ADMIN.value})
        payload["productId"] = first.product_id
        if data.get("email"):
            payload["email"] = first.user.email
        if "emails" in data:
            payload["emails"] = [subscription.user.email for subscription in subscriptions]
        payload.update(
            {
                "tier": first.tier,
                "isActive": first.is_active,
                "createdDate": selectors.iso(min(x.created_at for x in subscriptions)),
                "updatedDate": selectors.iso(max(x.updated_at for x in subscriptions)),
            }
        )
        if first.expires_at:
            payload["deactivationDate"] = selectors.iso(first.expires_at)
        payload["env"] = request.domain.environment
        if first.additional_information:
            payload["additionalInformation"] = first.additional_information
        return Response(payload)

    @extend_schema(
        operation_id="payWithCardEmail",
        tags=TAGS,
        request=s.PayWithCardEmailSerializer,
        responses={200: s.BillingSuccessSerializer},
    )
    @rate_limited(rate=PAY_WITH_CARD_EMAIL_RATE_PER_IP, key="ip", group="billing.pay_with_card_email.ip")
    @rate_limited(rate=PAY_WITH_CARD_EMAIL_RATE_PER_EMAIL, key=_email_key, group="billing.pay_with_card_email.email")
    def pay_with_card_email(self, request):
        data = parse_body(s.PayWithCardEmailSerializer, request)
        user = _signed_in_user(request)
        email = user.email if user is not None else (data.get("email") or "").strip()
        if not email:
            message = "Give your email, or sign in."
            raise InvalidInput(message, errors={("email",): [message]})
        services.request_pay_with_card_email(domain=request.domain, email=email)
        return Response({"success": True})


class GiftCardViewSet(AimgViewSet):
    def get_permissions(self):
        if self.action == "download_gift_cards":
            return [has_perm(MAKE_GIFT_CARDS)()]
        return [IsSignedIn()]

    @extend_schema(
        operation_id="redeemGiftCard",
        tags=TAGS,
        request=s.RedeemGiftCardSerializer,
        responses={200: s.RedeemGiftCardResponseSerializer},
    )
    @rate_limited(rate=REDEEM_RATE_PER_IP, key="ip", group="billing.redeem.ip")
    @rate_limited(rate=REDEEM_RATE_PER_USER, key=_user_key, group="billing.redeem.user")
    def redeem_gift_card(self, request):
        data = parse_body(s.RedeemGiftCardSerializer, request)
        subscription = services.redeem_gift_card(user=request.user, code=data["code"])
        return Response(
            {
                "productID": subscription.product_id,
                "tier": subscription.tier,
                "tierExpiration": selectors.iso(subscription.expires_at),
            }
        )

    @extend_schema(
        operation_id="downloadGiftCards",
        tags=TAGS,
        parameters=[s.DownloadGiftCardsQuerySerializer],
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def download_gift_cards(self, request):
        params = parse_query(s.DownloadGiftCardsQuerySerializer, request)
        external = [code.strip() for code in (params.get("externalCodes") or "").split(",") if code.strip()]
        batch, codes = services.generate_gift_cards(
            domain=request.domain,
            distribution_provider=params["distributionProvider"],
            tier=params["tier"],
            days=params["days"],
            count=params.get("numberOfCards"),
            usd_price=params["usdPrice"],
            external_codes=external,
            additional_information=params.get("additionalInformation") or "",
            actor=request.user,
        )
        return gift_card_download(batch, codes)


def gift_card_download(batch, codes) -> HttpResponse:
    """The batch's codes as a TXT attachment, one per line (also the back office's download)."""
    response = HttpResponse("".join(f"{code}\n" for code in codes), content_type="text/plain; charset=utf-8")
    name = f"gift-cards-{batch.distribution_provider}-tier{batch.tier}-{batch.days}d-{str(batch.pk)[:8]}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


class BoostyViewSet(AimgViewSet):
    def get_permissions(self):
        return [has_perm(INJECT_BOOSTY)()]

    @extend_schema(
        operation_id="injectBoostyAdminAccountCookies",
        tags=TAGS,
        request=s.InjectBoostyCookiesSerializer,
        responses={200: s.BillingSuccessSerializer},
    )
    def inject_boosty_admin_account_cookies(self, request):
        data = parse_body(s.InjectBoostyCookiesSerializer, request)
        site = selectors.site_by_identifier(data.get("domainIdentifier") or "", current=request.domain)
        if site is None:
            raise NotFound("No site has this domainIdentifier.")
        services.inject_boosty_cookies(
            domain=site, account_id=data["accountId"], cookies=data["cookies"], actor=request.user
        )
        return Response({"success": True})

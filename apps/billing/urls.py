"""Routes of the billing app: the AIMG "Premium Membership Management" endpoints."""

from django.urls import path

from .api.aimg import BillingPlanViewSet, BoostyViewSet, GiftCardViewSet, MembershipViewSet

app_name = "billing"


def _route(route: str, viewset, method: str, action: str):
    return path(route, viewset.as_view({method: action}), name=action.replace("_", "-"))


urlpatterns = [
    _route("getBillingPlans", BillingPlanViewSet, "get", "get_billing_plans"),
    _route("createBillingPlan", BillingPlanViewSet, "post", "create_billing_plan"),
    _route("cancelMembership", MembershipViewSet, "delete", "cancel_membership"),
    _route("processCardSubscription", MembershipViewSet, "post", "process_card_subscription"),
    _route("setAdminProvidedPremiumTier", MembershipViewSet, "post", "set_admin_provided_premium_tier"),
    _route("payWithCardEmail", MembershipViewSet, "post", "pay_with_card_email"),
    _route("injectBoostyAdminAccountCookies", BoostyViewSet, "post", "inject_boosty_admin_account_cookies"),
    _route("redeemGiftCard", GiftCardViewSet, "post", "redeem_gift_card"),
    _route("downloadGiftCards", GiftCardViewSet, "get", "download_gift_cards"),
]

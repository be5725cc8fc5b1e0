"""Billing back office: plans with their prices and providers, subscriptions, gift cards (generate a
batch, revoke unredeemed cards), card payments, Boosty cookies, and the read-only billing events.

Subscriptions and gift cards change only through services, so every change leaves a billing event.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.core.domains import default_domain
from apps.core.errors import AtelierError
from apps.core.models import Domain

from . import services
from .api.aimg import gift_card_download
from .events import Source
from .models import (
    MAX_TIER,
    BillingEvent,
    BillingPlan,
    BillingPlanPaymentProvider,
    BillingPlanPrice,
    BoostyAdminCookies,
    CardPayment,
    DistributionProvider,
    GiftCard,
    GiftCardBatch,
    Subscription,
)


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only services write: viewable, never added, edited or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- plans ----------------------------------------------------------------------------------------


class PriceInline(admin.StackedInline):
    model = BillingPlanPrice
    extra = 0
    show_change_link = True
    fields = (
        ("product_id", "name", "position"),
        ("type", "period", "trial_days"),
        ("value", "currency", "currency_type"),
        "providers",
    )
    readonly_fields = ("providers",)

    @admin.display(description="payment providers")
    def providers(self, obj):
        if not obj.pk:
            return "Save the plan, then add payment providers on the price's page."
        rows = [
            (p.get_payment_provider_display(), p.payment_url or "(the caller's paymentURL)")
            for p in obj.payment_providers.all()
        ]
        link = reverse("admin:billing_billingplanprice_change", args=[obj.pk])
        listed = format_html_join("", "<li>{}: {}</li>", rows) if rows else format_html("<li>{}</li>", "none yet")
        return format_html('<ul>{}</ul><a href="{}">Edit payment providers</a>', listed, link)


class PaymentProviderInline(admin.TabularInline):
    model = BillingPlanPaymentProvider
    extra = 1
    fields = ("payment_provider", "payment_label", "payment_url", "position")


@admin.register(BillingPlan)
class BillingPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "domain", "is_active", "special_code", "price_count", "position")
    list_filter = ("domain", "is_active", "tier")
    search_fields = ("name", "special_code", "prices__product_id")
    list_select_related = ("domain",)
    inlines = [PriceInline]
    fields = (
        "domain",
        "name",
        "tier",
        "description",
        "features",
        "main_benefits",
        "special_code",
        "is_active",
        "position",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_prices=Count("prices"))

    @admin.display(description="prices", ordering="_prices")
    def price_count(self, obj):
        return obj._prices

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(BillingPlanPrice)
class BillingPlanPriceAdmin(admin.ModelAdmin):
    list_display = ("product_id", "plan", "type", "period", "value", "currency", "currency_type")
    list_filter = ("plan__domain", "type", "period", "currency")
    search_fields = ("product_id", "plan__name", "name")
    list_select_related = ("plan",)
    inlines = [PaymentProviderInline]


# --- subscriptions --------------------------------------------------------------------------------


class CurrentFilter(admin.SimpleListFilter):
    title = "current"
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", "Gives its tier now"), ("no", "Ended or expired")]

    def queryset(self, request, queryset):
        from django.utils import timezone

        current = Q(is_active=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        if self.value() == "yes":
            return queryset.filter(current)
        if self.value() == "no":
            return queryset.exclude(current)
        return queryset


@admin.register(Subscription)
class SubscriptionAdmin(_ReadOnlyAdmin):
    list_display = (
        "user",
        "tier",
        "merchant_processor",
        "product_id",
        "is_active",
        "expires_at",
        "next_billing_date",
        "domain",
        "created_at",
    )
    list_filter = ("is_active", CurrentFilter, "merchant_processor", "tier", "domain")
    search_fields = ("user__email", "product_id", "transaction_id", "payer_id")
    list_select_related = ("user", "domain")
    date_hierarchy = "created_at"
    actions = ["deactivate_selected"]

    def has_change_permission(self, request, obj=None):
        # The list's action needs it; a subscription's own page stays read-only.
        return obj is None and request.user.has_perm("billing.change_subscription")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description="Deactivate selected subscriptions now", permissions=["change"])
    def deactivate_selected(self, request, queryset):
        count = services.deactivate_subscriptions(subscriptions=queryset, actor=request.user, source=Source.BACK_OFFICE)
        self.message_user(request, f"Deactivated {count} subscription(s).", messages.SUCCESS)


@admin.register(CardPayment)
class CardPaymentAdmin(_ReadOnlyAdmin):
    list_display = (
        "created_at",
        "user",
        "amount",
        "currency",
        "status",
        "card_brand",
        "card_last4",
        "processor",
        "is_renewal",
    )
    list_filter = ("status", "processor", "is_renewal", "domain")
    search_fields = ("user__email", "processor_reference", "product_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"


# --- gift cards -----------------------------------------------------------------------------------


class GiftCardStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("unredeemed", "Unredeemed"), ("redeemed", "Redeemed"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "unredeemed":
            return queryset.filter(redeemed_at__isnull=True, revoked_at__isnull=True)
        if self.value() == "redeemed":
            return queryset.filter(redeemed_at__isnull=False)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class GiftCardBatchForm(forms.Form):
    """The parameters of downloadGiftCards."""

    domain = forms.ModelChoiceField(queryset=Domain.objects.filter(is_active=True))
    distribution_provider = forms.ChoiceField(
        choices=DistributionProvider.choices, initial=DistributionProvider.GIFTCARD
    )
    tier = forms.IntegerField(min_value=1, max_value=MAX_TIER, initial=1)
    days = forms.IntegerField(min_value=1, max_value=services.MAX_GIFT_CARD_DAYS, initial=30)
    number_of_cards = forms.IntegerField(
        min_value=1,
        max_value=services.MAX_GIFT_CARDS_PER_BATCH,
        required=False,
        help_text="Default: one per external code, else 100.",
    )
    usd_price = forms.DecimalField(label="USD price", min_value=Decimal("0"), max_digits=9, decimal_places=2, initial=0)
    external_codes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Comma- or line-separated; the n-th card gets the n-th code.",
    )
    additional_information = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


@admin.register(GiftCard)
class GiftCardAdmin(_ReadOnlyAdmin):
    change_list_template = "admin/billing/giftcard/change_list.html"
    list_display = (
        "__str__",
        "state_label",
        "tier",
        "days",
        "batch",
        "external_code",
        "redeemed_by",
        "redeemed_at",
        "revoked_at",
    )
    list_filter = (GiftCardStateFilter, "batch", "domain", "batch__distribution_provider")
    search_fields = ("code_hint", "external_code", "redeemed_by__email")
    list_select_related = ("batch", "redeemed_by")
    actions = ["revoke_unredeemed"]

    def has_change_permission(self, request, obj=None):
        # The list's action needs it; a card's own page stays read-only.
        return obj is None and request.user.has_perm("billing.change_giftcard")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.display(description="state")
    def state_label(self, obj):
        return obj.state

    @admin.display(description="tier", ordering="batch__tier")
    def tier(self, obj):
        return obj.batch.tier

    @admin.display(description="days", ordering="batch__days")
    def days(self, obj):
        return obj.batch.days

    @admin.action(description="Revoke selected unredeemed cards", permissions=["change"])
    def revoke_unredeemed(self, request, queryset):
        selected = queryset.count()
        revoked = services.revoke_gift_cards(cards=queryset, actor=request.user, source=Source.BACK_OFFICE)
        skipped = selected - revoked
        note = f" {skipped} already redeemed or revoked card(s) left as they were." if skipped else ""
        self.message_user(request, f"Revoked {revoked} card(s).{note}", messages.SUCCESS)

    def get_urls(self):
        extra = [
            path(
                "generate/",
                self.admin_site.admin_view(self.generate_view),
                name="billing_giftcard_generate",
            )
        ]
        return extra + super().get_urls()

    def generate_view(self, request):
        if not request.user.has_perm("billing.add_giftcard"):
            raise PermissionDenied
        form = GiftCardBatchForm(request.POST or None, initial={"domain": default_domain()})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            external = [c.strip() for c in data["external_codes"].replace("\n", ",").split(",") if c.strip()]
            try:
                batch, codes = services.generate_gift_cards(
                    domain=data["domain"],
                    distribution_provider=data["distribution_provider"],
                    tier=data["tier"],
                    days=data["days"],
                    count=data["number_of_cards"],
                    usd_price=data["usd_price"],
                    external_codes=external,
                    additional_information=data["additional_information"],
                    actor=request.user,
                    source=Source.BACK_OFFICE,
                )
            except AtelierError as exc:
                form.add_error(None, exc.message)
            else:
                return gift_card_download(batch, codes)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Generate a batch of gift cards",
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/giftcard/generate.html", context)


@admin.register(GiftCardBatch)
class GiftCardBatchAdmin(_ReadOnlyAdmin):
    list_display = (
        "__str__",
        "domain",
        "distribution_provider",
        "tier",
        "days",
        "count",
        "usd_price",
        "redeemed",
        "created_by",
    )
    list_filter = ("domain", "distribution_provider", "tier")
    search_fields = ("additional_information",)
    list_select_related = ("domain", "created_by")

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(_redeemed=Count("cards", filter=Q(cards__redeemed_at__isnull=False)))
        )

    @admin.display(description="redeemed", ordering="_redeemed")
    def redeemed(self, obj):
        link = reverse("admin:billing_giftcard_changelist") + f"?batch__id__exact={obj.pk}"
        return format_html('<a href="{}">{} of {}</a>', link, obj._redeemed, obj.count)


# --- Boosty and the audit trail -------------------------------------------------------------------


@admin.register(BoostyAdminCookies)
class BoostyAdminCookiesAdmin(_ReadOnlyAdmin):
    """The cookies themselves are never shown."""

    list_display = ("domain", "account_id", "cookie_count", "expires_at", "injected_by", "updated_at")
    list_select_related = ("domain", "injected_by")

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("billing.delete_boostyadmincookies")


@admin.register(BillingEvent)
class BillingEventAdmin(_ReadOnlyAdmin):
    list_display = ("created_at", "kind", "user_email", "tier_before", "tier_after", "actor_email", "source", "domain")
    list_filter = ("kind", "source", "domain")
    search_fields = ("user_email", "actor_email", "=subscription_id", "=gift_card_id", "=user_id")
    list_select_related = ("domain",)
    date_hierarchy = "created_at"
    actions = None

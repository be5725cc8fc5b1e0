"""What a user's profile shows that other apps own: tier, subscriptions, item counts.

Each value is read through the owning app's selectors once that app is installed; until then the
true current value is shown (no billing app: no subscription, tier 0; no items app: no items).
"""

from dataclasses import dataclass, field

from django.apps import apps


@dataclass
class TierInfo:
    tier: int = 0
    tier_expiration: str | None = None  # ISO 8601
    merchant_processor: str = ""
    subscriptions: list = field(default_factory=list)  # AIMG Subscription objects


@dataclass
class ItemCounts:
    item_count: int = 0
    root_folder_item_count: int = 0
    public_item_count: int = 0
    flagged_images_count: int = 0
    high_heat_images_count: int = 0


def tier_info(user, *, extended_price_info: bool = False) -> TierInfo:
    if user is None or not user.is_authenticated:
        return TierInfo()
    if apps.is_installed("apps.billing"):
        from apps.billing import selectors as billing

        return billing.tier_info(user, extended_price_info=extended_price_info)
    return TierInfo()


def item_counts(user) -> ItemCounts:
    if user is None or not user.is_authenticated:
        return ItemCounts()
    counts = ItemCounts()
    if apps.is_installed("apps.items"):
        from apps.items import selectors as items

        counts = items.item_counts(user)
    if apps.is_installed("apps.reports"):
        from apps.reports import selectors as reports

        counts.flagged_images_count = reports.flagged_items_count(user)
    return counts

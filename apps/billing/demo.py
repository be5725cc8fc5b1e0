"""Demo billing data: plans with prices for the default site, and a special plan behind a code."""

from decimal import Decimal

from apps.core.domains import default_domain

from . import services
from .models import BillingPlanPrice

ARKPAY = {"payment_provider": "arkpay", "payment_label": "Pay by card", "payment_url": ""}
PATREON = {
    "payment_provider": "patreon",
    "payment_label": "Join on Patreon",
    "payment_url": "https://www.patreon.com/join/atelier-demo?product={productID}",
}
BOOSTY = {
    "payment_provider": "boosty",
    "payment_label": "Subscribe on Boosty",
    "payment_url": "https://boosty.to/atelier-demo",
}


def _price(product_id, value, period, **extra):
    return {
        "product_id": product_id,
        "name": extra.pop("name", ""),
        "type": extra.pop("type", "base"),
        "period": period,
        "currency": "USD",
        "currency_type": "fiat",
        "value": Decimal(value),
        "trial_days": extra.pop("trial_days", None),
        "payment_providers": extra.pop("providers", [ARKPAY, PATREON, BOOSTY]),
    }


PLANS = [
    {
        "name": "PRO",
        "tier": 1,
        "description": "Faster generations and private folders.",
        "features": ["Private folders", "Priority queue", "No ads"],
        "main_benefits": ["2x faster generations"],
        "prices": [
            _price("demo-pro-monthly-usd", "9.99", "monthly"),
            _price("demo-pro-yearly-usd", "99", "yearly", name="Two months free"),
            _price(
                "demo-pro-trial-usd", "0", "monthly", type="trial", trial_days=7, name="7-day trial", providers=[ARKPAY]
            ),
        ],
    },
    {
        "name": "PRO Plus",
        "tier": 2,
        "description": "Everything in PRO, with the largest models and videos.",
        "features": ["Everything in PRO", "Video generation", "Largest models"],
        "main_benefits": ["Video generation"],
        "prices": [_price("demo-pro-plus-monthly-usd", "19.99", "monthly")],
    },
    {
        "name": "Founders",
        "tier": 2,
        "description": "PRO Plus for life, for early supporters.",
        "special_code": "FOUNDERS",
        "prices": [_price("demo-founders-lifetime-usd", "149", "lifetime", type="bundle", providers=[ARKPAY])],
    },
]


def seed():
    domain = default_domain()
    for spec in PLANS:
        spec = dict(spec)
        product_ids = [price["product_id"] for price in spec["prices"]]
        if BillingPlanPrice.objects.filter(product_id__in=product_ids).exists():
            yield f"plan {spec['name']} (exists)"
            continue
        plan = services.create_billing_plan(domain=domain, **spec)
        special = f", shown with the code {plan.special_code}" if plan.special_code else ""
        yield f"plan {plan.name} (created): tier {plan.tier}, {len(product_ids)} price(s){special}"

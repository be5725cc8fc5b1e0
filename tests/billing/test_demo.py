"""The billing demo data: plans with prices on the default site, loaded once."""

import pytest
from rest_framework.test import APIClient

from apps.billing import demo
from apps.billing.models import BillingPlan, BillingPlanPrice

pytestmark = pytest.mark.django_db


def test_seed_creates_plans_once():
    first = list(demo.seed())
    assert first == [
        "plan PRO (created): tier 1, 3 price(s)",
        "plan PRO Plus (created): tier 2, 1 price(s)",
        "plan Founders (created): tier 2, 1 price(s), shown with the code FOUNDERS",
    ]
    counts = (BillingPlan.objects.count(), BillingPlanPrice.objects.count())
    assert list(demo.seed()) == ["plan PRO (exists)", "plan PRO Plus (exists)", "plan Founders (exists)"]
    assert (BillingPlan.objects.count(), BillingPlanPrice.objects.count()) == counts == (3, 5)


def test_the_demo_plans_are_listed():
    list(demo.seed())
    client = APIClient()
    assert [plan["name"] for plan in client.get("/getBillingPlans").json()["payload"]] == ["PRO", "PRO Plus"]
    with_code = client.get("/getBillingPlans", {"code": "founders"}).json()["payload"]
    assert [plan["name"] for plan in with_code] == ["PRO", "Founders", "PRO Plus"]  # by tier, then name

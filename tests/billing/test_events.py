"""The billing audit trail: one append-only event per change, with who, what, when and the tier
before and after."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.billing import services
from apps.billing.models import AppendOnly, BillingEvent
from apps.core.domains import default_domain
from tests.billing.conftest import staff_with_role, subscribe

pytestmark = pytest.mark.django_db


def test_events_cannot_be_changed_or_deleted(user):
    services.set_admin_tier(domain=default_domain(), emails=[user.email], product_id="p", tier=1, is_active=True)
    event = BillingEvent.objects.get()
    event.tier_after = 9
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        BillingEvent.objects.filter(pk=event.pk).update(tier_after=9)
    with pytest.raises(AppendOnly):
        BillingEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.tier_after == 1


def test_a_users_history_reads_as_a_story(user):
    staff = staff_with_role("admin")
    domain = default_domain()
    start = timezone.now()
    services.set_admin_tier(
        domain=domain,
        emails=[user.email],
        product_id="trial",
        tier=1,
        is_active=True,
        deactivation_date=start + timedelta(days=2),
        actor=staff,
    )
    _, (code,) = services.generate_gift_cards(domain=domain, count=1, tier=1, days=5, actor=staff)
    services.redeem_gift_card(user=user, code=code)
    subscribe(user, tier=2, processor="patreon")  # from a processor: not a billing change made here
    services.set_admin_tier(
        domain=domain, emails=[user.email], product_id="trial", tier=1, is_active=False, actor=staff
    )

    story = list(
        BillingEvent.objects.order_by("created_at").values_list(
            "kind", "actor_email", "user_email", "tier_before", "tier_after"
        )
    )
    assert story == [
        ("subscription_created", staff.email, user.email, 0, 1),
        ("gift_card_created", staff.email, "", None, None),
        ("gift_card_redeemed", user.email, user.email, 1, 1),
        ("subscription_deactivated", staff.email, user.email, 2, 2),
    ]
    assert all(start <= event.created_at <= timezone.now() for event in BillingEvent.objects.all())
    assert {event.domain for event in BillingEvent.objects.all()} == {domain}

"""The billing audit trail: every change to a subscription or a gift card adds one BillingEvent.

Services call ``record`` inside the transaction that makes the change, so the event and the change
are committed together or not at all. Events are never changed or deleted (``BillingEvent`` refuses
it, and the back office shows them read-only).
"""

from collections.abc import Iterable

from .models import BillingEvent

Kind = BillingEvent.Kind
Source = BillingEvent.Source


def _person(user) -> tuple:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    return user.pk, user.email


def build(
    kind: str,
    *,
    domain,  # a Domain or its id
    actor=None,
    source: str,
    user=None,
    subscription=None,
    gift_card=None,
    tier_before: int | None = None,
    tier_after: int | None = None,
    details: dict | None = None,
) -> BillingEvent:
    actor_id, actor_email = _person(actor)
    user_id, user_email = _person(user)
    return BillingEvent(
        kind=kind,
        source=source,
        domain_id=getattr(domain, "pk", domain),
        actor_id=actor_id,
        actor_email=actor_email,
        user_id=user_id,
        user_email=user_email,
        subscription_id=subscription.pk if subscription is not None else None,
        gift_card_id=gift_card.pk if gift_card is not None else None,
        tier_before=tier_before,
        tier_after=tier_after,
        details=details or {},
    )


def record(kind: str, **fields) -> BillingEvent:
    """Add one event (see ``build`` for the fields)."""
    event = build(kind, **fields)
    event.save()
    return event


def record_many(events: Iterable[BillingEvent]) -> int:
    created = BillingEvent.objects.bulk_create(list(events), batch_size=1000)
    return len(created)

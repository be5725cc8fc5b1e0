"""Demo moderation data: a few user queues, and a report by the demo moderator of alice's newest item
(when the demo people and an item of alice exist)."""

from apps.accounts.models import User
from apps.core.domains import default_domain

from . import selectors, services
from .models import ReportQueue

DEMO_QUEUES = [
    ("Spam", "Advertising, repeated or off-topic content.", 10),
    ("Violence", "Gore, threats, or glorified violence.", 20),
    ("Minors", "Content that may involve minors: decide at once.", 5),
]


def seed():
    for name, description, position in DEMO_QUEUES:
        _, created = ReportQueue.objects.get_or_create(
            name=name, defaults={"description": description, "position": position}
        )
        yield f"queue {name} ({'created' if created else 'exists'})"
    domain = default_domain()
    alice = User.objects.filter(email__iexact="alice@example.com", domain=domain).first()
    reporter = User.objects.filter(email__iexact="moderator@example.com", domain=domain).first()
    if alice is None or reporter is None:
        yield "no demo report: the demo users alice and moderator are missing"
        return
    from apps.items import selectors as items

    item = items.owned_items(alice).exclude(public_approval_status="approved").filter(is_protected=False).first()
    if item is None:
        yield "no demo report: alice has no item to report"
        return
    if selectors.open_reports_by(reporter, [item.pk]):
        yield f"report of alice's item {item.pk} (exists)"
        return
    (result,) = services.report_items(
        reporter=reporter, item_ids=[item.pk], queue_name="Spam", additional_information="Posted three times today."
    )
    yield f"report of alice's item {item.pk} ({'created' if result.success else result.message})"

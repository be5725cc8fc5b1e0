"""Helpers of the reports tests: people with roles, items, reports filed through the services."""

from django.utils import timezone

from apps.reports import services
from apps.reports.models import Report, ReportQueue
from tests.factories import UserFactory
from tests.items.support import (  # noqa: F401 - re-exported for the reports tests
    FORBIDDEN,
    NOT_SIGNED_IN,
    as_admin_key,
    as_session,
    as_user,
    file_object,
    iso,
    make_item,
    millis,
    ok,
    session_for,
    staff_with_role,
)


def file_report(reporter, item, **kwargs) -> Report:
    """One user report through the service (it must succeed)."""
    (result,) = services.report_items(reporter=reporter, item_ids=[item.pk], **kwargs)
    assert result.success, result.message
    return Report.objects.get(pk=result.report_id)


def viewer():
    """Someone who may report any item: a user only sees (and so reports) their own items and the
    publicly visible ones, and the spec refuses approved ones; a moderator (``items.view_item``) sees all."""
    return staff_with_role("moderator")


def reported_item(author=None, *, reporter=None, at=None, **fields):
    """An item of ``author`` and one open report of it."""
    author = author or UserFactory()
    item = make_item(author, at=at or timezone.now(), **fields)
    return item, file_report(reporter or viewer(), item)


def queue(name: str, **fields) -> ReportQueue:
    return ReportQueue.objects.create(name=name, **fields)


def state(report: Report) -> Report:
    return Report.objects.get(pk=report.pk)

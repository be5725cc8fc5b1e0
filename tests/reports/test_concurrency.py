"""Races: the same report closed twice at once, the same item reported twice at once by one user, two
reports of one item accepted at once, and two accepted reports tipping an author over the threshold."""

import threading

import pytest
from django.db import connection

from apps.items.models import Item
from apps.reports import services
from apps.reports.models import ModerationEvent, Report
from apps.reports.selectors import flagged_items_count
from tests.factories import UserFactory

from .support import file_report, make_item, reported_item, staff_with_role, viewer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TIMEOUT = 30


@pytest.fixture(autouse=True)
def _baseline():
    """What migrations make (permissions, roles, queues), in case an earlier transactional test left
    the database flushed; the post_migrate handlers are idempotent."""
    from django.core.management.sql import emit_post_migrate_signal

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")


def run_together(*calls):
    """Run each call in its own thread, released at once by a barrier; each closes its connection."""
    barrier = threading.Barrier(len(calls), timeout=TIMEOUT)
    results, errors = [None] * len(calls), []

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a thread did not finish"
    assert errors == []
    return results


def test_one_report_closed_twice_at_once_is_closed_once():
    author = UserFactory()
    item, report = reported_item(author)
    moderators = [staff_with_role("moderator") for _ in range(4)]

    results = run_together(
        *((lambda m=m: services.close_reports(report_ids=[report.pk], status="accepted", actor=m)) for m in moderators)
    )

    outcomes = [result[0] for result in results]
    assert sum(outcome.success for outcome in outcomes) == 1
    assert all("already closed" in o.message for o in outcomes if not o.success)
    assert ModerationEvent.objects.filter(report_id=report.pk).count() == 1
    assert Item.all_objects.get(pk=item.pk).deleted_at is not None
    assert flagged_items_count(author) == 1


def test_the_same_item_reported_at_once_by_one_user_is_filed_once():
    author = UserFactory()
    item = make_item(author)

    results = run_together(*((lambda: services.report_items(reporter=author, item_ids=[item.pk])) for _ in range(4)))

    assert sum(result[0].success for result in results) == 1
    assert Report.objects.filter(item_ref=item.pk).count() == 1
    assert all("already reported" in result[0].message for result in results if not result[0].success)


def test_two_reports_of_one_item_accepted_at_once_both_stand_and_flag_once():
    author = UserFactory()
    item, first = reported_item(author)
    second = file_report(viewer(), item)
    mods = [staff_with_role("moderator"), staff_with_role("moderator")]

    results = run_together(
        lambda: services.close_reports(report_ids=[first.pk], status="accepted", actor=mods[0]),
        lambda: services.close_reports(report_ids=[second.pk], status="accepted", actor=mods[1]),
    )

    assert [result[0].success for result in results] == [True, True]
    assert set(Report.objects.filter(item_ref=item.pk).values_list("status", flat=True)) == {"accepted"}
    assert flagged_items_count(author) == 1


def test_concurrent_offences_file_one_repeat_offender_report(settings):
    settings.REPORTS_REPEAT_OFFENDER_THRESHOLD = 2
    author = UserFactory()
    reports = [reported_item(author)[1] for _ in range(4)]
    mods = [staff_with_role("moderator") for _ in reports]

    run_together(
        *(
            (lambda r=r, m=m: services.close_reports(report_ids=[r.pk], status="accepted", actor=m))
            for r, m in zip(reports, mods, strict=True)
        )
    )

    assert Report.objects.filter(source="repeat_offender", author=author, status="pending").count() == 1
    assert flagged_items_count(author) == 4

"""A moderator's day in a real browser: sign in, open the pending reports, see the preview, accept one
report, decline another, approve an item waiting in the public-approval queue. The database is
checked after each step; a screenshot of each screen goes to tests/e2e/artifacts/ (git-ignored)."""

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from apps.core.services import files
from apps.items.models import ApprovalDecision, Item
from apps.reports import services
from apps.reports.models import ModerationEvent, Report
from tests.e2e.test_admin_browser import _sign_in, browser, expect, page  # noqa: F401 - fixtures
from tests.factories import UserFactory
from tests.items.support import make_item, staff_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ARTIFACTS = Path(__file__).parent / "artifacts"


def shot(page, name: str) -> None:  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"moderation-{name}.png"), full_page=True)


def picture(color: str):
    buffer = io.BytesIO()
    Image.new("RGB", (480, 320), color).save(buffer, format="PNG")
    return files.upload_file(source=buffer.getvalue(), file_name=f"{color}.png")


@pytest.fixture
def baseline():
    """What migrations make (content types, permissions, roles, report queues). A transactional test
    that follows another may find the database flushed (Playwright's event loop hides the serialized
    copy from the rollback), so post_migrate runs again here; its handlers are idempotent."""
    from django.core.management.sql import emit_post_migrate_signal

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")


@pytest.fixture
def moderator(baseline):
    staff = staff_with_role("moderator")
    staff.email = "moderator@example.com"
    staff.save()
    return staff


@pytest.fixture
def scene(moderator):
    author = UserFactory(email="painter@example.com")
    reporter = staff_with_role("moderator")
    to_accept = make_item(author, file=picture("crimson"), raw_prompt="a crimson scene, gore", prompt="a crimson scene")
    to_decline = make_item(author, file=picture("teal"), raw_prompt="a teal lake at dawn", prompt="a teal lake at dawn")
    (accept,) = services.report_items(
        reporter=reporter, item_ids=[to_accept.pk], additional_information="graphic violence"
    )
    (decline,) = services.report_items(reporter=reporter, item_ids=[to_decline.pk], additional_information="boring")
    pending = make_item(author, file=picture("gold"), public_approval_status="pending", prompt="a golden field")
    return {
        "author": author,
        "to_accept": to_accept,
        "to_decline": to_decline,
        "accept": Report.objects.get(pk=accept.report_id),
        "decline": Report.objects.get(pk=decline.report_id),
        "pending": pending,
    }


def test_a_moderator_works_the_report_queue_and_the_approval_queue(page, live_server, moderator, scene):  # noqa: F811
    accept, decline = scene["accept"], scene["decline"]
    _sign_in(page, live_server, moderator)
    shot(page, "1-index")

    # The pending reports, from the back office's index.
    page.locator("#content-main").get_by_role("link", name="Pending reports", exact=True).click()
    expect(page.locator("#content h1")).to_have_text("Pending reports, one row per reported item")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("a crimson scene, gore")
    expect(page.locator("#result_list")).to_contain_text("graphic violence")
    expect(page.locator("#result_list")).to_contain_text("painter@example.com")

    # The preview is a real, decoded image, shown large.
    preview = page.locator(f"img[alt='item {accept.item_ref}']")
    expect(preview).to_be_visible()
    page.wait_for_function(
        "(el) => el.complete && el.naturalWidth === 480", arg=preview.element_handle(), timeout=15_000
    )
    box = preview.bounding_box()
    assert box["width"] >= 300
    shot(page, "2-pending-reports")

    # Accept one report, with a note: its item is deleted.
    page.fill(f"input[name='note-{accept.pk}']", "gore is not allowed")
    page.click(f"button[value='accepted:{accept.pk}']")
    expect(page.locator("ul.messagelist")).to_contain_text("Accepted 1 report(s) (their items were deleted).")
    accept.refresh_from_db()
    assert (accept.status, accept.approver_id, accept.approval_additional_information) == (
        "accepted",
        moderator.pk,
        "gore is not allowed",
    )
    assert Item.all_objects.get(pk=scene["to_accept"].pk).deleted_at is not None
    expect(rows).to_have_count(1)
    shot(page, "3-accepted")

    # Decline the other: its item stays.
    page.click(f"button[value='declined:{decline.pk}']")
    expect(page.locator("ul.messagelist")).to_contain_text("Declined 1 report(s).")
    decline.refresh_from_db()
    assert (decline.status, decline.approver_id) == ("declined", moderator.pk)
    assert Item.objects.filter(pk=scene["to_decline"].pk).exists()
    expect(page.locator("#result_list")).to_have_count(0)
    shot(page, "4-declined")

    events = ModerationEvent.objects.order_by("created_at")
    assert [(e.kind, e.source, e.actor_id) for e in events] == [
        ("report_accepted", "back_office", moderator.pk),
        ("report_declined", "back_office", moderator.pk),
    ]

    # The decisions, for review.
    page.goto(f"{live_server.url}/admin/reports/closedreport/")
    expect(page.locator("#result_list")).to_contain_text("gore is not allowed")
    shot(page, "5-closed-reports")

    # The public-approval queue: approve the pending item.
    page.goto(f"{live_server.url}/admin/items/pendingapprovalitem/")
    expect(page.locator("#result_list")).to_contain_text("a golden field")
    shot(page, "6-approval-queue")
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist li")).to_contain_text("Approved 1 item(s).")
    pending = Item.objects.get(pk=scene["pending"].pk)
    assert (pending.public_approval_status, pending.is_public) == ("approved", True)
    assert ApprovalDecision.objects.get(item=pending).moderator_id == moderator.pk
    shot(page, "7-approved")


def test_a_moderator_sets_an_authors_abuse_level_from_a_report(page, live_server, moderator, scene):  # noqa: F811
    _sign_in(page, live_server, moderator)
    page.goto(f"{live_server.url}/admin/reports/pendingreport/")
    page.locator(".set-abuse-level").first.click()
    expect(page.locator("#content h1")).to_have_text(re.compile("Set the abuse level of painter@example.com"))
    page.select_option("#id_level", "1")
    page.fill("#id_note", "second strike")
    page.click("#abuse-level-form input[type=submit]")
    expect(page.locator("ul.messagelist")).to_contain_text("Set the abuse level of painter@example.com to 1.")
    scene["author"].refresh_from_db()
    assert scene["author"].abuse_level == 1
    assert ModerationEvent.objects.get(kind="abuse_level_set").note == "second strike"
    shot(page, "8-abuse-level")

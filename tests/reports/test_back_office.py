"""The moderation back office through Django's test client: the queues page, the pending reports
grouped by item, one-click and bulk decisions through the closeReports service, the author's abuse
level, closed reports, the CSV export, the audit trail, and who may reach what."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.items.models import Item
from apps.reports import services
from apps.reports.models import ModerationEvent, Report, ReportQueue
from tests.factories import UserFactory

from .support import file_object, file_report, make_item, queue, reported_item, staff_with_role, state, viewer

pytestmark = pytest.mark.django_db

PENDING = "/admin/reports/pendingreport/"
CLOSED = "/admin/reports/closedreport/"
QUEUES = "/admin/reports/reportqueue/"
EVENTS = "/admin/reports/moderationevent/"
DECIDE = "/admin/reports/pendingreport/decide/"


def signed_in(role: str | None):
    staff = staff_with_role(role)
    client = Client()
    client.force_login(staff)
    return client, staff


@pytest.fixture
def author():
    return UserFactory(email="painter@example.com")


@pytest.fixture
def moderating():
    return signed_in("moderator")


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- the pending queue ---------------------------------------------------------------------------------------


def test_pending_reports_are_grouped_by_item_with_preview_prompts_and_history(moderating, author):
    client, _ = moderating
    picture = file_object()
    item = make_item(author, thumbnail=picture, raw_prompt="a red fox, gore", prompt="a red fox")
    spam = queue("Spam")
    first = file_report(viewer(), item, queue_name="Spam", additional_information="posted three times")
    second = file_report(viewer(), item, additional_information="disturbing")
    _, elsewhere = reported_item(author)
    _, old = reported_item(author)
    services.close_reports(report_ids=[old.pk], status="accepted", actor=staff_with_role("moderator"))

    page = html(client.get(PENDING))

    assert page.count('class="report-decision"') == 2  # one row for the item with two reports, one for the other
    assert f"/getFile?id={picture.pk}" in page and "max-width:320px" in page
    assert "a red fox, gore" in page and "a red fox" in page
    assert "posted three times" in page and "disturbing" in page and spam.name in page
    assert "painter@example.com" in page
    assert "abuse level 0; 1 flagged item(s)" in page
    assert "reports: 2 pending, 1 accepted, 0 declined, 0 automatically declined" not in page  # 3 pending in all
    assert "reports: 3 pending, 1 accepted, 0 declined, 0 automatically declined" in page
    assert f"/admin/reports/pendingreport/{first.pk}/abuse-level/" in page
    assert f'value="accepted:{first.pk}"' in page and f'value="declined:{first.pk}"' in page
    assert f"accepted:{second.pk}" not in page  # the item's row is its oldest report
    assert f"accepted:{elsewhere.pk}" in page
    assert 'id="decide-form"' in page


def test_the_queue_filter_shows_items_with_an_open_report_in_that_queue(moderating, author):
    client, _ = moderating
    spam = queue("Spam")
    item = make_item(author)
    unspecified = file_report(viewer(), item)
    file_report(viewer(), item, queue_name="Spam")
    _, other = reported_item(author)

    page = html(client.get(PENDING, {"queue": str(spam.pk)}))

    assert f"accepted:{unspecified.pk}" in page and f"accepted:{other.pk}" not in page
    assert client.get(PENDING, {"queue": "not-a-uuid"}).status_code == 200


def test_one_click_accept_closes_every_open_report_on_the_item(moderating, author):
    client, moderator = moderating
    item, first = reported_item(author)
    second = file_report(viewer(), item)

    response = client.post(
        DECIDE, {"decision": f"accepted:{first.pk}", f"note-{first.pk}": "gore", "next": PENDING}, follow=True
    )

    assert "Accepted 2 report(s) (their items were deleted)." in html(response)
    assert response.redirect_chain[-1][0] == PENDING
    assert {state(r).status for r in (first, second)} == {"accepted"}
    assert not Item.objects.filter(pk=item.pk).exists()
    events = ModerationEvent.objects.filter(kind="report_accepted")
    assert events.count() == 2
    assert set(events.values_list("source", "actor_id", "note")) == {("back_office", moderator.pk, "gore")}
    assert state(first).approval_additional_information == "gore"


def test_one_click_decline_keeps_the_item(moderating, author):
    client, _ = moderating
    item, report = reported_item(author)
    response = client.post(DECIDE, {"decision": f"declined:{report.pk}", f"note-{report.pk}": "art"}, follow=True)
    assert "Declined 1 report(s)." in html(response)
    assert state(report).status == "declined" and Item.objects.filter(pk=item.pk).exists()


def test_decide_refuses_bad_input_and_foreign_next_urls(moderating, author):
    client, _ = moderating
    _, report = reported_item(author)
    for decision in ("", "pending:" + str(report.pk), "accepted:nope"):
        response = client.post(DECIDE, {"decision": decision}, follow=True)
        assert "Choose Accept or Decline" in html(response)
    assert state(report).status == "pending"
    response = client.post(DECIDE, {"decision": f"declined:{report.pk}", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == PENDING
    assert client.get(DECIDE).status_code == 403


def test_bulk_actions_take_the_note_from_the_actions_bar(moderating, author):
    client, _ = moderating
    _, first = reported_item(author)
    _, second = reported_item(author)
    _, third = reported_item(author)

    accepted = client.post(
        PENDING,
        {"action": "accept_reports", "_selected_action": [str(first.pk), str(second.pk)], "note": "spam wave"},
        follow=True,
    )
    declined = client.post(PENDING, {"action": "decline_reports", "_selected_action": [str(third.pk)]}, follow=True)

    assert "Accepted 2 report(s)" in html(accepted) and "Declined 1 report(s)." in html(declined)
    assert [state(r).status for r in (first, second, third)] == ["accepted", "accepted", "declined"]
    assert state(first).approval_additional_information == "spam wave"


def test_a_vanished_item_is_declined_automatically_with_a_warning(moderating, author):
    client, _ = moderating
    item, report = reported_item(author)
    Item.objects.filter(pk=item.pk).update(is_protected=True)
    response = client.post(DECIDE, {"decision": f"accepted:{report.pk}"}, follow=True)
    assert "The item is protected. The report was closed as automaticallyDeclined." in html(response)
    assert state(report).status == "automaticallyDeclined"


def test_the_detail_page_of_a_pending_report(moderating, author):
    client, _ = moderating
    picture = file_object()
    item, _ = reported_item(author, file=picture)
    later = file_report(viewer(), item)

    page = html(client.get(f"{PENDING}{later.pk}/change/"))

    assert "max-width:640px" in page and f"/getFile?id={picture.pk}" in page
    assert f"accepted:{later.pk}" in page and 'id="decide-form"' in page
    assert page.count("<li><strong>Not Specified</strong>") == 2
    assert client.get(f"{PENDING}00000000-0000-4000-8000-000000000000/change/", follow=True).status_code == 200


def test_the_pending_queue_runs_a_constant_number_of_queries(moderating, author):
    client, _ = moderating
    client.get(PENDING)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PENDING).status_code == 200
        return len(captured)

    reported_item(author)
    few = count()
    for _ in range(8):
        item, _ = reported_item(UserFactory())
        file_report(viewer(), item)
    assert count() == few


# --- the author's abuse level ---------------------------------------------------------------------------------


def test_a_moderator_sets_the_authors_abuse_level_and_it_is_recorded(moderating, author):
    client, moderator = moderating
    _, report = reported_item(author)
    url = f"{PENDING}{report.pk}/abuse-level/"

    page = html(client.get(url))
    assert "painter@example.com" in page and 'id="current-abuse-level">0<' in page

    response = client.post(url, {"level": "1", "note": "third warning", "next": PENDING}, follow=True)

    assert "Set the abuse level of painter@example.com to 1." in html(response)
    author.refresh_from_db()
    assert author.abuse_level == 1
    event = ModerationEvent.objects.get(kind="abuse_level_set")
    assert (event.actor_id, event.subject_id, event.note, event.report_id) == (
        moderator.pk,
        author.pk,
        "third warning",
        report.pk,
    )
    assert event.details == {"before": 0, "after": 1}
    assert "abuse level 1" in html(client.get(PENDING))


def test_abuse_level_bad_input_and_permissions(author):
    client, _ = signed_in("moderator")
    _, report = reported_item(author)
    url = f"{PENDING}{report.pk}/abuse-level/"
    assert "Select a valid choice" in html(client.post(url, {"level": "12"}))
    author.refresh_from_db()
    assert author.abuse_level == 0
    support, _ = signed_in("support")
    assert support.get(url).status_code == 403
    assert support.post(url, {"level": "9"}).status_code == 403
    assert client.get(f"{PENDING}00000000-0000-4000-8000-000000000000/abuse-level/").status_code == 404


# --- closed reports, queues, events, CSV ----------------------------------------------------------------------


def test_closed_reports_for_review(moderating, author):
    client, moderator = moderating
    _, accepted = reported_item(author)
    _, declined = reported_item(author)
    _, pending = reported_item(UserFactory())
    services.close_reports(report_ids=[accepted.pk], status="accepted", actor=moderator, note="gore")
    services.close_reports(report_ids=[declined.pk], status="declined", actor=moderator, note="fine")

    page = html(client.get(CLOSED))
    assert f'href="/admin/reports/closedreport/{accepted.pk}/change/">{accepted.item_ref}</a>' in page
    assert "gore" in page and "fine" in page and str(pending.item_ref) not in page
    assert str(declined.item_ref) not in html(client.get(CLOSED, {"status": "accepted"}))
    by_author = html(client.get(CLOSED, {"author": str(author.pk)}))
    assert str(accepted.item_ref) in by_author and str(declined.item_ref) in by_author
    detail = html(client.get(f"{CLOSED}{accepted.pk}/change/"))
    assert "report accepted by" in detail and moderator.email in detail
    assert str(accepted.item_ref) in html(client.get(CLOSED, {"q": str(accepted.item_ref)}))
    assert client.get(CLOSED, {"q": "not a uuid"}).status_code == 200


def test_the_csv_action_writes_the_epoch_csv_and_counts_downloads(moderating, author):
    client, moderator = moderating
    _, first = reported_item(author)
    _, second = reported_item(author)
    services.close_reports(report_ids=[first.pk], status="declined", actor=moderator)

    response = client.post(CLOSED, {"action": "download_csv", "_selected_action": [str(first.pk)]})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["reportId"] for row in rows] == [str(first.pk)]
    assert state(first).download_count == 1 and state(second).download_count == 0
    pending = client.post(PENDING, {"action": "download_csv", "_selected_action": [str(second.pk)]})
    assert [row["reportId"] for row in csv.DictReader(io.StringIO(pending.content.decode()))] == [str(second.pk)]
    event = ModerationEvent.objects.filter(kind="reports_exported").first()
    assert (event.source, event.actor_id) == ("back_office", moderator.pk)


def test_the_queues_page_links_each_queue_with_its_counts(moderating, author):
    client, _ = moderating
    spam = queue("Spam")
    file_report(viewer(), make_item(author), queue_name="Spam")
    page = html(client.get(QUEUES))
    assert f'href="/admin/reports/pendingreport/?queue={spam.pk}">1 pending</a>' in page
    assert "Prompt Policy" in page and "Repeat Offenders" in page
    assert client.get(f"{QUEUES}add/").status_code == 403  # moderators use queues, admins edit them


def test_admins_add_and_edit_user_queues_but_not_system_ones(author):
    client, _ = signed_in("admin")
    response = client.post(
        f"{QUEUES}add/", {"name": "Hate speech", "kind": "user", "description": "", "is_active": "on", "position": 30}
    )
    assert response.status_code == 302
    assert ReportQueue.objects.get(name="Hate speech").kind == "user"
    refused = html(
        client.post(f"{QUEUES}add/", {"name": "Spam, ads", "kind": "user", "is_active": "on", "position": 1})
    )
    assert "cannot contain a comma" in refused
    assert "Select a valid choice" in html(
        client.post(f"{QUEUES}add/", {"name": "Mine", "kind": "prompt_policy", "position": 1})
    )
    duplicate = html(client.post(f"{QUEUES}add/", {"name": "hate SPEECH", "kind": "user", "position": 1}))
    assert "A queue with this name already exists." in duplicate
    assert ReportQueue.objects.filter(name__iexact="hate speech").count() == 1
    system = ReportQueue.objects.get(kind="prompt_policy")
    default = ReportQueue.objects.get(is_default=True)
    assert client.post(f"{QUEUES}{system.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"{QUEUES}{default.pk}/delete/", {"post": "yes"}).status_code == 403
    mine = ReportQueue.objects.get(name="Hate speech")
    assert client.post(f"{QUEUES}{mine.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not ReportQueue.objects.filter(pk=mine.pk).exists()


def test_the_audit_trail_is_read_only_and_append_only(moderating, author):
    client, moderator = moderating
    _, report = reported_item(author)
    services.close_reports(report_ids=[report.pk], status="declined", actor=moderator, note="ok")
    event = ModerationEvent.objects.get()
    page = html(client.get(EVENTS))
    assert moderator.email in page and "report declined" in page
    assert client.get(f"{EVENTS}add/").status_code == 403
    from apps.reports.models import AppendOnly

    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        ModerationEvent.objects.all().update(note="changed")
    with pytest.raises(AppendOnly):
        ModerationEvent.objects.all().delete()


# --- who may reach what ----------------------------------------------------------------------------------------


def test_a_moderator_reaches_moderation_but_not_billing_nor_user_deletion(moderating, author):
    client, _ = moderating
    for url in (PENDING, CLOSED, QUEUES, EVENTS, "/admin/items/pendingapprovalitem/", "/admin/accounts/user/"):
        assert client.get(url).status_code == 200, url
    for url in ("/admin/billing/giftcard/", "/admin/billing/subscription/", "/admin/billing/billingplan/"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/admin/accounts/user/{author.pk}/delete/").status_code == 403
    response = client.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [str(author.pk)], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    author.refresh_from_db()
    assert author.deleted_at is None
    index = html(client.get("/admin/"))
    assert "Pending reports" in index and "Billing" not in index


def test_staff_without_the_moderator_role_cannot_moderate(author):
    client, _ = signed_in("support")
    _, report = reported_item(author)
    for url in (PENDING, CLOSED, EVENTS):
        assert client.get(url).status_code == 403, url
    assert client.post(DECIDE, {"decision": f"accepted:{report.pk}"}).status_code == 403
    assert state(report).status == "pending"


def test_the_moderator_role_holds_the_reports_permissions():
    _, moderator = signed_in("moderator")
    for perm in ("reports.view_report", "reports.close_report", "reports.export_report", "items.approve_item"):
        assert moderator.has_perm(perm), perm
    for perm in (
        "accounts.delete_user",
        "billing.view_subscription",
        "billing.view_giftcard",
        "reports.add_reportqueue",
    ):
        assert not moderator.has_perm(perm), perm
    assert Report._meta.get_field("status").max_length >= len("automaticallyDeclined")

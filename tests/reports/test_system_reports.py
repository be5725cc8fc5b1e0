"""System queues: prompt-policy flags from the generation engine, repeat offenders, the sweep that
declines reports whose item vanished, and the management commands."""

import csv
import io
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apps.items.models import Item
from apps.reports import demo, services
from apps.reports.models import ModerationEvent, Report
from apps.text2image.signals import generation_flagged
from tests.factories import UserFactory

from .support import as_admin_key, make_item, reported_item, staff_with_role, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return UserFactory(email="painter@example.com")


@pytest.fixture
def moderator():
    return staff_with_role("moderator")


def flag(*items, terms=("gore",), prompt="raw gore prompt", filtered_prompt="raw prompt"):
    generation_flagged.send(
        sender=None, items=list(items), terms=list(terms), prompt=prompt, filtered_prompt=filtered_prompt
    )


# --- prompt-policy flags ----------------------------------------------------------------------------------


def test_a_flagged_generation_files_one_system_report_per_item(author):
    first = make_item(author, raw_prompt="raw gore prompt", prompt="raw prompt", model="flux")
    second = make_item(author, raw_prompt="raw gore prompt", prompt="raw prompt", model="flux")

    flag(first, second, terms=["gore", "blood"])

    reports = Report.objects.filter(source="prompt_policy").order_by("created_at")
    assert [report.item_ref for report in reports] == [first.pk, second.pk]
    for report in reports:
        assert report.queue.name == "Prompt Policy" and report.queue.kind == "prompt_policy"
        assert (report.status, report.reporter, report.author) == ("pending", None, author)
        assert report.additional_information == "The prompt matched the policy term(s): gore, blood."
        assert report.system_details == {
            "terms": ["gore", "blood"],
            "prompt": "raw gore prompt",
            "filteredPrompt": "raw prompt",
        }
        assert report.item_metadata == {
            "rawPositivePrompt": "raw gore prompt",
            "filteredPositivePrompt": "raw prompt",
            "modelId": "flux",
        }
        assert report.author_metadata["userEmail"] == "painter@example.com"


def test_the_same_flag_twice_files_nothing_new(author):
    item = make_item(author)
    flag(item)
    flag(item)
    assert Report.objects.filter(item_ref=item.pk).count() == 1


def test_a_failing_flag_is_logged_and_never_breaks_the_sender(author, monkeypatch, caplog):
    item = make_item(author)

    def broken(**kwargs):
        raise RuntimeError("storage down")

    monkeypatch.setattr(services, "flag_prompt_policy", broken)
    with caplog.at_level(logging.ERROR, logger="atelier.reports"):
        flag(item)  # does not raise
    assert "Could not file the prompt-policy reports of 1 item(s)." in caplog.text
    assert not Report.objects.exists()


def test_system_reports_are_listed_for_admins_in_their_queue(author, moderator):
    item = make_item(author)
    flag(item)
    client = APIClient()
    response = client.get("/getReports", {"reportQueues": "Prompt Policy"}, **as_admin_key(moderator))
    (entry,) = response.json()["payload"]
    assert entry["reportQueues"] == ["Prompt Policy"] and "reporterId" not in entry
    assert entry["itemId"] == str(item.pk)


def test_a_removed_system_queue_is_recreated_when_needed(author):
    from apps.reports.models import ReportQueue

    ReportQueue.objects.filter(kind="prompt_policy").delete()
    flag(make_item(author))
    assert ReportQueue.objects.get(kind="prompt_policy").name == "Prompt Policy"


# --- repeat offenders ---------------------------------------------------------------------------------------


def repeat_offender_reports(author):
    return Report.objects.filter(source="repeat_offender", author=author).order_by("created_at")


def test_accepted_reports_reaching_the_threshold_file_a_repeat_offender_report(author, moderator, settings):
    settings.REPORTS_REPEAT_OFFENDER_THRESHOLD = 2
    _, first = reported_item(author)
    last_item, second = reported_item(author)
    services.close_reports(report_ids=[first.pk], status="accepted", actor=moderator)
    assert not repeat_offender_reports(author).exists()

    services.close_reports(report_ids=[second.pk], status="accepted", actor=moderator)

    (offender,) = repeat_offender_reports(author)
    assert offender.queue.name == "Repeat Offenders" and offender.status == "pending"
    assert offender.item_ref == last_item.pk and offender.reporter is None
    assert offender.system_details["offences"] == 2 and offender.system_details["threshold"] == 2
    assert offender.author_metadata["flaggedItemsCount"] == 2
    assert "2 offences" in offender.additional_information


def test_prompt_policy_flags_count_as_offences(author, moderator, settings):
    settings.REPORTS_REPEAT_OFFENDER_THRESHOLD = 2
    _, accepted = reported_item(author)
    services.close_reports(report_ids=[accepted.pk], status="accepted", actor=moderator)
    flag(make_item(author))
    assert repeat_offender_reports(author).count() == 1


def test_one_open_repeat_offender_report_at_a_time_and_the_next_after_more_offences(author, moderator, settings):
    settings.REPORTS_REPEAT_OFFENDER_THRESHOLD = 2
    for _ in range(3):
        flag(make_item(author))
    (first,) = repeat_offender_reports(author)
    assert first.system_details["offences"] == 2
    services.close_reports(report_ids=[first.pk], status="declined", actor=moderator)

    flag(make_item(author))  # 4 offences: 2 more than at the last one
    assert repeat_offender_reports(author).count() == 2
    assert repeat_offender_reports(author).last().system_details["offences"] == 4


def test_a_threshold_of_zero_turns_the_queue_off(author, settings):
    settings.REPORTS_REPEAT_OFFENDER_THRESHOLD = 0
    for _ in range(5):
        flag(make_item(author))
    assert not repeat_offender_reports(author).exists()


def test_declined_flags_do_not_count(author, moderator, settings):
    settings.REPORTS_REPEAT_OFFENDER_THRESHOLD = 2
    flag(make_item(author))
    services.close_reports(
        report_ids=list(Report.objects.values_list("pk", flat=True)), status="declined", actor=moderator
    )
    flag(make_item(author))
    assert not repeat_offender_reports(author).exists()


def test_accepting_a_repeat_offender_report_on_a_removed_item_keeps_the_count(author, moderator, settings):
    settings.REPORTS_REPEAT_OFFENDER_THRESHOLD = 1
    _, accepted = reported_item(author)
    services.close_reports(report_ids=[accepted.pk], status="accepted", actor=moderator)
    (offender,) = repeat_offender_reports(author)
    (result,) = services.close_reports(report_ids=[offender.pk], status="accepted", actor=moderator)
    assert result.success and state(offender).status == "accepted"
    from apps.reports.selectors import flagged_items_count

    assert flagged_items_count(author) == 1


# --- the sweep ---------------------------------------------------------------------------------------------


def test_the_sweep_declines_reports_whose_item_vanished(author, moderator):
    protected, on_protected = reported_item(author)
    Item.objects.filter(pk=protected.pk).update(is_protected=True)
    deleted, on_deleted = reported_item(author)
    Item.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    purged, on_purged = reported_item(author)
    Item.all_objects.filter(pk=purged.pk).hard_delete()
    removed, accepted = reported_item(author)
    services.close_reports(report_ids=[accepted.pk], status="accepted", actor=moderator)
    still_open = services.report_items(reporter=staff_with_role("moderator"), item_ids=[make_item(author).pk])
    second_on_removed = Report.objects.create(
        domain=accepted.domain, item=removed, item_ref=removed.pk, queue=accepted.queue, reporter=moderator
    )

    out = io.StringIO()
    call_command("decline_vanished_reports", stdout=out)

    assert out.getvalue().strip() == "Automatically declined 3 report(s)."
    for report in (on_protected, on_deleted, on_purged):
        assert state(report).status == "automaticallyDeclined"
        assert state(report).approver is None
    # An item removed by an accepted report keeps its other reports open for a moderator.
    assert state(second_on_removed).status == "pending"
    assert Report.objects.get(pk=still_open[0].report_id).status == "pending"
    events = ModerationEvent.objects.filter(kind="report_auto_declined")
    assert events.count() == 3 and set(events.values_list("source", flat=True)) == {"command"}
    assert services.decline_vanished_reports() == 0  # idempotent


def test_the_sweep_task_calls_the_service(author):
    from apps.reports.tasks import decline_vanished_reports

    deleted, _ = reported_item(author)
    Item.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    assert decline_vanished_reports() == 1
    assert ModerationEvent.objects.get().source == "system"


# --- export_reports ----------------------------------------------------------------------------------------


def test_export_reports_writes_the_epoch_csv(author, moderator, tmp_path):
    _, old = reported_item(author)
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    _, accepted = reported_item(author)
    _, pending = reported_item(author)
    services.close_reports(report_ids=[accepted.pk, old.pk], status="accepted", actor=moderator)
    target = tmp_path / "epoch.csv"
    since = (timezone.now() - timedelta(days=1)).date().isoformat()

    out = io.StringIO()
    call_command("export_reports", "--status", "accepted", "--since", since, "--out", str(target), stdout=out)

    assert out.getvalue().strip() == f"Wrote 1 report(s) to {target}."
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [row["reportId"] for row in rows] == [str(accepted.pk)]
    assert rows[0]["moderatorDecision"] == "accepted" and rows[0]["approverEmail"] == moderator.email
    assert (state(accepted).download_count, state(old).download_count, state(pending).download_count) == (1, 0, 0)
    assert ModerationEvent.objects.filter(kind="reports_exported", source="command").count() == 1


def test_export_reports_to_standard_output_and_its_errors(author):
    reported_item(author)
    out, err = io.StringIO(), io.StringIO()
    call_command("export_reports", "--queue", "Not Specified", "--out", "-", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("reportId,reportedDate,") and len(lines) == 2
    assert err.getvalue().strip() == "Wrote 1 report(s)."
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown queue"):
        call_command("export_reports", "--queue", "Nope", "--out", "-", stdout=io.StringIO())
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("export_reports", "--since", "last week", "--out", "-", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No domain"):
        call_command("export_reports", "--domain", "nowhere", "--out", "-", stdout=io.StringIO())


# --- demo data -----------------------------------------------------------------------------------------------


def test_the_demo_seed_is_idempotent():
    from apps.accounts import demo as accounts_demo

    list(accounts_demo.seed())
    lines = list(demo.seed())
    assert "queue Spam (created)" in lines and lines[-1] == "no demo report: alice has no item to report"
    from apps.accounts.models import User

    alice = User.objects.get(email="alice@example.com")
    make_item(alice)
    assert list(demo.seed())[-1].endswith("(created)")
    assert list(demo.seed())[-1].endswith("(exists)")
    assert Report.objects.count() == 1


def test_removed_default_and_system_queues_come_back():
    from apps.reports.defaults import ensure_queues
    from apps.reports.models import ReportQueue

    ReportQueue.objects.filter(kind="repeat_offender").delete()
    ReportQueue.objects.filter(is_default=True).update(name="Unsorted")
    ReportQueue.objects.create(name="Prompt Policy (old)")
    ensure_queues()
    ensure_queues()
    assert ReportQueue.objects.filter(kind="repeat_offender").count() == 1
    assert ReportQueue.objects.get(is_default=True).name == "Unsorted"  # staff's edit is kept
    assert ReportQueue.objects.filter(kind="prompt_policy").count() == 1


def test_reporting_without_a_default_queue_restores_it(author):
    from apps.reports.models import ReportQueue

    ReportQueue.objects.filter(is_default=True).delete()
    (result,) = services.report_items(reporter=author, item_ids=[make_item(author).pk])
    assert result.success
    assert Report.objects.get().queue.name == "Not Specified"

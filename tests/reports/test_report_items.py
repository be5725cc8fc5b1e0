"""reportItems and getReportQueues over HTTP: the answer per id, every refusal, the snapshots, the
queues users may name, bad input, and who may call them."""

import pytest
from rest_framework.test import APIClient

from apps.reports.models import Report, ReportQueue
from tests.factories import UserFactory

from .support import (
    NOT_SIGNED_IN,
    as_admin_key,
    as_session,
    as_user,
    file_object,
    file_report,
    make_item,
    ok,
    queue,
    session_for,
    staff_with_role,
)

pytestmark = pytest.mark.django_db

URL = "/reportItems"
QUEUES = "/getReportQueues"


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def author():
    return UserFactory(email="painter@example.com", username="painter")


def report(client, headers, ids, **body):
    return client.post(URL, {"itemIds": [str(i) for i in ids], **body}, format="json", **headers)


# --- reportItems -----------------------------------------------------------------------------------------


def test_a_report_is_filed_with_its_snapshots_in_the_default_queue(client, author):
    picture = file_object()
    item = make_item(
        author,
        file=picture,
        raw_prompt="a cat, badword",
        prompt="a cat",
        raw_negative_prompt="blurry, badword",
        negative_prompt="blurry",
        workflow_template_name="portrait-v2",
        model="flux-dev",
    )

    response = report(client, as_user(author), [item.pk], additionalInformation="  not what I asked for  ")

    assert response.status_code == 200
    body = response.json()
    (entry,) = body["payload"]
    assert set(body) == {"hasError", "errorMessage", "payload"}
    assert body["hasError"] is False and body["errorMessage"] is None
    assert set(entry) == {"id", "reportId", "success"}
    assert entry["id"] == str(item.pk) and entry["success"] is True
    saved = Report.objects.get(pk=entry["reportId"])
    assert saved.queue.name == "Not Specified" and saved.queue.is_default
    assert (saved.status, saved.source, saved.reporter, saved.author) == ("pending", "user", author, author)
    assert saved.additional_information == "not what I asked for"
    assert saved.item_metadata == {
        "rawPositivePrompt": "a cat, badword",
        "filteredPositivePrompt": "a cat",
        "rawNegativePrompt": "blurry, badword",
        "filteredNegativePrompt": "blurry",
        "workflowUsed": "portrait-v2",
        "modelId": "flux-dev",
        "url": f"http://testserver/getFile?id={picture.pk}",
    }
    assert saved.author_metadata == {
        "userId": str(author.pk),
        "userEmail": "painter@example.com",
        "username": "painter",
        "flaggedItemsCount": 0,
        "abuse": 0,
        "isDisabled": False,
    }


def test_the_snapshot_does_not_follow_later_changes(client, author):
    item = make_item(author, prompt="first prompt")
    entry = report(client, as_user(author), [item.pk]).json()["payload"][0]
    type(item).objects.filter(pk=item.pk).update(prompt="edited later")
    author.abuse_level = 1
    author.save()
    saved = Report.objects.get(pk=entry["reportId"])
    assert saved.item_metadata["filteredPositivePrompt"] == "first prompt"
    assert saved.author_metadata["abuse"] == 0


def test_a_named_queue_is_used_case_insensitively(client, author):
    spam = queue("Spam")
    item = make_item(author)
    entry = report(client, as_user(author), [item.pk], reportQueue=" spam ").json()["payload"][0]
    assert Report.objects.get(pk=entry["reportId"]).queue == spam


@pytest.mark.parametrize("name", ["No Such Queue", "Prompt Policy", "Repeat Offenders", "Retired"])
def test_unknown_system_and_inactive_queues_are_refused_and_nothing_is_filed(client, author, name):
    queue("Retired", is_active=False)
    item = make_item(author)
    response = report(client, as_user(author), [item.pk], reportQueue=name)
    assert response.status_code == 400
    body = response.json()
    assert body["hasError"] is True and body["payload"] is None
    assert "reportQueue" in body["errorMessage"] and "Not Specified" in body["errorMessage"]
    assert not Report.objects.exists()


def test_each_refusal_answers_for_its_own_id_in_order(client, author):
    mine = make_item(author)
    protected = make_item(author, is_protected=True)
    approved = make_item(author, public_approval_status="approved")
    theirs = make_item(UserFactory())  # private: the reporter may not see it
    deleted = make_item(author)
    type(deleted).objects.filter(pk=deleted.pk).update(deleted_at=deleted.created_at)
    again = make_item(author)
    file_report(author, again)
    unknown = "00000000-0000-4000-8000-000000000000"
    ids = [mine.pk, protected.pk, approved.pk, theirs.pk, deleted.pk, again.pk, unknown, mine.pk]

    response = report(client, as_user(author), ids)

    assert response.status_code == 200
    payload = response.json()["payload"]
    assert [entry["id"] for entry in payload] == [str(i) for i in ids[:-1]]  # a repeated id is answered once
    assert payload[0]["success"] is True and payload[0]["reportId"]
    refused = {entry["id"]: entry for entry in payload[1:]}
    for entry in refused.values():
        assert set(entry) == {"id", "reportId", "success", "message"}
        assert entry["success"] is False and entry["reportId"] is None
    assert "protected" in refused[str(protected.pk)]["message"]
    assert "approved" in refused[str(approved.pk)]["message"]
    assert "already reported" in refused[str(again.pk)]["message"]
    for gone in (theirs.pk, deleted.pk, unknown):
        assert refused[str(gone)]["message"] == "No item with this id exists, or you may not see it."
    assert Report.objects.count() == 2


def test_a_closed_report_lets_the_user_report_the_item_again(client, author):
    from apps.reports import services

    item = make_item(author)
    first = file_report(author, item)
    services.close_reports(report_ids=[first.pk], status="declined", actor=staff_with_role("moderator"))
    entry = report(client, as_user(author), [item.pk]).json()["payload"][0]
    assert entry["success"] is True and entry["reportId"] != str(first.pk)


def test_two_users_report_the_same_item_separately(client, author):
    moderator = staff_with_role("moderator")  # items.view_item: sees every item
    item = make_item(author)
    first = report(client, as_user(author), [item.pk]).json()["payload"][0]
    second = report(client, as_user(moderator), [item.pk]).json()["payload"][0]
    assert first["success"] and second["success"] and first["reportId"] != second["reportId"]
    assert Report.objects.filter(item_ref=item.pk).count() == 2


def test_an_items_admin_reports_items_of_anyone(client, author):
    item = make_item(author)
    moderator = staff_with_role("moderator")
    entry = report(client, as_admin_key(moderator), [item.pk]).json()["payload"][0]
    saved = Report.objects.get(pk=entry["reportId"])
    assert (saved.reporter, saved.author) == (moderator, author)


def test_a_guests_item_is_reported_without_author(client):
    guest = session_for()
    item = make_item(None, guest_session=guest)
    moderator = staff_with_role("moderator")
    entry = report(client, as_user(moderator), [item.pk]).json()["payload"][0]
    saved = Report.objects.get(pk=entry["reportId"])
    assert saved.author is None and saved.author_metadata == {}


def test_reporting_needs_a_signed_in_user(client, author):
    item = make_item(author)
    for headers in ({}, as_session(session_for())):
        response = report(client, headers, [item.pk])
        assert response.status_code == 401
        assert response.json() == {"hasError": True, "errorMessage": NOT_SIGNED_IN, "payload": None}
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"itemIds": []},
        {"itemIds": "not-a-uuid"},
        {"itemIds": [42]},
        {"itemIds": {"a": 1}},
        {"itemIds": ["00000000-0000-4000-8000-000000000000"] * 1001},
        {"itemIds": ["00000000-0000-4000-8000-000000000000"], "reportQueue": 7},
        {"itemIds": ["00000000-0000-4000-8000-000000000000"], "additionalInformation": ["x"]},
        {"itemIds": ["00000000-0000-4000-8000-000000000000"], "additionalInformation": "x" * 5001},
    ],
)
def test_bad_input_is_a_400_and_files_nothing(client, author, body):
    make_item(author)
    response = client.post(URL, body, format="json", **as_user(author))
    assert response.status_code == 400
    assert response.json()["hasError"] is True
    assert not Report.objects.exists()


def test_item_ids_may_be_one_comma_separated_string(client, author):
    first, second = make_item(author), make_item(author)
    response = client.post(URL, {"itemIds": f"{first.pk}, {second.pk}"}, format="json", **as_user(author))
    assert [entry["success"] for entry in response.json()["payload"]] == [True, True]


def test_a_malformed_session_header_is_a_401(client):
    response = client.post(URL, {"itemIds": []}, format="json", HTTP_X_SESSION_ID="nope")
    assert response.status_code == 401


# --- getReportQueues -----------------------------------------------------------------------------------------


@pytest.fixture
def user_queues():
    queue("Violence", position=20)
    queue("Spam", position=10)
    queue("Retired", position=5, is_active=False)


def test_users_and_guests_see_the_active_user_queues_in_order(client, user_queues):
    for headers in (as_session(session_for()), as_user(UserFactory())):
        response = client.get(QUEUES, **headers)
        assert response.status_code == 200
        assert response.json() == ok(["Not Specified", "Spam", "Violence"])


def test_admins_also_see_the_system_queues(client, user_queues):
    expected = ok(["Not Specified", "Spam", "Violence", "Prompt Policy", "Repeat Offenders"])
    moderator = staff_with_role("moderator")
    assert client.get(QUEUES, **as_admin_key(moderator)).json() == expected
    assert client.get(QUEUES, **as_user(moderator)).json() == expected


def test_staff_without_the_reports_permission_see_the_user_queues(client, user_queues):
    support = staff_with_role("support")
    assert client.get(QUEUES, **as_admin_key(support)).json() == ok(["Not Specified", "Spam", "Violence"])


def test_report_queues_need_a_session(client):
    response = client.get(QUEUES)
    assert response.status_code == 401
    assert response.json()["errorMessage"] == NOT_SIGNED_IN


def test_the_default_and_system_queues_exist_after_migrations():
    kinds = dict(ReportQueue.objects.values_list("name", "kind"))
    assert kinds == {"Not Specified": "user", "Prompt Policy": "prompt_policy", "Repeat Offenders": "repeat_offender"}
    assert ReportQueue.objects.get(is_default=True).name == "Not Specified"

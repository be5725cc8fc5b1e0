"""getReports, closeReports and downloadReportsForEpoch over HTTP: the ItemReport object, the filters
and pagination, accepting and declining (and what happens to the items and their authors), automatic
declines, the Epoch CSV, bad input, and the permission matrix."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.items.models import Item
from apps.reports import services
from apps.reports.models import ModerationEvent, Report
from tests.factories import DomainFactory, UserFactory

from .support import (
    FORBIDDEN,
    NOT_SIGNED_IN,
    as_admin_key,
    as_session,
    as_user,
    file_object,
    file_report,
    iso,
    make_item,
    queue,
    reported_item,
    session_for,
    staff_with_role,
    state,
    viewer,
)

pytestmark = pytest.mark.django_db

GET = "/getReports"
CLOSE = "/closeReports"
DOWNLOAD = "/downloadReportsForEpoch"


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def moderator():
    return staff_with_role("moderator")


@pytest.fixture
def mod(moderator):
    return as_admin_key(moderator)


@pytest.fixture
def author():
    return UserFactory(email="painter@example.com", username="painter")


def close(client, headers, ids, status, **body):
    return client.post(
        CLOSE, {"reportIds": [str(i) for i in ids], "reportStatus": status, **body}, format="json", **headers
    )


def report_over_http(client, reporter, item, **body) -> Report:
    """A report filed through reportItems (its itemMetadata.url is then absolute)."""
    response = client.post("/reportItems", {"itemIds": [str(item.pk)], **body}, format="json", **as_user(reporter))
    return Report.objects.get(pk=response.json()["payload"][0]["reportId"])


def live(item) -> bool:
    return Item.objects.filter(pk=item.pk).exists()


# --- permissions -------------------------------------------------------------------------------------------


def _calls(report_id):
    return [
        ("get", GET, {}),
        ("post", CLOSE, {"reportIds": [str(report_id)], "reportStatus": "declined"}),
        ("get", DOWNLOAD, {"reportIds": str(report_id)}),
    ]


def _call(client, method, url, data, headers):
    if method == "get":
        return client.get(url, data, **headers)
    return client.post(url, data, format="json", **headers)


def test_nobody_and_guests_are_not_signed_in(client, author):
    _, saved = reported_item(author)
    for method, url, data in _calls(saved.pk):
        for headers in ({}, as_session(session_for())):
            response = _call(client, method, url, data, headers)
            assert response.status_code == 401, url
            assert response.json() == {"hasError": True, "errorMessage": NOT_SIGNED_IN, "payload": None}
    assert state(saved).status == "pending"


@pytest.mark.parametrize("role", [None, "support"])
def test_users_and_staff_without_the_permissions_are_forbidden(client, author, role):
    _, saved = reported_item(author)
    person = staff_with_role(role) if role else author
    headers = as_admin_key(person) if role else as_user(person)
    for method, url, data in _calls(saved.pk):
        response = _call(client, method, url, data, headers)
        assert response.status_code == 403, url
        assert response.json() == {"hasError": True, "errorMessage": FORBIDDEN, "payload": None}
    assert state(saved).status == "pending" and state(saved).download_count == 0


@pytest.mark.parametrize("role", ["moderator", "admin"])
@pytest.mark.parametrize("credential", ["key", "session"])
def test_moderators_and_admins_may_use_every_endpoint(client, author, role, credential):
    staff = staff_with_role(role)
    headers = as_admin_key(staff) if credential == "key" else as_user(staff)
    _, saved = reported_item(author)
    assert client.get(GET, **headers).status_code == 200
    assert client.get(DOWNLOAD, {"reportIds": str(saved.pk)}, **headers).status_code == 200
    assert close(client, headers, [saved.pk], "declined").status_code == 200
    assert state(saved).status == "declined"


def test_the_permissions_are_checked_one_by_one(client, author):
    from django.contrib.auth.models import Permission

    reader = staff_with_role(None)
    reader.user_permissions.add(Permission.objects.get(codename="view_report"))
    _, saved = reported_item(author)
    headers = as_admin_key(reader)
    assert client.get(GET, **headers).status_code == 200
    assert close(client, headers, [saved.pk], "declined").status_code == 403
    assert client.get(DOWNLOAD, {"reportIds": str(saved.pk)}, **headers).status_code == 403


# --- getReports --------------------------------------------------------------------------------------------


def test_a_pending_user_report_as_an_item_report(client, mod, author):
    picture = file_object()
    reporter = viewer()
    item = make_item(author, file=picture, prompt="a cat", raw_prompt="a cat!")
    saved = report_over_http(client, reporter, item, additionalInformation="spam")

    response = client.get(GET, **mod)

    assert response.status_code == 200
    body = response.json()
    assert body["hasError"] is False and body["errorMessage"] is None
    assert body["metadata"] == {
        "paginationIndex": "0",
        "nextPaginationIndex": None,
        "reversePagination": False,
        "skipCount": 0,
        "limit": 100,
        "count": 1,
        "totalCount": 1,
    }
    assert body["payload"] == [
        {
            "itemId": str(item.pk),
            "reporterId": str(reporter.pk),
            "reportId": str(saved.pk),
            "reportedDate": iso(saved.created_at),
            "reportStatus": "pending",
            "reportQueues": ["Not Specified"],
            "reportAdditionalInformation": "spam",
            "downloadCount": 0,
            "itemMetadata": {
                "rawPositivePrompt": "a cat!",
                "filteredPositivePrompt": "a cat",
                "url": f"http://testserver/getFile?id={picture.pk}",
            },
            "authorMetadata": {
                "userId": str(author.pk),
                "userEmail": "painter@example.com",
                "username": "painter",
                "flaggedItemsCount": 0,
                "abuse": 0,
                "isDisabled": False,
            },
        }
    ]


def test_a_closed_report_shows_the_decision(client, mod, moderator, author):
    _, saved = reported_item(author)
    close(client, mod, [saved.pk], "declined", additionalInformation="fine art")
    services.export_reports(reports=Report.objects.all(), out=io.StringIO())
    saved = state(saved)

    (entry,) = client.get(GET, **mod).json()["payload"]

    assert entry["reportStatus"] == "declined"
    assert entry["approvalAdditionalInformation"] == "fine art"
    assert entry["approverId"] == str(moderator.pk)
    assert entry["reportProcessedDate"] == iso(saved.processed_at)
    assert entry["downloadCount"] == 1
    assert entry["downloadLastDate"] == iso(saved.download_last_at)


def test_filters_by_ids_status_queues_author_and_dates(client, mod, author):
    other = UserFactory()
    spam = queue("Spam")
    now = timezone.now()
    _, a = reported_item(author)
    _, b = reported_item(other)
    item_c = make_item(author)
    c = file_report(viewer(), item_c, queue_name="Spam")
    Report.objects.filter(pk=a.pk).update(created_at=now - timedelta(days=3))
    Report.objects.filter(pk=b.pk).update(created_at=now - timedelta(days=1))
    close(client, mod, [b.pk], "declined")
    a, b, c = state(a), state(b), state(c)

    def ids(**query):
        response = client.get(GET, query, **mod)
        assert response.status_code == 200, response.json()
        return {entry["reportId"] for entry in response.json()["payload"]}

    assert ids(reportIds=f"{a.pk},{c.pk}") == {str(a.pk), str(c.pk)}
    assert ids(reportStatus="declined") == {str(b.pk)}
    assert ids(reportStatus="pending,declined") == {str(a.pk), str(b.pk), str(c.pk)}
    assert ids(reportStatus="accepted") == set()
    assert ids(reportQueues="spam") == {str(c.pk)}
    assert ids(reportQueues="Spam,Not Specified") == {str(a.pk), str(b.pk), str(c.pk)}
    assert ids(authorId=str(author.pk)) == {str(a.pk), str(c.pk)}
    # Both bounds are inclusive, to the millisecond shown in reportedDate.
    assert ids(createdAfter=iso(b.created_at)) == {str(b.pk), str(c.pk)}
    assert ids(createdBefore=iso(b.created_at)) == {str(a.pk), str(b.pk)}
    assert ids(createdAfter=iso(b.created_at), createdBefore=iso(b.created_at)) == {str(b.pk)}
    # A bare date means that whole day; any UTC offset may be given.
    day = (now - timedelta(days=3)).date().isoformat()
    assert str(a.pk) in ids(createdBefore=day) and str(c.pk) not in ids(createdBefore=day)
    later = (now + timedelta(minutes=5)).astimezone(timezone.get_fixed_timezone(120))
    assert ids(createdAfter=later.isoformat()) == set()
    assert ids(createdBefore="9999-12-31") == ids(createdBefore="9999-12-31T23:59:59.999999Z") == ids()
    # A queue name no queue has matches nothing, as an unknown id does.
    assert ids(reportQueues="No Such Queue") == set()
    assert spam.reports.count() == 1


@pytest.mark.parametrize(
    "query",
    [
        {"reportIds": "nope"},
        {"reportStatus": "open"},
        {"reportIds": ""},
        {"reportStatus": ""},
        {"reportQueues": "Spam,,Violence"},
        {"createdAfter": "yesterday"},
        {"createdAfter": "2025-01-01T10:00:00"},
        {"createdAfter": "2025-02-30"},
        {"createdBefore": "2025-01-01T10:00:00+24:00"},
        {"createdBefore": "2025-13-45"},
        {"authorId": "x"},
        {"limit": 0},
        {"limit": 1001},
        {"paginationIndex": "abc"},
    ],
)
def test_bad_filters_are_a_400(client, mod, query):
    response = client.get(GET, query, **mod)
    assert response.status_code == 400
    assert response.json()["hasError"] is True and response.json()["payload"] is None


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-31",
        "2025-01-31T12:00:00Z",
        "2025-01-31t12:00:00z",
        "2025-01-31T12:00:00.1234567+05:30",
        "2016-12-31T23:59:60Z",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59.999999-23:59",
    ],
)
def test_every_rfc_3339_date_form_is_accepted(client, mod, value):
    for name in ("createdAfter", "createdBefore"):
        response = client.get(GET, {name: value}, **mod)
        assert response.status_code == 200, (name, value, response.json())


def test_reports_of_another_site_are_not_listed_nor_closed(client, mod, author):
    _, saved = reported_item(author)
    Report.objects.filter(pk=saved.pk).update(domain=DomainFactory())
    assert client.get(GET, **mod).json()["payload"] == []
    (entry,) = close(client, mod, [saved.pk], "accepted").json()["payload"]
    assert entry == {"id": str(saved.pk), "success": False, "message": "No report with this id exists."}
    assert client.get(DOWNLOAD, {"reportIds": str(saved.pk)}, **mod).status_code == 404


def test_pages_follow_next_pagination_index_without_repeats(client, mod, author):
    now = timezone.now()
    saved = []
    for i in range(7):
        _, report = reported_item(author)
        Report.objects.filter(pk=report.pk).update(created_at=now - timedelta(seconds=i // 2))  # ties
        saved.append(report.pk)
    seen, index = [], None
    while True:
        query = {"limit": 3} | ({"paginationIndex": index} if index else {})
        body = client.get(GET, query, **mod).json()
        seen += [entry["reportId"] for entry in body["payload"]]
        index = body["metadata"]["nextPaginationIndex"]
        assert body["metadata"]["totalCount"] == 7
        if index is None:
            break
    assert sorted(seen) == sorted(str(pk) for pk in saved) and len(seen) == 7
    oldest_first = client.get(GET, {"reversePagination": "true"}, **mod).json()["payload"]
    assert [entry["reportId"] for entry in oldest_first] == list(reversed(seen))


def test_get_reports_runs_a_constant_number_of_queries(client, mod, author):
    for _ in range(30):
        reported_item(author)
    client.get(GET, {"limit": 1}, **mod)  # the site's domain is cached from here on
    counts = []
    for limit in (1, 10, 30):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(GET, {"limit": limit}, **mod)
        assert response.status_code == 200 and len(response.json()["payload"]) == limit
        counts.append(len(captured))
    assert counts[0] == counts[1] == counts[2]


# --- closeReports ------------------------------------------------------------------------------------------


def test_accepting_deletes_the_item_and_flags_the_author(client, mod, moderator, author):
    folder_id = "11111111-1111-4111-8111-111111111111"
    item, saved = reported_item(author, folder_id=folder_id, tags=["cat", "night"])

    response = close(client, mod, [saved.pk], "accepted", additionalInformation="  breaks the rules ")

    assert response.status_code == 200
    assert response.json()["payload"] == [{"id": str(saved.pk), "success": True}]
    gone = Item.all_objects.get(pk=item.pk)
    assert gone.deleted_at is not None and gone.folder_id is None and gone.tags == []
    saved = state(saved)
    assert (saved.status, saved.approver, saved.approval_additional_information) == (
        "accepted",
        moderator,
        "breaks the rules",
    )
    assert saved.processed_at is not None
    event = ModerationEvent.objects.get(report_id=saved.pk)
    assert (event.kind, event.source, event.actor_id, event.actor_email) == (
        "report_accepted",
        "api",
        moderator.pk,
        moderator.email,
    )
    assert (event.subject_id, event.subject_email, event.note, event.item_ref) == (
        author.pk,
        author.email,
        "breaks the rules",
        item.pk,
    )
    user = client.get("/getUser", {"userID": str(author.pk)}, **mod).json()["payload"]
    assert user["flaggedImagesCount"] == 1


def test_declining_leaves_the_item_alone(client, mod, author):
    item, saved = reported_item(author, tags=["cat"])
    assert close(client, mod, [saved.pk], "declined").json()["payload"] == [{"id": str(saved.pk), "success": True}]
    assert live(item) and Item.objects.get(pk=item.pk).tags == ["cat"]
    assert state(saved).status == "declined"
    assert ModerationEvent.objects.get(report_id=saved.pk).kind == "report_declined"
    assert client.get("/getUser", {"userID": str(author.pk)}, **mod).json()["payload"]["flaggedImagesCount"] == 0


def test_close_related_reports_widens_the_close_to_the_items_other_reports(client, mod, author):
    item, first = reported_item(author)
    second = file_report(viewer(), item)
    third = file_report(viewer(), item)
    _, elsewhere = reported_item(author)

    payload = close(client, mod, [first.pk], "declined", closeRelatedReports=True).json()["payload"]

    assert payload == [{"id": str(pk), "success": True} for pk in (first.pk, second.pk, third.pk)]
    assert {state(r).status for r in (first, second, third)} == {"declined"}
    assert state(elsewhere).status == "pending"


def test_without_close_related_the_other_reports_stay_open(client, mod, author):
    item, first = reported_item(author)
    second = file_report(viewer(), item)
    close(client, mod, [first.pk], "accepted")
    assert state(second).status == "pending"
    # The item was removed by moderation: its other reports may still be accepted (no second flag).
    assert close(client, mod, [second.pk], "accepted").json()["payload"] == [{"id": str(second.pk), "success": True}]
    assert client.get("/getUser", {"userID": str(author.pk)}, **mod).json()["payload"]["flaggedImagesCount"] == 1


def test_flags_count_distinct_items(client, mod, author):
    reports = [reported_item(author)[1] for _ in range(3)]
    close(client, mod, [r.pk for r in reports[:2]], "accepted")
    close(client, mod, [reports[2].pk], "declined")
    assert client.get("/getUser", {"userID": str(author.pk)}, **mod).json()["payload"]["flaggedImagesCount"] == 2
    from apps.accounts.profile import item_counts

    assert item_counts(author).flagged_images_count == 2


def test_closed_unknown_and_repeated_ids_fail_alone(client, mod, author):
    _, done = reported_item(author)
    close(client, mod, [done.pk], "declined")
    _, fresh = reported_item(author)
    unknown = "00000000-0000-4000-8000-000000000000"

    payload = close(client, mod, [done.pk, unknown, fresh.pk, fresh.pk], "accepted").json()["payload"]

    assert payload == [
        {"id": str(done.pk), "success": False, "message": "The report is already closed (declined)."},
        {"id": unknown, "success": False, "message": "No report with this id exists."},
        {"id": str(fresh.pk), "success": True},
    ]
    assert state(done).status == "declined"


def test_reports_on_protected_or_vanished_items_are_declined_automatically(client, mod, author):
    protected, on_protected = reported_item(author)
    Item.objects.filter(pk=protected.pk).update(is_protected=True)
    deleted, on_deleted = reported_item(author)
    Item.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())  # by its owner
    purged, on_purged = reported_item(author)
    Item.all_objects.filter(pk=purged.pk).hard_delete()

    payload = close(client, mod, [on_protected.pk, on_deleted.pk, on_purged.pk], "accepted").json()["payload"]

    reasons = {entry["id"]: entry["message"] for entry in payload}
    assert all(entry["success"] is False for entry in payload)
    assert reasons == {
        str(on_protected.pk): "The item is protected. The report was closed as automaticallyDeclined.",
        str(on_deleted.pk): "The item was deleted before a decision. The report was closed as automaticallyDeclined.",
        str(on_purged.pk): "The item no longer exists. The report was closed as automaticallyDeclined.",
    }
    for saved in (on_protected, on_deleted, on_purged):
        saved = state(saved)
        assert saved.status == "automaticallyDeclined" and saved.processed_at is not None
        assert saved.approval_additional_information.endswith("closed as automaticallyDeclined.")
    assert state(on_purged).item_ref == purged.pk and state(on_purged).item is None
    assert Item.objects.filter(pk=protected.pk).exists()  # never deleted
    kinds = set(ModerationEvent.objects.values_list("kind", flat=True))
    assert kinds == {"report_auto_declined"}
    assert client.get("/getUser", {"userID": str(author.pk)}, **mod).json()["payload"]["flaggedImagesCount"] == 0
    # getReports still shows the purged item's id
    listed = client.get(GET, {"reportIds": str(on_purged.pk)}, **mod).json()["payload"]
    assert listed[0]["itemId"] == str(purged.pk)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reportIds": [], "reportStatus": "accepted"},
        {"reportIds": ["nope"], "reportStatus": "accepted"},
        {"reportIds": "00000000-0000-4000-8000-000000000000"},
        {"reportIds": ["00000000-0000-4000-8000-000000000000"], "reportStatus": "pending"},
        {"reportIds": ["00000000-0000-4000-8000-000000000000"], "reportStatus": "automaticallyDeclined"},
        {"reportIds": ["00000000-0000-4000-8000-000000000000"], "reportStatus": True},
        {"reportIds": ["00000000-0000-4000-8000-000000000000"] * 1001, "reportStatus": "accepted"},
        {
            "reportIds": ["00000000-0000-4000-8000-000000000000"],
            "reportStatus": "accepted",
            "closeRelatedReports": "yes",
        },
        {"reportIds": ["00000000-0000-4000-8000-000000000000"], "reportStatus": "accepted", "additionalInformation": 1},
        {
            "reportIds": ["00000000-0000-4000-8000-000000000000"],
            "reportStatus": "accepted",
            "additionalInformation": "x" * 5001,
        },
    ],
)
def test_bad_close_input_is_a_400_and_changes_nothing(client, mod, author, body):
    item, saved = reported_item(author)
    if isinstance(body.get("reportIds"), list) and body["reportIds"] == ["00000000-0000-4000-8000-000000000000"]:
        body = body | {"reportIds": [str(saved.pk)]}
    response = client.post(CLOSE, body, format="json", **mod)
    assert response.status_code == 400
    assert response.json()["hasError"] is True
    assert state(saved).status == "pending" and live(item)
    assert not ModerationEvent.objects.exists()


def test_an_accepted_reports_item_leaves_every_listing_and_an_admin_restores_it(client, mod, author):
    item, saved = reported_item(author)
    owner = as_user(author)
    admin = as_admin_key(staff_with_role("admin"))
    assert str(item.pk) in [i["id"] for i in client.get("/getMyCreations", **owner).json()["payload"]]

    close(client, mod, [saved.pk], "accepted")

    assert client.get("/getMyCreations", **owner).json()["payload"] == []
    assert client.get("/getItem", {"imageID": str(item.pk)}, **owner).status_code == 404
    assert client.get("/getItemDetails", {"imageID": str(item.pk)}, **owner).status_code == 404
    assert str(item.pk) not in [i["id"] for i in client.get("/getItems", **admin).json()["payload"]]

    restored = client.post("/restoreItems", {"imageIDs": [str(item.pk)]}, format="json", **admin)
    assert restored.json()["payload"] == [{"id": str(item.pk), "success": True}]
    assert [i["id"] for i in client.get("/getMyCreations", **owner).json()["payload"]] == [str(item.pk)]
    # The decision stands: the report stays accepted and the flag counted.
    assert state(saved).status == "accepted"
    assert client.get("/getUser", {"userID": str(author.pk)}, **mod).json()["payload"]["flaggedImagesCount"] == 1


# --- downloadReportsForEpoch ---------------------------------------------------------------------------------


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_epoch_csv_and_its_download_counter(client, mod, moderator, author):
    picture = file_object()
    reporter = viewer()
    item = make_item(author, file=picture, raw_prompt="=HYPERLINK(1)", prompt="a cat", model="flux")
    first = report_over_http(client, reporter, item, additionalInformation="spam")
    _, second = reported_item(author)
    close(client, mod, [first.pk], "accepted", additionalInformation="gone")
    first = state(first)

    response = client.get(DOWNLOAD, {"reportIds": f"{second.pk},{first.pk}"}, **mod)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="reports-epoch-')
    header = response.content.decode().splitlines()[0]
    assert header == (
        "reportId,reportedDate,reportStatus,reportQueues,reportProcessedDate,itemId,itemUrl,rawPositivePrompt,"
        "filteredPositivePrompt,rawNegativePrompt,filteredNegativePrompt,workflowUsed,modelId,authorId,"
        "authorEmail,reporterId,reportAdditionalInformation,moderatorDecision,approverId,approverEmail,"
        "approvalAdditionalInformation"
    )
    rows = _rows(response)
    assert [row["reportId"] for row in rows] == [str(first.pk), str(second.pk)]  # oldest first
    assert rows[0] == {
        "reportId": str(first.pk),
        "reportedDate": iso(first.created_at),
        "reportStatus": "accepted",
        "reportQueues": "Not Specified",
        "reportProcessedDate": iso(first.processed_at),
        "itemId": str(item.pk),
        "itemUrl": f"http://testserver/getFile?id={picture.pk}",
        "rawPositivePrompt": "'=HYPERLINK(1)",  # a spreadsheet shows it as text
        "filteredPositivePrompt": "a cat",
        "rawNegativePrompt": "",
        "filteredNegativePrompt": "",
        "workflowUsed": "",
        "modelId": "flux",
        "authorId": str(author.pk),
        "authorEmail": "painter@example.com",
        "reporterId": str(reporter.pk),
        "reportAdditionalInformation": "spam",
        "moderatorDecision": "accepted",
        "approverId": str(moderator.pk),
        "approverEmail": moderator.email,
        "approvalAdditionalInformation": "gone",
    }
    assert rows[1]["moderatorDecision"] == "" and rows[1]["approverId"] == ""

    listed = client.get(GET, {"reportIds": f"{first.pk},{second.pk}"}, **mod).json()["payload"]
    assert {entry["downloadCount"] for entry in listed} == {1}
    assert all(entry["downloadLastDate"] for entry in listed)
    client.get(DOWNLOAD, {"reportIds": str(first.pk)}, **mod)
    assert (state(first).download_count, state(second).download_count) == (2, 1)
    exports = ModerationEvent.objects.filter(kind="reports_exported")
    assert exports.count() == 2 and exports.first().actor_id == moderator.pk


@pytest.mark.parametrize("query", [{}, {"reportIds": ""}, {"reportIds": "nope"}, {"reportIds": ",".join(["x"] * 3)}])
def test_bad_download_input_is_a_400(client, mod, query):
    response = client.get(DOWNLOAD, query, **mod)
    assert response.status_code == 400
    assert response.json()["hasError"] is True


def test_an_unknown_report_is_a_404_and_nothing_is_counted(client, mod, author):
    _, saved = reported_item(author)
    response = client.get(DOWNLOAD, {"reportIds": f"{saved.pk},00000000-0000-4000-8000-000000000000"}, **mod)
    assert response.status_code == 404
    assert (
        response.json()["hasError"] is True
        and "00000000-0000-4000-8000-000000000000" in response.json()["errorMessage"]
    )
    assert state(saved).download_count == 0


# --- the published schema ------------------------------------------------------------------------------------


def _response_schema(path: str, method: str = "get") -> dict:
    """The 200 JSON schema of an operation of the OpenAPI document, references inlined, for jsonschema."""
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    components = document["components"]["schemas"]

    def resolve(node):
        if isinstance(node, list):
            return [resolve(value) for value in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return resolve(components[node["$ref"].rsplit("/", 1)[-1]])
        node = {key: resolve(value) for key, value in node.items()}
        if node.pop("nullable", False):
            return {"anyOf": [node, {"type": "null"}]}
        return node

    operation = document["paths"][path][method]
    return resolve(operation["responses"]["200"]["content"]["application/json"]["schema"])


def test_answers_match_the_published_schema(client, mod, author):
    import jsonschema

    item, accepted = reported_item(author, raw_prompt="raw", prompt="filtered", model="flux")
    _, pending = reported_item(author)
    close(client, mod, [accepted.pk], "accepted", additionalInformation="note")
    services.flag_prompt_policy(items=[make_item(author)], terms=["x"])
    services.export_reports(reports=Report.objects.all(), out=io.StringIO())

    listed = client.get(GET, **mod).json()
    assert len(listed["payload"]) == 3
    jsonschema.validate(listed, _response_schema("/getReports"))
    closed = close(client, mod, [pending.pk, accepted.pk], "declined").json()
    jsonschema.validate(closed, _response_schema("/closeReports", "post"))
    filed = client.post(
        "/reportItems", {"itemIds": [str(make_item(author).pk), str(item.pk)]}, format="json", **as_user(author)
    ).json()
    jsonschema.validate(filed, _response_schema("/reportItems", "post"))
    jsonschema.validate(client.get("/getReportQueues", **mod).json(), _response_schema("/getReportQueues"))

"""The public approval workflow over HTTP (Annex: Public Items Approval Workflow and Annex: Rejecting
an Item after Approval): the owner's setItemProperties and the admins' setPublicApprovalStatus."""

import threading
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.items import services
from apps.items.models import ApprovalDecision, Item
from tests.factories import UserFactory
from tests.items.support import (
    NOT_SIGNED_IN,
    as_admin_key,
    as_session,
    as_user,
    make_item,
    session_for,
    staff_with_role,
)

pytestmark = pytest.mark.django_db

FINAL_APPROVED = "The item's public approval status is approved, which is final: it cannot be changed."
FINAL_REJECTED = "The item's public approval status is rejected, which is final: it cannot be changed."
TOO_MANY = "You already have 50 items pending approval, the most allowed; withdraw one or wait for a decision."


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def moderator():
    return staff_with_role("moderator")


def state(item) -> tuple[str, bool]:
    item = Item.all_objects.get(pk=item.pk)
    return item.public_approval_status, item.is_public


def set_props(client, headers, item, **props):
    return client.post("/setItemProperties", {"imageID": str(item.pk), **props}, format="json", **headers)


def decide(client, headers, items, decision):
    ids = ",".join(str(item.pk) for item in items)
    return client.post(
        "/setPublicApprovalStatus", {"imageIDs": ids, "publicApprovalStatus": decision}, format="json", **headers
    )


def error_of(response) -> str:
    body = response.json()
    assert body["hasError"] is True and body["payload"] is None
    return body["errorMessage"]


# --- the owner: none <-> pending ------------------------------------------------------------------


def test_new_item_starts_private_with_status_none(owner):
    item = make_item(owner)
    assert state(item) == ("none", False)


def test_owner_submits_and_withdraws_an_item(client, owner):
    item = make_item(owner)
    headers = as_user(owner)

    submitted = set_props(client, headers, item, publicApprovalStatus="pending")
    assert submitted.status_code == 200
    payload = submitted.json()["payload"]
    assert payload["id"] == str(item.pk)
    assert payload["publicApprovalStatus"] == "pending" and payload["isPublic"] is False
    assert state(item) == ("pending", False)

    withdrawn = set_props(client, headers, item, publicApprovalStatus="none")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["payload"]["publicApprovalStatus"] == "none"
    assert state(item) == ("none", False)


@pytest.mark.parametrize("start", ["none", "pending"])
def test_setting_is_public_before_approval_has_no_effect(client, owner, start):
    item = make_item(owner, public_approval_status=start)
    response = set_props(client, as_user(owner), item, isPublic=True)
    assert response.status_code == 200
    assert response.json()["payload"]["isPublic"] is False
    assert state(item) == (start, False)


@pytest.mark.parametrize("start", ["none", "pending"])
@pytest.mark.parametrize("asked", ["approved", "rejected"])
def test_owner_asking_for_a_decision_has_no_effect(client, owner, start, asked):
    item = make_item(owner, public_approval_status=start)
    response = set_props(client, as_user(owner), item, publicApprovalStatus=asked)
    assert response.status_code == 200
    assert state(item) == (start, False)
    assert not ApprovalDecision.objects.exists()


def test_at_most_fifty_pending_per_user(client, owner):
    for _ in range(services.MAX_PENDING_PER_USER):
        make_item(owner, public_approval_status="pending")
    Item.objects.create(owner=UserFactory(), public_approval_status="pending")  # someone else's count apart
    item = make_item(owner)

    response = set_props(client, as_user(owner), item, publicApprovalStatus="pending")

    assert response.status_code == 409
    assert error_of(response) == TOO_MANY
    assert state(item) == ("none", False)


def test_withdrawing_one_makes_room_for_another(client, owner):
    pending = [make_item(owner, public_approval_status="pending") for _ in range(services.MAX_PENDING_PER_USER)]
    item = make_item(owner)
    headers = as_user(owner)
    assert set_props(client, headers, pending[0], publicApprovalStatus="none").status_code == 200
    assert set_props(client, headers, item, publicApprovalStatus="pending").status_code == 200
    assert state(item) == ("pending", False)


def test_deleted_pending_items_do_not_count(client, owner):
    gone = [make_item(owner, public_approval_status="pending") for _ in range(services.MAX_PENDING_PER_USER)]
    Item.objects.filter(pk__in=[g.pk for g in gone]).delete()
    item = make_item(owner)
    assert set_props(client, as_user(owner), item, publicApprovalStatus="pending").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_never_exceed_the_cap(owner):
    already = services.MAX_PENDING_PER_USER - 3
    for _ in range(already):
        make_item(owner, public_approval_status="pending")
    candidates = [make_item(owner) for _ in range(10)]
    sessions = [session_for(owner) for _ in candidates]
    barrier = threading.Barrier(len(candidates))
    statuses = []

    def submit(item, session):
        try:
            barrier.wait()
            response = APIClient().post(
                "/setItemProperties",
                {"imageID": str(item.pk), "publicApprovalStatus": "pending"},
                format="json",
                **as_session(session),
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=pair) for pair in zip(candidates, sessions, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 3 + [409] * 7
    assert Item.objects.filter(owner=owner, public_approval_status="pending").count() == services.MAX_PENDING_PER_USER


# --- the owner after a decision ---------------------------------------------------------------------


def test_after_approval_the_owner_toggles_is_public(client, owner, moderator):
    item = make_item(owner, public_approval_status="pending")
    decide(client, as_admin_key(moderator), [item], "approved")
    assert state(item) == ("approved", True)
    headers = as_user(owner)

    hidden = set_props(client, headers, item, isPublic=False)
    assert hidden.status_code == 200 and hidden.json()["payload"]["isPublic"] is False
    assert state(item) == ("approved", False)

    shown = set_props(client, headers, item, isPublic=True)
    assert shown.status_code == 200 and shown.json()["payload"]["isPublic"] is True
    assert state(item) == ("approved", True)


@pytest.mark.parametrize("final,message", [("approved", FINAL_APPROVED), ("rejected", FINAL_REJECTED)])
@pytest.mark.parametrize("asked", ["none", "pending", "approved", "rejected"])
def test_a_decision_is_final_for_the_owner(client, owner, final, message, asked):
    item = make_item(owner, public_approval_status=final, is_public=final == "approved")
    response = set_props(client, as_user(owner), item, publicApprovalStatus=asked, isPublic=False)
    assert response.status_code == 409
    assert error_of(response) == message
    assert state(item) == (final, final == "approved")


def test_rejected_item_cannot_be_made_public(client, owner):
    item = make_item(owner, public_approval_status="rejected")
    response = set_props(client, as_user(owner), item, isPublic=True)
    assert response.status_code == 200
    assert state(item) == ("rejected", False)


# --- setItemProperties refusals and bad input -------------------------------------------------------


def test_someone_elses_item_is_not_found(client, owner):
    item = make_item(owner)
    response = set_props(client, as_user(UserFactory()), item, publicApprovalStatus="pending")
    assert response.status_code == 404
    assert error_of(response) == "No item with this imageID is in your library."
    assert state(item) == ("none", False)


def test_deleted_and_unknown_items_are_not_found(client, owner):
    item = make_item(owner)
    Item.objects.filter(pk=item.pk).delete()
    headers = as_user(owner)
    assert set_props(client, headers, item, publicApprovalStatus="pending").status_code == 404
    unknown = client.post(
        "/setItemProperties", {"imageID": str(uuid.uuid4()), "isPublic": True}, format="json", **headers
    )
    assert unknown.status_code == 404


def test_a_guest_submits_its_own_item(client):
    guest = session_for()
    item = make_item(None, guest_session=guest)
    response = set_props(client, as_session(guest), item, publicApprovalStatus="pending")
    assert response.status_code == 200
    assert state(item) == ("pending", False)


def test_without_a_session_it_is_401(client, owner):
    item = make_item(owner)
    response = set_props(client, {}, item, publicApprovalStatus="pending")
    assert response.status_code == 401
    assert error_of(response) == NOT_SIGNED_IN


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"imageID": "ITEM"},
        {"imageID": "not-a-uuid", "isPublic": True},
        {"imageID": 12345, "isPublic": True},
        {"imageID": "ITEM", "isPublic": "yes"},
        {"imageID": "ITEM", "isPublic": 1},
        {"imageID": "ITEM", "publicApprovalStatus": "published"},
        {"imageID": "ITEM", "publicApprovalStatus": ["pending"]},
    ],
    ids=["empty", "no-property", "malformed-id", "numeric-id", "string-bool", "number-bool", "bad-status", "list"],
)
def test_set_item_properties_bad_input_is_400(client, owner, body):
    item = make_item(owner)
    body = {key: (str(item.pk) if value == "ITEM" else value) for key, value in body.items()}
    response = client.post("/setItemProperties", body, format="json", **as_user(owner))
    assert response.status_code == 400
    assert error_of(response)
    assert state(item) == ("none", False)


# --- admins: approve and reject -----------------------------------------------------------------------


def test_admin_approves_and_rejects_pending_items_and_each_decision_is_recorded(client, owner, moderator):
    first = make_item(owner, public_approval_status="pending")
    second = make_item(owner, public_approval_status="pending")
    headers = as_admin_key(moderator)

    approved = decide(client, headers, [first], "approved")
    assert approved.status_code == 200
    assert approved.json()["payload"] == [{"id": str(first.pk), "success": True}]
    rejected = decide(client, headers, [second], "rejected")
    assert rejected.json()["payload"] == [{"id": str(second.pk), "success": True}]

    assert state(first) == ("approved", True)
    assert state(second) == ("rejected", False)
    decisions = {d.item_id: d for d in ApprovalDecision.objects.all()}
    assert decisions[first.pk].decision == "approved" and decisions[first.pk].moderator_id == moderator.pk
    assert decisions[first.pk].previous_status == "pending"
    assert decisions[second.pk].decision == "rejected" and decisions[second.pk].created_at is not None


def test_admin_rejects_after_approval(client, owner, moderator):
    item = make_item(owner, public_approval_status="pending")
    headers = as_admin_key(moderator)
    decide(client, headers, [item], "approved")
    response = decide(client, headers, [item], "rejected")
    assert response.json()["payload"] == [{"id": str(item.pk), "success": True}]
    assert state(item) == ("rejected", False)
    assert list(
        ApprovalDecision.objects.filter(item=item).order_by("created_at").values_list("decision", "previous_status")
    ) == [
        ("approved", "pending"),
        ("rejected", "approved"),
    ]


@pytest.mark.parametrize(
    "start,decision,message",
    [
        ("none", "approved", "The item is not pending approval."),
        ("none", "rejected", "The item is not pending approval nor approved."),
        ("approved", "approved", "The item is already approved."),
        ("rejected", "rejected", "The item is already rejected."),
        ("rejected", "approved", "The item was rejected; a rejection is final."),
    ],
)
def test_decisions_that_do_not_apply_fail_per_item(client, owner, moderator, start, decision, message):
    item = make_item(owner, public_approval_status=start, is_public=start == "approved")
    response = decide(client, as_admin_key(moderator), [item], decision)
    assert response.status_code == 200
    assert response.json()["payload"] == [{"id": str(item.pk), "success": False, "message": message}]
    assert state(item) == (start, start == "approved")
    assert not ApprovalDecision.objects.exists()


def test_deleted_and_unknown_items_fail_per_item(client, owner, moderator):
    gone = make_item(owner, public_approval_status="pending")
    Item.objects.filter(pk=gone.pk).delete()
    unknown = uuid.uuid4()
    response = client.post(
        "/setPublicApprovalStatus",
        {"imageIDs": [str(gone.pk), str(unknown)], "publicApprovalStatus": "approved"},
        format="json",
        **as_admin_key(moderator),
    )
    assert response.json()["payload"] == [
        {"id": str(gone.pk), "success": False, "message": "The item is deleted."},
        {"id": str(unknown), "success": False, "message": "No item with this id exists, or you may not see it."},
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"publicApprovalStatus": "approved"},
        {"imageIDs": "", "publicApprovalStatus": "approved"},
        {"imageIDs": "nope", "publicApprovalStatus": "approved"},
        {"imageIDs": "ITEM", "publicApprovalStatus": "pending"},
        {"imageIDs": "ITEM", "publicApprovalStatus": "none"},
        {"imageIDs": "ITEM"},
        {"imageIDs": 17, "publicApprovalStatus": "approved"},
        {"imageIDs": "MANY", "publicApprovalStatus": "approved"},
    ],
    ids=["no-ids", "empty-ids", "malformed", "pending", "none", "no-status", "number", "over-1000"],
)
def test_set_public_approval_status_bad_input_is_400(client, owner, moderator, body):
    item = make_item(owner, public_approval_status="pending")
    replacements = {"ITEM": str(item.pk), "MANY": ",".join(str(uuid.uuid4()) for _ in range(1001))}
    body = {key: replacements.get(value, value) if isinstance(value, str) else value for key, value in body.items()}
    response = client.post("/setPublicApprovalStatus", body, format="json", **as_admin_key(moderator))
    assert response.status_code == 400
    assert error_of(response)
    assert state(item) == ("pending", False)


def test_approval_decisions_are_append_only(owner, moderator):
    item = make_item(owner, public_approval_status="pending")
    services.set_public_approval_status(item_ids=[item.pk], decision="approved", moderator=moderator)
    decision = ApprovalDecision.objects.get()
    decision.decision = "rejected"
    with pytest.raises(ValueError, match="append-only"):
        decision.save()
    with pytest.raises(ValueError, match="append-only"):
        decision.delete()
    assert ApprovalDecision.objects.get().decision == "approved"

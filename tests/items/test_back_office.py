"""The items back office: the "Pending approval" queue, the "Approved" list, bulk approve and reject
(recorded decisions), protect / unprotect / restore, the filters, and who may do what."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.items.models import ApprovalDecision, Item
from tests.factories import UserFactory
from tests.items.support import file_object, make_item, staff_with_role

pytestmark = pytest.mark.django_db

QUEUE = "/admin/items/pendingapprovalitem/"
APPROVED = "/admin/items/approveditem/"
ITEMS = "/admin/items/item/"
DECISIONS = "/admin/items/approvaldecision/"


def signed_in(role: str) -> tuple[Client, object]:
    staff = staff_with_role(role)
    client = Client()
    client.force_login(staff)
    return client, staff


def state(item) -> tuple[str, bool]:
    item = Item.all_objects.get(pk=item.pk)
    return item.public_approval_status, item.is_public


def act(client, url, action, items, **query):
    return client.post(
        url + (f"?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else ""),
        {"action": action, "_selected_action": [str(item.pk) for item in items]},
        follow=True,
    )


@pytest.fixture
def owner():
    return UserFactory(email="painter@example.com")


def test_queue_shows_pending_items_with_large_thumbnails_prompt_owner_and_history(owner):
    picture = file_object()
    pending = make_item(owner, public_approval_status="pending", thumbnail=picture, prompt="a red fox in snow")
    make_item(owner, public_approval_status="approved", is_public=True)
    make_item(owner, public_approval_status="rejected")
    not_submitted = make_item(owner, prompt="never submitted")
    client, _ = signed_in("moderator")

    response = client.get(QUEUE)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"/getFile?id={picture.pk}" in html and "max-width:320px" in html
    assert "a red fox in snow" in html
    assert "painter@example.com" in html
    assert "4 items; 1 approved, 1 rejected, 1 pending." in html
    assert str(pending.pk) in html and str(not_submitted.pk) not in html


def test_bulk_approve_and_reject_call_the_approval_service(owner):
    first, second = (make_item(owner, public_approval_status="pending") for _ in range(2))
    third = make_item(owner, public_approval_status="pending")
    client, moderator = signed_in("moderator")

    approved = act(client, QUEUE, "approve", [first, second])
    assert "Approved 2 item(s)." in approved.content.decode()
    rejected = act(client, QUEUE, "reject", [third])
    assert "Rejected 1 item(s)." in rejected.content.decode()

    assert state(first) == ("approved", True) and state(second) == ("approved", True)
    assert state(third) == ("rejected", False)
    assert ApprovalDecision.objects.filter(moderator=moderator).count() == 3


def test_approved_list_rejects_after_approval(owner):
    item = make_item(owner, public_approval_status="approved", is_public=True)
    pending = make_item(owner, public_approval_status="pending")
    client, moderator = signed_in("moderator")

    listing = client.get(APPROVED).content.decode()
    assert str(item.pk) in listing and str(pending.pk) not in listing

    act(client, APPROVED, "reject", [item])
    assert state(item) == ("rejected", False)
    decision = ApprovalDecision.objects.get(item=item)
    assert (decision.decision, decision.previous_status, decision.moderator_id) == (
        "rejected",
        "approved",
        moderator.pk,
    )
    assert str(item.pk) in client.get(DECISIONS).content.decode()


def test_filters_by_model_date_and_owner(owner):
    other = UserFactory(email="sculptor@example.com")
    mine = make_item(owner, public_approval_status="pending", model="flux")
    theirs = make_item(other, public_approval_status="pending", model="sdxl")
    old = make_item(owner, public_approval_status="pending", model="flux")
    Item.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    client, _ = signed_in("moderator")

    by_model = client.get(QUEUE, {"model": "sdxl"}).content.decode()
    assert str(theirs.pk) in by_model and str(mine.pk) not in by_model

    by_owner = client.get(QUEUE, {"owner": str(owner.pk)}).content.decode()
    assert str(mine.pk) in by_owner and str(old.pk) in by_owner and str(theirs.pk) not in by_owner

    since = (timezone.now() - timedelta(days=7)).isoformat()
    by_date = client.get(QUEUE, {"created_at__gte": since}).content.decode()
    assert str(mine.pk) in by_date and str(old.pk) not in by_date

    assert client.get(QUEUE, {"owner": "not-a-uuid"}).status_code == 200


def test_protect_unprotect_and_restore_actions(owner):
    item = make_item(owner)
    gone = make_item(owner, tags=["x"])
    Item.objects.filter(pk=gone.pk).delete()
    client, _ = signed_in("admin")

    assert "Protected 1 item(s)." in act(client, ITEMS, "protect", [item]).content.decode()
    assert Item.objects.get(pk=item.pk).is_protected
    act(client, ITEMS, "unprotect", [item])
    assert not Item.objects.get(pk=item.pk).is_protected

    response = act(client, ITEMS, "restore", [gone, item], deleted="")
    assert "Restored 1 item(s)." in response.content.decode()
    assert "1 item(s) were not deleted." in response.content.decode()
    restored = Item.objects.get(pk=gone.pk)
    assert restored.tags == [] and restored.folder_id is None


def test_moderators_cannot_protect_or_restore(owner):
    item = make_item(owner)
    client, _ = signed_in("moderator")
    page = client.get(ITEMS)
    assert page.status_code == 200
    assert 'value="protect"' not in page.content.decode()
    act(client, ITEMS, "protect", [item])
    assert not Item.objects.get(pk=item.pk).is_protected


def test_support_staff_see_no_review_queue(owner):
    make_item(owner, public_approval_status="pending")
    client, _ = signed_in("support")
    assert client.get(QUEUE).status_code == 403
    assert client.get(APPROVED).status_code == 403


def test_decisions_cannot_be_edited_or_deleted_in_the_back_office(owner):
    item = make_item(owner, public_approval_status="pending")
    client, _ = signed_in("admin")
    act(client, QUEUE, "approve", [item])
    decision = ApprovalDecision.objects.get()
    page = client.get(f"{DECISIONS}{decision.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"{DECISIONS}{decision.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ApprovalDecision.objects.filter(pk=decision.pk).exists()

"""AIMG item writes over HTTP: deleteItems, restoreItems, setProtected, migrateLibrary, the accounts
hooks (guest sign-in, deleteUser with deleteItems) and a permission matrix over the admin endpoints."""

import io
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.billing.models import Subscription
from apps.core.domains import default_domain
from apps.items.models import Item
from tests.factories import UserFactory
from tests.items.support import (
    FORBIDDEN,
    NOT_SIGNED_IN,
    as_admin_key,
    as_session,
    as_user,
    make_folder,
    make_item,
    ok,
    session_for,
    staff_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def admin():
    return as_admin_key(staff_with_role("admin"))


def subscribe(user, tier: int) -> Subscription:
    return Subscription.objects.create(
        user=user, domain=user.domain, merchant_processor="stripe", tier=tier, product_id=f"stripe-tier{tier}"
    )


def delete(client, headers, **query):
    return client.delete(f"/deleteItems?{urlencode(query)}", **headers)


def fresh(item) -> Item:
    return Item.all_objects.get(pk=item.pk)


def error_of(response) -> str:
    body = response.json()
    assert body["hasError"] is True and body["payload"] is None
    return body["errorMessage"]


# --- deleteItems ----------------------------------------------------------------------------------


def test_delete_items_deletes_own_items_and_answers_per_id(client, owner):
    item = make_item(owner, folder=make_folder(owner), folder_added_at=timezone.now(), tags=["sea", "dusk"])
    protected = make_item(owner, is_protected=True)
    foreign = make_item(UserFactory())
    unknown = uuid.uuid4()

    response = delete(client, as_user(owner), imageIDs=f"{item.pk},{protected.pk},{foreign.pk},{unknown}")

    assert response.status_code == 200
    assert response.json() == ok(
        [
            {"id": str(item.pk), "success": True},
            {
                "id": str(protected.pk),
                "success": False,
                "message": "The item is protected and cannot be deleted; contact an admin.",
            },
            {"id": str(foreign.pk), "success": False, "message": "The item does not belong to you; contact an admin."},
            {"id": str(unknown), "success": False, "message": "No item with this id exists, or you may not see it."},
        ]
    )
    deleted = fresh(item)
    assert deleted.is_deleted and deleted.folder_id is None and deleted.folder_added_at is None and deleted.tags == []
    assert not fresh(protected).is_deleted
    assert not fresh(foreign).is_deleted


def test_delete_items_twice_reports_the_item_already_deleted(client, owner):
    item = make_item(owner)
    headers = as_user(owner)
    delete(client, headers, imageIDs=str(item.pk))
    response = delete(client, headers, imageIDs=str(item.pk))
    assert response.json()["payload"] == [
        {"id": str(item.pk), "success": False, "message": "The item is already deleted."}
    ]


def test_delete_items_repeated_id_answers_once(client, owner):
    item = make_item(owner)
    response = delete(client, as_user(owner), imageIDs=f"{item.pk}, {item.pk}")
    assert response.json()["payload"] == [{"id": str(item.pk), "success": True}]


def test_guest_session_deletes_its_own_items_only(client, owner):
    guest = session_for()
    mine = make_item(None, guest_session=guest)
    other_guest = make_item(None, guest_session=session_for())
    response = delete(client, as_session(guest), imageIDs=f"{mine.pk},{other_guest.pk}")
    assert [entry["success"] for entry in response.json()["payload"]] == [True, False]
    assert fresh(mine).is_deleted and not fresh(other_guest).is_deleted


def test_admin_deletes_anyones_items_but_never_protected_ones(client, owner, admin):
    item = make_item(owner)
    protected = make_item(owner, is_protected=True)
    response = delete(client, admin, imageIDs=f"{item.pk},{protected.pk}")
    assert [entry["success"] for entry in response.json()["payload"]] == [True, False]
    assert fresh(item).is_deleted and not fresh(protected).is_deleted


def test_delete_all_items_needs_a_tier_above_two(client, owner):
    item = make_item(owner)
    subscribe(owner, 2)
    response = delete(client, as_user(owner), userID=str(owner.pk))
    assert response.status_code == 403
    assert error_of(response) == "Deleting all your items at once needs a PRO tier above 2."
    assert not fresh(item).is_deleted


def test_delete_all_items_with_tier_three_keeps_protected_and_others_items(client, owner):
    first, second = make_item(owner), make_item(owner)
    protected = make_item(owner, is_protected=True)
    foreign = make_item(UserFactory())
    subscribe(owner, 3)

    response = delete(client, as_user(owner), userID=str(owner.pk), imageIDs=str(foreign.pk))

    assert response.status_code == 200
    payload = {entry["id"]: entry for entry in response.json()["payload"]}
    assert payload[str(first.pk)]["success"] and payload[str(second.pk)]["success"]
    assert payload[str(protected.pk)]["success"] is False
    assert str(foreign.pk) not in payload  # imageIDs is ignored with userID
    assert fresh(first).is_deleted and fresh(second).is_deleted
    assert not fresh(protected).is_deleted and not fresh(foreign).is_deleted


def test_user_may_not_delete_all_items_of_someone_else(client, owner):
    victim = UserFactory()
    item = make_item(victim)
    subscribe(owner, 5)
    response = delete(client, as_user(owner), userID=str(victim.pk))
    assert response.status_code == 403
    assert error_of(response) == "You can only delete all the items of your own account."
    assert not fresh(item).is_deleted


def test_guest_may_not_delete_all_items(client):
    response = delete(client, as_session(session_for()), userID=str(uuid.uuid4()))
    assert response.status_code == 401
    assert error_of(response) == NOT_SIGNED_IN


def test_admin_deletes_all_items_of_any_user(client, owner, admin):
    items = [make_item(owner) for _ in range(3)]
    response = delete(client, admin, userID=str(owner.pk))
    assert response.status_code == 200
    assert len(response.json()["payload"]) == 3
    assert all(fresh(item).is_deleted for item in items)


def test_admin_delete_all_of_unknown_user_is_404(client, admin):
    response = delete(client, admin, userID=str(uuid.uuid4()))
    assert response.status_code == 404
    assert error_of(response) == "No user of this site has this userID."


def test_admin_key_without_the_permission_is_refused(client, owner):
    item = make_item(owner)
    response = delete(client, as_admin_key(staff_with_role("support")), imageIDs=str(item.pk))
    assert response.status_code == 403
    assert not fresh(item).is_deleted


def test_delete_items_without_credentials_is_401(client, owner):
    item = make_item(owner)
    response = delete(client, {}, imageIDs=str(item.pk))
    assert response.status_code == 401
    assert not fresh(item).is_deleted


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"imageIDs": ""},
        {"imageIDs": "not-a-uuid"},
        {"imageIDs": ",".join(str(uuid.uuid4()) for _ in range(1001))},
        {"userID": "42"},
    ],
    ids=["nothing", "empty", "malformed", "over-1000", "bad-user-id"],
)
def test_delete_items_bad_input_is_400(client, owner, query):
    item = make_item(owner)
    response = delete(client, as_user(owner), **query)
    assert response.status_code == 400
    assert error_of(response)
    assert not fresh(item).is_deleted


def test_delete_items_accepts_exactly_1000_ids(client, owner):
    item = make_item(owner)
    ids = [str(item.pk)] + [str(uuid.uuid4()) for _ in range(999)]
    response = delete(client, as_user(owner), imageIDs=",".join(ids))
    assert response.status_code == 200
    assert len(response.json()["payload"]) == 1000
    assert fresh(item).is_deleted


def test_delete_items_with_post_is_405(client, owner):
    response = client.post("/deleteItems", {"imageIDs": [str(uuid.uuid4())]}, format="json", **as_user(owner))
    assert response.status_code == 405


# --- restoreItems ---------------------------------------------------------------------------------


def test_restore_items_follows_the_five_rules(client, owner, admin):
    folder = make_folder(owner)
    created = timezone.now() - timedelta(days=30)
    item = make_item(owner, at=created, folder=folder, folder_added_at=created, tags=["a"])
    Item.objects.filter(pk=item.pk).update(is_public=True, public_approval_status="approved")
    pending = make_item(owner, public_approval_status="pending")
    live = make_item(owner)
    delete(client, as_user(owner), imageIDs=f"{item.pk},{pending.pk}")
    # Put back what the deletion cleared, to see the restore clear it on its own.
    Item.all_objects.filter(pk=item.pk).update(folder=folder, folder_added_at=created, tags=["a"])
    before = timezone.now()

    response = client.post(
        "/restoreItems", {"imageIDs": [str(item.pk), str(pending.pk), str(live.pk)]}, format="json", **admin
    )

    assert response.status_code == 200
    assert response.json() == ok(
        [
            {"id": str(item.pk), "success": True},
            {"id": str(pending.pk), "success": True},
            {"id": str(live.pk), "success": False, "message": "The item is not deleted."},
        ]
    )
    restored = fresh(item)
    assert not restored.is_deleted
    assert restored.folder_id is None and restored.folder_added_at is None  # back to the root folder
    assert restored.reference_at >= before  # sorted as just added
    assert restored.tags == []
    assert restored.is_public is False and restored.public_approval_status == "approved"
    assert fresh(pending).public_approval_status == "pending"


def test_restore_items_by_user_id_restores_every_deleted_item_of_that_user(client, owner, admin):
    items = [make_item(owner) for _ in range(2)]
    other = make_item(UserFactory())
    Item.objects.filter(pk__in=[i.pk for i in [*items, other]]).delete()
    response = client.post(
        "/restoreItems", {"userID": str(owner.pk), "imageIDs": [str(other.pk)]}, format="json", **admin
    )
    assert response.status_code == 200
    assert sorted(entry["id"] for entry in response.json()["payload"]) == sorted(str(i.pk) for i in items)
    assert not any(fresh(i).is_deleted for i in items)
    assert fresh(other).is_deleted


def test_restore_items_of_unknown_user_is_404_and_unknown_item_fails(client, admin):
    response = client.post("/restoreItems", {"userID": str(uuid.uuid4())}, format="json", **admin)
    assert response.status_code == 404
    unknown = uuid.uuid4()
    response = client.post("/restoreItems", {"imageIDs": str(unknown)}, format="json", **admin)
    assert response.json()["payload"] == [
        {"id": str(unknown), "success": False, "message": "No item with this id exists, or you may not see it."}
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"imageIDs": []},
        {"imageIDs": ["nope"]},
        {"imageIDs": [1, 2]},
        {"imageIDs": 7},
        {"imageIDs": [str(uuid.uuid4()) for _ in range(1001)]},
        {"userID": 12},
    ],
    ids=["nothing", "empty", "malformed", "numbers", "number", "over-1000", "numeric-user"],
)
def test_restore_items_bad_input_is_400(client, admin, body):
    response = client.post("/restoreItems", body, format="json", **admin)
    assert response.status_code == 400
    assert error_of(response)


def test_restore_items_is_for_admins_only(client, owner):
    item = make_item(owner)
    Item.objects.filter(pk=item.pk).delete()
    response = client.post("/restoreItems", {"imageIDs": [str(item.pk)]}, format="json", **as_user(owner))
    assert response.status_code == 403
    assert error_of(response) == FORBIDDEN
    assert fresh(item).is_deleted


# --- setProtected ---------------------------------------------------------------------------------


def test_set_protected_toggles_and_reports_the_new_state(client, owner, admin):
    item = make_item(owner)
    unknown = uuid.uuid4()
    body = {"imageIDs": [str(item.pk), str(unknown)]}

    first = client.post("/setProtected", body, format="json", **admin)
    assert first.status_code == 200
    assert first.json() == ok(
        [
            {"id": str(item.pk), "success": True, "message": "true"},
            {"id": str(unknown), "success": False, "message": "No item with this id exists, or you may not see it."},
        ]
    )
    assert fresh(item).is_protected

    second = client.post("/setProtected", {"imageIDs": [str(item.pk)]}, format="json", **admin)
    assert second.json()["payload"] == [{"id": str(item.pk), "success": True, "message": "false"}]
    assert not fresh(item).is_protected


def test_protected_item_survives_its_owners_delete(client, owner, admin):
    item = make_item(owner)
    client.post("/setProtected", {"imageIDs": [str(item.pk)]}, format="json", **admin)
    response = delete(client, as_user(owner), imageIDs=str(item.pk))
    assert response.json()["payload"][0]["success"] is False
    assert not fresh(item).is_deleted


@pytest.mark.parametrize(
    "body",
    [{}, {"imageIDs": []}, {"imageIDs": ["x"]}, {"imageIDs": {"a": 1}}, {"imageIDs": [str(uuid.uuid4())] * 1001}],
    ids=["nothing", "empty", "malformed", "object", "over-1000"],
)
def test_set_protected_bad_input_is_400(client, admin, body):
    response = client.post("/setProtected", body, format="json", **admin)
    assert response.status_code == 400


# --- migrateLibrary -------------------------------------------------------------------------------


def test_migrate_library_moves_live_items_and_folders_only(client, owner, admin):
    destination = UserFactory()
    folder = make_folder(owner, public=True)
    live = [make_item(owner, folder=folder), make_item(owner, is_protected=True)]
    gone = make_item(owner)
    Item.objects.filter(pk=gone.pk).delete()
    deleted_folder = make_folder(owner)
    deleted_folder.delete()
    bystander = make_item(UserFactory())

    response = client.post(
        "/migrateLibrary",
        {"sourceUserID": str(owner.pk), "destinationUserID": str(destination.pk)},
        format="json",
        **admin,
    )

    assert response.status_code == 200
    assert response.json() == ok({"success": True, "message": "Moved 2 items and 1 folder."})
    assert all(fresh(item).owner_id == destination.pk for item in live)
    assert fresh(live[0]).folder_id == folder.pk  # items keep their folder, which moved with them
    folder.refresh_from_db()
    deleted_folder.refresh_from_db()
    assert (folder.owner_id, deleted_folder.owner_id) == (destination.pk, owner.pk)
    assert fresh(gone).owner_id == owner.pk
    assert fresh(bystander).owner_id != destination.pk


def test_migrate_library_from_a_disabled_source_works(client, owner, admin):
    destination = UserFactory()
    item = make_item(owner)
    accounts.delete_user(user=owner)
    response = client.post(
        "/migrateLibrary",
        {"sourceUserID": str(owner.pk), "destinationUserID": str(destination.pk)},
        format="json",
        **admin,
    )
    assert response.status_code == 200
    assert fresh(item).owner_id == destination.pk


@pytest.mark.parametrize("how", ["inactive", "deleted"])
def test_migrate_library_refuses_a_disabled_destination(client, owner, admin, how):
    destination = UserFactory()
    if how == "inactive":
        destination.is_active = False
        destination.save()
    else:
        accounts.delete_user(user=destination)
    item = make_item(owner)
    response = client.post(
        "/migrateLibrary",
        {"sourceUserID": str(owner.pk), "destinationUserID": str(destination.pk)},
        format="json",
        **admin,
    )
    assert response.status_code == 409
    assert error_of(response) == "The destination user is disabled; a library can only move to an active user."
    assert fresh(item).owner_id == owner.pk


def test_migrate_library_bad_input(client, owner, admin):
    same = client.post(
        "/migrateLibrary", {"sourceUserID": str(owner.pk), "destinationUserID": str(owner.pk)}, format="json", **admin
    )
    assert same.status_code == 400
    unknown = client.post(
        "/migrateLibrary",
        {"sourceUserID": str(uuid.uuid4()), "destinationUserID": str(owner.pk)},
        format="json",
        **admin,
    )
    assert unknown.status_code == 404
    assert error_of(unknown) == "No user of this site has this sourceUserID."
    for body in (
        {},
        {"sourceUserID": "x", "destinationUserID": str(owner.pk)},
        {"sourceUserID": 5, "destinationUserID": 6},
    ):
        assert client.post("/migrateLibrary", body, format="json", **admin).status_code == 400


# --- hooks of the accounts app --------------------------------------------------------------------


def test_guest_items_move_to_the_user_on_sign_in(owner):
    guest = session_for()
    item = make_item(None, guest_session=guest)
    accounts.sign_in(user=owner, session=guest, domain=default_domain())
    assert fresh(item).owner_id == owner.pk


def test_delete_user_with_delete_items_soft_deletes_the_items(owner):
    item = make_item(owner)
    keeper = UserFactory()
    kept = make_item(keeper)
    accounts.delete_user(user=owner, delete_items=True)
    accounts.delete_user(user=keeper, delete_items=False)
    assert fresh(item).is_deleted
    assert not fresh(kept).is_deleted


# --- permission matrix over the admin endpoints ---------------------------------------------------


def _admin_requests(item):
    ids = [str(item.pk)]
    return {
        "restoreItems": {"imageIDs": ids},
        "setPublicApprovalStatus": {"imageIDs": ids, "publicApprovalStatus": "rejected"},
        "setProtected": {"imageIDs": ids},
        "migrateLibrary": {"sourceUserID": str(item.owner_id), "destinationUserID": str(UserFactory().pk)},
    }


@pytest.mark.parametrize("endpoint", ["restoreItems", "setPublicApprovalStatus", "setProtected", "migrateLibrary"])
@pytest.mark.parametrize(
    "caller,status",
    [
        ("anonymous", 401),
        ("guest", 401),
        ("user", 403),
        ("other-user", 403),
        ("support-key", 403),
        ("admin-key", 200),
        ("admin-session", 200),
    ],
)
def test_admin_endpoint_permission_matrix(client, owner, endpoint, caller, status):
    item = make_item(owner, public_approval_status="pending")
    headers = {
        "anonymous": lambda: {},
        "guest": lambda: as_session(session_for()),
        "user": lambda: as_user(owner),
        "other-user": lambda: as_user(UserFactory()),
        "support-key": lambda: as_admin_key(staff_with_role("support")),
        "admin-key": lambda: as_admin_key(staff_with_role("admin")),
        "admin-session": lambda: as_user(staff_with_role("admin")),
    }[caller]()
    before = fresh(item)
    response = client.post(f"/{endpoint}", _admin_requests(item)[endpoint], format="json", **headers)
    assert response.status_code == status, response.content
    after = fresh(item)
    if status != 200:
        assert (after.owner_id, after.is_protected, after.public_approval_status) == (
            before.owner_id,
            before.is_protected,
            before.public_approval_status,
        )
    else:
        assert response.json()["hasError"] is False


@pytest.mark.parametrize(
    "endpoint,allowed",
    [("setPublicApprovalStatus", True), ("setProtected", False), ("restoreItems", False), ("migrateLibrary", False)],
)
def test_moderators_may_only_decide_approvals(client, owner, endpoint, allowed):
    item = make_item(owner, public_approval_status="pending")
    headers = as_admin_key(staff_with_role("moderator"))
    response = client.post(f"/{endpoint}", _admin_requests(item)[endpoint], format="json", **headers)
    assert response.status_code == (200 if allowed else 403)


# --- staff commands -------------------------------------------------------------------------------


def test_restore_items_command_by_user_and_by_ids(owner):
    first, second = make_item(owner), make_item(owner, tags=["x"])
    Item.objects.filter(pk__in=[first.pk, second.pk]).delete()
    out, err = io.StringIO(), io.StringIO()

    call_command("restore_items", "--ids", f"{first.pk},{uuid.uuid4()}", stdout=out, stderr=err)
    assert "Restored 1 item(s)." in out.getvalue()
    assert "No item with this id exists" in err.getvalue()
    assert not fresh(first).is_deleted and fresh(second).is_deleted

    call_command("restore_items", "--user", owner.email, stdout=out)
    assert not fresh(second).is_deleted and fresh(second).tags == []

    with pytest.raises(CommandError, match="comma-separated list"):
        call_command("restore_items", "--ids", "nope")
    with pytest.raises(CommandError, match="No such user"):
        call_command("restore_items", "--user", "nobody@example.com")


def test_migrate_library_command(owner):
    destination = UserFactory()
    item = make_item(owner)
    out = io.StringIO()
    call_command("migrate_library", "--from", owner.email, "--to", destination.email, stdout=out)
    assert out.getvalue().strip() == "Moved 1 item and 0 folders."
    assert fresh(item).owner_id == destination.pk

    destination.is_active = False
    destination.save()
    with pytest.raises(CommandError, match="destination user is disabled"):
        call_command("migrate_library", "--from", owner.email, "--to", destination.email)

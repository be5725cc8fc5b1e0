"""AIMG folder contents over HTTP: addImagesTo…Folder, removeImagesFrom…Folder, moveItemsBetweenFolders,
the public-folder eligibility rules, item deletion and restore, the profile counts, library migration,
and the generation hooks (``resolve_target_folder`` / ``place_new_items``)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.errors import InvalidInput, NotFound
from apps.folders import selectors, services
from apps.folders.models import Folder, FolderThumbnail
from apps.items import services as item_services
from apps.items.models import Item
from tests.factories import UserFactory
from tests.items.support import as_admin_key, as_session, as_user, make_item, session_for, staff_with_role

from .factories import FolderFactory, PublicFolderFactory
from .support import error, fresh, payload, post, public_item

pytestmark = pytest.mark.django_db

NOT_IN_LIBRARY = "No item with this id is in your library."


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def headers(owner):
    return as_user(owner)


def ids(*items) -> list[str]:
    return [str(item.pk) for item in items]


def stale(folder) -> None:
    """Age the folder's updatedDate, to see a change move it."""
    Folder.all_objects.filter(pk=folder.pk).update(updated_at=timezone.now() - timedelta(days=1))


# --- addImagesTo…Folder --------------------------------------------------------------------------------


def test_add_images_to_self_folder(client, owner, headers):
    folder = FolderFactory(owner=owner)
    stale(folder)
    before = fresh(folder).updated_at
    first, second = make_item(owner), make_item(owner)
    foreign = make_item(UserFactory())

    body = payload(
        post(
            client,
            "/addImagesToSelfFolder",
            {"folderID": str(folder.pk), "imageIDs": [*ids(first, second, foreign), str(uuid.uuid4())]},
            headers,
        )
    )

    assert body == {"success": True}
    assert fresh(first).folder_id == fresh(second).folder_id == folder.pk
    assert fresh(first).folder_added_at is not None and fresh(first).reference_at >= fresh(first).folder_added_at
    assert fresh(foreign).folder_id is None
    assert fresh(folder).updated_at > before
    listed = payload(client.get("/getSelfFolders", **headers))[0]
    assert listed["imageCount"] == 2


def test_add_images_fails_when_no_item_could_be_added(client, owner, headers):
    folder = FolderFactory(owner=owner)
    stale(folder)
    before = fresh(folder).updated_at
    deleted = make_item(owner)
    deleted.delete()
    body = payload(
        post(
            client,
            "/addImagesToSelfFolder",
            {"folderID": str(folder.pk), "imageIDs": [*ids(make_item(UserFactory()), deleted), str(uuid.uuid4())]},
            headers,
        )
    )
    assert body == {"success": False}
    assert fresh(folder).updated_at == before
    assert not Item.all_objects.filter(folder=folder).exists()


def test_adding_an_item_moves_it_out_of_its_former_folder(client, owner, headers):
    former, folder = FolderFactory(owner=owner), FolderFactory(owner=owner)
    item = make_item(owner)
    services.add_items(folder=former, item_ids=[item.pk])
    FolderThumbnail.objects.create(folder=former, item=item, position=0)
    stale(former)
    before = fresh(former).updated_at

    body = payload(post(client, "/addImagesToSelfFolder", {"folderID": str(folder.pk), "imageIDs": ids(item)}, headers))

    assert body == {"success": True}
    assert fresh(item).folder_id == folder.pk
    assert not FolderThumbnail.objects.filter(folder=former).exists()
    assert fresh(former).updated_at > before
    # Adding an item that is already there succeeds and changes nothing.
    added_at = fresh(item).folder_added_at
    again = post(client, "/addImagesToSelfFolder", {"folderID": str(folder.pk), "imageIDs": ids(item)}, headers)
    assert payload(again) == {"success": True}
    assert fresh(item).folder_added_at == added_at


def test_public_folder_takes_only_public_approved_items(client, owner, headers):
    folder = PublicFolderFactory(owner=owner)
    eligible = public_item(owner)
    private = [
        make_item(owner),
        make_item(owner, public_approval_status="pending"),
        make_item(owner, public_approval_status="rejected"),
        make_item(owner, public_approval_status="approved"),  # approved, isPublic false
    ]
    refused = post(
        client, "/addImagesToPublicFolder", {"folderID": f"p-{folder.pk}", "imageIDs": ids(*private)}, headers
    )
    assert payload(refused) == {"success": False}
    assert all(fresh(item).folder_id is None for item in private)

    added = post(
        client, "/addImagesToPublicFolder", {"folderID": f"p-{folder.pk}", "imageIDs": ids(eligible, *private)}, headers
    )
    assert payload(added) == {"success": True}
    assert fresh(eligible).folder_id == folder.pk
    assert all(fresh(item).folder_id is None for item in private)
    # Now publicly visible: in getPublicCreations for anyone, with its p- folder id.
    stranger = as_user(UserFactory())
    shown = client.get("/getPublicCreations", {"folderID": f"p-{folder.pk}"}, **stranger).json()
    assert [i["id"] for i in shown["payload"]] == ids(eligible)
    assert shown["payload"][0]["isPubliclyVisible"] is True
    assert shown["payload"][0]["folderID"] == f"p-{folder.pk}"
    assert shown["metadata"]["totalCount"] == 1


@pytest.mark.parametrize(
    ("path", "wire"),
    [
        ("/addImagesToSelfFolder", lambda f: f"p-{f.pk}"),
        ("/removeImagesFromSelfFolder", lambda f: f"p-{f.pk}"),
        ("/addImagesToPublicFolder", lambda f: str(f.pk)),
        ("/removeImagesFromPublicFolder", lambda f: str(f.pk)),
    ],
)
def test_contents_refuse_folder_ids_of_the_other_kind(client, owner, headers, path, wire):
    folder = (PublicFolderFactory if "Self" in path else FolderFactory)(owner=owner)
    item = public_item(owner)
    assert error(post(client, path, {"folderID": wire(folder), "imageIDs": ids(item)}, headers), 400).startswith(
        "folderID: "
    )
    assert fresh(item).folder_id is None


@pytest.mark.parametrize("path", ["/addImagesToSelfFolder", "/removeImagesFromSelfFolder"])
@pytest.mark.parametrize(
    ("image_ids", "expected"),
    [
        ([str(uuid.uuid4()) for _ in range(1001)], "Give at most 1000 item ids per request."),
        ([], "Give at least one item id."),
        (["not-a-uuid"], "'not-a-uuid' is not a valid item id (a UUID)."),
        ([42], "Each item id must be a string (a UUID)."),
        ("a,b", "Give the item ids as an array of strings."),
    ],
)
def test_contents_refuse_bad_id_lists(client, owner, headers, path, image_ids, expected):
    folder = FolderFactory(owner=owner)
    message = error(post(client, path, {"folderID": str(folder.pk), "imageIDs": image_ids}, headers), 400)
    assert message == f"imageIDs: {expected}"


def test_a_thousand_ids_are_accepted(client, owner, headers):
    folder = FolderFactory(owner=owner)
    item = make_item(owner)
    image_ids = [str(item.pk)] + [str(uuid.uuid4()) for _ in range(999)]
    assert payload(post(client, "/addImagesToSelfFolder", {"folderID": str(folder.pk), "imageIDs": image_ids}, headers))
    assert fresh(item).folder_id == folder.pk


def test_contents_of_someone_elses_folder_are_404(client, owner, headers):
    theirs = FolderFactory()
    item = make_item(owner)
    response = post(client, "/addImagesToSelfFolder", {"folderID": str(theirs.pk), "imageIDs": ids(item)}, headers)
    assert error(response, 404) == "No folder with this id is yours."
    assert fresh(item).folder_id is None


# --- removeImagesFrom…Folder ---------------------------------------------------------------------------


def test_remove_images_sends_them_to_the_root(client, owner, headers):
    folder, other = PublicFolderFactory(owner=owner), FolderFactory(owner=owner)
    inside, elsewhere = public_item(owner), make_item(owner)
    services.add_items(folder=folder, item_ids=[inside.pk])
    services.add_items(folder=other, item_ids=[elsewhere.pk])
    FolderThumbnail.objects.create(folder=folder, item=inside, position=0)
    stale(folder)
    before = fresh(folder).updated_at

    nothing = post(
        client, "/removeImagesFromPublicFolder", {"folderID": f"p-{folder.pk}", "imageIDs": ids(elsewhere)}, headers
    )
    assert payload(nothing) == {"success": False}
    assert fresh(elsewhere).folder_id == other.pk and fresh(folder).updated_at == before

    removed = post(
        client, "/removeImagesFromPublicFolder", {"folderID": f"p-{folder.pk}", "imageIDs": ids(inside)}, headers
    )
    assert payload(removed) == {"success": True}
    item = fresh(inside)
    assert (item.folder_id, item.folder_added_at) == (None, None)
    assert not FolderThumbnail.objects.filter(folder=folder).exists()
    assert fresh(folder).updated_at > before
    assert item.is_publicly_visible is False


# --- moveItemsBetweenFolders ---------------------------------------------------------------------------


def test_move_items_answers_per_id(client, owner, headers):
    source, destination = FolderFactory(owner=owner), PublicFolderFactory(owner=owner)
    eligible, private, outside = (
        public_item(owner),
        make_item(owner, public_approval_status="pending"),
        make_item(owner),
    )
    services.add_items(folder=source, item_ids=[eligible.pk, private.pk])
    foreign, unknown = make_item(UserFactory()), uuid.uuid4()

    response = post(
        client,
        "/moveItemsBetweenFolders",
        {
            "sourceFolderID": str(source.pk),
            "destinationFolderID": f"p-{destination.pk}",
            "imageIDs": [*ids(eligible, private, outside, foreign), str(unknown), str(eligible.pk)],
        },
        headers,
    )

    assert payload(response) == [
        {"id": str(eligible.pk), "success": True},
        {"id": str(private.pk), "success": False, "message": "The item is still waiting for public approval."},
        {"id": str(outside.pk), "success": False, "message": "The item is not in the source folder."},
        {"id": str(foreign.pk), "success": False, "message": NOT_IN_LIBRARY},
        {"id": str(unknown), "success": False, "message": NOT_IN_LIBRARY},
    ]
    assert fresh(eligible).folder_id == destination.pk
    assert fresh(private).folder_id == source.pk


def test_move_items_from_and_to_the_root(client, owner, headers):
    folder = FolderFactory(owner=owner)
    item, inside = make_item(owner), make_item(owner)
    services.add_items(folder=folder, item_ids=[inside.pk])

    into = post(
        client,
        "/moveItemsBetweenFolders",
        {"sourceFolderID": None, "destinationFolderID": str(folder.pk), "imageIDs": ids(item, inside)},
        headers,
    )
    assert payload(into) == [
        {"id": str(item.pk), "success": True},
        {"id": str(inside.pk), "success": False, "message": "The item is not in the root folder."},
    ]
    out = post(
        client,
        "/moveItemsBetweenFolders",
        {"sourceFolderID": str(folder.pk), "destinationFolderID": None, "imageIDs": ids(item, inside)},
        headers,
    )
    assert payload(out) == [{"id": str(item.pk), "success": True}, {"id": str(inside.pk), "success": True}]
    assert fresh(item).folder_id is None and fresh(inside).folder_id is None


def test_move_refusal_reasons_for_a_public_destination(client, owner, headers):
    destination = PublicFolderFactory(owner=owner)
    items = {
        "none": make_item(owner),
        "rejected": make_item(owner, public_approval_status="rejected"),
        "approved but private": make_item(owner, public_approval_status="approved"),
    }
    body = payload(
        post(
            client,
            "/moveItemsBetweenFolders",
            {"sourceFolderID": None, "destinationFolderID": f"p-{destination.pk}", "imageIDs": ids(*items.values())},
            headers,
        )
    )
    assert [entry["message"] for entry in body] == [
        "The item is not approved for public display: submit it for approval first (publicApprovalStatus pending).",
        "The item was rejected for public display.",
        "The item is approved but not public: set isPublic to true first.",
    ]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"destinationFolderID": None, "imageIDs": []}, 400),
        ({"sourceFolderID": None, "imageIDs": [str(uuid.uuid4())]}, 400),
        ({"sourceFolderID": None, "destinationFolderID": None, "imageIDs": "x"}, 400),
        ({"sourceFolderID": "", "destinationFolderID": None, "imageIDs": [str(uuid.uuid4())]}, 400),
        ({"sourceFolderID": f"p-{uuid.uuid4()}", "destinationFolderID": None, "imageIDs": []}, 400),
        ({"sourceFolderID": "nope", "destinationFolderID": None, "imageIDs": [str(uuid.uuid4())]}, 400),
        ({"sourceFolderID": None, "destinationFolderID": None, "imageIDs": [str(uuid.uuid4())] * 2 + ["x"]}, 400),
        ({"sourceFolderID": None, "destinationFolderID": str(uuid.uuid4()), "imageIDs": [str(uuid.uuid4())]}, 404),
    ],
)
def test_move_items_refuses_bad_input(client, headers, body, status):
    error(post(client, "/moveItemsBetweenFolders", body, headers), status)


def test_moving_within_one_folder_moves_nothing(client, owner, headers):
    folder = FolderFactory(owner=owner)
    inside, outside = make_item(owner), make_item(owner)
    services.add_items(folder=folder, item_ids=[inside.pk])
    stale(folder)
    before = fresh(folder).updated_at
    body = {"sourceFolderID": str(folder.pk), "destinationFolderID": str(folder.pk), "imageIDs": ids(inside, outside)}
    assert payload(post(client, "/moveItemsBetweenFolders", body, headers)) == [
        {"id": str(inside.pk), "success": False, "message": services.SAME_FOLDER},
        {"id": str(outside.pk), "success": False, "message": "The item is not in the source folder."},
    ]
    assert fresh(inside).folder_id == folder.pk and fresh(folder).updated_at == before
    root = {"sourceFolderID": "root", "destinationFolderID": None, "imageIDs": ids(outside)}
    assert payload(post(client, "/moveItemsBetweenFolders", root, headers))[0]["message"] == services.SAME_FOLDER


def test_move_refuses_1001_ids_and_someone_elses_folder(client, owner, headers):
    folder, theirs = FolderFactory(owner=owner), FolderFactory()
    many = {"sourceFolderID": None, "destinationFolderID": str(folder.pk), "imageIDs": [str(uuid.uuid4())] * 1001}
    assert error(post(client, "/moveItemsBetweenFolders", many, headers), 400).startswith("imageIDs: Give at most 1000")
    item = make_item(owner)
    into_theirs = {"sourceFolderID": None, "destinationFolderID": str(theirs.pk), "imageIDs": ids(item)}
    assert error(post(client, "/moveItemsBetweenFolders", into_theirs, headers), 404)
    assert fresh(item).folder_id is None
    guest = post(client, "/moveItemsBetweenFolders", many, as_session(session_for()))
    assert error(guest, 401)


# --- items deleted, restored; profile counts ------------------------------------------------------------


def test_deleting_an_item_takes_it_out_of_its_folder(client, owner, headers):
    folder = FolderFactory(owner=owner)
    item, kept = make_item(owner), make_item(owner)
    services.add_items(folder=folder, item_ids=[item.pk, kept.pk])
    services.set_thumbnails(folder=folder, item_ids=[item.pk, kept.pk])
    stale(folder)
    before = fresh(folder).updated_at

    response = client.delete(f"/deleteItems?imageIDs={item.pk}", **headers)

    assert response.status_code == 200
    assert fresh(item).folder_id is None
    assert fresh(folder).updated_at > before
    shown = payload(client.get("/getSelfFolders", **headers))[0]
    assert shown["imageCount"] == 1
    assert [t["imageID"] for t in shown["thumbnails"]] == [str(kept.pk)]
    assert [s["imageID"] for s in shown["sampleImages"]] == [str(kept.pk)]

    admin = as_admin_key(staff_with_role("admin"))
    restored = post(client, "/restoreItems", {"imageIDs": ids(item)}, admin)
    assert payload(restored) == [{"id": str(item.pk), "success": True}]
    assert fresh(item).folder_id is None  # restored to the root folder
    assert payload(client.get("/getSelfFolders", **headers))[0]["imageCount"] == 1


def test_profile_counts_follow_the_folders(client, owner, headers):
    private, public = FolderFactory(owner=owner), PublicFolderFactory(owner=owner)
    root = [make_item(owner), public_item(owner)]
    in_private = make_item(owner)
    in_public = [public_item(owner), public_item(owner)]
    services.add_items(folder=private, item_ids=[in_private.pk])
    services.add_items(folder=public, item_ids=[i.pk for i in in_public])
    make_item(owner).delete()
    make_item(UserFactory())

    me = payload(client.get("/getSelfUser", **headers))
    assert (me["itemCount"], me["rootFolderItemCount"]) == (5, len(root))
    admin = as_admin_key(staff_with_role("admin"))
    user = payload(client.get("/getUser", {"userID": str(owner.pk)}, **admin))
    assert (user["itemCount"], user["rootFolderItemCount"], user["publicItemCount"]) == (5, 2, 2)

    services.delete_folder(folder=public)
    user = payload(client.get("/getUser", {"userID": str(owner.pk)}, **admin))
    assert (user["itemCount"], user["rootFolderItemCount"], user["publicItemCount"]) == (5, 4, 0)


def test_a_deleted_user_loses_folders_with_items(owner):
    from apps.accounts.services import profile

    folder = FolderFactory(owner=owner, tags=["x"])
    item = make_item(owner)
    services.add_items(folder=folder, item_ids=[item.pk])
    profile.delete_user(user=owner, delete_items=True)
    assert fresh(folder).is_deleted
    assert fresh(item).is_deleted and fresh(item).folder_id is None


# --- generation hooks ----------------------------------------------------------------------------------


def test_resolve_target_folder(owner):
    private, public = FolderFactory(owner=owner), PublicFolderFactory(owner=owner)
    assert selectors.resolve_target_folder(user=owner, folder_id=None) is None
    assert selectors.resolve_target_folder(user=owner, folder_id="") is None
    assert selectors.resolve_target_folder(user=owner, folder_id=str(private.pk)) == private
    assert selectors.resolve_target_folder(user=owner, folder_id=f"p-{public.pk}") == public
    for wrong in (str(public.pk), f"p-{private.pk}", str(FolderFactory().pk), str(uuid.uuid4())):
        with pytest.raises(NotFound):
            selectors.resolve_target_folder(user=owner, folder_id=wrong)
    with pytest.raises(InvalidInput):
        selectors.resolve_target_folder(user=owner, folder_id="nope")
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotFound):
        selectors.resolve_target_folder(user=AnonymousUser(), folder_id=str(private.pk))
    private.delete()
    with pytest.raises(NotFound):
        selectors.resolve_target_folder(user=owner, folder_id=str(private.pk))


def test_place_new_items(owner):
    private, public = FolderFactory(owner=owner), PublicFolderFactory(owner=owner)
    stale(private)
    before = fresh(private).updated_at
    new = [make_item(owner), make_item(owner)]
    assert services.place_new_items(folder=None, item_ids=[i.pk for i in new]) == []
    assert services.place_new_items(folder=private, item_ids=[i.pk for i in new]) == [i.pk for i in new]
    assert all(fresh(i).folder_id == private.pk and fresh(i).folder_added_at for i in new)
    assert fresh(private).updated_at > before
    # A new item is never public and approved: a public folder leaves it at the root.
    fresh_item = make_item(owner)
    assert services.place_new_items(folder=public, item_ids=[fresh_item.pk]) == []
    assert fresh(fresh_item).folder_id is None
    # A folder deleted meanwhile leaves the items at the root.
    late = make_item(owner)
    private.delete()
    assert services.place_new_items(folder=private, item_ids=[late.pk]) == []
    assert fresh(late).folder_id is None


def test_migrate_library_moves_folders_with_their_tags(owner):
    from apps.tags.models import Tag
    from apps.tags.services import add_tags

    destination = UserFactory()
    folder = FolderFactory(owner=owner)
    item = make_item(owner)
    services.add_items(folder=folder, item_ids=[item.pk])
    add_tags(target=folder, tags=["trip"])
    add_tags(target=item, tags=["trip", "sea"])

    result = item_services.migrate_library(source=owner, destination=destination)

    assert (result.items, result.folders) == (1, 1)
    assert result.message == "Moved 1 item and 1 folder."
    assert fresh(folder).owner_id == destination.pk and fresh(item).folder_id == folder.pk
    # The uses move to the destination's vocabulary.
    assert dict(Tag.objects.filter(owner=destination).values_list("name", "usage_count")) == {"trip": 2, "sea": 1}
    assert dict(Tag.objects.filter(owner=owner).values_list("name", "usage_count")) == {"trip": 0, "sea": 0}


def test_the_migration_sends_items_of_unknown_folders_to_the_root(owner):
    """Items 0004: before the folders app no folder existed, so a folder id left on an item names
    nothing; the migration clears it before the foreign key is enforced."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = import_module("apps.items.migrations.0004_item_folder_foreign_key")
    folder = FolderFactory(owner=owner)
    placed, dangling = make_item(owner), make_item(owner)
    services.add_items(folder=folder, item_ids=[placed.pk])
    Item.objects.filter(pk=dangling.pk).update(folder_id=uuid.uuid4(), folder_added_at=timezone.now())

    migration.clear_dangling_folder_ids(apps, SimpleNamespace(connection=connection))

    assert (fresh(dangling).folder_id, fresh(dangling).folder_added_at) == (None, None)
    assert fresh(placed).folder_id == folder.pk

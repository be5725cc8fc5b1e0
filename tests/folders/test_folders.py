"""AIMG folders over HTTP: create, set properties, delete, and the getSelfFolders / getPublicFolders
lists (Folder object, ids of both kinds, keyset pagination, totalCount, folderIDs, query counts)."""

import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.folders.models import Folder, FolderThumbnail
from apps.folders.services import add_items
from apps.items.models import Item
from tests.factories import DomainFactory, UserFactory
from tests.items.support import (
    NOT_SIGNED_IN,
    as_session,
    as_user,
    file_object,
    iso,
    make_item,
    millis,
    session_for,
)

from .factories import FolderFactory, PublicFolderFactory
from .support import error, fresh, payload, post, public_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def owner():
    return UserFactory(username="ada")


@pytest.fixture
def headers(owner):
    return as_user(owner)


def folder_object(folder, **overrides) -> dict:
    folder = Folder.all_objects.get(pk=folder.pk)
    data = {
        "id": f"p-{folder.pk}" if folder.is_public else str(folder.pk),
        "name": folder.name,
        "userID": str(folder.owner_id),
        "isPublic": folder.is_public,
        "imageCount": 0,
        "sampleImages": [],
        "thumbnails": [],
        "createdDate": iso(folder.created_at),
        "updatedDate": iso(folder.updated_at),
        "tags": [],
    }
    if folder.description:
        data["description"] = folder.description
    data.update(overrides)
    return data


# --- create ------------------------------------------------------------------------------------------


def test_create_self_folder_answers_the_folder_object(client, owner, headers):
    response = post(client, "/createSelfFolder", {"name": "Lighthouses", "description": "By the sea"}, headers)

    folder = Folder.objects.get(owner=owner)
    assert payload(response) == {
        "id": str(folder.pk),
        "name": "Lighthouses",
        "description": "By the sea",
        "userID": str(owner.pk),
        "isPublic": False,
        "imageCount": 0,
        "sampleImages": [],
        "thumbnails": [],
        "createdDate": iso(folder.created_at),
        "updatedDate": iso(folder.updated_at),
        "tags": [],
    }
    assert folder.is_public is False


def test_create_public_folder_has_a_p_id(client, owner, headers):
    body = payload(post(client, "/createPublicFolder", {"name": "Best of"}, headers))
    folder = Folder.objects.get(owner=owner)
    assert body["id"] == f"p-{folder.pk}"
    assert body["isPublic"] is True
    assert "description" not in body  # optional, left out when empty


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": 42},
        {"name": None},
        {"name": "x" * 201},
        {"name": "ok", "description": "d" * 2001},
        {"name": "ok", "description": 7},
    ],
)
@pytest.mark.parametrize("path", ["/createSelfFolder", "/createPublicFolder"])
def test_create_refuses_bad_input(client, owner, headers, path, body):
    message = error(post(client, path, body, headers), 400)
    assert message.startswith(("name", "description"))
    assert not Folder.all_objects.exists()


@pytest.mark.parametrize("path", ["/createSelfFolder", "/createPublicFolder", "/getSelfFolders"])
def test_folders_need_a_signed_in_user(client, path):
    guest = as_session(session_for())
    for headers in ({}, guest):
        if path.startswith("/get"):
            response = client.get(path, **headers)
        else:
            response = post(client, path, {"name": "x"}, headers)
        assert error(response, 401) == NOT_SIGNED_IN
    assert not Folder.all_objects.exists()


# --- set properties ------------------------------------------------------------------------------------


def test_set_properties_renames_and_moves_updated_date(client, owner, headers):
    folder = FolderFactory(owner=owner, name="Old", description="Keep me")
    Folder.objects.filter(pk=folder.pk).update(updated_at=timezone.now() - timedelta(days=1))
    before = fresh(folder).updated_at

    body = payload(post(client, "/setSelfFolderProperties", {"folderID": str(folder.pk), "folderName": "New"}, headers))

    folder = fresh(folder)
    assert (folder.name, folder.description) == ("New", "Keep me")
    assert folder.updated_at > before
    assert body == folder_object(folder)


def test_set_properties_with_an_empty_description_clears_it(client, owner, headers):
    folder = PublicFolderFactory(owner=owner, description="Old text")
    body = payload(
        post(client, "/setPublicFolderProperties", {"folderID": f"p-{folder.pk}", "folderDescription": ""}, headers)
    )
    assert fresh(folder).description == ""
    assert "description" not in body and body["name"] == folder.name and body["id"] == f"p-{folder.pk}"


def test_set_properties_needs_one_property(client, owner, headers):
    folder = FolderFactory(owner=owner)
    message = error(post(client, "/setSelfFolderProperties", {"folderID": str(folder.pk)}, headers), 400)
    assert "folderName" in message


@pytest.mark.parametrize(
    ("path", "make", "wire"),
    [
        ("/setSelfFolderProperties", PublicFolderFactory, lambda f: f"p-{f.pk}"),  # a p- id on a private endpoint
        ("/setPublicFolderProperties", FolderFactory, lambda f: str(f.pk)),  # a bare id on a public endpoint
        ("/setPublicFolderProperties", PublicFolderFactory, lambda f: str(f.pk)),  # the public folder's bare uuid
        ("/setSelfFolderProperties", FolderFactory, lambda f: "nope"),
        ("/setSelfFolderProperties", FolderFactory, lambda f: f"{{{f.pk}}}"),
    ],
)
def test_set_properties_refuses_ids_of_the_other_kind(client, owner, headers, path, make, wire):
    folder = make(owner=owner, name="Same")
    message = error(post(client, path, {"folderID": wire(folder), "folderName": "Changed"}, headers), 400)
    assert message.startswith("folderID: ")
    assert fresh(folder).name == "Same"


def test_set_properties_of_someone_elses_or_an_unknown_folder_is_404(client, headers):
    theirs = FolderFactory()
    for folder_id in (str(theirs.pk), str(uuid.uuid4())):
        response = post(client, "/setSelfFolderProperties", {"folderID": folder_id, "folderName": "Mine"}, headers)
        assert error(response, 404) == "No folder with this id is yours."
    assert fresh(theirs).name != "Mine"


def test_set_properties_refuses_an_empty_name(client, owner, headers):
    folder = FolderFactory(owner=owner, name="Keep")
    response = post(client, "/setSelfFolderProperties", {"folderID": str(folder.pk), "folderName": " "}, headers)
    error(response, 400)
    assert fresh(folder).name == "Keep"


# --- delete --------------------------------------------------------------------------------------------


def test_delete_folder_moves_its_items_to_the_root_and_soft_deletes_it(client, owner, headers):
    folder = FolderFactory(owner=owner, tags=[])
    items = [make_item(owner), make_item(owner)]
    add_items(folder=folder, item_ids=[item.pk for item in items])
    FolderThumbnail.objects.create(folder=folder, item=items[0], position=0)

    response = client.delete(f"/deleteSelfFolder?{urlencode({'folderID': str(folder.pk)})}", **headers)

    assert payload(response) == {"success": True}
    assert fresh(folder).is_deleted
    assert all(fresh(item).folder_id is None and fresh(item).folder_added_at is None for item in items)
    assert not FolderThumbnail.objects.filter(folder=folder).exists()
    assert payload(client.get("/getSelfFolders", **headers)) == []
    again = client.delete(f"/deleteSelfFolder?{urlencode({'folderID': str(folder.pk)})}", **headers)
    assert error(again, 404) == "No folder with this id is yours."


def test_delete_public_folder_takes_a_p_id_and_refuses_a_bare_one(client, owner, headers):
    folder = PublicFolderFactory(owner=owner)
    bare = client.delete(f"/deletePublicFolder?folderID={folder.pk}", **headers)
    assert error(bare, 400).startswith("folderID: Public folder ids start with 'p-'")
    on_private = client.delete(f"/deleteSelfFolder?folderID=p-{folder.pk}", **headers)
    assert error(on_private, 400).startswith("folderID: This is a public folder id")
    assert not fresh(folder).is_deleted
    assert payload(client.delete(f"/deletePublicFolder?folderID=p-{folder.pk}", **headers)) == {"success": True}
    assert fresh(folder).is_deleted


def test_delete_folder_needs_its_id_and_the_delete_verb(client, owner, headers):
    folder = FolderFactory(owner=owner)
    assert error(client.delete("/deleteSelfFolder", **headers), 400).startswith("folderID")
    assert client.post("/deleteSelfFolder", {"folderID": str(folder.pk)}, format="json", **headers).status_code == 405
    assert error(client.delete(f"/deleteSelfFolder?folderID={FolderFactory().pk}", **headers), 404)
    assert not fresh(folder).is_deleted


# --- getSelfFolders ------------------------------------------------------------------------------------


def test_get_self_folders_lists_own_private_folders_newest_first(client, owner, headers):
    now = timezone.now()
    older = FolderFactory(owner=owner, created_at=now - timedelta(hours=2))
    newer = FolderFactory(owner=owner, created_at=now - timedelta(hours=1), description="Notes")
    PublicFolderFactory(owner=owner)
    FolderFactory()  # someone else's
    FolderFactory(owner=owner).delete()

    body = client.get("/getSelfFolders", **headers).json()

    assert body["payload"] == [folder_object(newer), folder_object(older)]
    assert body["metadata"] == {
        "paginationIndex": "0",
        "nextPaginationIndex": None,
        "reversePagination": False,
        "skipCount": 0,
        "limit": 100,
        "count": 2,
        "totalCount": 2,
    }


def test_get_self_folders_pages_by_creation_time_without_skipping_ties(client, owner, headers):
    now = timezone.now().replace(microsecond=500)
    tie = now - timedelta(minutes=5)
    folders = [FolderFactory(owner=owner, created_at=now)]
    folders += sorted((FolderFactory(owner=owner, created_at=tie) for _ in range(3)), key=lambda f: f.pk, reverse=True)
    folders.append(FolderFactory(owner=owner, created_at=now - timedelta(minutes=10)))

    seen, index = [], None
    for _ in range(5):
        query = {"limit": 2, **({"paginationIndex": index} if index else {})}
        body = client.get("/getSelfFolders", query, **headers).json()
        assert body["metadata"]["totalCount"] == 5
        seen += [f["id"] for f in body["payload"]]
        index = body["metadata"]["nextPaginationIndex"]
        if index is None:
            break
    assert seen == [str(f.pk) for f in folders]

    reverse = client.get(
        "/getSelfFolders", {"paginationIndex": millis(tie), "reversePagination": "true"}, **headers
    ).json()
    assert [f["id"] for f in reverse["payload"]] == [str(folders[0].pk)]
    skipped = client.get("/getSelfFolders", {"skipCount": 3, "limit": 10}, **headers).json()
    assert [f["id"] for f in skipped["payload"]] == [str(f.pk) for f in folders[3:]]


def test_get_self_folders_filters_by_folder_ids(client, owner, headers):
    first, _second, third = (FolderFactory(owner=owner) for _ in range(3))
    theirs = FolderFactory()
    query = {"folderIDs": f"{first.pk}, {third.pk},{theirs.pk},{uuid.uuid4()}"}
    body = client.get("/getSelfFolders", query, **headers).json()
    assert {f["id"] for f in body["payload"]} == {str(first.pk), str(third.pk)}
    assert body["metadata"]["totalCount"] == 2


@pytest.mark.parametrize(
    "query",
    [
        {"folderIDs": f"p-{uuid.uuid4()}"},
        {"folderIDs": "nope"},
        {"folderIDs": ",".join(str(uuid.uuid4()) for _ in range(1001))},
        {"limit": 1001},
        {"limit": 0},
        {"paginationIndex": "later"},
        {"skipCount": -1},
        {"reversePagination": "sideways"},
    ],
)
def test_get_self_folders_refuses_bad_input(client, headers, query):
    error(client.get("/getSelfFolders", query, **headers), 400)


def test_folder_shows_its_count_samples_and_thumbnails(client, owner, headers):
    folder = FolderFactory(owner=owner)
    now = timezone.now()
    pictures = [file_object() for _ in range(6)]
    items = [make_item(owner, at=now - timedelta(minutes=i), file=pictures[i]) for i in range(6)]
    for item in items:  # added one by one: the last added is the newest sample
        add_items(folder=folder, item_ids=[item.pk])
    thumbs = [items[0], items[5]]
    payload(
        post(
            client,
            "/setThumbnailImagesForSelfFolder",
            {"folderID": str(folder.pk), "imageIDs": [str(t.pk) for t in thumbs]},
            headers,
        )
    )

    shown = payload(client.get("/getSelfFolders", **headers))[0]

    assert shown["imageCount"] == 6
    last_added = [items[5], items[4], items[3], items[2]]
    assert shown["sampleImages"] == [
        {"imageID": str(item.pk), "url": f"http://testserver/getFile?id={item.file_id}"} for item in last_added
    ]
    assert shown["thumbnails"] == [
        {"imageID": str(item.pk), "url": f"http://testserver/getFile?id={item.file_id}"} for item in thumbs
    ]


def test_folder_lists_run_a_constant_number_of_queries(client, owner, headers):
    stranger = UserFactory()
    for _ in range(6):
        private, public = FolderFactory(owner=owner), PublicFolderFactory(owner=owner)
        mine = [make_item(owner) for _ in range(5)]
        shown = [public_item(owner) for _ in range(5)]
        add_items(folder=private, item_ids=[i.pk for i in mine])
        add_items(folder=public, item_ids=[i.pk for i in shown])
        FolderThumbnail.objects.bulk_create(
            [FolderThumbnail(folder=private, item=item, position=n) for n, item in enumerate(mine[:4])]
            + [FolderThumbnail(folder=public, item=item, position=n) for n, item in enumerate(shown[:4])]
        )
    others = as_user(stranger)

    def queries(path, limit, who):
        with CaptureQueriesContext(connection) as captured:
            body = client.get(path, {"limit": limit}, **who).json()
        assert body["metadata"]["count"] == limit
        assert all(len(f["sampleImages"]) == 4 and len(f["thumbnails"]) == 4 for f in body["payload"])
        return len(captured)

    for path, who in (("/getSelfFolders", headers), ("/getPublicFolders", headers), ("/getPublicFolders", others)):
        client.get(path, **who)  # warm up: the session's first use and per-process caches
        counts = [queries(path, limit, who) for limit in (1, 3, 6)]
        assert counts[0] == counts[1] == counts[2], (path, counts)
        assert counts[0] <= 6


# --- getPublicFolders ----------------------------------------------------------------------------------


def test_public_folders_show_others_only_their_public_items(client, owner, headers):
    stranger = UserFactory()
    folder = PublicFolderFactory(owner=owner, tags=["sea"])
    shown = public_item(owner, file=file_object())
    hidden = public_item(owner)
    add_items(folder=folder, item_ids=[shown.pk, hidden.pk])
    Item.objects.filter(pk=hidden.pk).update(is_public=False)  # made private again by its owner
    empty = PublicFolderFactory(owner=owner)  # nothing public in it: not listed to others
    FolderFactory(owner=owner)  # private: never listed here

    theirs = client.get("/getPublicFolders", **as_user(stranger)).json()
    assert theirs["payload"] == [
        folder_object(
            folder,
            imageCount=1,
            sampleImages=[{"imageID": str(shown.pk), "url": f"http://testserver/getFile?id={shown.file_id}"}],
            tags=["sea"],
        )
    ]
    assert theirs["metadata"]["totalCount"] == 1

    mine = client.get("/getPublicFolders", {"userID": str(owner.pk)}, **headers).json()
    assert [f["id"] for f in mine["payload"]] == [f"p-{empty.pk}", f"p-{folder.pk}"]
    assert mine["payload"][1]["imageCount"] == 2  # the owner sees every item of the folder
    assert mine["metadata"]["totalCount"] == 2


def test_public_folders_are_listed_to_guests_and_filtered(client, owner):
    folders = [PublicFolderFactory(owner=owner) for _ in range(3)]
    other = UserFactory()
    theirs = PublicFolderFactory(owner=other)
    for folder in [*folders, theirs]:
        add_items(folder=folder, item_ids=[public_item(folder.owner).pk])
    elsewhere = UserFactory(domain=DomainFactory())
    add_items(folder=PublicFolderFactory(owner=elsewhere), item_ids=[public_item(elsewhere).pk])
    guest = as_session(session_for())

    everything = client.get("/getPublicFolders", **guest).json()
    assert everything["metadata"]["totalCount"] == 4  # not the other site's
    by_user = client.get("/getPublicFolders", {"userID": str(other.pk)}, **guest).json()
    assert [f["id"] for f in by_user["payload"]] == [f"p-{theirs.pk}"]
    by_id = client.get("/getPublicFolders", {"folderIDs": f"p-{folders[0].pk},p-{theirs.pk}"}, **guest).json()
    assert {f["id"] for f in by_id["payload"]} == {f"p-{folders[0].pk}", f"p-{theirs.pk}"}
    assert by_id["metadata"]["totalCount"] == 2
    assert error(client.get("/getPublicFolders"), 401) == NOT_SIGNED_IN


@pytest.mark.parametrize(
    "query",
    [{"folderIDs": str(uuid.uuid4())}, {"folderIDs": "p-nope"}, {"userID": "x"}, {"limit": 5000}],
)
def test_get_public_folders_refuses_bad_input(client, headers, query):
    error(client.get("/getPublicFolders", query, **headers), 400)


def test_my_creations_take_both_kinds_of_folder_id(client, owner, headers):
    private, public = FolderFactory(owner=owner), PublicFolderFactory(owner=owner)
    inside = make_item(owner)
    shown = public_item(owner)
    add_items(folder=private, item_ids=[inside.pk])
    add_items(folder=public, item_ids=[shown.pk])

    def ids(folder_id):
        body = client.get("/getMyCreations", {"folderID": folder_id}, **headers).json()
        return [i["id"] for i in body["payload"]], body["metadata"]["totalCount"]

    assert ids(str(private.pk)) == ([str(inside.pk)], 1)
    assert ids(f"p-{public.pk}") == ([str(shown.pk)], 1)
    assert ids(str(public.pk)) == ([], 0)  # a bare id names a private folder
    items = client.get("/getMyCreations", **headers).json()["payload"]
    by_id = {i["id"]: i for i in items}
    assert by_id[str(inside.pk)]["folderID"] == str(private.pk)
    assert by_id[str(shown.pk)]["folderID"] == f"p-{public.pk}"
    assert by_id[str(shown.pk)]["isPubliclyVisible"] is True
    assert by_id[str(inside.pk)]["isPubliclyVisible"] is False
    assert by_id[str(shown.pk)]["folderAddedDate"] == millis(fresh(shown).folder_added_at)

"""AIMG folder thumbnails over HTTP: addThumbnailImagesFor…Folder, removeThumbnailImagesFor…Folder,
setThumbnailImagesFor…Folder (``success`` / ``modified`` / ``actual``, at most four, only items of the
folder), for private and public folders."""

import uuid

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from apps.folders import services
from apps.folders.models import Folder, FolderThumbnail
from tests.factories import UserFactory
from tests.items.support import as_user, make_item

from .factories import FolderFactory, PublicFolderFactory
from .support import error, fresh, payload, post, public_item

pytestmark = pytest.mark.django_db

KINDS = [
    ("Self", FolderFactory, make_item, lambda f: str(f.pk)),
    ("Public", PublicFolderFactory, public_item, lambda f: f"p-{f.pk}"),
]


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def headers(owner):
    return as_user(owner)


def ids(items) -> list[str]:
    return [str(item.pk) for item in items]


def filled(owner, make, kind_factory, count=6):
    folder = kind_factory(owner=owner)
    items = [make(owner) for _ in range(count)]
    services.add_items(folder=folder, item_ids=[i.pk for i in items])
    return folder, items


@pytest.mark.parametrize(("kind", "factory", "make", "wire"), KINDS)
def test_add_thumbnails_up_to_four(client, owner, headers, kind, factory, make, wire):
    folder, items = filled(owner, make, factory)
    path = f"/addThumbnailImagesFor{kind}Folder"
    outside, foreign = make(owner), make_item(UserFactory())

    first = post(client, path, {"folderID": wire(folder), "imageIDs": ids([items[0], outside, foreign])}, headers)
    assert payload(first) == {"success": True, "modified": ids(items[:1]), "actual": ids(items[:1])}

    second = post(client, path, {"folderID": wire(folder), "imageIDs": ids(items[:5])}, headers)
    assert payload(second) == {"success": True, "modified": ids(items[1:4]), "actual": ids(items[:4])}

    full = post(client, path, {"folderID": wire(folder), "imageIDs": ids(items[5:])}, headers)
    assert payload(full) == {"success": False, "modified": [], "actual": ids(items[:4])}
    assert FolderThumbnail.objects.filter(folder=folder).count() == 4


@pytest.mark.parametrize(("kind", "factory", "make", "wire"), KINDS)
def test_remove_thumbnails(client, owner, headers, kind, factory, make, wire):
    folder, items = filled(owner, make, factory)
    services.set_thumbnails(folder=folder, item_ids=[i.pk for i in items[:3]])
    path = f"/removeThumbnailImagesFor{kind}Folder"

    removed = post(client, path, {"folderID": wire(folder), "imageIDs": ids([items[1], items[5]])}, headers)
    assert payload(removed) == {"success": True, "modified": ids(items[1:2]), "actual": ids([items[0], items[2]])}
    nothing = post(client, path, {"folderID": wire(folder), "imageIDs": ids(items[4:])}, headers)
    assert payload(nothing) == {"success": False, "modified": [], "actual": ids([items[0], items[2]])}
    # The freed place is taken at the end, in order.
    added = services.add_thumbnails(folder=folder, item_ids=[items[3].pk])
    assert added.actual == [items[0].pk, items[2].pk, items[3].pk]


@pytest.mark.parametrize(("kind", "factory", "make", "wire"), KINDS)
def test_set_thumbnails_replaces_them(client, owner, headers, kind, factory, make, wire):
    folder, items = filled(owner, make, factory)
    services.set_thumbnails(folder=folder, item_ids=[i.pk for i in items[:4]])
    path = f"/setThumbnailImagesFor{kind}Folder"
    outside = make(owner)

    changed = post(client, path, {"folderID": wire(folder), "imageIDs": ids([items[5], outside, items[0]])}, headers)
    assert payload(changed) == {
        "success": True,
        "modified": ids([items[5], items[0]]),
        "actual": ids([items[5], items[0]]),
    }

    refused = post(client, path, {"folderID": wire(folder), "imageIDs": ids([outside])}, headers)
    assert payload(refused) == {"success": False, "modified": [], "actual": ids([items[5], items[0]])}

    cleared = post(client, path, {"folderID": wire(folder), "imageIDs": []}, headers)
    assert payload(cleared) == {"success": True, "modified": [], "actual": []}
    assert not FolderThumbnail.objects.filter(folder=folder).exists()


def test_set_thumbnails_refuses_more_than_four(client, owner, headers):
    folder, items = filled(owner, make_item, FolderFactory)
    services.set_thumbnails(folder=folder, item_ids=[items[0].pk])
    response = post(
        client, "/setThumbnailImagesForSelfFolder", {"folderID": str(folder.pk), "imageIDs": ids(items[:5])}, headers
    )
    assert error(response, 400) == "imageIDs: A folder has at most 4 thumbnails; 5 were given."
    assert list(FolderThumbnail.objects.filter(folder=folder).values_list("item_id", flat=True)) == [items[0].pk]


@pytest.mark.parametrize(
    "path",
    ["/addThumbnailImagesForSelfFolder", "/removeThumbnailImagesForSelfFolder", "/setThumbnailImagesForSelfFolder"],
)
def test_thumbnails_refuse_bad_input(client, owner, headers, path):
    folder = FolderFactory(owner=owner)
    public = PublicFolderFactory(owner=owner)
    item = make_item(owner)
    services.add_items(folder=folder, item_ids=[item.pk])
    many = [str(uuid.uuid4()) for _ in range(1001)]
    assert error(post(client, path, {"folderID": str(folder.pk), "imageIDs": many}, headers), 400).startswith(
        "imageIDs: Give at most 1000"
    )
    assert error(post(client, path, {"folderID": f"p-{public.pk}", "imageIDs": ids([item])}, headers), 400)
    assert error(post(client, path, {"folderID": str(FolderFactory().pk), "imageIDs": ids([item])}, headers), 404)
    assert error(post(client, path, {"folderID": str(folder.pk), "imageIDs": ["x"]}, headers), 400)
    public_path = path.replace("Self", "Public")
    assert error(post(client, public_path, {"folderID": str(public.pk), "imageIDs": ids([item])}, headers), 400)
    assert not FolderThumbnail.objects.exists()


def test_thumbnails_show_in_the_folder_and_leave_with_their_item(client, owner, headers):
    folder, items = filled(owner, make_item, FolderFactory, count=3)
    other = FolderFactory(owner=owner)
    services.set_thumbnails(folder=folder, item_ids=[items[2].pk, items[0].pk])
    shown = payload(client.get("/getSelfFolders", {"folderIDs": str(folder.pk)}, **headers))[0]
    assert [t["imageID"] for t in shown["thumbnails"]] == ids([items[2], items[0]])

    services.add_items(folder=other, item_ids=[items[2].pk])  # moved away: no longer a thumbnail here
    shown = payload(client.get("/getSelfFolders", {"folderIDs": str(folder.pk)}, **headers))[0]
    assert [t["imageID"] for t in shown["thumbnails"]] == ids([items[0]])
    assert services.add_thumbnails(folder=folder, item_ids=[items[1].pk]).actual == [items[0].pk, items[1].pk]


def test_thumbnail_updates_do_not_touch_updated_date(owner):
    folder, items = filled(owner, make_item, FolderFactory, count=2)
    before = fresh(folder).updated_at
    services.set_thumbnails(folder=folder, item_ids=[items[0].pk])
    services.add_thumbnails(folder=folder, item_ids=[items[1].pk])
    services.remove_thumbnails(folder=folder, item_ids=[items[0].pk])
    assert fresh(folder).updated_at == before


def test_the_database_holds_at_most_four_thumbnails(owner):
    folder, items = filled(owner, make_item, FolderFactory, count=5)
    FolderThumbnail.objects.bulk_create(
        [FolderThumbnail(folder=folder, item=item, position=n) for n, item in enumerate(items[:4])]
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        FolderThumbnail.objects.create(folder=folder, item=items[4], position=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        FolderThumbnail.objects.create(folder=folder, item=items[4], position=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Folder.objects.filter(pk=folder.pk).update(name="")

"""Folders under concurrent requests (PostgreSQL): thumbnails never pass four, imageCount stays exact,
and moves racing deletions neither deadlock nor lose an item.

Threads start together behind a barrier (``support.race``).
"""

import pytest
from rest_framework.test import APIClient

from apps.folders import services
from apps.folders.models import FolderThumbnail
from apps.items.models import Item
from tests.factories import UserFactory
from tests.items.support import as_user, make_item

from .factories import FolderFactory, PublicFolderFactory
from .support import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def poster(path, body, headers):
    def call():
        response = APIClient().post(path, body, format="json", **headers)
        return response.status_code, response.json()

    return call


def test_twenty_parallel_thumbnail_adds_never_exceed_four():
    owner = UserFactory()
    folder = PublicFolderFactory(owner=owner)
    items = [make_item(owner, is_public=True, public_approval_status="approved") for _ in range(20)]
    services.add_items(folder=folder, item_ids=[i.pk for i in items])
    headers = [as_user(owner) for _ in items]

    results = race(
        [
            poster("/addThumbnailImagesForPublicFolder", {"folderID": f"p-{folder.pk}", "imageIDs": [str(i.pk)]}, h)
            for i, h in zip(items, headers, strict=True)
        ]
    )

    assert all(status == 200 for status, _ in results)
    winners = [body["payload"] for _, body in results if body["payload"]["success"]]
    assert len(winners) == 4
    assert all(len(p["modified"]) == 1 and len(p["actual"]) <= 4 for p in winners)
    stored = list(FolderThumbnail.objects.filter(folder=folder).order_by("position").values_list("item_id", flat=True))
    assert len(stored) == 4
    assert {str(pk) for pk in stored} == {p["modified"][0] for p in winners}


def test_parallel_adds_and_removes_keep_image_count_exact():
    owner = UserFactory()
    folder = FolderFactory(owner=owner)
    staying = [make_item(owner) for _ in range(6)]
    leaving = [make_item(owner) for _ in range(6)]
    services.add_items(folder=folder, item_ids=[i.pk for i in staying + leaving])
    batches = [[make_item(owner) for _ in range(3)] for _ in range(10)]
    headers = [as_user(owner) for _ in range(16)]

    calls = [
        poster("/addImagesToSelfFolder", {"folderID": str(folder.pk), "imageIDs": [str(i.pk) for i in batch]}, h)
        for batch, h in zip(batches, headers, strict=False)
    ]
    calls += [
        poster("/removeImagesFromSelfFolder", {"folderID": str(folder.pk), "imageIDs": [str(i.pk)]}, h)
        for i, h in zip(leaving, headers[10:], strict=True)
    ]
    results = race(calls)

    assert all(status == 200 and body["payload"] == {"success": True} for status, body in results)
    expected = len(staying) + 3 * len(batches)
    assert Item.objects.filter(folder=folder).count() == expected
    client = APIClient()
    listed = client.get("/getSelfFolders", **as_user(owner)).json()["payload"][0]
    assert listed["imageCount"] == expected
    assert client.get("/getSelfUser", **as_user(owner)).json()["payload"]["rootFolderItemCount"] == len(leaving)


def test_moves_racing_deletions_neither_deadlock_nor_lose_items():
    owner = UserFactory()
    first, second = FolderFactory(owner=owner), FolderFactory(owner=owner)
    items = [make_item(owner) for _ in range(12)]
    services.add_items(folder=first, item_ids=[i.pk for i in items])
    services.set_thumbnails(folder=first, item_ids=[i.pk for i in items[:4]])
    ids = [str(i.pk) for i in items]
    headers = [as_user(owner) for _ in range(8)]
    client = APIClient

    def move(source, destination, h):
        return poster(
            "/moveItemsBetweenFolders",
            {"sourceFolderID": str(source.pk), "destinationFolderID": str(destination.pk), "imageIDs": ids},
            h,
        )

    def delete(chunk, h):
        def call():
            response = client().delete(f"/deleteItems?imageIDs={','.join(chunk)}", **h)
            return response.status_code, response.json()

        return call

    calls = [
        move(first, second, headers[0]),
        move(second, first, headers[1]),
        delete(ids[0:3], headers[2]),
        move(first, second, headers[3]),
        delete(ids[3:6], headers[4]),
        poster("/setThumbnailImagesForSelfFolder", {"folderID": str(first.pk), "imageIDs": ids[:4]}, headers[5]),
        move(second, first, headers[6]),
        delete(ids[6:7], headers[7]),
    ]
    results = race(calls)

    assert [status for status, _ in results] == [200] * len(calls), results
    live = Item.objects.filter(owner=owner)
    assert live.count() == 12 - 7
    assert set(live.values_list("folder_id", flat=True)) <= {first.pk, second.pk}
    assert not Item.all_objects.filter(owner=owner, deleted_at__isnull=False, folder__isnull=False).exists()
    assert FolderThumbnail.objects.filter(item__deleted_at__isnull=False).count() == 0

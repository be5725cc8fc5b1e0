"""AIMG tags over HTTP: addTagsToItem, removeTagsFromItem, setTagsForItem (items and folders) and
getTagsList, with the name rules, the ten-tag cap and exact usage counts."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.folders import services as folders
from apps.tags import services
from apps.tags.models import Tag
from tests.factories import UserFactory
from tests.folders.factories import FolderFactory, PublicFolderFactory, TagFactory
from tests.folders.support import error, fresh, payload, post
from tests.items.support import (
    NOT_SIGNED_IN,
    as_admin_key,
    as_session,
    as_user,
    make_item,
    millis,
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
def headers(owner):
    return as_user(owner)


def usage() -> dict:
    return dict(Tag.objects.values_list("name", "usage_count"))


# --- addTagsToItem -------------------------------------------------------------------------------------


def test_add_tags_to_an_item(client, owner, headers):
    item = make_item(owner, tags=[])

    body = payload(post(client, "/addTagsToItem", {"imageID": str(item.pk), "tags": ["Sea", "dusk", "SEA"]}, headers))

    assert body == {"success": True, "modified": ["sea", "dusk"], "actual": ["sea", "dusk"]}
    assert fresh(item).tags == ["sea", "dusk"]
    assert usage() == {"sea": 1, "dusk": 1}
    again = payload(post(client, "/addTagsToItem", {"imageID": str(item.pk), "tags": ["dusk", "boat"]}, headers))
    assert again == {"success": True, "modified": ["boat"], "actual": ["sea", "dusk", "boat"]}
    nothing = payload(post(client, "/addTagsToItem", {"imageID": str(item.pk), "tags": ["sea"]}, headers))
    assert nothing == {"success": False, "modified": [], "actual": ["sea", "dusk", "boat"]}
    assert usage() == {"sea": 1, "dusk": 1, "boat": 1}
    shown = client.get("/getItem", {"imageID": str(item.pk)}, **headers).json()["payload"]
    assert shown["tags"] == ["sea", "dusk", "boat"]


def test_every_allowed_character_is_accepted(client, owner, headers):
    item = make_item(owner)
    name = "a0$-_.+!*'()z"
    body = payload(post(client, "/addTagsToItem", {"imageID": str(item.pk), "tags": [name, " Padded "]}, headers))
    assert body["actual"] == [name, "padded"]


@pytest.mark.parametrize(
    "tags",
    [
        ["a,b"],
        ["<script>"],
        ["two words"],
        ["slash/"],
        ["at@home"],
        ["caret^"],
        [""],
        ["x" * 33],
        ["ünïcode"],
        [42],
        "sea",
        None,
        [f"t{n}" for n in range(101)],
    ],
)
def test_invalid_tags_refuse_the_whole_request(client, owner, headers, tags):
    item = make_item(owner, tags=["keep"])
    message = error(post(client, "/addTagsToItem", {"imageID": str(item.pk), "tags": tags}, headers), 400)
    assert message.startswith("tags: ")
    assert fresh(item).tags == ["keep"]
    assert not Tag.objects.exists()


def test_thirty_two_characters_are_the_most(client, owner, headers):
    item = make_item(owner)
    assert payload(post(client, "/addTagsToItem", {"imageID": str(item.pk), "tags": ["x" * 32]}, headers))["success"]


def test_the_eleventh_tag_is_refused(client, owner, headers):
    item = make_item(owner)
    ten = [f"tag{n}" for n in range(10)]
    assert payload(post(client, "/setTagsForItem", {"imageID": str(item.pk), "tags": ten}, headers))["actual"] == ten

    message = error(post(client, "/addTagsToItem", {"imageID": str(item.pk), "tags": ["eleventh"]}, headers), 409)
    assert message == "An item or folder can carry at most 10 tags. It carries 10; adding 1 more would make 11."
    too_many = error(
        post(client, "/setTagsForItem", {"imageID": str(item.pk), "tags": [*ten, "eleventh"]}, headers), 400
    )
    assert too_many == "tags: An item or folder can carry at most 10 tags. 11 were given."
    # Tags it already carries do not count twice.
    assert (
        payload(post(client, "/addTagsToItem", {"imageID": str(item.pk), "tags": ["tag0", "TAG1"]}, headers))["success"]
        is False
    )
    assert fresh(item).tags == ten
    assert "eleventh" not in usage()


def test_tags_need_an_item_or_folder_of_the_caller(client, owner, headers):
    theirs = make_item(UserFactory())
    their_folder = FolderFactory()
    deleted = make_item(owner)
    deleted.delete()
    for body in (
        {"imageID": str(theirs.pk), "tags": ["x"]},
        {"imageID": str(uuid.uuid4()), "tags": ["x"]},
        {"imageID": str(deleted.pk), "tags": ["x"]},
        {"folderID": str(their_folder.pk), "tags": ["x"]},
    ):
        error(post(client, "/addTagsToItem", body, headers), 404)
    for body in (
        {"tags": ["x"]},
        {"imageID": "nope", "tags": ["x"]},
        {"folderID": "nope", "tags": ["x"]},
        {"imageID": str(deleted.pk)},
        {"imageID": 5, "tags": ["x"]},
    ):
        error(post(client, "/addTagsToItem", body, headers), 400)
    assert error(post(client, "/addTagsToItem", {"imageID": str(theirs.pk), "tags": ["x"]}, {}), 401) == NOT_SIGNED_IN
    guest = as_session(session_for())
    assert error(post(client, "/setTagsForItem", {"imageID": str(theirs.pk), "tags": ["x"]}, guest), 401)
    assert not Tag.objects.exists()


def test_folder_id_wins_over_image_id(client, owner, headers):
    item = make_item(owner)
    private, public = FolderFactory(owner=owner), PublicFolderFactory(owner=owner)

    both = post(
        client, "/addTagsToItem", {"imageID": str(item.pk), "folderID": str(private.pk), "tags": ["a"]}, headers
    )
    assert payload(both)["actual"] == ["a"]
    assert (fresh(private).tags, fresh(item).tags) == (["a"], [])
    public_tags = post(client, "/setTagsForItem", {"folderID": f"p-{public.pk}", "tags": ["b", "a"]}, headers)
    assert payload(public_tags) == {"success": True, "actual": ["b", "a"]}
    assert usage() == {"a": 2, "b": 1}
    listed = client.get("/getPublicFolders", {"userID": str(owner.pk)}, **headers).json()["payload"]
    assert listed[0]["tags"] == ["b", "a"]
    assert client.get("/getSelfFolders", **headers).json()["payload"][0]["tags"] == ["a"]


# --- removeTagsFromItem / setTagsForItem ---------------------------------------------------------------


def test_remove_tags(client, owner, headers):
    item = make_item(owner)
    services.set_tags(target=item, tags=["a", "b", "c"])

    body = payload(post(client, "/removeTagsFromItem", {"imageID": str(item.pk), "tags": ["B", "zz"]}, headers))

    assert body == {"success": True, "modified": ["b"], "actual": ["a", "c"]}
    assert usage() == {"a": 1, "b": 0, "c": 1}
    nothing = payload(post(client, "/removeTagsFromItem", {"imageID": str(item.pk), "tags": ["zz"]}, headers))
    assert nothing == {"success": False, "modified": [], "actual": ["a", "c"]}
    assert error(post(client, "/removeTagsFromItem", {"imageID": str(item.pk), "tags": ["no way"]}, headers), 400)


def test_set_tags_replaces_and_counts(client, owner, headers):
    first, second = make_item(owner), make_item(owner)
    services.set_tags(target=first, tags=["a", "b"])
    services.set_tags(target=second, tags=["b"])

    body = payload(post(client, "/setTagsForItem", {"imageID": str(first.pk), "tags": ["C", "b", "c"]}, headers))

    assert body == {"success": True, "actual": ["c", "b"]}
    assert usage() == {"a": 0, "b": 2, "c": 1}
    assert payload(post(client, "/setTagsForItem", {"imageID": str(first.pk), "tags": []}, headers)) == {
        "success": True,
        "actual": [],
    }
    assert usage() == {"a": 0, "b": 1, "c": 0}


def test_deleting_and_restoring_items_and_folders_keeps_usage_exact(client, owner, headers):
    item, other = make_item(owner), make_item(owner)
    folder = FolderFactory(owner=owner)
    for target in (item, other, folder):
        services.add_tags(target=target, tags=["sea"])
    assert usage() == {"sea": 3}

    assert client.delete(f"/deleteItems?imageIDs={item.pk}", **headers).status_code == 200
    assert fresh(item).tags == [] and usage() == {"sea": 2}
    admin = as_admin_key(staff_with_role("admin"))
    post(client, "/restoreItems", {"imageIDs": [str(item.pk)]}, admin)
    assert fresh(item).tags == [] and usage() == {"sea": 2}  # restored untagged

    folders.delete_folder(folder=folder)
    assert usage() == {"sea": 1}
    folders.restore_folders(folder_ids=[folder.pk])
    assert fresh(folder).tags == ["sea"] and usage() == {"sea": 2}


# --- getTagsList ---------------------------------------------------------------------------------------


def test_get_tags_list_by_usage(client, owner, headers):
    for name, count in (("rare", 1), ("common", 9), ("mid", 4), ("also-mid", 4), ("unused", 0)):
        TagFactory(owner=owner, name=name, usage_count=count)
    TagFactory(name="someone-elses", usage_count=99)  # another user's vocabulary

    body = client.get("/getTagsList", **headers).json()

    assert body["payload"] == [
        {"name": "common", "usageCount": 9},
        {"name": "also-mid", "usageCount": 4},
        {"name": "mid", "usageCount": 4},
        {"name": "rare", "usageCount": 1},
        {"name": "unused", "usageCount": 0},
    ]
    assert body["metadata"] == {
        "paginationIndex": "0",
        "nextPaginationIndex": None,
        "reversePagination": False,
        "skipCount": 0,
        "limit": 100,
        "count": 5,
        "totalCount": 5,
    }
    filtered = client.get("/getTagsList", {"tags": "MID, rare,absent,someone-elses"}, **headers).json()
    assert [t["name"] for t in filtered["payload"]] == ["mid", "rare"]
    assert filtered["metadata"]["totalCount"] == 2
    paged = client.get("/getTagsList", {"limit": 2, "skipCount": 1}, **headers).json()
    assert [t["name"] for t in paged["payload"]] == ["also-mid", "mid"]
    assert (paged["metadata"]["count"], paged["metadata"]["totalCount"]) == (2, 5)
    reverse = client.get("/getTagsList", {"reversePagination": "true", "limit": 2}, **headers).json()
    assert [t["name"] for t in reverse["payload"]] == ["unused", "rare"]


def test_get_tags_list_serves_at_most_a_hundred(client, owner, headers):
    Tag.objects.bulk_create([Tag(owner=owner, name=f"t{n:03}", usage_count=n) for n in range(120)])
    body = client.get("/getTagsList", {"limit": 1000}, **headers).json()
    assert (len(body["payload"]), body["metadata"]["limit"], body["metadata"]["totalCount"]) == (100, 100, 120)
    assert body["payload"][0] == {"name": "t119", "usageCount": 119}
    rest = client.get("/getTagsList", {"limit": 100, "skipCount": 100}, **headers).json()
    assert [t["name"] for t in rest["payload"]] == [f"t{n:03}" for n in range(19, -1, -1)]


def test_get_tags_list_pagination_index_is_first_use_time(client, owner, headers):
    now = timezone.now()
    old = TagFactory(owner=owner, name="old", usage_count=1)
    new = TagFactory(owner=owner, name="new", usage_count=5)
    Tag.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=2))
    Tag.objects.filter(pk=new.pk).update(created_at=now)
    index = millis(now - timedelta(days=1))
    before = client.get("/getTagsList", {"paginationIndex": index}, **headers).json()
    assert [t["name"] for t in before["payload"]] == ["old"]
    assert before["metadata"]["paginationIndex"] == str(index)
    after = client.get("/getTagsList", {"paginationIndex": index, "reversePagination": "true"}, **headers).json()
    assert [t["name"] for t in after["payload"]] == ["new"]


@pytest.mark.parametrize(
    "query", [{"tags": "a b"}, {"limit": 0}, {"limit": 1001}, {"skipCount": -2}, {"paginationIndex": "x"}]
)
def test_get_tags_list_refuses_bad_input(client, headers, query):
    error(client.get("/getTagsList", query, **headers), 400)


def test_get_tags_list_needs_a_session_and_a_guest_has_no_tags(client):
    TagFactory(name="x")
    assert error(client.get("/getTagsList"), 401) == NOT_SIGNED_IN
    guest = client.get("/getTagsList", **as_session(session_for())).json()
    assert (guest["payload"], guest["metadata"]["totalCount"]) == ([], 0)


def test_tag_usage_is_per_user(client, owner, headers):
    other = UserFactory()
    services.add_tags(target=make_item(owner), tags=["sea"])
    services.add_tags(target=make_item(other), tags=["sea", "secret"])
    assert payload(client.get("/getTagsList", **headers)) == [{"name": "sea", "usageCount": 1}]
    theirs = payload(client.get("/getTagsList", **as_user(other)))
    assert theirs == [{"name": "sea", "usageCount": 1}, {"name": "secret", "usageCount": 1}]


# --- recount -------------------------------------------------------------------------------------------


def test_recount_repairs_drifted_counts(owner):
    from io import StringIO

    from django.core.management import call_command

    item = make_item(owner)
    services.set_tags(target=item, tags=["a", "b"])
    folder = FolderFactory(owner=owner)
    services.set_tags(target=folder, tags=["a"])
    Tag.objects.filter(name="a").update(usage_count=40)
    Tag.objects.filter(name="b").delete()
    TagFactory(owner=owner, name="ghost", usage_count=3)

    out = StringIO()
    call_command("recount_tags", stdout=out)

    assert usage() == {"a": 2, "b": 1, "ghost": 0}
    assert "3 usage count(s) corrected" in out.getvalue()
    out = StringIO()
    call_command("recount_tags", stdout=out)
    assert "0 usage count(s) corrected" in out.getvalue()

"""The folders and tags back office: lists with counts and search, delete and restore through the
services, tag recount, and who may do what (roles)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from apps.folders import services
from apps.folders.models import Folder
from apps.tags.models import Tag
from tests.factories import UserFactory
from tests.items.support import make_item, staff_with_role

from .factories import FolderFactory, PublicFolderFactory, TagFactory
from .support import fresh, public_item

pytestmark = pytest.mark.django_db

FOLDERS = "/admin/folders/folder/"
TAGS = "/admin/tags/tag/"


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(staff_with_role(role))
    return client


def act(client, url, action, rows):
    return client.post(url, {"action": action, "_selected_action": [str(row.pk) for row in rows]}, follow=True)


@pytest.fixture
def owner():
    return UserFactory(email="keeper@example.com")


def test_folder_list_shows_owner_kind_counts_and_tags(owner):
    folder = PublicFolderFactory(owner=owner, name="Harbour", tags=["sea", "boats"])
    services.add_items(folder=folder, item_ids=[public_item(owner).pk, public_item(owner).pk])
    FolderFactory(owner=owner, name="Drafts")
    client = signed_in("admin")

    html = client.get(FOLDERS).content.decode()

    assert "Harbour" in html and "Drafts" in html
    assert f"p-{folder.pk}" in html
    assert "keeper@example.com" in html
    assert "sea, boats" in html
    assert '<td class="field-image_count">2</td>' in html
    by_id = client.get(FOLDERS, {"q": f"p-{folder.pk}"}).content.decode()
    assert "Harbour" in by_id and "Drafts" not in by_id
    by_owner = client.get(FOLDERS, {"q": "keeper@"}).content.decode()
    assert "Harbour" in by_owner and "Drafts" in by_owner
    detail = client.get(f"{FOLDERS}{folder.pk}/change/")
    assert detail.status_code == 200


def test_admins_delete_and_restore_folders_through_the_services(owner):
    folder = FolderFactory(owner=owner, tags=["kept"])
    TagFactory(owner=owner, name="kept", usage_count=1)
    item = make_item(owner)
    services.add_items(folder=folder, item_ids=[item.pk])
    client = signed_in("admin")

    deleted = act(client, FOLDERS, "delete_folders", [folder])
    assert "Deleted 1 folder(s)." in deleted.content.decode()
    assert fresh(folder).is_deleted and fresh(item).folder_id is None
    assert Tag.objects.get(name="kept").usage_count == 0

    restored = act(client, f"{FOLDERS}?deleted=yes", "restore_folders", [folder])
    assert "Restored 1 folder(s)." in restored.content.decode()
    assert not fresh(folder).is_deleted and fresh(folder).tags == ["kept"]
    assert Tag.objects.get(name="kept").usage_count == 1
    again = act(client, FOLDERS, "restore_folders", [folder])
    assert "The folder is not deleted." in again.content.decode()


def test_moderators_delete_but_do_not_restore_and_support_only_reads(owner):
    folder = FolderFactory(owner=owner)
    moderator = signed_in("moderator")
    page = moderator.get(FOLDERS).content.decode()
    assert "delete_folders" in page and "restore_folders" not in page
    support = signed_in("support")
    assert support.get(FOLDERS).status_code == 200
    refused = act(support, FOLDERS, "delete_folders", [folder])
    assert not fresh(folder).is_deleted
    assert refused.status_code == 200
    assert Client().get(FOLDERS).status_code == 302  # not signed in: to the login page


def test_tag_list_and_recount(owner):
    item = make_item(owner, tags=["lost"])  # tagged without counting: a drifted count
    assert item.tags == ["lost"]
    TagFactory(owner=owner, name="lost", usage_count=0)
    TagFactory(owner=owner, name="ghost", usage_count=7)
    client = signed_in("admin")

    html = client.get(TAGS).content.decode()
    assert "ghost" in html and "lost" in html
    response = act(client, TAGS, "recount", list(Tag.objects.all()))
    assert "Recounted: 2 usage count(s) corrected." in response.content.decode()
    assert dict(Tag.objects.values_list("name", "usage_count")) == {"lost": 1, "ghost": 0}
    assert "recount" not in signed_in("moderator").get(TAGS).content.decode()


def test_restore_folders_command(owner):
    first, second = FolderFactory(owner=owner), PublicFolderFactory(owner=owner)
    first.delete()
    second.delete()
    out, err = io.StringIO(), io.StringIO()

    call_command("restore_folders", "--ids", f"p-{second.pk},{FolderFactory().pk}", stdout=out, stderr=err)
    assert "Restored 1 folder(s)." in out.getvalue()
    assert "The folder is not deleted." in err.getvalue()
    assert not fresh(second).is_deleted and fresh(first).is_deleted

    call_command("restore_folders", "--user", owner.email, stdout=out)
    assert not fresh(first).is_deleted
    with pytest.raises(CommandError, match="comma-separated"):
        call_command("restore_folders", "--ids", "nope")
    with pytest.raises(CommandError, match="No user"):
        call_command("restore_folders", "--user", "nobody@example.com")


def test_demo_data_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    folders = Folder.all_objects.count()
    assert folders > 0
    call_command("seed_demo", stdout=io.StringIO())
    assert Folder.all_objects.count() == folders

"""AIMG item reads over HTTP: getItem, getItemDetails, getLastCompletedItem, getMyCreations,
getPublicCreations, getBatchItems, getSampleItems, getLatestItems, getItems, and the item hooks of
the accounts app (profile counts, guest sign-in, deleteUser)."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.accounts.profile import item_counts
from apps.core.domains import default_domain
from apps.items.models import Item, Reaction
from tests.factories import DomainFactory, UserFactory

from .support import (
    FORBIDDEN,
    NOT_SIGNED_IN,
    as_admin_key,
    as_session,
    as_user,
    file_object,
    iso,
    make_folder,
    make_item,
    millis,
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
    return UserFactory(username="ada")


@pytest.fixture
def stranger():
    return UserFactory(username="bob")


# --- getItem / getItemDetails ------------------------------------------------------------------------


def test_get_item_answers_the_image_object_to_its_owner(client, owner):
    picture = file_object()
    at = timezone.now()
    batch = uuid.uuid4()
    item = make_item(owner, at=at, file=picture, batch_id=batch, tags=["sea"], view_count=3, like_count=2)
    Reaction.objects.create(user=owner, item=item, kind="like")

    response = client.get("/getItem", {"imageID": str(item.pk)}, **as_user(owner))

    assert response.status_code == 200
    assert response.json() == ok(
        {
            "id": str(item.pk),
            "userID": str(owner.pk),
            "batchID": str(batch),
            "url": f"http://testserver/getFile?id={picture.pk}",
            "viewCount": 3,
            "likeCount": 2,
            "dislikeCount": 0,
            "completedDate": millis(at),
            "completedTimestamp": iso(at),
            "mtype": "image",
            "mediaType": "StaticImage",
            "tags": ["sea"],
            "isLiked": True,
            "isDisliked": False,
            "isPublic": False,
            "isPubliclyVisible": False,
            "publicApprovalStatus": "none",
        }
    )


def test_a_new_item_starts_private_with_no_approval():
    item = Item.objects.create(prompt="x")
    assert (item.is_public, item.public_approval_status, item.is_protected) == (False, "none", False)


def test_get_item_hides_private_items_of_others_and_unknown_ids(client, owner, stranger):
    item = make_item(owner)
    for image_id in (str(item.pk), str(uuid.uuid4())):
        response = client.get("/getItem", {"imageID": image_id}, **as_user(stranger))
        assert response.status_code == 404
        assert response.json()["hasError"] is True


@pytest.mark.parametrize("value", ["not-a-uuid", "", "123"])
def test_get_item_refuses_a_malformed_id(client, owner, value):
    response = client.get("/getItem", {"imageID": value}, **as_user(owner))
    assert response.status_code == 400
    assert "imageID" in response.json()["errorMessage"]


def test_get_item_needs_a_session(client, owner):
    item = make_item(owner)
    response = client.get("/getItem", {"imageID": str(item.pk)})
    assert response.status_code == 401
    assert response.json()["errorMessage"] == NOT_SIGNED_IN


def test_admins_see_any_item_with_its_approval_state(client, owner):
    item = make_item(owner, public_approval_status="pending")
    admin = staff_with_role("admin")
    response = client.get("/getItem", {"imageID": str(item.pk)}, **as_admin_key(admin))
    assert response.status_code == 200
    assert response.json()["payload"]["publicApprovalStatus"] == "pending"


def test_approved_public_items_outside_a_public_folder_stay_private(client, owner, stranger):
    item = make_item(owner, is_public=True, public_approval_status="approved", folder=make_folder(owner))
    assert item.is_publicly_visible is False
    assert client.get("/getItem", {"imageID": str(item.pk)}, **as_user(stranger)).status_code == 404
    payload = client.get("/getItem", {"imageID": str(item.pk)}, **as_user(owner)).json()["payload"]
    assert (payload["isPublic"], payload["isPubliclyVisible"]) == (True, False)


def test_item_details_answer_image_info_and_the_owner_sees_no_new_view(client, owner):
    item = make_item(
        owner,
        negative_prompt="fog",
        generator_version="2",
        workflow_template_name="portrait",
        workflow_run_parameters=[{"name": "steps", "value": 30}],
        model="sdxl",
        model_name="SDXL",
        steps=30,
        seed=42,
        subseed=7,
        subseed_strength=0.5,
        loras=[{"name": "ink", "strength": 0.8}],
        sampler="euler",
        cfg_scale=7.5,
        width=1024,
        height=768,
    )
    response = client.get("/getItemDetails", {"imageID": str(item.pk)}, **as_user(owner))
    payload = response.json()["payload"]
    assert response.status_code == 200
    assert {k: payload[k] for k in ("username", "profilePicture", "prompt", "negprompt", "generatorVersion")} == {
        "username": "ada",
        "profilePicture": "",
        "prompt": "a lighthouse at dusk",
        "negprompt": "fog",
        "generatorVersion": "2",
    }
    assert payload["workflowTemplateName"] == "portrait"
    assert payload["workflowRunParameters"] == [{"name": "steps", "value": "30"}]
    assert (payload["modelName"], payload["modelID"], payload["steps"], payload["seed"]) == ("SDXL", "sdxl", 30, 42)
    assert (payload["subseed"], payload["subseed_strength"], payload["sampler"], payload["cfgscale"]) == (
        7,
        0.5,
        "euler",
        7.5,
    )
    assert (payload["lora"], payload["lora_strength"]) == (["ink"], [0.8])
    assert (payload["width"], payload["height"], payload["restoreFaces"], payload["mtype"]) == (
        1024,
        768,
        False,
        "image",
    )
    assert payload["url"] == ""
    assert payload["viewCount"] == 0
    item.refresh_from_db()
    assert item.view_count == 0


def test_item_details_count_a_view_of_another_viewer(client, owner):
    item = make_item(owner, view_count=5)
    admin = staff_with_role("admin")
    payload = client.get("/getItemDetails", {"imageID": str(item.pk)}, **as_admin_key(admin)).json()["payload"]
    assert payload["viewCount"] == 6
    client.get("/getItemDetails", {"imageID": str(item.pk)}, **as_admin_key(admin))
    item.refresh_from_db()
    assert item.view_count == 7


def test_the_approval_status_is_hidden_from_other_viewers(client, owner, stranger):
    item = make_item(owner)
    admin = staff_with_role("admin")
    Reaction.objects.create(user=admin, item=item, kind="dislike")
    payload = client.get("/getItemDetails", {"imageID": str(item.pk)}, **as_admin_key(admin)).json()["payload"]
    assert payload["publicApprovalStatus"] == "none"
    assert (payload["isLiked"], payload["isDisliked"]) == (False, True)
    support = staff_with_role("support")
    response = client.get("/getItem", {"imageID": str(item.pk)}, **as_user(support))
    assert response.status_code == 404


# --- getLastCompletedItem -----------------------------------------------------------------------------


def test_last_completed_item_is_the_newest_completed_one_of_the_user(client, owner, stranger):
    now = timezone.now()
    older = make_item(owner, at=now - timedelta(minutes=2))
    video = make_item(owner, at=now - timedelta(minutes=1), media_kind="video", model_media_type="Video")
    make_item(owner, at=now, status="running", completed_at=None)
    make_item(stranger, at=now + timedelta(minutes=1))
    headers = as_user(owner)

    assert client.get("/getLastCompletedItem", **headers).json()["payload"]["id"] == str(video.pk)
    image = client.get("/getLastCompletedItem", {"mtype": "image"}, **headers).json()["payload"]
    assert image["id"] == str(older.pk)
    assert client.get("/getLastCompletedItem", {"mtype": "gif"}, **headers).status_code == 400


def test_last_completed_item_of_a_user_without_items_is_not_found(client, owner):
    response = client.get("/getLastCompletedItem", **as_user(owner))
    assert response.status_code == 404
    assert response.json()["payload"] is None


# --- getMyCreations ----------------------------------------------------------------------------------


def test_my_creations_list_own_items_newest_first_with_metadata(client, owner, stranger):
    now = timezone.now()
    items = [make_item(owner, at=now - timedelta(seconds=i)) for i in range(5)]
    make_item(stranger, at=now)
    response = client.get("/getMyCreations", {"limit": 2}, **as_user(owner))
    body = response.json()
    assert response.status_code == 200
    assert [i["id"] for i in body["payload"]] == [str(items[0].pk), str(items[1].pk)]
    assert body["metadata"] == {
        "paginationIndex": "0",
        "nextPaginationIndex": str(millis(items[1].reference_at)),
        "reversePagination": False,
        "skipCount": 0,
        "limit": 2,
        "count": 2,
        "totalCount": 5,
        "proLimitHit": False,
    }
    rest = client.get(
        "/getMyCreations", {"limit": 10, "paginationIndex": body["metadata"]["nextPaginationIndex"]}, **as_user(owner)
    ).json()
    assert [i["id"] for i in rest["payload"]] == [str(i.pk) for i in items[2:]]
    assert rest["metadata"]["nextPaginationIndex"] is None


def test_my_creations_filters_and_total_count_ignores_them(client, owner):
    folder = make_folder(owner)
    make_item(owner, media_kind="video", model_media_type="Video")
    make_item(owner, folder=folder)
    make_item(owner, public_approval_status="approved", is_public=True)
    make_item(owner, public_approval_status="pending")
    make_item(owner).delete()
    headers = as_user(owner)

    def ids_and_total(**query):
        body = client.get("/getMyCreations", query, **headers).json()
        return len(body["payload"]), body["metadata"]["totalCount"]

    assert ids_and_total() == (4, 4)
    assert ids_and_total(mtype="video") == (1, 4)
    assert ids_and_total(isPublic="true") == (1, 4)
    assert ids_and_total(isPublic="false") == (3, 4)
    assert ids_and_total(publicApprovalStatus="pending") == (1, 4)
    assert ids_and_total(folderID="root") == (3, 3)
    assert ids_and_total(folderID=str(folder.pk)) == (1, 1)
    assert ids_and_total(folderID=f"p-{folder.pk}") == (0, 0)  # the id names a private folder
    assert ids_and_total(folderID="root", mtype="image") == (2, 3)


@pytest.mark.parametrize(
    "query",
    [
        {"mtype": "gif"},
        {"folderID": "nope"},
        {"isPublic": "maybe"},
        {"publicApprovalStatus": "done"},
        {"limit": 1001},
        {"limit": 0},
        {"paginationIndex": "soon"},
        {"skipCount": -1},
    ],
)
def test_my_creations_refuse_bad_input(client, owner, query):
    response = client.get("/getMyCreations", query, **as_user(owner))
    assert response.status_code == 400
    assert response.json()["hasError"] is True


def test_a_guest_session_lists_its_own_items(client):
    guest = session_for()
    item = make_item(None, guest_session=guest)
    make_item(None, guest_session=session_for())
    body = client.get("/getMyCreations", **as_session(guest)).json()
    assert [i["id"] for i in body["payload"]] == [str(item.pk)]
    assert body["payload"][0]["publicApprovalStatus"] == "none"
    assert "userID" not in body["payload"][0] and "isLiked" not in body["payload"][0]


def test_tied_timestamps_page_without_loss_or_repeat(client, owner):
    at = timezone.now().replace(microsecond=123000)
    ids = {str(make_item(owner, at=at).pk) for _ in range(250)}
    older = make_item(owner, at=at - timedelta(seconds=1))
    headers = as_user(owner)
    seen, index, pages = [], None, 0
    while True:
        query = {"limit": 100} | ({"paginationIndex": index} if index else {})
        body = client.get("/getMyCreations", query, **headers).json()
        seen += [i["id"] for i in body["payload"]]
        pages += 1
        index = body["metadata"]["nextPaginationIndex"]
        if index is None:
            break
    assert len(seen) == len(set(seen)) == 251
    assert set(seen) == ids | {str(older.pk)}
    assert pages == 2


def test_skip_count_pages_are_exact_slices(client, owner):
    now = timezone.now()
    for i in range(25):
        make_item(owner, at=now - timedelta(seconds=i // 2))  # pairs share a timestamp
    headers = as_user(owner)
    seen = []
    for skip in (0, 10, 20):
        body = client.get("/getMyCreations", {"limit": 10, "skipCount": skip}, **headers).json()
        seen += [i["id"] for i in body["payload"]]
        assert body["metadata"]["skipCount"] == skip
    assert len(seen) == len(set(seen)) == 25


def test_reverse_pagination_walks_oldest_first(client, owner):
    now = timezone.now()
    items = [make_item(owner, at=now - timedelta(seconds=10 - i)) for i in range(4)]
    query = {"reversePagination": "true", "paginationIndex": millis(items[0].reference_at), "limit": 2}
    body = client.get("/getMyCreations", query, **as_user(owner)).json()
    assert [i["id"] for i in body["payload"]] == [str(items[1].pk), str(items[2].pk)]
    assert body["metadata"]["nextPaginationIndex"] == str(millis(items[2].reference_at))


def test_the_free_tier_limit_trims_the_library_and_says_so(client, owner, settings):
    settings.FREE_TIER_LIBRARY_LIMIT = 3
    now = timezone.now()
    items = [make_item(owner, at=now - timedelta(seconds=i)) for i in range(5)]
    headers = as_user(owner)
    body = client.get("/getMyCreations", **headers).json()
    assert [i["id"] for i in body["payload"]] == [str(i.pk) for i in items[:3]]
    assert (body["metadata"]["proLimitHit"], body["metadata"]["totalCount"]) == (True, 5)
    deep = client.get("/getMyCreations", {"paginationIndex": millis(items[2].reference_at)}, **headers).json()
    assert deep["payload"] == []
    settings.FREE_TIER_LIBRARY_LIMIT = 5
    assert client.get("/getMyCreations", **headers).json()["metadata"]["proLimitHit"] is False


def test_paying_users_have_no_library_limit(client, owner, settings, monkeypatch):
    settings.FREE_TIER_LIBRARY_LIMIT = 1
    for _ in range(3):
        make_item(owner)
    monkeypatch.setattr("apps.billing.selectors.effective_tier", lambda user, **kw: 2)
    body = client.get("/getMyCreations", **as_user(owner)).json()
    assert (len(body["payload"]), body["metadata"]["proLimitHit"]) == (3, False)


def test_my_creations_need_a_session(client):
    assert client.get("/getMyCreations").status_code == 401


@pytest.mark.parametrize(
    ("path", "query", "extra"),
    [
        ("/getMyCreations", {}, {}),
        ("/getPublicCreations", {}, {}),
        ("/getLatestItems", {}, {}),
        ("/getItems", {}, {"admin": True}),
    ],
)
def test_lists_run_a_constant_number_of_queries(client, owner, settings, path, query, extra):
    settings.FREE_TIER_LIBRARY_LIMIT = 1000
    now = timezone.now()
    for i in range(60):
        item = make_item(owner, at=now - timedelta(seconds=i), file=file_object() if i < 3 else None)
        if i % 2:
            Reaction.objects.create(user=owner, item=item, kind="like")
    headers = as_admin_key(staff_with_role("admin")) if extra.get("admin") else as_user(owner)
    client.get(path, **headers)  # the site's domain is cached from here on
    counts = []
    for limit in (1, 10, 50):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, query | {"limit": limit}, **headers)
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1] == counts[2]
    assert counts[0] <= 6


# --- getPublicCreations, getLatestItems, getSampleItems -------------------------------------------------


def test_nothing_is_publicly_visible_outside_public_folders(client, owner, stranger):
    make_item(owner, is_public=True, public_approval_status="approved", folder=make_folder(owner))
    make_item(owner, is_public=True, public_approval_status="approved")
    headers = as_user(stranger)

    body = client.get("/getPublicCreations", **headers).json()
    assert body["payload"] == []
    assert body["metadata"]["totalCount"] == 0
    assert body["metadata"]["nextPaginationIndex"] is None
    by_user = client.get("/getPublicCreations", {"userID": str(owner.pk)}, **headers).json()
    assert (by_user["payload"], by_user["metadata"]["totalCount"]) == ([], 0)
    latest = client.get("/getLatestItems", **headers).json()
    assert latest["payload"] == [] and "totalCount" not in latest["metadata"]
    assert client.get("/getSampleItems", **headers).json() == ok([])


def test_public_items_in_a_public_folder_are_listed(client, owner, stranger):
    folder = make_folder(owner, public=True)
    now = timezone.now()
    shown = make_item(owner, at=now, is_public=True, public_approval_status="approved", folder=folder)
    video = make_item(
        owner,
        at=now - timedelta(seconds=1),
        is_public=True,
        public_approval_status="approved",
        folder=folder,
        media_kind="video",
    )
    make_item(owner, public_approval_status="approved", folder=folder)  # not made public by its owner
    other_site = UserFactory(domain=DomainFactory())
    elsewhere = make_folder(other_site, public=True)
    make_item(other_site, is_public=True, public_approval_status="approved", folder=elsewhere)
    headers = as_user(stranger)

    body = client.get("/getPublicCreations", **headers).json()
    assert [i["id"] for i in body["payload"]] == [str(shown.pk), str(video.pk)]
    assert body["metadata"]["totalCount"] == 2
    assert body["payload"][0]["isPubliclyVisible"] is True
    assert "publicApprovalStatus" not in body["payload"][0]
    assert body["payload"][0]["folderID"] == f"p-{folder.pk}"
    images = client.get("/getPublicCreations", {"mtype": "image", "folderID": f"p-{folder.pk}"}, **headers).json()
    assert ([i["id"] for i in images["payload"]], images["metadata"]["totalCount"]) == ([str(shown.pk)], 2)
    stranger_view = client.get("/getItem", {"imageID": str(shown.pk)}, **headers)
    assert stranger_view.status_code == 200
    latest = client.get("/getLatestItems", {"limit": 1}, **headers).json()
    assert [i["id"] for i in latest["payload"]] == [str(shown.pk)]
    assert latest["metadata"]["nextPaginationIndex"] == str(millis(shown.reference_at))
    samples = client.get("/getSampleItems", {"limit": 5}, **headers).json()["payload"]
    assert {s["id"] for s in samples} == {str(shown.pk), str(video.pk)}
    assert set(samples[0]) <= {"id", "url", "completedDate", "completedTimestamp", "mtype", "mediaType", "isPublic"}


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/getPublicCreations", {"userID": "x"}),
        ("/getPublicCreations", {"folderID": "root"}),
        ("/getPublicCreations", {"folderID": str(uuid.uuid4())}),  # a private folder id
        ("/getPublicCreations", {"mtype": "png"}),
        ("/getSampleItems", {"limit": "many"}),
        ("/getSampleItems", {"limit": 5000}),
        ("/getLatestItems", {"reversePagination": "sideways"}),
    ],
)
def test_public_lists_refuse_bad_input(client, owner, path, query):
    assert client.get(path, query, **as_user(owner)).status_code == 400


# --- getBatchItems --------------------------------------------------------------------------------------


def test_batch_items_answer_image_info_of_own_batch(client, owner, stranger):
    batch = uuid.uuid4()
    first = make_item(owner, batch_id=batch)
    second = make_item(owner, batch_id=batch)
    make_item(stranger, batch_id=batch)
    make_item(owner)
    body = client.get("/getBatchItems", {"batchID": str(batch)}, **as_user(owner)).json()
    assert [i["id"] for i in body["payload"]] == [str(first.pk), str(second.pk)]
    assert all(i["batchID"] == str(batch) and "prompt" in i for i in body["payload"])
    assert client.get("/getBatchItems", {"batchID": str(uuid.uuid4())}, **as_user(owner)).json() == ok([])


@pytest.mark.parametrize("query", [{}, {"batchID": "batch-1"}])
def test_batch_items_refuse_a_missing_or_malformed_batch_id(client, owner, query):
    response = client.get("/getBatchItems", query, **as_user(owner))
    assert response.status_code == 400
    assert "batchID" in response.json()["errorMessage"]


# --- getItems (admin) -----------------------------------------------------------------------------------


def test_get_items_lists_every_item_to_admins(client, owner, stranger):
    mine = make_item(owner, public_approval_status="pending")
    theirs = make_item(stranger, media_kind="video")
    headers = as_admin_key(staff_with_role("admin"))
    body = client.get("/getItems", **headers).json()
    assert {i["id"] for i in body["payload"]} == {str(mine.pk), str(theirs.pk)}
    assert "totalCount" not in body["metadata"]
    assert all("publicApprovalStatus" in i for i in body["payload"])
    only = client.get("/getItems", {"userID": str(owner.pk), "publicApprovalStatus": "pending"}, **headers).json()
    assert [i["id"] for i in only["payload"]] == [str(mine.pk)]
    assert client.get("/getItems", {"userID": "me"}, **headers).status_code == 400


@pytest.mark.parametrize(
    ("who", "status"),
    [("nobody", 401), ("guest", 401), ("user", 403), ("support", 403), ("moderator", 200), ("admin", 200)],
)
def test_get_items_permission_matrix(client, who, status):
    if who == "nobody":
        headers = {}
    elif who == "guest":
        headers = as_session(session_for())
    elif who == "user":
        headers = as_user(UserFactory())
    else:
        headers = as_admin_key(staff_with_role(who))
    response = client.get("/getItems", **headers)
    assert response.status_code == status
    if status == 403:
        assert response.json()["errorMessage"] == FORBIDDEN


# --- hooks of the accounts app ---------------------------------------------------------------------------


def test_profile_item_counts(owner):
    make_item(owner)
    make_item(owner, folder=make_folder(owner))
    make_item(owner, is_public=True, public_approval_status="approved")  # public, but at the root
    make_item(owner, is_public=True, public_approval_status="approved", folder=make_folder(owner, public=True))
    make_item(owner).delete()
    counts = item_counts(owner)
    # publicItemCount: the items in the user's public folders.
    assert (counts.item_count, counts.root_folder_item_count, counts.public_item_count) == (4, 2, 1)


def test_guest_items_move_to_the_user_who_signs_in(owner):
    guest = session_for()
    item = make_item(None, guest_session=guest)
    accounts.sign_in(user=owner, session=guest, domain=default_domain())
    item.refresh_from_db()
    assert item.owner_id == owner.pk


def test_deleting_a_user_with_delete_items_soft_deletes_them(owner):
    item = make_item(owner)
    other = make_item(UserFactory())
    from apps.accounts.signals import user_deleted

    user_deleted.send(sender=type(owner), user=owner, delete_items=False)
    assert Item.objects.filter(pk=item.pk).exists()
    user_deleted.send(sender=type(owner), user=owner, delete_items=True)
    assert not Item.objects.filter(pk=item.pk).exists()
    assert Item.all_objects.get(pk=item.pk).deleted_at is not None
    assert Item.objects.filter(pk=other.pk).exists()
